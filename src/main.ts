import { readFileSync } from 'node:fs';
import { urlNaming } from './commands/context.js';
import { cliHint, closest, parseCommand } from './commands/parse.js';
import { findEntry, loadAll, registryNames } from './commands/registry.js';
import { runCommand, type RunHost } from './commands/runner.js';
import type { CommandSpec, SessionArgs } from './commands/spec.js';
import { asRftpError, ExitCode, RftpError } from './errors.js';
import type { ShellStart } from './shell/repl.js';
import { Output } from './ui/output.js';

// The command line: `rftp COMMAND ARGS` runs one command from the registry through the same
// parser and runner as the shell; `rftp`, `rftp -c`, `rftp -f` and `rftp open` start the shell.
// The commands, yargs (help only) and the shell are imported only when needed: start-up time is
// most of a small transfer's time, and `rftp --version` should answer at once.

export interface Io {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
}

const processIo = (): Io => ({ stdout: process.stdout, stderr: process.stderr, env: process.env });

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The defaults of the connection options, from the one place they are written (options.ts). */
async function defaultSessionArgs(): Promise<SessionArgs> {
  const { sessionOptions } = await import('./commands/options.js');
  const { withDefaults } = await import('./commands/parse.js');
  const { sessionArgsOf } = await import('./commands/context.js');
  return sessionArgsOf(withDefaults({ name: 'open', summary: '', positionals: [], options: sessionOptions, run: async () => {} }, {}));
}

/**
 * `rftp` alone, `rftp -c "CMDS"`, `rftp -f FILE` (with --debug/-q/--quiet before them) start the
 * shell; undefined means a one-shot command line.
 */
function shellStart(argv: string[]): Omit<ShellStart, 'session'> | undefined {
  const start: Omit<ShellStart, 'session'> = { quiet: false, debug: false };
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

/**
 * An entry run by `rftp queue run` stops (as at Ctrl-C: partial kept, exit 130) when that run is
 * gone: killed with SIGKILL, it could not tell its children, which would otherwise go on
 * unwatched while the next queue run continues the same entries.
 */
function watchQueueParent(env: NodeJS.ProcessEnv): void {
  const parent = Number(env.RFTP_QUEUE_PARENT);
  if (!(parent > 0)) return;
  setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, 'SIGTERM');
  }, 250).unref();
}

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  // basic-ftp records a call stack for every FTP command it sends, and Node's streams build
  // errors (with stacks) on every finished transfer: about 40 µs each, thousands of times in a
  // sync. Users only ever see one-line errors; --debug keeps the stacks for bug reports.
  if (!argv.some((a) => a === '--debug' || a.startsWith('--debug='))) Error.stackTraceLimit = 0;
  const mode = { quiet: false, json: false, debug: false };
  // A queue entry's process: its transfers' progress also goes to the file `queue` reads.
  const progressFile = io.env.RFTP_QUEUE_PROGRESS;
  const out = progressFile ? new (await import('./commands/queue-progress.js')).ProgressFileOutput(mode, progressFile) : new Output(mode, io.stderr, io.stdout);
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    out.print(version());
    return ExitCode.ok;
  }
  watchQueueParent(io.env);
  const shell = shellStart(argv);
  if (shell) return (await import('./shell/repl.js')).runShell({ ...shell, session: await defaultSessionArgs() });
  try {
    return await runLine(argv, out, io);
  } catch (err) {
    const e = asRftpError(err);
    out.error(e.message);
    return e.exitCode;
  }
}

async function runLine(argv: string[], out: Output, io: Io): Promise<number> {
  const [word, ...rest] = argv;
  if (word === '--help' || word === '-h') {
    out.print(await (await help()).overviewHelp(await cliCommands()));
    return ExitCode.ok;
  }
  if (word === '--get-yargs-completions') {
    const { bookmarksPath, loadBookmarks } = await import('./shell/bookmarks.js');
    const bookmarks = () => {
      try {
        return Object.keys(loadBookmarks(bookmarksPath(io.env)));
      } catch {
        return [];
      }
    };
    out.print(await (await help()).completionAnswer(await cliCommands(), argv, bookmarks));
    return ExitCode.ok;
  }
  const entry = findEntry(word);
  if (!entry) {
    if (word.startsWith('-')) throw new RftpError('usage', `unknown option ${word} (see rftp --help)`);
    const guess = closest(word, registryNames());
    throw new RftpError('usage', `unknown command ${word}${guess ? `; did you mean ${guess}?` : ''} (see rftp --help)`);
  }
  const spec = await entry.load();
  const end = rest.indexOf('--');
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    out.print(await (await help()).commandHelp(spec));
    return ExitCode.ok;
  }
  const parsed = parseCommand(spec, rest, cliHint);
  return runCommand(spec, parsed, cliHost(out, io));
}

/** yargs (help, completion) only for the lines that ask for it. */
const help = () => import('./commands/help.js');

async function cliCommands(): Promise<Array<CommandSpec>> {
  return (await loadAll()).filter((s) => !s.modes || s.modes.includes('cli'));
}

function cliHost(out: Output, io: Io): RunHost {
  return {
    out,
    env: io.env,
    controller: new AbortController(),
    naming: urlNaming,
    hint: cliHint,
    stdinFree: true,
    exitOnSecondSignal: true,
    commands: cliCommands,
    overview: async (specs) => (await help()).overviewHelp(specs),
    site: {
      // `rftp open URL` is the shell, connected to URL.
      async open(target, args, ctx) {
        const { runShell } = await import('./shell/repl.js');
        return runShell({ open: target, session: args, quiet: ctx.out.mode.quiet, debug: ctx.out.mode.debug });
      },
    },
  };
}
