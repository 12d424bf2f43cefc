import { readFileSync } from 'node:fs';
import { ExitCode } from './errors.js';
import type { ShellStart } from './shell/repl.js';
import { redact } from './ui/redact.js';

// yargs, the command modules and the shell are imported only when needed: start-up time is
// most of a small transfer's time, and `rftp --version` should answer at once.

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const exitCodes = `Exit codes: 0 ok, 1 internal error, 2 usage, 3 connection, 4 login, 5 TLS, 6 remote file not found,
7 local file error, 8 transfer failed after retries, 9 destination exists, 130 interrupted.`;

/**
 * `rftp` alone, `rftp -c "CMDS"`, `rftp -f FILE` (with --debug/-q/--quiet before them) start the
 * shell; undefined means a one-shot command line for yargs.
 */
function shellStart(argv: string[]): ShellStart | undefined {
  const start: ShellStart = { session: { tls: false, insecure: false, timeout: 30, retries: 10, retryDelay: 1, fixPasvAddress: true }, quiet: false, debug: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if ((a === '-c' || a === '--command') && i + 1 < argv.length && start.commands === undefined) start.commands = argv[++i];
    else if ((a === '-f' || a === '--file') && i + 1 < argv.length && start.file === undefined) start.file = argv[++i];
    else if (a === '--debug') start.debug = true;
    else if (a === '-q' || a === '--quiet') start.quiet = true;
    else return undefined;
  }
  if (start.commands !== undefined && start.file !== undefined) return undefined;
  return start;
}

export async function main(argv: string[]): Promise<number> {
  // basic-ftp records a call stack for every FTP command it sends, and Node's streams build
  // errors (with stacks) on every finished transfer: about 40 µs each, thousands of times in a
  // sync. Users only ever see one-line errors; --debug keeps the stacks for bug reports.
  if (!argv.some((a) => a === '--debug' || a.startsWith('--debug='))) Error.stackTraceLimit = 0;
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${version()}\n`);
    return ExitCode.ok;
  }
  const shell = shellStart(argv);
  if (shell) return (await import('./shell/repl.js')).runShell(shell);
  const { commandModules } = await import('./commands/table.js');
  const one = Object.hasOwn(commandModules, argv[0] ?? '') ? commandModules[argv[0]] : undefined;
  const [{ default: yargs }, commands] = await Promise.all([
    import('yargs'),
    one ? one().then((m) => [m]) : import('./commands/index.js').then((m) => m.commands),
  ]);
  let code: number = ExitCode.ok;
  // An unknown option takes the next word as its value, so yargs reports `get --nope URL` as a
  // missing URL (or `sync --dleete SRC DST` as a missing DST): that check comes first.
  const refuseUnknownOptions = () => {
    const unknown = unknownLongOption(argv, (parser as unknown as { getOptions(): YargsOptions }).getOptions());
    if (unknown) throw new UsageFailure(`unknown option ${unknown}`);
  };
  const parser = yargs(argv)
    .scriptName('rftp')
    .usage('$0 <command> [options]\n$0 [open URL]            interactive shell (help inside lists its commands)\n$0 -c "CMD; CMD" | -f FILE  run shell commands; stdin that is not a terminal is read as a script\n\nResumable FTP/FTPS transfers: run the same command again after any interruption.')
    .epilogue(`Credentials: URL, --user, RFTP_PASSWORD, ~/.netrc, OS keychain, then a prompt on a terminal.\n${exitCodes}`)
    .strict()
    .demandCommand(1, 'no command given')
    // yargs makes an array of an option given twice: a second -u would go to the server as part
    // of the user name (with its password), a second -o crash. Only the globs may repeat.
    .middleware((args) => {
      if (one) refuseUnknownOptions();
      for (const [key, value] of Object.entries(args)) {
        if (Array.isArray(value) && key !== '_' && key !== '--' && !REPEATABLE.has(key)) throw new UsageFailure(`${key.length === 1 ? '-' : '--'}${key} was given more than once`);
      }
      // yargs reads --tls=yes (or =1, =TRUE, -k=1) as false: only true and false are taken.
      for (const arg of argv) {
        if (arg === '--') break;
        const m = /^--(?:no-)?([a-z][a-z-]*)=(.*)$/i.exec(arg) ?? /^-([a-zA-Z])=(.*)$/.exec(arg);
        if (m && typeof args[m[1]] === 'boolean' && !/^(true|false)$/.test(m[2])) throw new UsageFailure(`${m[1].length === 1 ? '-' : '--'}${m[1]} takes no value (or =true, =false)`);
      }
    }, true)
    .help()
    .alias('help', 'h')
    .version(version())
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      if (err) throw err;
      // Only for a command that exists: otherwise the unknown command is the thing to report.
      if (one) refuseUnknownOptions();
      throw new UsageFailure(msg);
    });
  for (const c of commands) {
    parser.command(c.command, c.describe, c.builder, async (args) => {
      code = await c.handler(args);
    });
  }
  // yargs renders the whole help text of every command it runs, in case the handler later asks
  // for it (we never do: errors are one line): about 50 ms of CPU at the start of each transfer.
  const usage = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.().getUsageInstance?.();
  if (usage?.cacheHelpMessage) usage.cacheHelpMessage = () => {};
  try {
    await parser.parseAsync();
  } catch (err) {
    if (err instanceof UsageFailure) {
      process.stderr.write(`rftp: error: ${redact(err.message)} (see rftp --help)\n`);
      return ExitCode.usage;
    }
    process.stderr.write(`rftp: error: internal error: ${redact(String((err as Error)?.message ?? err))}\n`);
    return ExitCode.internal;
  }
  return code;
}

class UsageFailure extends Error {}

const REPEATABLE = new Set(['include', 'exclude', 'I', 'X']);

/** What yargs' getOptions() tells of the command being run (the parts used here). */
interface YargsOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
  boolean: string[];
}

/**
 * The first `--name` (or `--name=value`) before `--` that the command does not define, or a
 * `--no-name` of an option that is not a yes/no one (yargs set --no-output to false, which
 * then failed as an internal error).
 */
function unknownLongOption(argv: string[], options: YargsOptions): string | undefined {
  const spellings = (names: string[]) => {
    const all = new Set<string>();
    for (const name of names) [name, ...(options.alias[name] ?? [])].forEach((a) => all.add(a));
    // yargs also takes the camel-case spelling of a dashed name (--max-delete as --maxDelete).
    for (const name of [...all]) all.add(name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()));
    return all;
  };
  const known = spellings(Object.keys(options.key));
  const yesNo = spellings(options.boolean);
  for (const arg of argv) {
    if (arg === '--') break;
    const m = /^--([^=]+)/.exec(arg);
    if (!m) continue;
    const name = m[1];
    if (name.startsWith('no-') && !known.has(name)) {
      if (yesNo.has(name.slice(3))) continue;
      return known.has(name.slice(3)) ? `--${name} (--${name.slice(3)} is not a yes/no option)` : `--${name}`;
    }
    if (!known.has(name)) return `--${name}`;
  }
  return undefined;
}

// Node puts the script path at argv[1]; everything after it is ours (what yargs' hideBin does).
const code = await main(process.argv.slice(2));
// Exit explicitly (after stdout drains) so no stray socket or timer keeps a finished run alive.
process.stdout.write('', () => process.exit(code));
