// Failures that must be quick and clear: the wrong scheme for a port, a directory where a file
// was meant, the commands sent around login.
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fakeServers } from '../helpers/fake-ftp.js';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';
import { errorLines, runRftp, testEnv, scratchDirs } from '../helpers/cli.js';

const workdir = scratchDirs();
const fake = fakeServers();

describe('the wrong scheme for a port', () => {
  let implicit: VsftpdServer;
  let plain: VsftpdServer;
  before(async () => {
    implicit = await startVsftpd({ tls: 'implicit' });
    plain = await startVsftpd();
    await implicit.put('a.txt', 'a');
    await plain.put('a.txt', 'a');
  });
  after(async () => {
    await implicit.stop();
    await plain.stop();
  });

  test('ftp:// at an implicit-TLS port: no greeting within --timeout, fails at once and suggests ftps://', async () => {
    const { d, home } = workdir();
    const started = Date.now();
    const r = await runRftp(['get', implicit.url('a.txt', { scheme: 'ftp' }), '-o', join(d, 'a'), '--timeout', '2'], { env: testEnv(home, { RFTP_PASSWORD: implicit.password }) });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /no FTP greeting within 2 s .*ftps:\/\//);
    assert.doesNotMatch(r.stderr, /reconnecting/);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });

  test('ftps:// at a plain port: "the server did not answer in TLS", not OpenSSL\'s words', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['get', plain.url('a.txt', { scheme: 'ftps' }), '-o', join(d, 'a')], { env: testEnv(home, { RFTP_PASSWORD: plain.password }) });
    assert.equal(r.code, 5, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /the server did not answer in TLS \(try ftp:\/\/ or ftpes:\/\/\)/);
    assert.doesNotMatch(r.stderr, /wrong version number|reconnecting/);
  });

  test('a directory named without a trailing slash: "is a directory", exit 6', async () => {
    const { d, home } = workdir();
    await plain.put('dir/inside.txt', 'x');
    const r = await runRftp(['get', plain.url('dir'), '-o', join(d, 'x')], { env: testEnv(home, { RFTP_PASSWORD: plain.password }) });
    assert.equal(r.code, 6, r.stderr);
    assert.match(errorLines(r.stderr)[0], /dir is a directory, not a file/);
  });
});

test('a server that accepts the connection and never greets, the first time: one line, exit 3, no retries', async () => {
  const { d, home } = workdir();
  const held: Socket[] = [];
  const silent = createServer((s) => held.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const port = (silent.address() as { port: number }).port;
  try {
    const r = await runRftp(['get', `ftp://u@127.0.0.1:${port}/x`, '-o', join(d, 'x'), '--timeout', '1'], { env: testEnv(home, { RFTP_PASSWORD: 'pw' }) });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.equal(held.length, 1, 'one connection, no retries');
  } finally {
    for (const s of held) s.destroy();
    silent.close();
  }
});

test('OPTS UTF8 ON is sent once, after login, and only when FEAT lists UTF8', async () => {
  const { d, home } = workdir();
  for (const [feat, expectUtf8] of [
    [['SIZE', 'MDTM', 'UTF8'], true],
    [['SIZE', 'MDTM'], false],
  ] as const) {
    const s = await fake({ '/a.txt': 'a' }, { feat: [...feat] });
    const r = await runRftp(['get', `ftp://u@127.0.0.1:${s.port}/a.txt`, '-o', join(d, `a-${expectUtf8}`)], { env: testEnv(home, { RFTP_PASSWORD: 'pw' }) });
    assert.equal(r.code, 0, r.stderr);
    const utf8 = s.commands
      .map((c, i) => [c, i] as const)
      .filter(([c]) => c === 'OPTS UTF8 ON')
      .map(([, i]) => i);
    assert.equal(utf8.length, expectUtf8 ? 1 : 0, s.commands.join(', '));
    if (expectUtf8) assert.ok(utf8[0] > s.commands.indexOf('PASS ***'), s.commands.join(', '));
    assert.equal(s.commands.filter((c) => c === 'FEAT').length, 1);
  }
});
