// Content checked against the server's own hash (--verify, --verify-required) and remote times
// set after uploads (MFMT): proftpd with mod_digest and MFMT, vsftpd with neither, and a scripted
// server whose hash never matches.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { errorLines, randomData, runRftp, scratchDirs, sha256, sha256File, snapshot, testEnv } from '../helpers/cli.js';
import { startFakeFtp } from '../helpers/fake-ftp.js';
import { startProftpd, type FtpServer } from '../helpers/servers.js';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';

const workdir = scratchDirs();

describe('--verify against proftpd (HASH, XSHA256) and MFMT', () => {
  let server: FtpServer;
  before(async () => {
    server = await startProftpd();
  });
  after(() => server.stop());
  const env = (home: string) => testEnv(home, { RFTP_PASSWORD: server.password });

  test('get, pget and put --verify pass where the content is the same', async () => {
    const { d, home } = workdir();
    const data = randomData(700_000);
    await server.put('v/a.bin', data);
    for (const cmd of [['get'], ['pget', '-n', '3']]) {
      const out = join(d, `${cmd[0]}.bin`);
      const r = await runRftp([...cmd, server.url('v/a.bin'), '-o', out, '--verify', '--debug'], { env: env(home) });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /> (OPTS HASH SHA-256|HASH )/, 'the server was asked for its hash');
      assert.equal(sha256File(out), sha256(data));
    }
    writeFileSync(join(d, 'up.bin'), data);
    const put = await runRftp(['put', join(d, 'up.bin'), server.url('v/'), '--verify-required'], { env: env(home) });
    assert.equal(put.code, 0, put.stderr);
    assert.equal(sha256File(join(server.root, 'v/up.bin')), sha256(data));
  });

  test('a file changed on the server between the transfer and the hash is fetched again', async () => {
    const { d, home } = workdir();
    const first = randomData(400_000);
    const mtime = new Date('2024-03-01T10:00:00Z');
    await server.put('v/changing.bin', first, mtime);
    const target = join(d, 'changing.bin');
    // The transfer completes, then a check fails: the complete partial waits for the next run.
    const held = await runRftp(['get', server.url('v/changing.bin'), '-o', target, '--verify-command', `sh -c 'exit 1'`], { env: env(home) });
    assert.equal(held.code, 11, held.stderr);
    // Meanwhile the server's file changes, same size and same time: only its content tells.
    const second = randomData(400_000);
    await server.put('v/changing.bin', second, mtime);
    const sentBefore = (await server.xferTotals()).sent;
    const r = await runRftp(['get', server.url('v/changing.bin'), '-o', target, '--verify'], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /complete from an earlier run/);
    assert.match(r.stderr, /changing\.bin: the content differs from the server's SHA-256; transferring it again/);
    assert.equal(sha256File(target), sha256(second));
    assert.equal((await server.xferTotals()).sent - sentBefore, second.length, 'fetched once more, in full');
    assert.deepEqual(readdirSync(d), ['changing.bin']);
  });

  test('sync up sets the remote times (MFMT): a second run sends nothing, an edited older-dated file is sent', async () => {
    const { d, home } = workdir();
    const src = join(d, 'site');
    const files = { 'index.html': randomData(1000), 'big.bin': randomData(600_000) };
    const old = new Date('2020-05-05T05:05:05Z');
    mkdirSync(src);
    for (const [n, data] of Object.entries(files)) {
      writeFileSync(join(src, n), data);
      utimesSync(join(src, n), old, old);
    }
    const up = (extra: string[] = []) => runRftp(['sync', src, server.url('site/'), '--json', ...extra], { env: env(home) });
    const r1 = await up(['--verify']);
    assert.equal(r1.code, 0, r1.stderr);
    for (const n of Object.keys(files)) assert.equal(statSync(join(server.root, 'site', n)).mtime.getTime(), old.getTime(), `${n} has the local time`);
    const r2 = await up();
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(JSON.parse(r2.stdout).summary.sent + JSON.parse(r2.stdout).summary.replaced, 0, r2.stdout);
    // Edited to the same size with a time after the original but long before the upload: only a
    // remote time that is the source's (not the upload's) shows that it is newer.
    writeFileSync(join(src, 'index.html'), randomData(1000));
    const edited = new Date('2021-01-01T00:00:00Z');
    utimesSync(join(src, 'index.html'), edited, edited);
    const r3 = await up();
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(JSON.parse(r3.stdout).summary.replaced, 1, r3.stdout);
    assert.equal(sha256File(join(server.root, 'site/index.html')), sha256File(join(src, 'index.html')));
  });
});

describe('sync --checksum and check against proftpd', () => {
  let server: FtpServer;
  before(async () => {
    server = await startProftpd();
  });
  after(() => server.stop());
  const env = (home: string) => testEnv(home, { RFTP_PASSWORD: server.password });
  const when = new Date('2023-07-07T07:07:07Z');

  test('sync up --checksum: same content is up to date, a same-size same-time file with other content is sent', async () => {
    const { d, home } = workdir();
    const same = randomData(5000);
    for (const [n, data] of [
      ['same.bin', same],
      ['other.bin', randomData(5000)],
    ] as const) {
      await server.put(`cs/${n}`, data, when);
    }
    writeFileSync(join(d, 'same.bin'), same);
    writeFileSync(join(d, 'other.bin'), randomData(5000));
    for (const n of ['same.bin', 'other.bin']) utimesSync(join(d, n), when, when);
    const plain = await runRftp(['sync', d, server.url('cs/'), '--json'], { env: env(home) });
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(JSON.parse(plain.stdout).summary.skipped, 2, 'by size and time both look up to date');
    const r = await runRftp(['sync', d, server.url('cs/'), '--checksum', '--json'], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout).summary;
    assert.equal(s.replaced, 1, r.stdout);
    assert.equal(s.skipped, 1);
    assert.equal(sha256File(join(server.root, 'cs/other.bin')), sha256File(join(d, 'other.bin')));
  });

  test('check: exit 0 when the trees match; 12 with one line per difference (content, missing, extra)', async () => {
    const { d, home } = workdir();
    const tree = { 'a.txt': randomData(3000), 'sub/b.txt': randomData(3000), 'sub/c.txt': randomData(10) };
    for (const [n, data] of Object.entries(tree)) await server.put(`ck/${n}`, data);
    const local = join(d, 'ck');
    const down = await runRftp(['sync', server.url('ck/'), local], { env: env(home) });
    assert.equal(down.code, 0, down.stderr);
    const same = await runRftp(['check', server.url('ck/'), local], { env: env(home) });
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stderr, /check: no differences; 3 files the same \(SHA-256\)/);
    // Same size, same time, other bytes: only the content tells.
    const st = statSync(join(local, 'a.txt'));
    writeFileSync(join(local, 'a.txt'), randomData(3000));
    utimesSync(join(local, 'a.txt'), st.atime, st.mtime);
    rmSync(join(local, 'sub/c.txt'));
    writeFileSync(join(local, 'extra.txt'), 'only here\n');
    const before = snapshot(local);
    const r = await runRftp(['check', server.url('ck/'), local], { env: env(home) });
    assert.equal(r.code, 12, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['differs  a.txt: content differs (SHA-256)', 'extra    extra.txt', 'missing  sub/c.txt']);
    assert.deepEqual(snapshot(local), before, 'nothing changed');
    const j = await runRftp(['check', server.url('ck/'), local, '--json'], { env: env(home) });
    assert.equal(j.code, 12, j.stderr);
    const report = JSON.parse(j.stdout);
    assert.equal(report.differences.length, 3, j.stdout);
    assert.equal(report.compared, 'size and content (SHA-256)');
    // The other way round: the local tree is the source; the server's tree is left as it was.
    const remoteBefore = snapshot(join(server.root, 'ck'));
    const rev = await runRftp(['check', local, server.url('ck/')], { env: env(home) });
    assert.equal(rev.code, 12, rev.stderr);
    assert.deepEqual(rev.stdout.trim().split('\n').sort(), ['differs  a.txt: content differs (SHA-256)', 'extra    sub/c.txt', 'missing  extra.txt']);
    assert.deepEqual(snapshot(join(server.root, 'ck')), remoteBefore);
    // A directory the server cannot list proves nothing: a failed check (8), not "no differences".
    chmodSync(join(server.root, 'ck/sub'), 0o000);
    try {
      const unread = await runRftp(['check', server.url('ck/'), local], { env: env(home) });
      assert.equal(unread.code, 8, unread.stderr);
      assert.match(unread.stderr, /check incomplete/);
    } finally {
      chmodSync(join(server.root, 'ck/sub'), 0o755);
    }
  });
});

describe('--verify against vsftpd (no hashes)', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd();
    await server.put('a.bin', randomData(100_000));
    await server.put('b.bin', randomData(100_000));
  });
  after(() => server.stop());

  test('sync --checksum is refused before anything moves (2); check compares sizes and says so', async () => {
    const { d, home } = workdir();
    const env = testEnv(home, { RFTP_PASSWORD: server.password });
    const sentBefore = (await server.xferTotals()).sent;
    const r = await runRftp(['sync', server.url('/'), d, '--checksum'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--checksum: the server offers no hash/);
    assert.deepEqual(readdirSync(d), []);
    assert.equal((await server.xferTotals()).sent, sentBefore);
    mkdirSync(d, { recursive: true });
    // Same size, other bytes, older: without hashes only the size can be compared.
    writeFileSync(join(d, 'a.bin'), randomData(100_000));
    utimesSync(join(d, 'a.bin'), new Date('2001-01-01'), new Date('2001-01-01'));
    const c = await runRftp(['check', server.url('/'), d], { env });
    assert.equal(c.code, 12, c.stderr);
    assert.match(c.stderr, /the server offers no hash: files of the same size count as the same/);
    assert.deepEqual(c.stdout.trim().split('\n'), ['missing  b.bin']);
  });

  test('--verify says once that it cannot, and goes on; --verify-required fails (11)', async () => {
    const { d, home } = workdir();
    const env = testEnv(home, { RFTP_PASSWORD: server.password });
    const r = await runRftp(['get', server.url('a.bin'), server.url('b.bin'), '-o', `${d}/`, '--verify'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/the server offers no hash/g)?.length, 1, r.stderr);
    const req = await runRftp(['get', server.url('a.bin'), '-o', join(d, 'x.bin'), '--verify-required'], { env });
    assert.equal(req.code, 11, req.stderr);
    assert.equal(errorLines(req.stderr).length, 1, req.stderr);
    assert.match(req.stderr, /--verify-required, but the server offers no hash/);
    // Never at the target; the complete partial waits for a run that can accept it.
    assert.deepEqual(readdirSync(d).sort(), ['a.bin', 'b.bin', 'x.bin.rftp-part', 'x.bin.rftp-state']);
  });
});

test('a server whose hash never matches: fetched twice, then exit 11 and nothing at the target', async () => {
  const data = randomData(50_000);
  const fake = await startFakeFtp({ 'f.bin': data }, { feat: ['XSHA256', 'SIZE', 'MDTM'], replyInstead: (cmd) => (cmd.startsWith('XSHA256') ? `250 ${'ab'.repeat(32)}` : undefined) });
  try {
    const { d, home } = workdir();
    const r = await runRftp(['get', `ftp://u@127.0.0.1:${fake.port}/f.bin`, '-o', join(d, 'f.bin'), '--verify', '--retry-delay', '0.05'], { env: testEnv(home, { RFTP_PASSWORD: 'pw' }) });
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /f\.bin: the content differs from the server's SHA-256 after a second transfer/);
    assert.equal(fake.commands.filter((c) => c.startsWith('RETR')).length, 2, fake.commands.join(' | '));
    assert.deepEqual(readdirSync(d), [], 'no target, no partial, no state');
  } finally {
    await fake.close();
  }
});

test('put --verify to a server whose hash never matches: sent twice, the temporary file removed, exit 11', async () => {
  const fake = await startFakeFtp({}, { feat: ['XSHA256', 'SIZE'], replyInstead: (cmd) => (cmd.startsWith('XSHA256') ? `250 ${'cd'.repeat(32)}` : undefined) });
  try {
    const { d, home } = workdir();
    writeFileSync(join(d, 'small.bin'), randomData(20_000));
    const r = await runRftp(['put', join(d, 'small.bin'), `ftp://u@127.0.0.1:${fake.port}/small.bin`, '--verify'], { env: testEnv(home, { RFTP_PASSWORD: 'pw' }) });
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /small\.bin: the content differs from the server's SHA-256 after a second transfer/);
    assert.doesNotMatch(r.stderr, /kept on the server/);
    assert.equal(fake.commands.filter((c) => c.startsWith('STOR')).length, 2, fake.commands.join(' | '));
    assert.equal(fake.commands.filter((c) => c.startsWith('RNTO')).length, 0, 'never renamed into place');
    assert.deepEqual([...fake.files.keys()], [], 'the temporary file is gone');
  } finally {
    await fake.close();
  }
});

test('without MFMT, SITE UTIME sets the time in the write of the rename; a server that refuses it is not asked again', async () => {
  const { d, home } = workdir();
  const files = ['a.txt', 'b.txt'];
  for (const f of files) writeFileSync(join(d, f), `${f}\n`);
  const when = new Date('2022-02-02T02:02:02Z');
  for (const f of files) utimesSync(join(d, f), when, when);
  const env = testEnv(home, { RFTP_PASSWORD: 'pw' });
  const taking = await startFakeFtp({}, { feat: ['SIZE', 'MDTM'], replyInstead: (cmd) => (cmd.startsWith('SITE UTIME') ? '213 UTIME OK' : undefined) });
  try {
    const r = await runRftp(['put', join(d, 'a.txt'), `ftp://u@127.0.0.1:${taking.port}/a.txt`], { env });
    assert.equal(r.code, 0, r.stderr);
    const i = taking.commands.findIndex((c) => c.startsWith('SITE UTIME'));
    assert.ok(i >= 0, taking.commands.join(' | '));
    assert.match(taking.commands[i], /^SITE UTIME 20220202020202 \S*a\.txt\S*$/);
    assert.ok(taking.commands[i + 1].startsWith('RNFR'), 'before the rename, in its write');
  } finally {
    await taking.close();
  }
  const refusing = await startFakeFtp({}, { feat: ['SIZE', 'MDTM'] });
  try {
    const r = await runRftp(['put', '-P', '1', join(d, 'a.txt'), join(d, 'b.txt'), `ftp://u@127.0.0.1:${refusing.port}/`, '--debug'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(refusing.commands.filter((c) => c.startsWith('SITE UTIME')).length, 1, refusing.commands.join(' | '));
    assert.match(r.stderr, /neither MFMT nor SITE UTIME/);
  } finally {
    await refusing.close();
  }
});
