// The bench's WAN cases: vsftpd behind the latency proxy of the test helpers (dist/test/helpers/
// wan.js), rftp and its peers interleaved through the same proxy. Over a link it is round trips
// that decide, so each run also records the waits the proxy counted on all its connections
// (a final lone QUIT excluded) and how many control connections it opened.
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Starts the WAN servers and returns the cases (keyed like bench.mjs's) plus the servers to stop.
 * `t` is what bench.mjs lends: peer(), fresh(), lftpOpen(), lftpTls(), node, rftpBin, outDir, fmt.
 */
export async function wanCases(t, { quick, throttle, MB }) {
  const { startWanVsftpd, allWaits } = await import(t.harnessWan);
  const smallFiles = quick ? 30 : 300;
  const tlsFiles = quick ? 20 : 100;
  const pgetBytes = quick ? 8 * MB : 100 * MB;
  const servers = [];
  const start = async (delayMs, opts = {}) => {
    const s = await startWanVsftpd(delayMs, { pasvPorts: 150, ...opts });
    servers.push(s);
    return s;
  };
  const plain = await start(10);
  const tls = await start(10, { tls: 'explicit' });
  // Unthrottled, the proxy's own CPU would be what pget measures.
  const slow = await start(10, { maxRate: throttle });
  const far = await start(40);

  const own = (s) => {
    const { uid, gid } = statSync(s.root);
    for (const f of readdirSync(s.root, { recursive: true })) chownSync(join(s.root, f), uid, gid);
  };
  const tree = (root, n) => {
    for (let i = 0; i < n; i++) {
      mkdirSync(join(root, `d${i % 10}`), { recursive: true });
      writeFileSync(join(root, `d${i % 10}`, `f${i}.txt`), randomBytes(2000));
    }
  };
  tree(join(plain.root, 'small'), smallFiles);
  tree(join(tls.root, 'small'), tlsFiles);
  writeFileSync(join(plain.root, 'one.bin'), randomBytes(30_000));
  writeFileSync(join(slow.root, 'p.bin'), randomBytes(pgetBytes));
  for (const s of [plain, tls, slow]) own(s);
  const localSmall = join(t.outDir, 'wan-local-small');
  tree(localSmall, smallFiles);
  const localTls = join(t.outDir, 'wan-local-tls');
  tree(localTls, tlsFiles);
  const onePut = join(t.outDir, 'wan-one.bin');
  writeFileSync(onePut, randomBytes(30_000));

  const lftp = (s, extra, commands) => t.peer('lftp', () => ['lftp', ['-c', `${t.lftpOpen(s, extra)} ${commands}`]]);
  const ca = (s) => ['--ca-file', s.caFile];
  /** A fresh upload target: the server's copy from the last run removed first. */
  const emptied = (s, dir) => {
    rmSync(join(s.root, dir), { recursive: true, force: true });
    return dir;
  };
  const syncDown = (s, name, extraRftp = [], extraLftp = '', fresh = true) => ({
    rftp: () => {
      const dir = join(t.outDir, `${name}-rftp`);
      if (fresh) rmSync(dir, { recursive: true, force: true });
      return [t.node, [t.rftpBin, 'sync', '-q', s.url('small/'), dir, ...extraRftp]];
    },
    'rftp-auto': () => {
      const dir = join(t.outDir, `${name}-rftp-auto`);
      if (fresh) rmSync(dir, { recursive: true, force: true });
      return [t.node, [t.rftpBin, 'sync', '-q', '-P', 'auto', s.url('small/'), dir, ...extraRftp]];
    },
    lftp: t.peer('lftp', () => {
      const dir = join(t.outDir, `${name}-lftp`);
      if (fresh) rmSync(dir, { recursive: true, force: true });
      return ['lftp', ['-c', `${t.lftpOpen(s, extraLftp)} mirror --parallel=4 /small ${dir}`]];
    }),
  });
  const syncUp = (s, local, name, extraRftp = [], extraLftp = '', fresh = true) => ({
    rftp: () => [t.node, [t.rftpBin, 'sync', '-q', local, s.url(`${fresh ? emptied(s, `${name}-rftp`) : `${name}-rftp`}/`), ...extraRftp]],
    'rftp-auto': () => [t.node, [t.rftpBin, 'sync', '-q', '-P', 'auto', local, s.url(`${fresh ? emptied(s, `${name}-rftp-auto`) : `${name}-rftp-auto`}/`), ...extraRftp]],
    lftp: t.peer('lftp', () => ['lftp', ['-c', `${t.lftpOpen(s, extraLftp)} mirror -R --parallel=4 ${local} /${fresh ? emptied(s, `${name}-lftp`) : `${name}-lftp`}`]]),
  });
  const down = (name) => (tool) => join(t.outDir, `${name}-${tool}`);
  const up = (s, name) => (tool) => join(s.root, `${name}-${tool}`);
  const wan = (proxyOf, c) => ({ ...c, proxy: proxyOf.proxy, wan: true });
  const files = (dir) => {
    try {
      return readdirSync(dir, { recursive: true }).filter((f) => statSync(join(dir, f)).isFile()).length;
    } catch {
      return 0;
    }
  };
  /** A sync's check: every file arrived (their bytes are what the test suite checks). */
  const countIn = (dirOf, n) => (name) => (files(dirOf(name)) === n ? undefined : `${files(dirOf(name))} of ${n} files arrived`);
  const sameAs = (source, pathOf) => async (name) => ((await t.sha256Of(pathOf(name))) === (await t.sha256Of(source)) ? undefined : 'output differs from the source (sha256)');

  const cases = {
    wanGet: wan(plain, {
      title: 'WAN 20 ms: get one 30 KB file',
      bytes: 0,
      verify: sameAs(join(plain.root, 'one.bin'), (name) => join(t.outDir, `wan-get-${name}`)),
      tools: {
        rftp: () => [t.node, [t.rftpBin, 'get', '-q', plain.url('one.bin'), '-o', t.fresh('wan-get-rftp')]],
        lftp: lftp(plain, '', `get /one.bin -o ${t.fresh('wan-get-lftp')}`),
        curl: t.peer('curl', () => ['curl', ['-sS', '--fail', '-u', `${plain.user}:${plain.password}`, '-o', t.fresh('wan-get-curl'), `ftp://127.0.0.1:${plain.port}/one.bin`]]),
      },
    }),
    wanPut: wan(plain, {
      title: 'WAN 20 ms: put one 30 KB file',
      bytes: 0,
      verify: sameAs(onePut, (name) => join(plain.root, `put-${name}.bin`)),
      tools: {
        rftp: () => [t.node, [t.rftpBin, 'put', '-q', '-f', onePut, plain.url('put-rftp.bin')]],
        lftp: lftp(plain, '', `put ${onePut} -o /put-lftp.bin`),
        curl: t.peer('curl', () => ['curl', ['-sS', '--fail', '-u', `${plain.user}:${plain.password}`, '-T', onePut, `ftp://127.0.0.1:${plain.port}/put-curl.bin`]]),
      },
    }),
    wanSyncDown: wan(plain, { title: `WAN 20 ms: sync down ${smallFiles} small files, fresh`, bytes: 0, verify: countIn(down('wan-down'), smallFiles), tools: syncDown(plain, 'wan-down') }),
    wanSyncDownUpToDate: wan(plain, {
      title: `WAN 20 ms: sync down ${smallFiles} small files, up to date`,
      bytes: 0,
      prime: true,
      upToDate: true,
      verify: countIn(down('wan-down2'), smallFiles),
      tools: syncDown(plain, 'wan-down2', [], '', false),
    }),
    wanSyncUp: wan(plain, { title: `WAN 20 ms: sync up ${smallFiles} small files, fresh`, bytes: 0, verify: countIn(up(plain, 'wan-up'), smallFiles), tools: syncUp(plain, localSmall, 'wan-up') }),
    wanSyncUpUpToDate: wan(plain, {
      title: `WAN 20 ms: sync up ${smallFiles} small files, up to date`,
      bytes: 0,
      prime: true,
      upToDate: true,
      verify: countIn(up(plain, 'wan-up2'), smallFiles),
      tools: syncUp(plain, localSmall, 'wan-up2', [], '', false),
    }),
    wanTlsSyncDown: wan(tls, {
      title: `WAN 20 ms: sync down ${tlsFiles} files, explicit TLS, fresh`,
      bytes: 0,
      verify: countIn(down('wan-tls-down'), tlsFiles),
      tools: syncDown(tls, 'wan-tls-down', ca(tls), t.lftpTls(tls)),
    }),
    wanTlsSyncUp: wan(tls, {
      title: `WAN 20 ms: sync up ${tlsFiles} files, explicit TLS, fresh`,
      bytes: 0,
      verify: countIn(up(tls, 'wan-tls-up'), tlsFiles),
      tools: syncUp(tls, localTls, 'wan-tls-up', ca(tls), t.lftpTls(tls)),
    }),
    wanPget: wan(slow, {
      title: `WAN 20 ms: pget -n 4 ${t.fmt(pgetBytes)}, ${throttle / MB} MB/s per connection`,
      bytes: pgetBytes,
      verify: sameAs(join(slow.root, 'p.bin'), (name) => join(t.outDir, `wan-pget-${name}`)),
      tools: {
        rftp: () => [t.node, [t.rftpBin, 'pget', '-q', '-n', '4', slow.url('p.bin'), '-o', t.fresh('wan-pget-rftp')]],
        lftp: lftp(slow, '', `pget -n 4 /p.bin -o ${t.fresh('wan-pget-lftp')}`),
      },
    }),
    wan80SyncUp: wan(far, { title: `WAN 80 ms: sync up ${smallFiles} small files, fresh`, bytes: 0, verify: countIn(up(far, 'wan80-up'), smallFiles), tools: syncUp(far, localSmall, 'wan80-up') }),
  };
  return { cases, servers, waits: allWaits };
}
