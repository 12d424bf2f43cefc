// Other real FTP servers for end-to-end tests, beside vsftpd: proftpd (MLSD, MFMT, mod_digest's
// hashes), pure-ftpd and Debian's pyftpdlib (plain and explicit TLS). Each runs in the
// foreground on 127.0.0.1 from a generated configuration, with one user and a throwaway root.
//
// Debian's FTP server packages conflict with each other (and with vsftpd): proftpd and pure-ftpd
// are unpacked with `apt-get download` + `dpkg -x` into SERVERS_DIR, the libraries proftpd needs
// and python3-pyftpdlib are installed with apt (they conflict with nothing). Needs root.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  descendants,
  ensureCerts,
  freePasvRange,
  freePort,
  installExitHook,
  isListening,
  killQuietly,
  parseXferlog,
  repoRoot,
  running,
  sleep,
  stopServer,
  systemSetup,
  TEST_USER,
  type TlsMode,
  type XferTotals,
} from './vsftpd.js';

export type ServerKind = 'proftpd' | 'pure-ftpd' | 'pyftpdlib';

export interface FtpServer {
  kind: ServerKind;
  host: '127.0.0.1';
  port: number;
  tls: TlsMode;
  /** The directory the user sees as its root (chrooted), owned by the ftp user. */
  root: string;
  user: string;
  password: string;
  caFile: string;
  pid: number;
  url(remotePath?: string, opts?: { withPassword?: boolean; scheme?: string }): string;
  /** Write a file under root (mkdir -p), owned by the ftp user. */
  put(relPath: string, data: Buffer | string, mtime?: Date): Promise<string>;
  /** The transfer log's sums, where the server writes one (proftpd's and pure-ftpd's). */
  xferTotals(): Promise<XferTotals>;
  /** Signal every process of the server but the listener (pyftpdlib has none: one process). */
  killSessions(signal?: NodeJS.Signals): number;
  stop(): Promise<void>;
}

export interface ServerOptions {
  /** Bytes per second per transfer, to interrupt one on purpose. */
  maxRate?: number;
  /** pyftpdlib only: explicit TLS (AUTH TLS), required for logins and data. */
  tls?: boolean;
}

/** Alphanumeric: each server takes it in its own configuration syntax. */
const PASSWORD = 'Pw4-test-servers';
export const SERVERS_DIR = '/var/cache/rftp-test-servers';
const PASV_PORTS = 10;

export function apt(args: string[], cwd?: string): void {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = () => execFileSync('apt-get', args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    run();
  } catch {
    // Stale or missing package lists (slim images ship none): update once, then try again.
    execFileSync('apt-get', ['update'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    run();
  }
}

let installed: Promise<void> | undefined;

/** proftpd and pure-ftpd unpacked under SERVERS_DIR; proftpd's libraries and pyftpdlib installed. */
export function ensureServers(): Promise<void> {
  installed ??= (async () => {
    if (process.getuid?.() !== 0) throw new Error('the other FTP servers are installed and run by the tests as root');
    const unpacked = path.join(SERVERS_DIR, 'root');
    if (!fs.existsSync(path.join(unpacked, 'usr/sbin/proftpd')) || !fs.existsSync(path.join(unpacked, 'usr/sbin/pure-ftpd'))) {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rftp-debs-'));
      fs.chmodSync(tmp, 0o755);
      apt(['download', 'proftpd-core', 'pure-ftpd'], tmp);
      const staging = path.join(tmp, 'root');
      for (const deb of fs.readdirSync(tmp).filter((f) => f.endsWith('.deb'))) execFileSync('dpkg', ['-x', path.join(tmp, deb), staging]);
      fs.mkdirSync(SERVERS_DIR, { recursive: true });
      fs.rmSync(unpacked, { recursive: true, force: true });
      fs.renameSync(staging, unpacked);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    const missing = ['libhiredis0.14', 'libmemcached11', 'libmemcachedutil2', 'python3-pyftpdlib', 'python3-openssl'].filter((pkg) => {
      try {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format, not a template
        return !/install ok installed/.test(execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
      } catch {
        return true;
      }
    });
    if (missing.length > 0) apt(['install', '-y', '--no-install-recommends', ...missing]);
  })();
  return installed;
}

const unpackedPath = (rel: string) => path.join(SERVERS_DIR, 'root', rel);

interface Launch {
  argv: string[];
  env?: NodeJS.ProcessEnv;
  /** A word of the command line that names this instance (its config file or directory). */
  marker: string;
  /** Written by the server when it is ready (pyftpdlib), instead of waiting for its socket. */
  readyLine?: string;
}

async function launch(kind: ServerKind, dir: string, port: number, spec: Launch): Promise<ChildProcess> {
  const child = spawn(spec.argv[0], spec.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: spec.env ?? process.env });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', (err) => {
    exited = true;
    output += String(err);
  });
  const deadline = Date.now() + 15_000;
  const ready = () => (spec.readyLine ? output.includes(spec.readyLine) : isListening(child.pid!, port));
  while (!exited && Date.now() < deadline && !ready()) await sleep(20);
  if (exited || !ready()) {
    child.kill('SIGKILL');
    throw new Error(`${kind} failed to start (files in ${dir}): ${output.trim() || '(no output)'}`);
  }
  child.unref();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  running.add(spec.marker);
  installExitHook();
  return child;
}

function proftpdConfig(dir: string, root: string, port: number, pasv: number, ids: { uid: number; gid: number }, opts: ServerOptions): string {
  const hash = execFileSync('openssl', ['passwd', '-6', PASSWORD], { encoding: 'utf8' }).trim();
  fs.writeFileSync(path.join(dir, 'passwd'), `${TEST_USER}:${hash}:${ids.uid}:${ids.gid}::${root}:/bin/sh\n`, { mode: 0o600 });
  return `ServerType standalone
ServerName "rftp test"
DefaultAddress 127.0.0.1
SocketBindTight on
Port ${port}
UseIPv6 off
PassivePorts ${pasv} ${pasv + PASV_PORTS - 1}
User nobody
Group nogroup
ModulePath ${unpackedPath('usr/lib/proftpd')}
LoadModule mod_digest.c
DigestEngine on
PidFile ${dir}/proftpd.pid
ScoreboardFile ${dir}/scoreboard
TransferLog ${dir}/xferlog
SystemLog ${dir}/system.log
WtmpLog off
DelayEngine off
UseReverseDNS off
AuthOrder mod_auth_file.c
AuthUserFile ${dir}/passwd
RequireValidShell off
DefaultRoot ~
AllowOverwrite on
AllowStoreRestart on
AllowRetrieveRestart on
TimesGMT on
${opts.maxRate ? `TransferRate RETR,STOR ${opts.maxRate / 1024}` : ''}
`;
}

export async function startProftpd(opts: ServerOptions = {}): Promise<FtpServer> {
  await ensureServers();
  return start('proftpd', opts, async ({ dir, root, port, pasv, ids }) => {
    const conf = path.join(dir, 'proftpd.conf');
    fs.writeFileSync(conf, proftpdConfig(dir, root, port, pasv, ids, opts));
    return {
      argv: [unpackedPath('usr/sbin/proftpd'), '-n', '-q', '-c', conf],
      env: { ...process.env, LD_LIBRARY_PATH: unpackedPath('usr/lib/x86_64-linux-gnu') },
      marker: conf,
    };
  });
}

export async function startPureFtpd(opts: ServerOptions = {}): Promise<FtpServer> {
  await ensureServers();
  return start('pure-ftpd', opts, async ({ dir, root, port, pasv, ids }) => {
    const db = path.join(dir, 'pureftpd.pdb');
    // pure-pw's own hash (argon2/scrypt) makes every login take seconds here: a SHA-512 crypt
    // hash in the same file format logs in at once.
    const hash = execFileSync('openssl', ['passwd', '-6', PASSWORD], { encoding: 'utf8' }).trim();
    const passwd = path.join(dir, 'pureftpd.passwd');
    fs.writeFileSync(passwd, `${TEST_USER}:${hash}:${ids.uid}:${ids.gid}::${root}/./::::::::::::\n`, { mode: 0o600 });
    execFileSync(unpackedPath('usr/bin/pure-pw'), ['mkdb', db, '-f', passwd], { stdio: ['ignore', 'ignore', 'pipe'] });
    const kbps = opts.maxRate ? String(Math.max(1, Math.round(opts.maxRate / 1024))) : undefined;
    return {
      argv: [
        unpackedPath('usr/sbin/pure-ftpd'),
        '-S',
        `127.0.0.1,${port}`,
        '-p',
        `${pasv}:${pasv + PASV_PORTS - 1}`,
        '-P',
        '127.0.0.1',
        '-l',
        `puredb:${db}`,
        '-E',
        '-H',
        '-A',
        '-O',
        `clf:${path.join(dir, 'xferlog')}`,
        ...(kbps ? ['-T', `${kbps}:${kbps}`] : []),
      ],
      marker: `puredb:${db}`,
    };
  });
}

export async function startPyftpdlib(opts: ServerOptions = {}): Promise<FtpServer> {
  await ensureServers();
  const certs = ensureCerts();
  return start('pyftpdlib', opts, async ({ root, port, pasv }) => {
    const tls = opts.tls ? [path.join(certs, 'server.pem'), path.join(certs, 'server.key')] : [];
    return {
      // Debian's own python3, which has the package (not one from PATH, pyenv's say).
      argv: ['/usr/bin/python3', path.join(repoRoot(), 'fixtures', 'pyftpd.py'), String(port), root, TEST_USER, PASSWORD, String(pasv), String(pasv + PASV_PORTS - 1), ...tls],
      env: { ...process.env, PYFTPD_RATE: String(opts.maxRate ?? 0) },
      marker: root,
      readyLine: 'ready',
    };
  });
}

async function start(
  kind: ServerKind,
  opts: ServerOptions,
  configure: (a: { dir: string; root: string; port: number; pasv: number; ids: { uid: number; gid: number } }) => Promise<Launch>,
): Promise<FtpServer> {
  const ids = await systemSetup();
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `rftp-${kind}-`));
  await fsp.chmod(dir, 0o755);
  const root = path.join(dir, 'root');
  await fsp.mkdir(root, { mode: 0o755 });
  await fsp.chown(root, ids.uid, ids.gid);
  let child: ChildProcess | undefined;
  let port = 0;
  let spec: Launch | undefined;
  for (let attempt = 1; !child; attempt++) {
    port = await freePort();
    spec = await configure({ dir, root, port, pasv: await freePasvRange(), ids });
    try {
      child = await launch(kind, dir, port, spec);
    } catch (err) {
      // The port can be taken between probing and the server's bind(): once more with another.
      if (attempt >= 3 || !/bind|address already in use/i.test(String(err))) throw err;
    }
  }
  const listener = child;
  const marker = spec!.marker;
  const tls: TlsMode = opts.tls ? 'explicit' : 'none';
  let stopped = false;
  return {
    kind,
    host: '127.0.0.1',
    port,
    tls,
    root,
    user: TEST_USER,
    password: PASSWORD,
    caFile: path.join(ensureCerts(), 'ca.pem'),
    pid: listener.pid!,
    url(remotePath = '/', o = {}) {
      const scheme = o.scheme ?? (tls === 'none' ? 'ftp' : 'ftpes');
      const auth = TEST_USER + (o.withPassword ? `:${encodeURIComponent(PASSWORD)}` : '');
      const p = (remotePath.startsWith('/') ? remotePath : `/${remotePath}`).split('/').map(encodeURIComponent).join('/');
      return `${scheme}://${auth}@127.0.0.1:${port}${p}`;
    },
    async put(relPath, data, mtime) {
      const abs = path.resolve(root, relPath.replace(/^\/+/, ''));
      if (!abs.startsWith(root + path.sep)) throw new Error(`put: ${relPath} is outside the server root`);
      let cur = root;
      for (const seg of path.relative(root, path.dirname(abs)).split(path.sep).filter(Boolean)) {
        cur = path.join(cur, seg);
        if (!fs.existsSync(cur)) {
          await fsp.mkdir(cur, { mode: 0o755 });
          await fsp.chown(cur, ids.uid, ids.gid);
        }
      }
      await fsp.writeFile(abs, data, { mode: 0o644 });
      await fsp.chown(abs, ids.uid, ids.gid);
      if (mtime) await fsp.utimes(abs, mtime, mtime);
      return abs;
    },
    async xferTotals() {
      const text = await fsp.readFile(path.join(dir, 'xferlog'), 'utf8').catch(() => '');
      if (kind === 'proftpd') return parseXferlog(text);
      // pure-ftpd's clf: `host - user [date] "GET /path" 200 bytes`.
      const totals = { sent: 0, received: 0, entries: 0 };
      for (const m of text.matchAll(/"(GET|PUT) [^"]*" \d+ (\d+)/g)) {
        totals.entries++;
        if (m[1] === 'GET') totals.sent += Number(m[2]);
        else totals.received += Number(m[2]);
      }
      return totals;
    },
    killSessions(signal: NodeJS.Signals = 'SIGKILL') {
      let n = 0;
      for (const p of descendants(listener.pid!)) if (killQuietly(p, signal)) n++;
      return n;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopServer(listener, marker, dir, true);
    },
  };
}

/** Every server, for tests that run a core set against each. */
export const otherServers: Array<{ name: string; start: (opts?: ServerOptions) => Promise<FtpServer> }> = [
  { name: 'proftpd', start: startProftpd },
  { name: 'pure-ftpd', start: startPureFtpd },
  { name: 'pyftpdlib', start: startPyftpdlib },
  { name: 'pyftpdlib over TLS', start: (o) => startPyftpdlib({ ...o, tls: true }) },
];
