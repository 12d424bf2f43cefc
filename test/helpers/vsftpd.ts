// Real vsftpd server for end-to-end tests.
//
// startVsftpd() runs the system's vsftpd in the foreground as a child process
// on 127.0.0.1 with a generated config (fixtures/vsftpd.conf.template, plus
// fixtures/vsftpd-tls.conf.snippet for TLS), a throwaway root dir and xferlog,
// and a real local user that logs in through a dedicated PAM service.
// Needs root (useradd, chpasswd, /etc/pam.d, vsftpd's chroot).
//
// What vsftpd does that these helpers rely on (processes, xferlog, TLS): docs/development.md.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export type TlsMode = 'none' | 'explicit' | 'implicit';

export interface VsftpdOptions {
  tls?: TlsMode;
  /** bytes per second per connection, vsftpd local_max_rate; undefined = unlimited */
  maxRate?: number;
  /** vsftpd max_per_ip: connections from one address (more are answered 421); default 50 */
  maxPerIp?: number;
  /** Listen here instead of 127.0.0.1 (behind a latency proxy on 127.0.0.1: test/helpers/wan.ts). */
  listenAddress?: string;
  /** How many passive ports (default 10). */
  pasvPorts?: number;
}

export interface XferTotals {
  /** bytes the server sent to clients (downloads, direction 'o') */
  sent: number;
  /** bytes the server received (uploads, direction 'i') */
  received: number;
  entries: number;
}

export interface VsftpdServer {
  host: '127.0.0.1';
  port: number;
  tls: TlsMode;
  /** absolute local dir the test user sees as "/" (chrooted); writable by the ftp user */
  root: string;
  user: string;
  password: string;
  /** PEM of the test CA that signed the server cert (present even for tls 'none') */
  caFile: string;
  /** PEM of an unrelated self-signed cert (to test "untrusted") */
  otherCaFile: string;
  xferlogPath: string;
  /** the listening vsftpd process */
  pid: number;
  /** The passive ports, first and last (a proxy must listen on each). */
  pasvPorts: [number, number];
  /** e.g. ftp://rftptest@127.0.0.1:PORT/path; scheme defaults to ftp/ftpes/ftps by tls; path segments and password percent-encoded */
  url(remotePath?: string, opts?: { withPassword?: boolean; scheme?: string }): string;
  /** Sums of the xferlog, complete and incomplete entries alike (see parseXferlog and the notes at the top). */
  xferTotals(): Promise<XferTotals>;
  /** Live descendants of `pid`. These are processes, not sessions: a logged-in
   * session has 2 (plain FTP) or 3 (TLS); one still logging in has 2. */
  sessionPids(): number[];
  /** Signal every session process (default SIGKILL); returns how many were signalled. */
  killSessions(signal?: NodeJS.Signals): number;
  /** Resolves once at least n session processes exist (see sessionPids). */
  waitForSessions(n: number, timeoutMs?: number): Promise<void>;
  /** Write a file under root (mkdir -p), owned by the ftp user; returns its absolute path. */
  put(relPath: string, data: Buffer | string, mtime?: Date): Promise<string>;
  /** Kill the listener and all sessions, remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export const TEST_USER = 'rftptest';
// Special characters on purpose: URLs must percent-encode them.
export const TEST_PASSWORD = 's3cr&t:pw';
const PAM_SERVICE = 'rftp-test';
const SECURE_CHROOT_DIR = '/var/run/vsftpd/empty';
const PASV_PORTS = 10;

const INSTALL_HINT =
  "vsftpd is not installed: run `sudo apt-get install vsftpd` (Debian/Ubuntu; as root the tests install it themselves) or use `docker compose up` with the repo's docker-compose.yml";

/** Repo root = nearest ancestor holding fixtures/vsftpd.conf.template (works from src and from compiled output). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'fixtures', 'vsftpd.conf.template'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  if (fs.existsSync(path.join(process.cwd(), 'fixtures', 'vsftpd.conf.template'))) return process.cwd();
  throw new Error(`cannot find fixtures/vsftpd.conf.template above ${fileURLToPath(import.meta.url)}`);
}

function findVsftpd(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/sbin']);
  for (const d of dirs) {
    const p = path.join(d, 'vsftpd');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export function ensureVsftpd(): void {
  if (findVsftpd()) return;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !fs.existsSync('/etc/debian_version')) throw new Error(INSTALL_HINT);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Install only vsftpd: Debian's FTP servers conflict with each other, so
  // pulling in anything like "ftp-server" could remove another one.
  const install = () => execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'vsftpd'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  // Slim images ship without package lists; only then (or when the install
  // fails with stale lists) run apt-get update.
  const haveLists = fs.existsSync('/var/lib/apt/lists') && fs.readdirSync('/var/lib/apt/lists').some((f) => /_Packages(\.\w+)?$/.test(f));
  try {
    if (!haveLists) execFileSync('apt-get', ['update'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      install();
    } catch {
      execFileSync('apt-get', ['update'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      install();
    }
  } catch (err) {
    throw new Error(`${INSTALL_HINT} (automatic apt-get install failed: ${String((err as Error).message).split('\n')[0]})`);
  }
  if (!findVsftpd()) throw new Error(INSTALL_HINT);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Run a command, retrying a few times: parallel test processes can race on /etc/passwd and /etc/shadow locks. */
async function runRetry(cmd: string, args: string[], input?: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      execFileSync(cmd, args, { input, stdio: ['pipe', 'ignore', 'pipe'] });
      return;
    } catch (err) {
      if (attempt >= 20) throw err;
      await sleep(50 + Math.random() * 150);
    }
  }
}

export function userIds(name: string): { uid: number; gid: number; home: string } | undefined {
  for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' };
  }
  return undefined;
}

let setupDone: Promise<{ uid: number; gid: number }> | undefined;

/** One-time system setup per process: vsftpd binary, test user + password, PAM file, secure_chroot_dir. */
export function systemSetup(): Promise<{ uid: number; gid: number }> {
  setupDone ??= (async () => {
    ensureVsftpd();
    if (process.getuid?.() !== 0) throw new Error('the vsftpd test harness must run as root (it creates a local user and runs vsftpd)');
    if (!userIds(TEST_USER)) {
      try {
        // Home "/": vsftpd chdir()s to the home dir before local_root and
        // fails the login ("500 OOPS: cannot change directory") if it is missing.
        await runRetry('useradd', ['--no-create-home', '--home-dir', '/', '--shell', '/usr/sbin/nologin', TEST_USER]);
      } catch (err) {
        if (!userIds(TEST_USER)) throw err; // another test process may have won the race
      }
    }
    const home = userIds(TEST_USER)?.home;
    if (!home || !fs.existsSync(home)) await runRetry('usermod', ['--home', '/', TEST_USER]);
    await runRetry('chpasswd', [], `${TEST_USER}:${TEST_PASSWORD}\n`);

    const pamFile = `/etc/pam.d/${PAM_SERVICE}`;
    const pam = fs.readFileSync(path.join(repoRoot(), 'fixtures', 'pam.d-rftp-test'), 'utf8');
    if (!fs.existsSync(pamFile) || fs.readFileSync(pamFile, 'utf8') !== pam) {
      const tmp = `${pamFile}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, pam, { mode: 0o644 });
      fs.renameSync(tmp, pamFile); // atomic: parallel processes never see half a file
    }
    fs.mkdirSync(SECURE_CHROOT_DIR, { recursive: true, mode: 0o755 });
    const ids = userIds(TEST_USER);
    if (!ids) throw new Error(`failed to create user ${TEST_USER}`);
    return ids;
  })();
  return setupDone;
}

/**
 * Dir with the TLS material from fixtures/make-certs.sh: ca.pem/ca.key (test
 * CA), server.pem/server.key (signed by it, SAN localhost + 127.0.0.1),
 * other.pem/other.key (unrelated self-signed). Cached in os.tmpdir() keyed by
 * the script's contents so every test process (and run) shares one set;
 * generated into a private dir first and renamed into place atomically.
 * Exported for fake servers that want the same trusted cert.
 */
export function ensureCerts(): string {
  const script = path.join(repoRoot(), 'fixtures', 'make-certs.sh');
  const text = fs.readFileSync(script, 'utf8');
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (hash * 31 + text.charCodeAt(i)) >>> 0;
  const dir = path.join(os.tmpdir(), `rftp-vsftpd-certs-${hash.toString(16)}`);
  if (fs.existsSync(path.join(dir, 'other.pem'))) return dir;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rftp-certs-tmp-'));
  execFileSync('sh', [script, tmp], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // someone else finished first
  }
  return dir;
}

function canListen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** Free on both loopback addresses: a server on 127.0.0.2 behind a proxy on 127.0.0.1 needs both. */
const canListenBoth = async (port: number) => (await canListen(port)) && (await canListen(port, '127.0.0.2'));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '127.0.0.1', exclusive: true }, () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A block of PASV_PORTS consecutive free ports, below Linux's default ephemeral range (32768+). */
export async function freePasvRange(count = PASV_PORTS): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * Math.floor(12000 / count)) * count;
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = await canListenBoth(p);
    if (ok) return base;
  }
  throw new Error('no free passive port range found');
}

/** True once `pid` owns a LISTEN socket on host:port (checked via /proc, so no probe connection creates a session). */
export function isListening(pid: number, port: number, host = '127.0.0.1'): boolean {
  const hex = host
    .split('.')
    .reverse()
    .map((b) => Number(b).toString(16).toUpperCase().padStart(2, '0'))
    .join('');
  const want = `${hex}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let inode: string | undefined;
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === want && f[3] === '0A') inode = f[9];
  }
  if (!inode) return false;
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/** Map pid -> ppid for every live process, from /proc/<pid>/stat. */
function processTable(): Map<number, number> {
  const table = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may contain spaces/parens, so split after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Skip zombies: a killed session lingers as one until its parent reaps it.
      if (rest[0] !== 'Z') table.set(Number(name), Number(rest[1]));
    } catch {
      // process exited meanwhile
    }
  }
  return table;
}

export function descendants(root: number): number[] {
  const table = processTable();
  const found: number[] = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of table) {
      if (ppid === parent) {
        found.push(pid);
        queue.push(pid);
      }
    }
  }
  return found;
}

/** Every process started from this config file: the listener, its sessions, and sessions orphaned by a dead listener. */
export function processesUsing(confPath: string): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(confPath)) found.push(Number(name));
    } catch {
      // process exited meanwhile
    }
  }
  return found;
}

export function killQuietly(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false; // already gone
  }
}

// Config files of servers not stopped yet: if a test forgets stop() (or
// crashes), kill their processes when this test process exits rather than
// leaving vsftpd listening forever.
export const running = new Set<string>();
let exitHookInstalled = false;
export function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const confPath of running) for (const p of processesUsing(confPath)) killQuietly(p, 'SIGKILL');
  });
}

export function fillTemplate(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_m, key: string) => {
    if (!(key in values)) throw new Error(`vsftpd config template: no value for {{${key}}}`);
    return values[key]!;
  });
}

/*
 * xferlog in wu-ftpd format, one line per transfer:
 *   Mon Nov 25 15:52:01 2024 1 127.0.0.1 1234 /path b _ o r rftptest ftp 0 * c
 *   |------ date (5) -----| time host bytes file type action DIR mode user service auth authuser STATUS
 * bytes is whitespace token 8 (1-based). vsftpd writes spaces in the file name
 * as '_' and non-ASCII bytes as '?', so the name is one token; direction is
 * still counted from the end (7th last) in case another server does not.
 * Status is 'c' (complete) or 'i' (incomplete); both are summed.
 */
export function parseXferlog(text: string): XferTotals {
  const totals: XferTotals = { sent: 0, received: 0, entries: 0 };
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 17) continue;
    const bytes = Number(f[7]);
    const direction = f[f.length - 7];
    if (!Number.isFinite(bytes)) continue;
    totals.entries++;
    if (direction === 'o') totals.sent += bytes;
    else if (direction === 'i') totals.received += bytes;
  }
  return totals;
}

export async function startVsftpd(opts: VsftpdOptions = {}): Promise<VsftpdServer> {
  const tls: TlsMode = opts.tls ?? 'none';
  const ids = await systemSetup();
  const certDir = ensureCerts();
  const fixtures = path.join(repoRoot(), 'fixtures');

  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'rftp-vsftpd-'));
  // vsftpd enters local_root with the user's own uid, so every parent dir must be traversable.
  await fsp.chmod(dir, 0o755);
  const root = path.join(dir, 'root');
  await fsp.mkdir(root, { mode: 0o755 });
  await fsp.chown(root, ids.uid, ids.gid);
  const xferlogPath = path.join(dir, 'xferlog');
  const logPath = path.join(dir, 'vsftpd.log');
  const confPath = path.join(dir, 'vsftpd.conf');

  let child: ChildProcess | undefined;
  let port = 0;
  let pasvMin = 0;
  const pasvCount = opts.pasvPorts ?? PASV_PORTS;
  const listenAddress = opts.listenAddress ?? '127.0.0.1';
  let stderr = '';
  // The port can be taken between probing and vsftpd's bind(): retry with a new one.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    pasvMin = await freePasvRange(pasvCount);
    const values: Record<string, string> = {
      LISTEN_ADDRESS: listenAddress,
      PASV_ADDRESS: '127.0.0.1',
      PORT: String(port),
      PASV_MIN: String(pasvMin),
      PASV_MAX: String(pasvMin + pasvCount - 1),
      ROOT: root,
      PAM_SERVICE,
      SECURE_CHROOT_DIR,
      MAX_RATE: String(opts.maxRate ?? 0),
      MAX_PER_IP: String(opts.maxPerIp ?? 50),
      XFERLOG: xferlogPath,
      VSFTPD_LOG: logPath,
      IMPLICIT_SSL: tls === 'implicit' ? 'YES' : 'NO',
      CERT_FILE: path.join(certDir, 'server.pem'),
      KEY_FILE: path.join(certDir, 'server.key'),
    };
    let conf = fillTemplate(fs.readFileSync(path.join(fixtures, 'vsftpd.conf.template'), 'utf8'), values);
    if (tls !== 'none') conf += `\n${fillTemplate(fs.readFileSync(path.join(fixtures, 'vsftpd-tls.conf.snippet'), 'utf8'), values)}`;
    await fsp.writeFile(confPath, conf, { mode: 0o600 });

    stderr = '';
    // vsftpd reports fatal errors ("500 OOPS: ...") on fd 0, its would-be
    // control connection, so point fd 0 at the stderr pipe. `exec` keeps
    // proc.pid the vsftpd listener itself.
    const proc = spawn('/bin/sh', ['-c', 'exec "$0" "$1" 0>&2', findVsftpd()!, confPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let exited = false;
    proc.once('exit', () => (exited = true));
    proc.once('error', (err) => {
      exited = true;
      stderr += String(err);
    });

    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline && !(proc.pid && isListening(proc.pid, port, listenAddress))) await sleep(20);
    if (!exited && proc.pid && isListening(proc.pid, port, listenAddress)) {
      child = proc;
      break;
    }
    if (!exited) proc.kill('SIGKILL');
    await sleep(50); // let stderr drain
    if (attempt < 5 && /bind/i.test(stderr)) continue;
    // The temp dir is left behind on purpose so the config can be inspected.
    throw new Error(`vsftpd failed to start (config ${confPath}, ${exited ? 'exited' : 'not listening after 10s'}): ${stderr.trim() || '(no output)'}`);
  }
  // vsftpd 3.0.3 with background=NO prints nothing on success; anything after
  // startup (e.g. "500 OOPS" from the listener) goes to the test's stderr.
  child.stdout!.on('data', (d: Buffer) => process.stderr.write(`[vsftpd ${port}] ${d}`));
  child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[vsftpd ${port}] ${d}`));
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  const listener = child;
  const pid = listener.pid!;

  const sessionPids = () => descendants(pid);
  const killSessions = (signal: NodeJS.Signals = 'SIGKILL') => {
    let n = 0;
    for (const p of sessionPids()) if (killQuietly(p, signal)) n++;
    return n;
  };
  running.add(confPath);
  installExitHook();

  let stopped = false;
  const server: VsftpdServer = {
    host: '127.0.0.1',
    port,
    tls,
    root,
    user: TEST_USER,
    password: TEST_PASSWORD,
    caFile: path.join(certDir, 'ca.pem'),
    otherCaFile: path.join(certDir, 'other.pem'),
    xferlogPath,
    pid,
    pasvPorts: [pasvMin, pasvMin + pasvCount - 1],
    url(remotePath = '/', o = {}) {
      const scheme = o.scheme ?? (tls === 'none' ? 'ftp' : tls === 'explicit' ? 'ftpes' : 'ftps');
      const auth = encodeURIComponent(TEST_USER) + (o.withPassword ? `:${encodeURIComponent(TEST_PASSWORD)}` : '');
      const p = (remotePath.startsWith('/') ? remotePath : `/${remotePath}`)
        .split('/')
        .map((seg) => encodeURIComponent(seg))
        .join('/');
      return `${scheme}://${auth}@127.0.0.1:${port}${p}`;
    },
    async xferTotals() {
      try {
        return parseXferlog(await fsp.readFile(xferlogPath, 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { sent: 0, received: 0, entries: 0 };
        throw err;
      }
    },
    sessionPids,
    killSessions,
    async waitForSessions(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const have = sessionPids().length;
        if (have >= n) return;
        if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${n} vsftpd session processes (have ${have})`);
        await sleep(20);
      }
    },
    async put(relPath, data, mtime) {
      const abs = path.resolve(root, relPath.replace(/^\/+/, ''));
      if (abs !== root && !abs.startsWith(root + path.sep)) throw new Error(`put: ${relPath} is outside the server root`);
      // mkdir -p, handing every new dir to the ftp user so it can write there too.
      const rel = path.relative(root, path.dirname(abs));
      let cur = root;
      for (const seg of rel ? rel.split(path.sep) : []) {
        cur = path.join(cur, seg);
        if (!fs.existsSync(cur)) {
          await fsp.mkdir(cur, { mode: 0o755 });
          await fsp.chown(cur, ids.uid, ids.gid);
        }
      }
      await fsp.writeFile(abs, data, { mode: 0o644 });
      await fsp.chmod(abs, 0o644);
      await fsp.chown(abs, ids.uid, ids.gid);
      if (mtime) await fsp.utimes(abs, mtime, mtime);
      return abs;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopServer(listener, confPath, dir, false);
    },
  };
  return server;
}

/**
 * Stops a server started here: its listener first so no new sessions appear (with
 * `sessionsToo`, its children are killed with it). The sessions get reparented when it dies,
 * so they are found by their command line (which names `marker`, the config file) rather than
 * by parent pid. Then its directory goes.
 */
export async function stopServer(listener: ChildProcess, marker: string, dir: string, sessionsToo: boolean): Promise<void> {
  if (listener.exitCode === null && listener.signalCode === null) {
    const gone = new Promise<void>((resolve) => listener.once('exit', () => resolve()));
    listener.ref(); // unref'd at start; keep the event loop alive until it has exited
    if (sessionsToo) for (const p of descendants(listener.pid!)) killQuietly(p, 'SIGKILL');
    listener.kill('SIGKILL');
    await gone;
  }
  for (let i = 0; i < 50; i++) {
    const left = processesUsing(marker);
    if (!left.length) break;
    for (const p of left) killQuietly(p, 'SIGKILL');
    await sleep(10);
  }
  running.delete(marker);
  await fsp.rm(dir, { recursive: true, force: true });
}
