// Drives the built CLI as a user would: a child process, its exit code, stdout and stderr.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

export const RFTP = fileURLToPath(new URL('../../../bin/rftp', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Run as this unprivileged user (the suite runs as root, which may write anywhere). */
  asUser?: string;
  /** Written to stdin (a pipe, not a terminal), then closed; without it stdin is /dev/null. */
  input?: string;
}

/** A clean environment: no CI variables that change output, a private HOME and state dir. */
export function testEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_STATE_HOME: join(home, '.state'),
    XDG_CONFIG_HOME: join(home, '.config'),
    RFTP_NO_KEYCHAIN: '1',
    ...extra,
  };
}

export function spawnRftp(args: string[], opts: RunOptions = {}): { child: ChildProcess; done: Promise<RunResult> } {
  const argv = [process.execPath, RFTP, ...args];
  if (opts.asUser) argv.unshift('setpriv', `--reuid=${opts.asUser}`, `--regid=${opts.asUser === 'nobody' ? 'nogroup' : opts.asUser}`, '--clear-groups');
  const child = spawn(argv[0], argv.slice(1), { cwd: opts.cwd, env: opts.env ?? testEnv(tmpHome()), stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const limit = opts.timeoutMs ?? 120_000;
  const done = new Promise<RunResult>((resolve) => {
    // A hang is a failure we want to see, not a test that never ends.
    const timer = setTimeout(() => child.kill('SIGKILL'), limit);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

export function runRftp(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return spawnRftp(args, opts).done;
}

export function tmpHome(): string {
  return mkdtempSync(join(tmpdir(), 'rftp-home-'));
}

export function tmpDir(prefix = 'rftp-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Snapshot {
  files: Record<string, string>;
  dirs: string[];
}

/** Every file's sha256 and every directory (empty ones too), relative to root: what "identical" means for a sync. */
export function snapshot(root: string): Snapshot {
  const snap: Snapshot = { files: {}, dirs: [] };
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        snap.dirs.push(p);
        walk(p);
      } else snap.files[p] = sha256(readFileSync(join(root, p)));
    }
  };
  walk('');
  snap.dirs.sort();
  return snap;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256File(path: string): string {
  return sha256(readFileSync(path));
}

export function randomData(size: number): Buffer {
  return randomBytes(size);
}

export function sizeOr0(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Polls until cond() is true; fails the test with `what` after timeoutMs. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** stderr lines that are errors (the one-line rule). */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('rftp: error:'));
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

/**
 * Scratch directories for one test file, removed when it ends: each call of the returned
 * function gives a fresh work directory and a fresh HOME.
 */
export function scratchDirs(): () => { d: string; home: string } {
  const dirs: string[] = [];
  after(() => cleanup(...dirs));
  return () => {
    const d = tmpDir();
    const home = tmpHome();
    dirs.push(d, home);
    return { d, home };
  };
}

/**
 * A command-line tool a test needs (tmux for the terminal tests): installed from Debian's packages
 * when missing and we are root, as the suite does for vsftpd; otherwise a clear error.
 */
export function ensureTool(binary: string, debianPackage = binary): void {
  const have = () => {
    try {
      execFileSync('sh', ['-c', `command -v ${binary}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  if (have()) return;
  if (process.getuid?.() !== 0) throw new Error(`${binary} is needed for these tests: apt-get install ${debianPackage}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => execFileSync('apt-get', ['install', '-y', '--no-install-recommends', debianPackage], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    install();
  }
  if (!have()) throw new Error(`${binary} is still missing after apt-get install ${debianPackage}`);
}
