// A core set against the servers beside vsftpd (proftpd, pure-ftpd, Debian's pyftpdlib plain
// and over TLS), each started by the suite: get and put of one file, a get and a put killed with
// SIGKILL and resumed, a small sync down and up whose second run transfers nothing. Then the
// failures each server showed when rftp was tried against it by hand.
import assert from 'node:assert/strict';
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { otherServers, startProftpd, startPureFtpd, type FtpServer } from '../helpers/servers.js';
import { errorLines, randomData, runRftp, scratchDirs, sha256, sha256File, sizeOr0, snapshot, spawnRftp, testEnv, waitFor } from '../helpers/cli.js';

const workdir = scratchDirs();

const MiB = 1024 * 1024;
const transferred = (report: { summary: Record<string, number> }) => report.summary.received + report.summary.sent + report.summary.replaced + report.summary.continued;

for (const { name, start } of otherServers) {
  describe(`core set against ${name}`, () => {
    let server: FtpServer;
    let slow: FtpServer;
    before(async () => {
      server = await start();
      slow = await start({ maxRate: 400 * 1024 });
    });
    after(async () => {
      await server?.stop();
      await slow?.stop();
    });
    const env = (home: string, s: FtpServer) => testEnv(home, { RFTP_PASSWORD: s.password });
    const tls = (s: FtpServer) => (s.tls === 'none' ? [] : ['--ca-file', s.caFile]);

    test('get and put of one file', async () => {
      const { d, home } = workdir();
      await server.put('one.bin', randomData(300_000));
      const get = await runRftp(['get', server.url('one.bin'), '-o', join(d, 'one.bin'), ...tls(server)], { env: env(home, server) });
      assert.equal(get.code, 0, get.stderr);
      assert.equal(sha256File(join(d, 'one.bin')), sha256(readFileSync(join(server.root, 'one.bin'))));
      writeFileSync(join(d, 'up.bin'), randomData(200_000));
      const put = await runRftp(['put', join(d, 'up.bin'), server.url(''), ...tls(server)], { env: env(home, server) });
      assert.equal(put.code, 0, put.stderr);
      assert.equal(sha256File(join(server.root, 'up.bin')), sha256File(join(d, 'up.bin')));
    });

    test('a get and a put killed with SIGKILL are resumed: identical files', async () => {
      const { d, home } = workdir();
      const data = randomData(3 * MiB);
      await slow.put('big.bin', data);
      const target = join(d, 'big.bin');
      const args = ['get', slow.url('big.bin'), '-o', target, ...tls(slow)];
      const first = spawnRftp(args, { env: env(home, slow) });
      await waitFor(() => sizeOr0(`${target}.rftp-part`) > 300_000, 'partial download growing', 20_000);
      first.child.kill('SIGKILL');
      await first.done;
      assert.ok(!existsSync(target), 'no file at the target after the kill');
      const rest = await runRftp(args, { env: env(home, slow), timeoutMs: 60_000 });
      assert.equal(rest.code, 0, rest.stderr);
      assert.match(rest.stderr, /resum/);
      assert.equal(sha256File(target), sha256(data));

      const local = join(d, 'up-big.bin');
      writeFileSync(local, randomData(3 * MiB));
      const upArgs = ['put', local, slow.url(''), ...tls(slow)];
      const up = spawnRftp(upArgs, { env: env(home, slow) });
      await waitFor(() => sizeOr0(join(slow.root, 'up-big.bin.rftp-part')) > 300_000, 'partial upload growing', 20_000);
      up.child.kill('SIGKILL');
      await up.done;
      const again = await runRftp(upArgs, { env: env(home, slow), timeoutMs: 60_000 });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stderr, /resuming upload|reading it back/);
      assert.equal(sha256File(join(slow.root, 'up-big.bin')), sha256File(local));
    });

    test('sync down and up; a second run transfers nothing', async () => {
      const { d, home } = workdir();
      await server.put('tree/a.txt', 'alpha\n');
      await server.put('tree/sub/b.bin', randomData(50_000));
      await server.put('tree/sub/deeper/c.txt', 'gamma\n');
      const down = ['sync', server.url('tree/'), join(d, 'tree'), ...tls(server)];
      const r1 = await runRftp(down, { env: env(home, server) });
      assert.equal(r1.code, 0, r1.stderr);
      assert.deepEqual(snapshot(join(d, 'tree')), snapshot(join(server.root, 'tree')));
      const r2 = await runRftp([...down, '--json'], { env: env(home, server) });
      assert.equal(r2.code, 0, r2.stderr);
      assert.equal(transferred(JSON.parse(r2.stdout)), 0, r2.stdout);

      mkdirSync(join(d, 'site/css'), { recursive: true });
      writeFileSync(join(d, 'site/index.html'), '<p>hi</p>\n');
      writeFileSync(join(d, 'site/css/s.css'), randomData(40_000));
      const up = ['sync', join(d, 'site'), server.url('www/'), ...tls(server)];
      const u1 = await runRftp(up, { env: env(home, server) });
      assert.equal(u1.code, 0, u1.stderr);
      assert.deepEqual(snapshot(join(server.root, 'www')), snapshot(join(d, 'site')));
      const u2 = await runRftp([...up, '--json'], { env: env(home, server) });
      assert.equal(u2.code, 0, u2.stderr);
      assert.equal(transferred(JSON.parse(u2.stdout)), 0, u2.stdout);
    });
  });
}

describe('proftpd: a refused upload is the refusal, at once', () => {
  let server: FtpServer;
  before(async () => {
    server = await startProftpd();
    await server.put('ro/keep', '');
    execSync(`chown root ${join(server.root, 'ro')} && chmod 755 ${join(server.root, 'ro')}`);
  });
  after(() => server?.stop());
  const env = (home: string) => testEnv(home, { RFTP_PASSWORD: server.password });

  test("put into a missing directory: 6, the server's words, no retries; --create-dirs makes it", async () => {
    const { d, home } = workdir();
    writeFileSync(join(d, 'f.txt'), 'f\n');
    const started = Date.now();
    const r = await runRftp(['put', join(d, 'f.txt'), server.url('nodir/')], { env: env(home) });
    assert.equal(r.code, 6, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /remote directory not found: .*nodir/);
    assert.doesNotMatch(r.stderr, /reconnecting|connection lost/);
    assert.ok(Date.now() - started < 10_000, 'at once, not after retries');
    const made = await runRftp(['put', '--create-dirs', join(d, 'f.txt'), server.url('nodir/sub/')], { env: env(home) });
    assert.equal(made.code, 0, made.stderr);
    assert.equal(readFileSync(join(server.root, 'nodir/sub/f.txt'), 'utf8'), 'f\n');
  });

  test('put into a directory without permission: 8, "Permission denied", no retries', async () => {
    const { d, home } = workdir();
    writeFileSync(join(d, 'f.txt'), 'f\n');
    const r = await runRftp(['put', join(d, 'f.txt'), server.url('ro/')], { env: env(home) });
    assert.equal(r.code, 8, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.match(errorLines(r.stderr)[0], /550 .*Permission denied/);
    assert.doesNotMatch(r.stderr, /reconnecting|connection lost/);
  });

  test('sync into a read-only directory stops with its failure counted', async () => {
    const { d, home } = workdir();
    mkdirSync(join(d, 'site'));
    writeFileSync(join(d, 'site/a.txt'), 'a\n');
    const r = await runRftp(['sync', '--json', join(d, 'site'), server.url('ro/')], { env: env(home) });
    assert.equal(r.code, 8, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.summary.failed, 1, r.stdout);
    assert.doesNotMatch(r.stderr, /reconnecting/);
  });

  test('ls of a missing directory: 6, "remote directory not found"; of a file: the file', async () => {
    const { home } = workdir();
    await server.put('here.txt', 'x');
    for (const args of [
      ['ls', server.url('nodir2/')],
      ['ls', '-l', server.url('nodir2')],
      ['ls', '--json', server.url('nodir2/')],
    ]) {
      const r = await runRftp(args, { env: env(home) });
      assert.equal(r.code, 6, `${args.join(' ')}: ${r.stderr}`);
      assert.match(errorLines(r.stderr)[0], /remote directory not found/);
      assert.equal(r.stdout, '');
    }
    const file = await runRftp(['ls', server.url('here.txt')], { env: env(home) });
    assert.equal(file.code, 0, file.stderr);
    assert.equal(file.stdout, 'here.txt\n');
  });
});

describe('pure-ftpd: a name the server stores otherwise', () => {
  let server: FtpServer;
  before(async () => {
    server = await startPureFtpd();
  });
  after(() => server?.stop());
  const env = (home: string) => testEnv(home, { RFTP_PASSWORD: server.password });

  test('put of "trail " (pure-ftpd stores "trail_"): exit 8 naming what was stored; sync likewise, every run', async () => {
    const { d, home } = workdir();
    writeFileSync(join(d, 'trail '), 'data\n');
    const r = await runRftp(['put', join(d, 'trail '), server.url('')], { env: env(home) });
    assert.equal(r.code, 8, r.stderr);
    assert.match(errorLines(r.stderr)[0], /"trail " but stored it as trail_/);
    mkdirSync(join(d, 'site'));
    writeFileSync(join(d, 'site/ok.txt'), 'ok\n');
    writeFileSync(join(d, 'site/end '), 'end\n');
    for (let run = 0; run < 2; run++) {
      const s = await runRftp(['sync', join(d, 'site'), server.url('www/')], { env: env(home) });
      assert.equal(s.code, 8, s.stderr);
      assert.match(s.stderr, /"end " but stored it as end_/);
    }
    assert.equal(readFileSync(join(server.root, 'www/ok.txt'), 'utf8'), 'ok\n');
  });
});

test('an IIS-style listing keeps names exactly, leading spaces too: ls and sync find the files', async () => {
  const { fakeServers } = await import('../helpers/fake-ftp.js');
  const fake = fakeServers();
  const { d, home } = workdir();
  const block = (token: string) => (token === '<DIR>' ? `       <DIR>          ` : `${token.padStart(21)} `);
  const line = (token: string, name: string) => `12-01-26  02:15PM${block(token)}${name}`;
  const s = await fake(
    { '/iis/  lead.txt': 'lead\n', '/iis/plain.txt': 'pl\n', '/iis/sub/x': 'x' },
    { listing: (dir) => (dir === '/iis' ? { lines: [line('<DIR>', 'sub'), line('5', '  lead.txt'), line('3', 'plain.txt')] } : undefined) },
  );
  const url = (p: string) => `ftp://u@127.0.0.1:${s.port}/${p}`;
  const e = testEnv(home, { RFTP_PASSWORD: 'pw' });
  const ls = await runRftp(['ls', '--json', url('iis/')], { env: e });
  assert.equal(ls.code, 0, ls.stderr);
  assert.deepEqual(
    JSON.parse(ls.stdout).map((x: { name: string }) => x.name),
    ['  lead.txt', 'plain.txt', 'sub'],
  );
  const r = await runRftp(['sync', url('iis/'), join(d, 'm'), '--exclude', 'sub'], { env: e });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(join(d, 'm', '  lead.txt'), 'utf8'), 'lead\n');
  assert.match(r.stderr, /got " {2}lead\.txt"/, 'a name with a space at its start is quoted in messages');
});

test('a server with neither MLSD nor MDTM: the minute its listing shows decides, with one warning', async () => {
  const { fakeServers } = await import('../helpers/fake-ftp.js');
  const fake = fakeServers();
  const { d, home } = workdir();
  let shown = '12-01-26  02:15PM';
  const line = (size: number, name: string) => `${shown}${`${size}`.padStart(21)} ${name}`;
  const s = await fake({ '/old/f.txt': 'first' }, { feat: ['SIZE'], mdtm: 'refuse', listing: (dir) => (dir === '/old' ? { lines: [line(5, 'f.txt')] } : undefined) });
  const e = testEnv(home, { RFTP_PASSWORD: 'pw' });
  const sync = () => runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/old/`, join(d, 'm'), '--json'], { env: e });
  const first = await sync();
  assert.equal(first.code, 0, first.stderr);
  assert.equal(statSync(join(d, 'm/f.txt')).mtime.getTime(), Date.UTC(2026, 11, 1, 14, 15), "the local copy takes the listing's time");
  const again = await sync();
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).summary.skipped, 1);
  assert.equal(again.stderr.match(/no exact file times/g)?.length, 1, again.stderr);
  // Changed on the server, same size, a later minute: replaced (before, same size meant up to date).
  s.files.get('/old/f.txt')!.data = Buffer.from('other');
  shown = '12-02-26  09:40AM';
  const changed = await sync();
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal(JSON.parse(changed.stdout).summary.replaced, 1, changed.stdout);
  assert.equal(readFileSync(join(d, 'm/f.txt'), 'utf8'), 'other');
});
