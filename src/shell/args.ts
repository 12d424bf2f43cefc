import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** getopt-style options for a shell command; a mistake is a usage error naming `help NAME`. */
export function shellArgs<O extends Options>(name: string, argv: string[], options: O, min = 0, max = Infinity) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError(`${name}: ${String((err as Error).message).split('\n')[0].replace(/\. To specify a positional.*$/, '')} (see help ${name})`);
  }
  const n = parsed.positionals.length;
  if (n < min) throw usageError(`${name}: missing argument (see help ${name})`);
  if (n > max) throw usageError(`${name}: too many arguments (see help ${name})`);
  return parsed as { values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string }; positionals: string[] };
}
