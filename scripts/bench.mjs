#!/usr/bin/env node
// npm run bench: rftp against lftp, curl and aria2c on loopback vsftpd (the test suite's harness,
// compiled in dist/), data on tmpfs where there is one. Benchmarks are not tests: nothing here
// fails on a slow result; it prints a table and writes the figures as JSON to compare runs.
//
//   node scripts/bench.mjs [--quick] [--reps N] [--out FILE]
//   BENCH_SIZE=32M node scripts/bench.mjs      (small sizes, same as --quick but with that size)
//   BENCH_PEERS=lftp,curl                       (only these peers; "none" for rftp alone)
//   BENCH_CASES=getTls,pget                     (only these cases: get, getTls, put, pget, syncFresh, syncUpToDate,
//                                                sync20k, and the WAN ones: wanGet, wanPut, wanSyncDown, …; "wan" for all of those)
//
// The WAN cases run through the latency proxy of the test helpers (20 ms round trip, one case at
// 80 ms) and report the round trips each tool waited for beside its time. Loopback cases report
// CPU seconds (user + system) as well: on these machines wall time on loopback is mostly noise.
//
// Full mode as root installs missing peers with apt-get (lftp, curl, aria2: those packages only).
// Quick mode never installs anything; a missing peer is reported as skipped.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { wanCases } from './bench-wan.mjs';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const argv = process.argv.slice(2);
const opt = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const MB = 1000 * 1000;
const MiB = 1024 * 1024;

function parseSize(text) {
  const m = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(String(text).trim());
  if (!m) throw new Error(`BENCH_SIZE: cannot read ${text} (examples: 4M, 256M, 1G)`);
  return Math.round(Number(m[1]) * { '': 1, k: 1024, m: MiB, g: 1024 * MiB }[m[2].toLowerCase()]);
}

const quick = argv.includes('--quick') || process.env.BENCH_SIZE !== undefined;
const size = quick ? parseSize(process.env.BENCH_SIZE ?? '4M') : 1024 * MiB;
const pgetSize = quick ? size : 200 * MB;
const reps = Number(opt('--reps') ?? process.env.BENCH_REPS ?? (quick ? 1 : 3));
const syncFiles = quick ? 20 : 1000;
const syncFileSize = quick ? 4096 : 50 * 1000;
const throttle = 8 * MB; // bytes/s per connection on the "throttled" server
const outPath = resolve(opt('--out') ?? process.env.BENCH_OUT ?? join(repo, 'bench-results.json'));
const isRoot = process.getuid?.() === 0;

// tmpfs: the harness puts the server root in os.tmpdir(), which follows TMPDIR.
const tmpfs = existsSync('/dev/shm') && writable('/dev/shm');
if (tmpfs) process.env.TMPDIR = '/dev/shm';

function writable(dir) {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function which(cmd) {
  for (const d of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin'])) {
    try {
      accessSync(join(d, cmd), constants.X_OK);
      return join(d, cmd);
    } catch {
      // keep looking
    }
  }
  return undefined;
}

const notes = [];
const note = (text) => {
  notes.push(text);
  console.log(`note: ${text}`);
};

/** Full runs as root install missing peers (only these packages; never another FTP server). */
function installPeers() {
  const want = [
    ['lftp', 'lftp'],
    ['curl', 'curl'],
    ['aria2c', 'aria2'],
  ].filter(([bin]) => !which(bin));
  if (want.length === 0 || quick) return;
  if (!isRoot || !existsSync('/etc/debian_version')) {
    note(`not installing ${want.map(([, p]) => p).join(', ')} (needs root on Debian/Ubuntu)`);
    return;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const [, pkg] of want) {
    try {
      console.log(`installing ${pkg} with apt-get…`);
      try {
        execFileSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      } catch {
        execFileSync('apt-get', ['update'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
        execFileSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      }
    } catch (err) {
      note(`could not install ${pkg}: ${String(err.message).split('\n')[0]}`);
    }
  }
}

const TIME = which('time') && existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Runs one command; wall time in seconds, peak RSS in MB and CPU seconds (GNU time), or an error line. */
function run(cmd, args, env) {
  return new Promise((done) => {
    const rssFile = join(work, `rss-${process.pid}`);
    const [c, a] = TIME ? [TIME, ['-f', '%M %U %S', '-o', rssFile, cmd, ...args]] : [cmd, args];
    const t0 = performance.now();
    const child = spawn(c, a, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      let rssMB;
      let cpu;
      if (TIME) {
        const [kb, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
        rssMB = Number.isFinite(kb) ? Math.round(kb / 1024) : undefined;
        cpu = Number.isFinite(user + sys) ? user + sys : undefined;
      }
      // The last line says that it failed; the warnings before it say why (the first few of them).
      const lines = stderr
        .trim()
        .split('\n')
        .filter((l) => l && !/^Command exited/.test(l));
      const why = lines
        .slice(0, -1)
        .filter((l) => /warning/i.test(l))
        .slice(0, 3);
      if (code !== 0) done({ error: `exit ${code}: ${[lines.pop() ?? '', ...why].join(' | ')}` });
      else done({ seconds, rssMB, cpu });
    });
  });
}

// ---------------------------------------------------------------- setup
installPeers();
const harness = join(repo, 'dist', 'test', 'helpers', 'vsftpd.js');
if (!existsSync(harness)) {
  console.error(`bench: ${harness} is missing; run npm run build first`);
  process.exit(2);
}
const { startVsftpd } = await import(harness);
const work = mkdtempSync(join(tmpfs ? '/dev/shm' : (process.env.TMPDIR ?? '/tmp'), 'rftp-bench-'));
const servers = [];
process.on('exit', () => rmSync(work, { recursive: true, force: true }));

console.log(`bench: ${quick ? 'quick' : 'full'} run, get/put ${fmt(size)}, pget ${fmt(pgetSize)}, best of ${reps}, data in ${work}${tmpfs ? ' (tmpfs)' : ''}`);
// 100 passive ports each: sync --parallel auto opens up to 16 connections, and vsftpd refuses a
// transfer ("500 OOPS: vsf_sysutil_bind") when every port of a small range is in TIME_WAIT.
const plain = await startVsftpd({ pasvPorts: 100 });
servers.push(plain);
const tls = await startVsftpd({ tls: 'explicit', pasvPorts: 100 });
servers.push(tls);
const slow = await startVsftpd({ maxRate: throttle, pasvPorts: 100 });
servers.push(slow);
const stopAll = () => Promise.all(servers.map((s) => s.stop()));

function fmt(n) {
  if (n >= 10 * MB && n % MB === 0) return `${n / MB} MB`;
  return n >= 1024 * MiB ? `${(n / 1024 / MiB).toFixed(1)} GiB` : n >= MiB ? `${(n / MiB).toFixed(0)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

/** A random file of n bytes (a 16 MiB random block repeated: contents do not matter to FTP). */
async function makeFile(path, n) {
  const block = randomBytes(Math.min(n, 16 * MiB));
  const out = createWriteStream(path);
  for (let left = n; left > 0; left -= block.length) {
    if (!out.write(left >= block.length ? block : block.subarray(0, left))) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
}

async function serverFile(server, name, n) {
  const p = join(server.root, name);
  await makeFile(p, n);
  const { uid, gid } = statSync(server.root);
  chownSync(p, uid, gid);
}

await serverFile(plain, 'big.bin', size);
await serverFile(tls, 'big.bin', size);
await serverFile(slow, 'p.bin', pgetSize);
const upSource = join(work, 'up-source.bin');
await makeFile(upSource, size);

/** sha256 of a file, streamed (outside the timed part of a run). */
function sha256Of(path) {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
// What every tool's output must hash to: a fast tool that writes wrong bytes is an error, not a win.
const expectedHash = {
  get: await sha256Of(join(plain.root, 'big.bin')),
  getTls: await sha256Of(join(tls.root, 'big.bin')),
  pget: await sha256Of(join(slow.root, 'p.bin')),
  put: await sha256Of(upSource),
};
/** Checks what a run produced, then removes it (full runs would otherwise keep ~10 GiB in tmpfs). */
async function checkOutput(key, name) {
  const path = key === 'put' ? join(plain.root, `up-${name}.bin`) : lastOut;
  if (!expectedHash[key] || !path || !existsSync(path)) return expectedHash[key] ? 'no output file' : undefined;
  const ok = (await sha256Of(path)) === expectedHash[key];
  rmSync(path, { force: true });
  return ok ? undefined : 'output differs from the source (sha256)';
}

const rftpBin = join(repo, 'bin', 'rftp');
const env = { RFTP_PASSWORD: plain.password, RFTP_NO_KEYCHAIN: '1', LFTP_PASSWORD: plain.password, CI: '1' };
const outDir = join(work, 'out');
mkdirSync(outDir);
/** The file the last tool run writes (a download), to check and remove after the run. */
let lastOut;
const fresh = (name) => {
  const p = join(outDir, name);
  lastOut = p;
  rmSync(p, { force: true, recursive: true });
  rmSync(`${p}.rftp-part`, { force: true });
  rmSync(`${p}.rftp-state`, { force: true });
  return p;
};
/** fresh() for a tool that takes the file's name alone (aria2c's -o, with -d for the directory). */
const freshName = (name) => {
  fresh(name);
  return name;
};
const hostOf = (s) => `127.0.0.1:${s.port}`;
const curlUser = `${plain.user}:${plain.password}`;
const lftpOpen = (s, extra = '') => `set net:max-retries 1; set xfer:clobber on; set cmd:fail-exit yes; ${extra} open --env-password -u ${plain.user} ftp://${hostOf(s)};`;
const lftpTls = (s) => `set ftp:ssl-force true; set ftp:ssl-protect-data true; set ssl:ca-file ${s.caFile};`;
const node = process.execPath;

// Node reads and parses NODE_EXTRA_CA_CERTS at the start of every process, before any of rftp's
// code runs; with a system bundle that is about 0.1 s on our machines. Said, not hidden: the
// times below include it, as a user with that variable set would see.
if (process.env.NODE_EXTRA_CA_CERTS) {
  const startup = (e) => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      spawnSync(node, ['-e', '0'], { env: e });
      best = Math.min(best, performance.now() - t0);
    }
    return best;
  };
  const without = { ...process.env };
  delete without.NODE_EXTRA_CA_CERTS;
  note(`NODE_EXTRA_CA_CERTS is set: Node's own start-up takes ${(startup(process.env) / 1000).toFixed(2)} s with it, ${(startup(without) / 1000).toFixed(2)} s without; every rftp time includes it`);
}

const onlyCases = process.env.BENCH_CASES?.split(',').map((c) => c.trim());
const onlyPeers = process.env.BENCH_PEERS?.split(',').map((p) => p.trim());

/** name -> () => [cmd, args] or a string saying why it is skipped. */
function peer(bin, make) {
  if (onlyPeers && !onlyPeers.includes(bin)) return `skipped: ${bin} not selected (BENCH_PEERS)`;
  return which(bin) ? make : `skipped: ${bin} not installed`;
}

const cases = {
  get: {
    title: `get ${fmt(size)} plain`,
    bytes: size,
    tools: {
      rftp: () => [node, [rftpBin, 'get', '-q', plain.url('big.bin'), '-o', fresh('get-rftp')]],
      lftp: peer('lftp', () => ['lftp', ['-c', `${lftpOpen(plain)} get /big.bin -o ${fresh('get-lftp')}`]]),
      curl: peer('curl', () => ['curl', ['-sS', '--fail', '-u', curlUser, '-o', fresh('get-curl'), `ftp://${hostOf(plain)}/big.bin`]]),
      aria2c: peer('aria2c', () => [
        'aria2c',
        [
          '-q',
          '-x1',
          '-s1',
          '--allow-overwrite=true',
          '--file-allocation=none',
          `--ftp-user=${plain.user}`,
          `--ftp-passwd=${plain.password}`,
          '-d',
          outDir,
          '-o',
          freshName('get-aria2c'),
          `ftp://${hostOf(plain)}/big.bin`,
        ],
      ]),
    },
  },
  getTls: {
    title: `get ${fmt(size)} explicit TLS`,
    bytes: size,
    tools: {
      rftp: () => [node, [rftpBin, 'get', '-q', tls.url('big.bin'), '--ca-file', tls.caFile, '-o', fresh('tls-rftp')]],
      lftp: peer('lftp', () => ['lftp', ['-c', `${lftpOpen(tls, lftpTls(tls))} get /big.bin -o ${fresh('tls-lftp')}`]]),
      curl: peer('curl', () => ['curl', ['-sS', '--fail', '--ssl-reqd', '--cacert', tls.caFile, '-u', curlUser, '-o', fresh('tls-curl'), `ftp://${hostOf(tls)}/big.bin`]]),
      aria2c: 'skipped: aria2c has no FTPS',
    },
  },
  put: {
    title: `put ${fmt(size)} plain`,
    bytes: size,
    tools: {
      rftp: () => [node, [rftpBin, 'put', '-q', '-f', upSource, plain.url('up-rftp.bin')]],
      lftp: peer('lftp', () => ['lftp', ['-c', `${lftpOpen(plain)} put ${upSource} -o /up-lftp.bin`]]),
      curl: peer('curl', () => ['curl', ['-sS', '--fail', '-u', curlUser, '-T', upSource, `ftp://${hostOf(plain)}/up-curl.bin`]]),
    },
    after: () => {
      for (const f of ['up-rftp.bin', 'up-lftp.bin', 'up-curl.bin']) rmSync(join(plain.root, f), { force: true });
    },
  },
  pget: {
    title: `pget -n 4 ${fmt(pgetSize)}, server ${throttle / MB} MB/s per connection`,
    bytes: pgetSize,
    tools: {
      rftp: () => [node, [rftpBin, 'pget', '-q', '-n', '4', slow.url('p.bin'), '-o', fresh('pget-rftp')]],
      'rftp-single': () => [node, [rftpBin, 'get', '-q', slow.url('p.bin'), '-o', fresh('pget-single')]],
      lftp: peer('lftp', () => ['lftp', ['-c', `${lftpOpen(slow)} pget -n 4 /p.bin -o ${fresh('pget-lftp')}`]]),
      aria2c: peer('aria2c', () => [
        'aria2c',
        [
          '-q',
          '-x4',
          '-s4',
          '-k1M',
          '--allow-overwrite=true',
          '--file-allocation=none',
          `--ftp-user=${plain.user}`,
          `--ftp-passwd=${plain.password}`,
          '-d',
          outDir,
          '-o',
          freshName('pget-aria2c'),
          `ftp://${hostOf(slow)}/p.bin`,
        ],
      ]),
    },
  },
};

// ---------------------------------------------------------------- sync (only when rftp has it)
const hasSync = spawnSync(node, [rftpBin, 'sync', '--help'], { encoding: 'utf8' }).status === 0;
const wantSync = !onlyCases || onlyCases.some((c) => c.startsWith('sync'));
if (hasSync && wantSync) {
  for (let i = 0; i < syncFiles; i++) {
    const p = join(plain.root, 'tree', `d${i % 10}`, `f${i}.bin`);
    mkdirSync(join(plain.root, 'tree', `d${i % 10}`), { recursive: true });
    writeFileSync(p, randomBytes(syncFileSize));
  }
  const { uid, gid } = statSync(plain.root);
  for (const p of [join(plain.root, 'tree'), ...readdirSync(join(plain.root, 'tree'), { recursive: true }).map((f) => join(plain.root, 'tree', f))]) chownSync(p, uid, gid);
  const syncTools = (up) => ({
    rftp: () => {
      const dir = join(outDir, 'sync-rftp');
      if (!up) rmSync(dir, { recursive: true, force: true });
      return [node, [rftpBin, 'sync', '-q', plain.url('tree/'), dir]];
    },
    'rftp-auto': () => {
      const dir = join(outDir, 'sync-rftp-auto');
      if (!up) rmSync(dir, { recursive: true, force: true });
      return [node, [rftpBin, 'sync', '-q', '-P', 'auto', plain.url('tree/'), dir]];
    },
    lftp: peer('lftp', () => {
      const dir = join(outDir, 'sync-lftp');
      if (!up) rmSync(dir, { recursive: true, force: true });
      return ['lftp', ['-c', `${lftpOpen(plain)} mirror --parallel=4 /tree ${dir}`]];
    }),
  });
  cases.syncFresh = { title: `sync ${syncFiles} files (${fmt(syncFiles * syncFileSize)}) fresh`, bytes: syncFiles * syncFileSize, tools: syncTools(false) };
  cases.syncUpToDate = { title: `sync ${syncFiles} files, up to date`, bytes: 0, tools: syncTools(true), prime: true };
} else if (!hasSync) {
  note('skipped: rftp sync not available');
}
// Memory: peak RSS of a fresh sync of 20,000 small files (full runs; the goal is <= 100 MB).
const want = (key) => !onlyCases || onlyCases.includes(key) || (key.startsWith('wan') && onlyCases.includes('wan'));
if (hasSync && !quick && want('sync20k')) {
  const many = 20_000;
  for (let i = 0; i < many; i++) {
    mkdirSync(join(plain.root, 'many', `d${i % 100}`), { recursive: true });
    writeFileSync(join(plain.root, 'many', `d${i % 100}`, `f${i}.txt`), `${i}\n`);
  }
  const { uid, gid } = statSync(plain.root);
  for (const f of ['many', ...readdirSync(join(plain.root, 'many'), { recursive: true }).map((f) => join('many', f))]) chownSync(join(plain.root, f), uid, gid);
  cases.sync20k = {
    title: `sync ${many} files fresh (peak RSS)`,
    bytes: 0,
    reps: 1,
    tools: {
      rftp: () => [node, [rftpBin, 'sync', '-q', plain.url('many/'), fresh('many-rftp')]],
      lftp: peer('lftp', () => ['lftp', ['-c', `${lftpOpen(plain)} mirror --parallel=4 /many ${fresh('many-lftp')}`]]),
    },
  };
}

// WAN: through the latency proxy (scripts/bench-wan.mjs).
const wanWanted = !onlyCases || onlyCases.some((c) => c.startsWith('wan'));
let wanWaits;
if (wanWanted) {
  const wan = await wanCases({ harnessWan: join(repo, 'dist', 'test', 'helpers', 'wan.js'), peer, fresh, lftpOpen, lftpTls, node, rftpBin, outDir, fmt, sha256Of }, { quick, throttle, MB });
  servers.push(...wan.servers);
  wanWaits = wan.waits;
  for (const [key, c] of Object.entries(wan.cases)) if (want(key)) cases[key] = c;
}

if (onlyCases) {
  const unknown = onlyCases.filter((c) => !(c in cases) && c !== 'wan');
  if (unknown.length > 0) throw new Error(`BENCH_CASES: no such case ${unknown.join(', ')} (cases: ${Object.keys(cases).join(', ')})`);
  for (const key of Object.keys(cases)) if (!want(key)) delete cases[key];
  note(`only the cases in BENCH_CASES: ${onlyCases.join(', ')}`);
}

// ---------------------------------------------------------------- measure, interleaved
const results = {};

/** One run's figures into its tool's slot: the best time, the highest RSS, the least CPU, the round trips. */
function record(slot, res, c) {
  slot.runs.push(Number(res.seconds.toFixed(3)));
  slot.peakRssMB = Math.max(slot.peakRssMB ?? 0, res.rssMB ?? 0) || undefined;
  slot.seconds = Math.min(...slot.runs);
  if (res.cpu !== undefined) slot.cpuSeconds = Number(Math.min(slot.cpuSeconds ?? Infinity, res.cpu).toFixed(2));
  if (c.bytes) slot.MBps = Number((c.bytes / MB / slot.seconds).toFixed(1));
  if (c.bytes && !c.wan && slot.cpuSeconds !== undefined) slot.cpuPerGiB = Number((slot.cpuSeconds / (c.bytes / (1024 * MiB))).toFixed(2));
  if (c.proxy) {
    // Every wait of the run on every connection (a data connection's connect is one; a final
    // lone QUIT is none), and how many control connections it opened.
    slot.roundTrips = wanWaits(c.proxy.connections());
    slot.connections = c.proxy.controls().length;
  }
}
try {
  for (const [key, c] of Object.entries(cases)) {
    const r = { title: c.title, bytes: c.bytes, tools: {} };
    results[key] = r;
    for (const [name, t] of Object.entries(c.tools)) if (typeof t === 'string') r.tools[name] = { skipped: t };
    if (c.prime) {
      // An up-to-date run needs a complete copy first.
      for (const [name, t] of Object.entries(c.tools)) {
        if (typeof t === 'function') {
          const [cmd, args] = t();
          const res = await run(cmd, args, env);
          if (res.error) r.tools[name] = { error: res.error };
        }
      }
    }
    // Full runs start with one discarded round: first runs here were up to 3x slower for every tool.
    for (let i = quick || c.prime || c.reps ? 0 : -1; i < (c.reps ?? reps); i++) {
      for (const [name, t] of Object.entries(c.tools)) {
        if (typeof t !== 'function' || r.tools[name]?.error || r.tools[name]?.skipped) continue;
        lastOut = undefined;
        const [cmd, args] = t();
        c.proxy?.reset();
        const res = await run(cmd, args, env);
        if (!res.error) {
          const wrong = c.verify ? await c.verify(name) : await checkOutput(key, name);
          if (wrong) res.error = wrong;
        }
        c.after?.();
        if (i < 0 && !res.error) continue;
        r.tools[name] ??= { runs: [] };
        const slot = r.tools[name];
        if (res.error) {
          r.tools[name] = { error: res.error };
          continue;
        }
        record(slot, res, c);
      }
      process.stdout.write('.');
    }
    const mine = r.tools.rftp?.seconds;
    r.ratios = {};
    r.cpuRatios = {};
    for (const [name, t] of Object.entries(r.tools)) {
      if (name !== 'rftp' && t.seconds && mine) r.ratios[name] = Number((mine / t.seconds).toFixed(2));
      if (name !== 'rftp' && t.cpuPerGiB && r.tools.rftp?.cpuPerGiB) r.cpuRatios[name] = Number((r.tools.rftp.cpuPerGiB / t.cpuPerGiB).toFixed(2));
    }
    if (key === 'pget' && r.tools['rftp-single']?.seconds && mine) r.speedup = Number((r.tools['rftp-single'].seconds / mine).toFixed(2));
  }
} finally {
  await stopAll();
}
console.log('');

// ---------------------------------------------------------------- report
const goals = [];
const goal = (what, value, ok, unit = 'x') => goals.push({ goal: what, value: value ?? null, unit, met: value === undefined ? null : ok(value) });
for (const [key, r] of Object.entries(results)) {
  if (!key.startsWith('wan')) continue;
  const c = cases[key];
  const limit = key === 'wanGet' || key === 'wanPut' ? 1.0 : c.upToDate ? 0.25 : 0.6;
  goal(`${r.title} <= ${limit}x lftp`, r.ratios.lftp, (v) => v <= limit);
  const auto = r.tools['rftp-auto']?.seconds;
  const lftp = r.tools.lftp?.seconds;
  if (auto && lftp) goal(`${r.title}, with -P auto <= ${limit}x lftp`, Number((auto / lftp).toFixed(2)), (v) => v <= limit);
}
for (const key of ['get', 'getTls', 'put']) {
  if (results[key]) goal(`${results[key].title}: CPU per GiB <= 1.5x lftp`, results[key].cpuRatios.lftp, (v) => v <= 1.5);
}
goal('sync of 20,000 files: peak RSS <= 100 MB', results.sync20k?.tools.rftp?.peakRssMB, (v) => v <= 100, ' MB');
goal('pget -n 4 >= 3.8x single stream (loopback, throttled)', results.pget?.speedup, (v) => v >= 3.8);

const cell = (t) => {
  if (t?.seconds === undefined) return t?.skipped ? 'skipped' : t?.error ? 'error' : '-';
  const extra = [t.peakRssMB ? `${t.peakRssMB} MB` : '', t.cpuPerGiB !== undefined ? `cpu ${t.cpuPerGiB} s/GiB` : '', t.roundTrips !== undefined ? `${t.roundTrips} rt/${t.connections} conn` : ''];
  return [`${t.seconds.toFixed(2)} s`, ...extra.filter(Boolean)].join(' ');
};
const names = ['rftp', 'rftp-auto', 'rftp-single', 'lftp', 'curl', 'aria2c'];
const rows = [['case', ...names.map((n) => `${n} (time, peak RSS, CPU or round trips)`), 'rftp/peer']];
for (const r of Object.values(results)) {
  const ratios =
    Object.entries(r.ratios)
      .map(([k, v]) => `${k} ${v}x`)
      .join(', ') +
    (Object.keys(r.cpuRatios).length
      ? `; cpu ${Object.entries(r.cpuRatios)
          .map(([k, v]) => `${k} ${v}x`)
          .join(', ')}`
      : '') +
    (r.speedup ? `; speedup ${r.speedup}x` : '');
  rows.push([r.title, ...names.map((n) => cell(r.tools[n])), ratios]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
for (const row of rows) console.log(row.map((c, i) => c.padEnd(widths[i])).join(' | '));
for (const r of Object.values(results)) {
  for (const [n, t] of Object.entries(r.tools)) if (t.error || t.skipped) console.log(`${r.title}: ${n}: ${t.error ?? t.skipped}`);
}
console.log('goals:');
for (const g of goals) console.log(`  ${g.met === null ? 'n/a ' : g.met ? 'met ' : 'MISS'} ${g.goal}${g.value !== null ? ` (${g.value}${g.unit})` : ''}`);

const report = {
  version: 1,
  date: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memMB: Math.round(totalmem() / MiB), node: process.version, tmpfs, network: 'loopback; wan* cases through the latency proxy' },
  sizes: { get: size, pget: pgetSize, syncFiles, syncFileSize, throttleBytesPerSec: throttle, reps },
  results,
  goals,
  notes,
};
writeFileSync(outPath, `${JSON.stringify(report, null, 2)}\n`);
console.log(`results written to ${outPath}`);
