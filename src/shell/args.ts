import { parseArgs, type ParseArgsConfig } from 'node:util';
import { usageError } from '../errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** getopt-style options for a shell command; a mistake is a usage error naming `help NAME`. */
export function shellArgs<O extends Options>(name: string, argv: string[], options: O, min = 0, max = Infinity) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = String((err as Error).message);
    // Node's text for "-P -5" is three lines about ambiguity: say what to type instead.
    const valueless = /^Option '(-[^']+)' argument is ambiguous/.exec(message);
    if (valueless) {
      // Node's last line names both forms (--output=-XYZ or -o-XYZ): keep them, in one line.
      const forms = /use (.+)\.$/.exec(message.split('\n')[2] ?? '')?.[1]?.replace(/'/g, '');
      const hint = forms ? `; for a value starting with "-" write ${forms}` : '';
      throw usageError(`${name}: ${valueless[1]} needs a value${hint} (see help ${name})`);
    }
    throw usageError(`${name}: ${message.split('\n')[0].replace(/\. To specify a positional.*$/, '')} (see help ${name})`);
  }
  const n = parsed.positionals.length;
  if (n < min) throw usageError(`${name}: missing argument (see help ${name})`);
  if (n > max) throw usageError(`${name}: too many arguments (see help ${name})`);
  return parsed as { values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string }; positionals: string[] };
}
