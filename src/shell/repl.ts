import { readFileSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import type { SessionArgs } from '../commands/context.js';
import { closest, parseCommand, shellHint } from '../commands/parse.js';
import { runCommand } from '../commands/runner.js';
import type { CommandSpec, ParsedCommand as Command } from '../commands/spec.js';
import { asRftpError, ExitCode, ExitRequest } from '../errors.js';
import { Output } from '../ui/output.js';
import { commandNames, findCommand, shellOverview, shellTable } from './commands.js';
import { Completer } from './completion.js';
import { appendHistory, HISTORY_SIZE, historyPath, loadHistory, historyLine } from './history.js';
import { splitLine, type ParsedCommand } from './parse.js';
import { startJob } from './background.js';
import { Shell, type ShellSettings } from './state.js';

export interface ShellStart {
  /** `-c`: commands separated by ";" (and newlines). */
  commands?: string;
  /** `-f`: a script file, one or more commands per line. */
  file?: string;
  /** `rftp open URL`: the first command. */
  open?: string;
  session: SessionArgs;
  quiet: boolean;
  debug: boolean;
}

/**
 * The lftp-style shell: interactive on a terminal, otherwise a script (-c, -f or stdin). Returns
 * the exit code. Every command is the same implementation the one-shot CLI runs.
 */
export async function runShell(start: ShellStart): Promise<number> {
  const scripted = start.commands !== undefined || start.file !== undefined || !process.stdin.isTTY;
  const out = new Output({ quiet: start.quiet, json: false, debug: start.debug });
  // --user belongs to the first open only (as its -u), not to every later open. parallel and
  // pget-n start at the command line's defaults (4), as the shell runs the same commands.
  const table = await shellTable();
  const sh = new Shell(out, process.env, { ...start.session, user: undefined, ...commandDefaults(table), failExit: true }, !scripted, table);
  sh.stdinIsScript = start.file === '-' || (start.commands === undefined && start.file === undefined && !process.stdin.isTTY);
  const completer = new Completer(sh);
  try {
    if (start.open !== undefined) {
      const user = start.session.user !== undefined ? [`--user=${start.session.user}`] : [];
      const words = ['open', ...user, start.open].map((value) => ({ value, start: 0, end: 0 }));
      const code = await execute(sh, completer, { words });
      if (code !== 0 && scripted) return code;
    }
    if (start.commands !== undefined) return await runLines(sh, completer, start.commands.split('\n'));
    if (start.file !== undefined) {
      let text: string;
      try {
        text = start.file === '-' ? readFileSync(0, 'utf8') : readFileSync(start.file, 'utf8');
      } catch (err) {
        out.error(`cannot read ${start.file}: ${(err as NodeJS.ErrnoException).code ?? err}`);
        return ExitCode.local;
      }
      return await runLines(sh, completer, text.split('\n'));
    }
    if (scripted) return await runLines(sh, completer, createInterface({ input: process.stdin, crlfDelay: Infinity }));
    return await interactive(sh, completer);
  } catch (err) {
    if (err instanceof ExitRequest) return err.code;
    throw err;
  } finally {
    // Jobs still running (Ctrl-D, exit twice, a failed script): stopped, their partials kept.
    await sh.jobs.stopAll();
    sh.close();
  }
}

/**
 * The settings that are option defaults start at those of the options. `parallel` starts unset:
 * each command then has its own default (4 for all today), until `set parallel N`.
 */
function commandDefaults(table: Array<CommandSpec>): Pick<ShellSettings, 'parallel' | 'pgetN'> {
  const of = (setting: string) => table.flatMap((s) => s.options).find((o) => o.setting === setting && o.default !== undefined)?.default as number;
  return { parallel: undefined, pgetN: of('pget-n') };
}

/**
 * A script: a failing command ends the run with its code, unless `set fail-exit off`. Background
 * jobs still running at its end are waited for: a script's last line is not the end of its work.
 */
async function runLines(sh: Shell, completer: Completer, lines: Iterable<string> | AsyncIterable<string>): Promise<number> {
  for await (const line of lines) {
    const code = await executeLine(sh, completer, line);
    if (code !== 0 && (sh.settings.failExit || code === ExitCode.interrupted)) return code;
  }
  const jobs = await sh.jobs.wait();
  return sh.lastFailure || jobs;
}

/** Runs the `;`-separated commands of a line; with fail-exit on, a failure skips the rest of it. */
async function executeLine(sh: Shell, completer: Completer, line: string): Promise<number> {
  let commands: ParsedCommand[];
  try {
    commands = splitLine(line);
  } catch (err) {
    sh.out.error((err as Error).message);
    sh.lastFailure = ExitCode.usage;
    return ExitCode.usage;
  }
  let last = 0;
  for (const c of commands) {
    const code = await execute(sh, completer, c);
    if (code !== 0) {
      sh.lastFailure = code;
      last = code;
      if (sh.settings.failExit || code === ExitCode.interrupted) return code;
    }
  }
  return last;
}

/** One command: Ctrl-C stops it (the partial is kept) and comes back here; any failure is one line. */
async function execute(sh: Shell, completer: Completer, parsed: ParsedCommand): Promise<number> {
  const name = parsed.words[0].value;
  const spec = findCommand(sh.commands, name);
  try {
    if (!spec) {
      const guess = closest(name, commandNames(sh.commands));
      sh.out.error(`unknown command ${name}${guess ? `; did you mean ${guess}?` : ''} (help lists them)`);
      return ExitCode.usage;
    }
    const words = parsed.words.slice(1).map((w) => w.value);
    // `get big.iso &`: in the background, the prompt free meanwhile (lftp's jobs).
    const background = parsed.local === undefined && words[words.length - 1] === '&';
    if (background) {
      try {
        startJob(sh, [name, ...words.slice(0, -1)], shellOverview);
        return ExitCode.ok;
      } catch (err) {
        const e = asRftpError(err);
        sh.out.error(e.message);
        return e.exitCode;
      }
    }
    const options = words.indexOf('--') < 0 ? words : words.slice(0, words.indexOf('--'));
    if (parsed.local === undefined && options.some((w) => w === '--help' || w === '-h')) {
      const { commandHelp } = await import('../commands/help.js');
      sh.out.print(await commandHelp(spec));
      return ExitCode.ok;
    }
    // `!` takes the rest of the line as it is, for /bin/sh.
    let command: Command;
    try {
      command = parsed.local !== undefined ? { command: '!', args: { command: [parsed.local] } } : parseCommand(spec, words, shellHint);
    } catch (err) {
      const e = asRftpError(err);
      sh.out.error(e.message);
      return e.exitCode;
    }
    return await runCommand(spec, command, sh.host(shellOverview));
  } finally {
    sh.renew();
    completer.forget();
  }
}

/**
 * The prompt. Each line gets a fresh readline interface and the terminal goes back to normal
 * while a command runs: Ctrl-C then reaches the process as SIGINT (stopping the transfer), and a
 * password prompt can read the terminal without readline echoing the keys.
 */
async function interactive(sh: Shell, completer: Completer): Promise<number> {
  const file = historyPath(sh.env);
  const history = loadHistory(file);
  // Node hands a signal to JavaScript after the child it killed has been reaped: a Ctrl-C that
  // stopped `!sleep 20` can arrive once the command's own listener is gone. With no listener left,
  // ora's exit hook re-raises it and the shell dies. Between commands a Ctrl-C means nothing.
  const lateCtrlC = () => {};
  process.on('SIGINT', lateCtrlC);
  try {
    return await promptLoop(sh, completer, file, history);
  } finally {
    process.off('SIGINT', lateCtrlC);
  }
}

async function promptLoop(sh: Shell, completer: Completer, file: string, loaded: string[]): Promise<number> {
  let history = loaded;
  for (;;) {
    const line = await readLine(sh.prompt(), history, completer, (text) => sh.out.echo(text));
    if (line === undefined) {
      sh.out.echo('\n');
      // Ctrl-D with jobs running: said once, as for exit; the next one stops them.
      const running = sh.jobs.running.length;
      if (running > 0 && !sh.exitWarned) {
        sh.exitWarned = true;
        sh.out.warn(`${running} background jobs are running: wait for them, kill them, or leave again to stop them (their partial files are kept)`);
        continue;
      }
      return 0;
    }
    try {
      await executeLine(sh, completer, line);
    } finally {
      // Kept after the line ran: by then any password it carried is known and can be checked for.
      const kept = historyLine(line);
      if (kept !== undefined) {
        history = [kept, ...history.filter((h) => h !== kept)].slice(0, HISTORY_SIZE);
        appendHistory(file, kept);
      }
    }
  }
}

function readLine(prompt: string, history: string[], completer: Completer, echo: (text: string) => void): Promise<string | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const rl: Interface = createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: true,
      history: [...history],
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: true,
      completer: (text: string, done: (err: Error | null, result: [string[], string]) => void) => {
        completer.complete(text).then(
          (r) => done(null, r),
          () => done(null, [[], text]),
        );
      },
    });
    const finish = (value: string | undefined) => {
      if (settled) return;
      settled = true;
      rl.close();
      resolve(value);
    };
    rl.on('line', (l) => finish(l));
    rl.on('close', () => finish(undefined));
    // Ctrl-C at the prompt clears the line, as in a login shell.
    rl.on('SIGINT', () => {
      rl.write(null, { ctrl: true, name: 'e' });
      rl.write(null, { ctrl: true, name: 'u' });
      echo('^C\n');
      rl.prompt();
    });
    rl.setPrompt(prompt);
    rl.prompt();
  });
}
