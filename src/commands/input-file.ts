import { readFile } from 'node:fs/promises';
import { RftpError, usageError } from '../errors.js';
import { splitCommand } from '../transfer/checks.js';
import { outputOptions, parallelFilesOption, rateOption, sessionOptions } from './options.js';
import { parseCommand } from './parse.js';
import { camel, type Args, type CommandSpec, type OptionSpec, type RunContext } from './spec.js';

// -i/--input-file: transfers listed one per line, each in the command line's own syntax (aria2's
// -i, with our syntax: `URL [-o PATH] [options]`). Every line is parsed before anything starts,
// so a mistake on line 40 costs nothing but the message.

export const inputFileOption: OptionSpec = {
  name: 'input-file',
  short: 'i',
  type: 'string',
  value: 'FILE',
  completes: 'local',
  describe: "more transfers, one per line in the command line's syntax (URL [-o PATH] [options]), # comments; - reads standard input",
};

/** What a line may not set: these apply to the whole run (its connections, its output, its cap). */
const RUN_WIDE: OptionSpec[] = [...sessionOptions, ...outputOptions, parallelFilesOption, rateOption, inputFileOption];

/** One transfer's arguments, and where they came from for messages ("urls.txt, line 3: "). */
export interface Entry {
  args: Args;
  where: string;
}

/** The command line's own arguments first (when it names files), then one set per line of -i. */
export async function transferEntries(ctx: RunContext, spec: CommandSpec, args: Args, positional: string): Promise<Entry[]> {
  const own = (args[positional] as string[] | undefined) ?? [];
  const entries: Entry[] = own.length > 0 ? [{ args, where: '' }] : [];
  if (args.inputFile !== undefined) entries.push(...(await inputLines(ctx, spec, args, args.inputFile as string, positional)));
  if (entries.length === 0) throw usageError(`${spec.name}: missing argument ${positional.toUpperCase()} (see ${ctx.helpHint})`);
  return entries;
}

/** Runs an entry's checks; a mistake found there names the entry's line. */
export async function forEntry<T>(entry: Entry, check: () => Promise<T>): Promise<T> {
  try {
    return await check();
  } catch (err) {
    if (entry.where === '' || !(err instanceof RftpError)) throw err;
    throw new RftpError(err.kind, `${entry.where}${err.message}`);
  }
}

async function inputLines(ctx: RunContext, spec: CommandSpec, args: Args, file: string, positional: string): Promise<Entry[]> {
  const text = await readInput(ctx, file);
  const where = file === '-' ? 'standard input' : file;
  const entries: Entry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fail = (message: string) => usageError(`${where}, line ${i + 1}: ${message}`);
    let given: Args;
    try {
      given = parseCommand(spec, splitCommand(line), () => ctx.helpHint).args;
    } catch (err) {
      // The parser's message starts with the command's name and ends with the help hint.
      throw fail((err as Error).message.replace(new RegExp(`^${spec.name}: `), ''));
    }
    if (given[positional] === undefined) throw fail(`missing argument ${positional.toUpperCase()}`);
    const wide = RUN_WIDE.find((o) => given[camel(o.name)] !== undefined);
    if (wide) throw fail(`--${wide.name} applies to the whole run: give it on the command line`);
    // The line's own options over the command line's (and its defaults).
    entries.push({ args: { ...args, ...given }, where: `${where}, line ${i + 1}: ` });
  });
  if (entries.length === 0) throw usageError(`${where}: no transfers in it (only blank lines and # comments)`);
  return entries;
}

/** A list given to -i: the file's text, or standard input's for `-`. */
export async function readInput(ctx: RunContext, file: string): Promise<string> {
  if (file === '-') {
    if (!ctx.stdinFree) throw usageError('-i -: standard input holds the script being run; put the list in a file');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new RftpError('local', `cannot read the input file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}
