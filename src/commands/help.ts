import { exitCodeSummary, usageError } from '../errors.js';
import { closest } from './parse.js';
import type { CommandSpec, PositionalSpec } from './spec.js';

// Help and completion for the user's own shell, both from the specs. yargs lays the text out
// (and translates its headings: LC_ALL=de_DE gives "Optionen:"); it is loaded only here, so a
// transfer never pays for it. Examples are laid out here, never wrapped inside a line: a wrapped
// command line cannot be copied.

type Yargs = import('yargs').Argv;

const SENTINEL = '\u0001examples\u0001';

/** `get <url>... [options]`: the command's form, as help and the shell's command list show it. */
export function usageLine(spec: CommandSpec): string {
  const words = spec.usage ?? spec.positionals.map(positionalWord).join(' ');
  return [spec.name, words, ...(spec.options.length ? ['[options]'] : [])].filter(Boolean).join(' ');
}

function positionalWord(p: PositionalSpec): string {
  switch (p.arity ?? 'one') {
    case 'many':
      return `<${p.name}>...`;
    case 'any':
      return `[${p.name}...]`;
    case 'optional':
      return `[${p.name}]`;
    default:
      return `<${p.name}>`;
  }
}

export function helpWidth(stream: NodeJS.WriteStream = process.stdout): number {
  return stream.isTTY && stream.columns ? Math.max(40, stream.columns) : 100;
}

async function newYargs(width: number): Promise<Yargs> {
  const { default: yargs } = await import('yargs');
  return yargs([]).scriptName('rftp').exitProcess(false).wrap(width).version(false).help('help').alias('help', 'h');
}

/**
 * What yargs prints for these words, instead of printing it. Completions arrive after parse()
 * has returned (a second call of the callback, when yargs "exits"): `calls` says which to take.
 */
function capture(y: Yargs, words: string[], calls = 1): Promise<string> {
  return new Promise((resolve, reject) => {
    let n = 0;
    y.parse(words, {}, (err: Error | undefined, _argv: unknown, output: string) => {
      if (err) reject(err);
      else if (++n === calls) resolve(output);
    });
  });
}

function describeCommand(b: Yargs, spec: CommandSpec): Yargs {
  for (const p of spec.positionals) b.positional(p.name, { type: 'string', describe: p.describe });
  for (const o of spec.options) {
    b.option(o.name, { alias: o.short, type: o.type, describe: o.describe, ...(o.default !== undefined ? { default: o.default } : {}) });
  }
  return b;
}

/** `rftp help get` = `rftp get --help` = the shell's `help get`. */
export async function commandHelp(spec: CommandSpec, width = helpWidth()): Promise<string> {
  const y = await newYargs(width);
  // yargs needs a command string of its own to list the positionals; our usage line replaces it.
  // (Under a name of its own: `help` is yargs' own word.)
  const yargsForm = ['command', ...spec.positionals.map((p) => ((p.arity ?? 'one') === 'one' || p.arity === 'many' ? `<${p.name}>` : `[${p.name}]`))].join(' ');
  // The shell's own commands are typed without "rftp".
  const prefix = spec.modes && !spec.modes.includes('cli') ? '' : '$0 ';
  y.command(yargsForm, spec.summary, (b) => {
    describeCommand(b, spec).usage(`${prefix}${usageLine(spec)}\n\n${spec.summary}`);
    return spec.examples?.length ? b.example(SENTINEL, '') : b;
  });
  const text = await capture(y, ['command', '--help']);
  const aliases = spec.aliases?.length ? [`also: ${spec.aliases.join(', ')}`] : [];
  return [...text.split('\n').map((line) => (line.trim() === SENTINEL ? examples(spec, width) : line)), ...[...aliases, ...(spec.details ?? [])].map((l) => wrap(l, width, ''))].join('\n');
}

function examples(spec: CommandSpec, width: number): string {
  return (spec.examples ?? []).map(([cmd, what]) => `  rftp ${cmd}\n${wrap(what, width, '      ')}`).join('\n');
}

/** Prose wrapped at the width, each line indented. */
function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  lines.push(indent + line);
  return lines.join('\n');
}

const OVERVIEW = `$0 <command> [options]
$0 [open URL]                 interactive shell (help inside lists its commands)
$0 -c "CMD; CMD" | -f FILE    run shell commands; stdin that is not a terminal is read as a script
$0 help COMMAND               what a command does, its options and examples

Resumable FTP/FTPS transfers: run the same command again after any interruption.`;

/** `rftp --help`: every command of the command line, credentials and the exit codes. */
export async function overviewHelp(specs: Array<CommandSpec>, width = helpWidth()): Promise<string> {
  const y = await newYargs(width);
  y.usage(OVERVIEW).version('version', 'show the version number', '');
  for (const spec of specs) y.command([usageLine(spec), ...(spec.aliases ?? [])], spec.summary);
  y.epilogue(`Credentials: URL, --user, RFTP_PASSWORD, ~/.netrc, OS keychain, then a prompt on a terminal.\nExit codes: ${exitCodeSummary()}.`);
  return capture(y, ['--help']);
}

/** The words a bash or zsh completion asks about (yargs' protocol), answered from the specs. */
export async function completionAnswer(specs: Array<CommandSpec>, words: string[], bookmarks: () => string[]): Promise<string> {
  const y = await newYargs(100);
  for (const spec of specs) y.command([spec.name, ...(spec.aliases ?? [])], spec.summary, (b) => describeCommand(b, spec));
  y.completion('completion', false, (current: string, argv: { _: Array<string | number> }, defaults: (cb: (err: Error | null, list?: string[]) => void) => void, done: (list: string[]) => void) => {
    // argv._ holds the program's name, the command and the words typed so far.
    const [, command = '', ...typed] = argv._.map(String);
    const spec = specs.find((s) => s.name === command || s.aliases?.includes(command));
    // The command itself, aliases too (yargs offers only the names).
    if (!spec && typed.length === 0 && !current.startsWith('-')) {
      done(specs.flatMap((s) => [s.name, ...(s.aliases ?? [])]).filter((n) => n.startsWith(current)));
      return;
    }
    // A bookmark where the command takes one (open's target); files are the shell's own default.
    if (spec?.positionals[0]?.completes === 'bookmark' && !current.startsWith('-') && typed.length <= 1) {
      done(bookmarks().filter((b) => b.startsWith(current)));
      return;
    }
    // Not an option: nothing, so bash and zsh fall back to file names.
    if (!current.startsWith('-')) {
      done([]);
      return;
    }
    // yargs names one-letter aliases --o: they are -o.
    defaults((_err, list) => done((list ?? []).map((w) => (/^--.$/.test(w) ? w.slice(1) : w))));
  });
  return capture(y, words, 2);
}

/** The script `rftp completion` prints, for ~/.bashrc or ~/.zshrc. */
async function completionScript(): Promise<string> {
  const y = await newYargs(100);
  y.completion('completion', false);
  return capture(y, ['completion']);
}

export const spec: CommandSpec = {
  name: 'help',
  aliases: ['?'],
  summary: 'list the commands, or explain one (as COMMAND --help)',
  positionals: [{ name: 'command', arity: 'optional', completes: 'command', describe: 'the command to explain' }],
  options: [],
  examples: [['help sync', "sync's options and examples"]],
  async run(ctx, args) {
    const specs = await ctx.commands();
    const name = args.command as string | undefined;
    if (name === undefined) {
      ctx.out.print(await ctx.overview(specs));
      return;
    }
    const spec = specs.find((s) => s.name === name || s.aliases?.includes(name));
    if (!spec) {
      const guess = closest(
        name,
        specs.flatMap((s) => [s.name, ...(s.aliases ?? [])]),
      );
      throw usageError(`help: no command ${name}${guess ? `; did you mean ${guess}?` : ''}`);
    }
    ctx.out.print(await commandHelp(spec));
  },
};

export const completionSpec: CommandSpec = {
  name: 'completion',
  summary: 'print a bash/zsh completion script: rftp completion >> ~/.bashrc',
  positionals: [],
  options: [],
  examples: [['completion >> ~/.bashrc', 'then open a new shell: rftp <Tab> completes commands, options and bookmarks']],
  modes: ['cli'],
  async run(ctx) {
    ctx.out.print(await completionScript());
  },
};
