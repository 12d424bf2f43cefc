// The checks after a transfer, in one seam: download, pget and sync's downloads call
// beforeCommit() once the partial is complete and fsynced and before it is renamed into place, so
// the final path only ever holds a file that passed what the user asked for; afterCommit() runs
// the on-complete hook once it is there. A virus scan that finds something moves the partial to a
// quarantine directory instead; a scan or verify command that fails keeps the partial (and its
// state) so that a rerun checks again without downloading again.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, copyFile, mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { RftpError } from '../errors.js';
import { redact } from '../ui/redact.js';
import { stateHome } from './state.js';

export interface CommandCheck {
  /** The command as words (no shell unless the user wrote one: `sh -c '…'`). */
  argv: string[];
  timeoutMs: number;
}

export interface Checks {
  /** --scan: the file is the last argument; an exit code in `infected` means infected. */
  scan?: CommandCheck & { infected: number[]; quarantine: string };
  /** --verify-command: the file is the last argument; non-zero fails it. */
  verify?: CommandCheck;
  /** --on-complete: run once the file is at its final path, told about it in its environment. */
  onComplete?: CommandCheck;
}

/** The file being checked: where it is now, where it goes, where it came from (no password). */
export interface CheckedFile {
  part: string;
  target: string;
  url: string;
  size: number;
  direction: 'down' | 'up';
  /** Known already (computed while writing): spares reading the file for it. */
  sha256?: string;
}

/** A file that failed a check: which one, for the reports that count them. */
export class CheckFailure extends RftpError {
  constructor(
    readonly check: 'scan' | 'verify' | 'on-complete' | 'hash',
    kind: 'infected' | 'checkFailed',
    message: string,
  ) {
    super(kind, message);
  }
}

export const checkOf = (err: unknown) => (err instanceof CheckFailure ? err.check : undefined);

export const DEFAULT_SCAN_INFECTED = [1];
export const DEFAULT_CHECK_TIMEOUT_S = 600;

/** $XDG_STATE_HOME/rftp/quarantine: where --scan puts what it found, when --quarantine says nothing. */
export const defaultQuarantine = (env: NodeJS.ProcessEnv = process.env) => join(stateHome(env), 'quarantine');

export const hasChecks = (c: Checks | undefined): c is Checks => c !== undefined && (c.scan !== undefined || c.verify !== undefined || c.onComplete !== undefined);
/** Whether anything runs before the rename (a complete partial is then worth recording as such). */
export const checksBeforeCommit = (c: Checks | undefined) => c?.scan !== undefined || c?.verify !== undefined;

/**
 * Scan, then verify command, on the complete partial. Throws 'infected' (the partial is then in
 * quarantine) or 'checkFailed' (the partial is kept where it is).
 */
export async function beforeCommit(checks: Checks | undefined, file: CheckedFile, signal: AbortSignal): Promise<void> {
  const name = basename(file.target);
  if (checks?.scan) {
    const run = await runCommand(checks.scan, [file.part], hookEnv(), signal);
    if (run.code !== undefined && checks.scan.infected.includes(run.code)) {
      const where = await quarantine(checks.scan.quarantine, file, run.output);
      throw new CheckFailure('scan', 'infected', `${name}: infected (${lastLine(run.output) || `scanner exit ${run.code}`}); quarantined as ${where}`);
    }
    if (run.code !== 0) throw new CheckFailure('scan', 'checkFailed', `${name}: the virus scan failed (${failure(run)}); the complete download is kept, and a rerun scans it again`);
  }
  if (checks?.verify) {
    const run = await runCommand(checks.verify, [file.part], hookEnv(), signal);
    if (run.code !== 0) throw new CheckFailure('verify', 'checkFailed', `${name}: the verify command failed (${failure(run)}); the download is kept as ${basename(file.part)}`);
  }
}

/** --on-complete, once the file is at its final path. Its failure is reported, never undone. */
export async function afterCommit(checks: Checks | undefined, file: CheckedFile, signal: AbortSignal): Promise<void> {
  if (!checks?.onComplete) return;
  const env = hookEnv({
    RFTP_LOCAL: file.target,
    RFTP_URL: redact(file.url),
    RFTP_SIZE: String(file.size),
    RFTP_SHA256: file.sha256 ?? (await sha256Of(file.target)),
    RFTP_DIRECTION: file.direction,
  });
  const run = await runCommand(checks.onComplete, [], env, signal);
  if (run.code !== 0) throw new CheckFailure('on-complete', 'checkFailed', `${basename(file.target)}: the on-complete command failed (${failure(run)}); the file is in place`);
}

interface CommandRun {
  /** undefined: it did not finish (could not start, killed by a signal, timed out). */
  code?: number;
  output: string;
  problem?: string;
}

const MAX_OUTPUT = 64 * 1024;

/** The checks running now, each as its process group's stop. */
const running = new Set<() => void>();
process.on('exit', () => {
  for (const stop of running) stop();
});

/** Runs a check to its end or its time limit, stdout and stderr gathered (the last 64 KiB). */
function runCommand(check: CommandCheck, extra: string[], env: NodeJS.ProcessEnv, signal: AbortSignal): Promise<CommandRun> {
  if (signal.aborted) return Promise.reject(interrupted());
  return new Promise((resolve, reject) => {
    let output = '';
    let timedOut = false;
    // A process group of its own, so that a timeout stops what the command started too (sh -c
    // '…'); the groups still running when rftp exits (Ctrl-C) are stopped with it.
    const child = spawn(check.argv[0], [...check.argv.slice(1), ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stop = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    running.add(stop);
    // Ctrl-C reaches rftp, not the command's own process group: stop it, keep the partial.
    const onAbort = () => {
      stop();
      settle(() => reject(interrupted()));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const gather = (d: Buffer) => {
      output = (output + d.toString('utf8')).slice(-MAX_OUTPUT);
    };
    child.stdout.on('data', gather);
    child.stderr.on('data', gather);
    const timer = setTimeout(() => {
      timedOut = true;
      stop();
    }, check.timeoutMs);
    child.on('error', (err: NodeJS.ErrnoException) => settle(() => resolve({ output, problem: `${check.argv[0]}: ${err.code === 'ENOENT' ? 'command not found' : err.message}` })));
    let settled = false;
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      running.delete(stop);
      signal.removeEventListener('abort', onAbort);
      child.stdout.destroy();
      child.stderr.destroy();
      done();
    };
    const finish = () =>
      settle(() => {
        if (timedOut || !exited) resolve({ output, problem: `no answer within ${Math.round(check.timeoutMs / 1000)} s` });
        else if (exited.code === null) resolve({ output, problem: `killed by ${exited.signal}` });
        else resolve({ code: exited.code, output });
      });
    // 'close' waits for the output pipes, which a process the command left behind (sh -c '…')
    // may hold open: once the command itself has exited (its verdict is then known, the time
    // limit no longer applies), its output gets a second to arrive.
    child.on('exit', (code, sig) => {
      if (!timedOut) {
        exited = { code, signal: sig };
        clearTimeout(timer);
      }
      setTimeout(finish, timedOut ? 0 : 1000);
    });
    child.on('close', finish);
  });
}

const interrupted = () => new RftpError('interrupted', 'interrupted while a check ran; run the same command again to check the complete download again');

function failure(run: CommandRun): string {
  const last = lastLine(run.output);
  const what = run.problem ?? `exit ${run.code}`;
  return last ? `${what}: ${last}` : what;
}

const lastLine = (output: string) => redact(output).trim().split('\n').pop()!.trim();

/**
 * The hooks' environment: ours without the password variables, and nothing whose value holds a
 * password rftp knows (redact() masks those).
 */
export function hookEnv(extra: Record<string, string> = {}, from: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(from)) {
    if (v === undefined || k === 'RFTP_PASSWORD' || redact(v) !== v) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Moves the partial to the quarantine directory (0700, the file 0600) with a JSON record beside it. */
async function quarantine(dir: string, file: CheckedFile, scanner: string): Promise<string> {
  // Made here: 0700 (mkdir's mode is masked by the umask). A directory the user named that
  // exists already keeps its mode: it may be shared (/tmp), and it is theirs.
  if ((await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined) await chmod(dir, 0o700);
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // Two infected files of one name in one millisecond (a parallel sync) must not meet.
  const dest = join(dir, `${stamp}-${randomBytes(4).toString('hex')}-${basename(file.target)}`);
  const sha256 = file.sha256 ?? (await sha256Of(file.part));
  try {
    await rename(file.part, dest);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw new RftpError('local', `cannot move ${file.part} into quarantine ${dir}: ${(err as Error).message}`);
    await copyFile(file.part, dest);
    await unlink(file.part);
  }
  await chmod(dest, 0o600);
  const record = { source: redact(file.url), target: file.target, time: new Date().toISOString(), size: file.size, sha256, scanner: redact(scanner).trim() };
  await writeFile(`${dest}.json`, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
  return dest;
}

/** sha256 of a file, read once (asked only by what needs it: quarantine records, on-complete). */
export function sha256Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/**
 * A command line as words, as a POSIX shell splits it without running one: blanks separate,
 * '…' is literal, "…" and \ quote; nothing is expanded.
 */
export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      // The text is not echoed: it may hold a password (-u user:pw in a list of transfers).
      if (end < 0) throw new RftpError('usage', "unmatched ' (a quote that is not closed)");
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      word ??= '';
      for (i++; i < text.length && text[i] !== '"'; i++) word += text[i] === '\\' && /["\\$`]/.test(text[i + 1] ?? '') ? text[++i] : text[i];
      if (i >= text.length) throw new RftpError('usage', 'unmatched " (a quote that is not closed)');
    } else if (c === '\\' && i + 1 < text.length) word = (word ?? '') + text[++i];
    else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  if (words.length === 0) throw new RftpError('usage', 'an empty command');
  return words;
}
