// get and put against real vsftpd instances: plain, explicit TLS and implicit TLS.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startVsftpd, type TlsMode, type VsftpdServer } from '../helpers/vsftpd.js';
import { errorLines, randomData, runRftp, scratchDirs, sha256, sha256File, testEnv } from '../helpers/cli.js';

const workdir = scratchDirs();

for (const mode of ['none', 'explicit', 'implicit'] as TlsMode[]) {
  describe(`get and put over ${mode === 'none' ? 'plain FTP' : `${mode} TLS`}`, () => {
    let server: VsftpdServer;
    before(async () => {
      server = await startVsftpd({ tls: mode });
    });
    after(() => server.stop());
    const tlsArgs = () => (mode === 'none' ? [] : ['--ca-file', server.caFile]);

    test('download is byte-identical, lands atomically, leaves no partial or state', async () => {
      const { d, home } = workdir();
      const data = randomData(3 * 1024 * 1024 + 17);
      await server.put('dir/big.bin', data);
      const r = await runRftp(['get', server.url('dir/big.bin'), '-o', `${d}/`, ...tlsArgs()], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256File(join(d, 'big.bin')), sha256(data));
      assert.deepEqual(readdirSync(d), ['big.bin']);
    });

    test('upload is byte-identical on the server, via a temporary name', async () => {
      const { d, home } = workdir();
      const data = randomData(2 * 1024 * 1024 + 5);
      writeFileSync(join(d, 'up.bin'), data);
      const r = await runRftp(['put', join(d, 'up.bin'), server.url('uploads/'), ...tlsArgs()], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
      // uploads/ does not exist yet: a clear error, not a partial success.
      assert.notEqual(r.code, 0);
      assert.equal(errorLines(r.stderr).length, 1, r.stderr);
      mkdirSync(join(server.root, 'uploads'));
      chmodSync(join(server.root, 'uploads'), 0o777);
      const receivedBefore = (await server.xferTotals()).received;
      const ok = await runRftp(['put', join(d, 'up.bin'), server.url('uploads/'), ...tlsArgs()], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(sha256File(join(server.root, 'uploads', 'up.bin')), sha256(data));
      assert.deepEqual(readdirSync(join(server.root, 'uploads')), ['up.bin']);
      // Sent once, exactly: no retry, no re-send after the rename.
      assert.equal((await server.xferTotals()).received - receivedBefore, data.length);
    });

    if (mode !== 'none') {
      test('an untrusted certificate is refused (exit 5) and nothing is written', async () => {
        const { d, home } = workdir();
        await server.put('c.bin', 'secret data');
        const r = await runRftp(['get', server.url('c.bin'), '-o', join(d, 'c.bin')], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
        assert.equal(r.code, 5, r.stderr);
        assert.match(r.stderr, /certificate/i);
        assert.equal(errorLines(r.stderr).length, 1);
        assert.deepEqual(readdirSync(d), []);
        const wrongCa = await runRftp(['get', server.url('c.bin'), '-o', join(d, 'c.bin'), '--ca-file', server.otherCaFile], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
        assert.equal(wrongCa.code, 5, wrongCa.stderr);
      });

      test('--ca-file adds to the system CAs, it does not replace them', async () => {
        const { d, home } = workdir();
        await server.put('sys.bin', 'trusted by the system store');
        // With --use-openssl-ca Node's system store is OpenSSL's, which reads SSL_CERT_FILE: the
        // server's CA stands in for a public one, and --ca-file names an unrelated CA.
        const system = (caFile: string) => testEnv(home, { RFTP_PASSWORD: server.password, NODE_OPTIONS: '--use-openssl-ca', SSL_CERT_FILE: caFile, SSL_CERT_DIR: join(home, 'no-certs') });
        const both = await runRftp(['get', server.url('sys.bin'), '-o', join(d, 'sys.bin'), '--ca-file', server.otherCaFile], { env: system(server.caFile) });
        assert.equal(both.code, 0, both.stderr);
        assert.equal(readFileSync(join(d, 'sys.bin'), 'utf8'), 'trusted by the system store');
        // The control: the same run with a system store that does not hold the server's CA fails.
        const neither = await runRftp(['get', server.url('sys.bin'), '-o', join(d, 'other.bin'), '--ca-file', server.otherCaFile], { env: system(server.otherCaFile) });
        assert.equal(neither.code, 5, neither.stderr);
        assert.ok(!existsSync(join(d, 'other.bin')));
      });

      test('--insecure connects without checks and says so', async () => {
        const { d, home } = workdir();
        await server.put('i.bin', 'insecure ok');
        const r = await runRftp(['get', server.url('i.bin'), '-o', join(d, 'i.bin'), '--insecure'], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /certificate checks are off/);
        assert.equal(readFileSync(join(d, 'i.bin'), 'utf8'), 'insecure ok');
      });
    }
  });
}

describe('errors a user can make, against plain vsftpd', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd();
    await server.put('exists.txt', 'remote content');
  });
  after(() => server.stop());
  const env = (home: string) => testEnv(home, { RFTP_PASSWORD: server.password });

  test('wrong password: exit 4, one line, no retries', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['get', server.url('exists.txt'), '-o', join(d, 'x'), '--retry-delay', '0.05'], { env: testEnv(home, { RFTP_PASSWORD: 'wrong-password' }) });
    assert.equal(r.code, 4, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1);
    assert.doesNotMatch(r.stderr, /retry|reconnect/i);
    assert.doesNotMatch(r.stderr + r.stdout, /wrong-password/);
    assert.deepEqual(readdirSync(d), []);
  });

  test('missing remote file: exit 6, nothing created locally', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['get', server.url('nope.bin'), '-o', join(d, 'nope.bin')], { env: env(home) });
    assert.equal(r.code, 6, r.stderr);
    assert.match(errorLines(r.stderr)[0], /not found/);
    assert.doesNotMatch(r.stderr, /retry|reconnect/i);
    assert.deepEqual(readdirSync(d), []);
  });

  test('missing local file for put: exit 7, before connecting', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['put', join(d, 'missing.bin'), server.url('')], { env: env(home) });
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /no such file/);
  });

  test('unwritable local directory: exit 7, one line', async () => {
    const { d, home } = workdir();
    writeFileSync(join(d, 'afile'), '');
    const r = await runRftp(['get', server.url('exists.txt'), '-o', join(d, 'afile', 'sub', 'x.txt')], { env: env(home) });
    assert.equal(r.code, 7, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1);
    // As a user who may not write there (the suite runs as root, which may write anywhere).
    const ro = join(d, 'ro');
    mkdirSync(ro, { mode: 0o755 });
    const asNobody = await runRftp(['get', server.url('exists.txt'), '-o', join(ro, 'x.txt')], { env: env(home), asUser: 'nobody' });
    assert.equal(asNobody.code, 7, asNobody.stderr);
    assert.match(errorLines(asNobody.stderr)[0], /permission denied/);
    assert.equal(errorLines(asNobody.stderr).length, 1);
    assert.deepEqual(readdirSync(ro), []);
    // A sync whose local root cannot be read: a local root problem (7), as documented.
    const locked = join(d, 'locked');
    mkdirSync(locked, { mode: 0o711 });
    chmodSync(d, 0o711); // nobody may pass through, not list

    const up = await runRftp(['sync', locked, server.url('never/')], { env: env(home), asUser: 'nobody' });
    assert.equal(up.code, 7, up.stderr);
    assert.equal(errorLines(up.stderr).length, 1, up.stderr);
    assert.match(up.stderr, /cannot read the directory: EACCES/);
  });

  test('existing local file is not overwritten without --force; -c skips a complete one', async () => {
    const { d, home } = workdir();
    const target = join(d, 'exists.txt');
    writeFileSync(target, 'local content!');
    const r = await runRftp(['get', server.url('exists.txt'), '-o', target], { env: env(home) });
    assert.equal(r.code, 9, r.stderr);
    assert.equal(readFileSync(target, 'utf8'), 'local content!');
    // Same size (14 bytes) and not older than the remote file: -c counts it complete, as lftp does.
    const same = await runRftp(['get', server.url('exists.txt'), '-o', target, '-c', '--json'], { env: env(home) });
    assert.equal(same.code, 0, same.stderr);
    assert.equal(JSON.parse(same.stdout).result, 'skipped');
    assert.equal(readFileSync(target, 'utf8'), 'local content!');
    // Same size but older than the remote file: -c fetches it again.
    utimesSync(target, new Date('2001-01-01'), new Date('2001-01-01'));
    const c = await runRftp(['get', server.url('exists.txt'), '-o', target, '-c', '--json'], { env: env(home) });
    assert.equal(c.code, 0, c.stderr);
    assert.equal(JSON.parse(c.stdout).result, 'ok');
    assert.equal(readFileSync(target, 'utf8'), 'remote content');
    const c2 = await runRftp(['get', server.url('exists.txt'), '-o', target, '-c', '--json'], { env: env(home) });
    assert.equal(JSON.parse(c2.stdout).result, 'skipped');
    writeFileSync(target, 'x');
    const f = await runRftp(['get', server.url('exists.txt'), '-o', target, '--force'], { env: env(home) });
    assert.equal(f.code, 0, f.stderr);
    assert.equal(readFileSync(target, 'utf8'), 'remote content');
  });

  test('existing remote file is not overwritten by put without --force', async () => {
    const { d, home } = workdir();
    writeFileSync(join(d, 'exists.txt'), 'other');
    const r = await runRftp(['put', join(d, 'exists.txt'), server.url('')], { env: env(home) });
    assert.equal(r.code, 9, r.stderr);
    assert.equal(readFileSync(join(server.root, 'exists.txt'), 'utf8'), 'remote content');
  });

  test('malformed URL and CR/LF in a path: exit 2 before any connection', async () => {
    const { home } = workdir();
    for (const url of ['ftp//nohost/x', 'gopher://127.0.0.1/x', `ftp://127.0.0.1:${server.port}/a%0D%0ADELE%20exists.txt`]) {
      const r = await runRftp(['get', url], { env: env(home) });
      assert.equal(r.code, 2, `${url}: ${r.stderr}`);
      assert.equal(errorLines(r.stderr).length, 1);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    }
    assert.ok(existsSync(join(server.root, 'exists.txt')));
    const bad = await runRftp(['get'], { env: env(home) });
    assert.equal(bad.code, 2);
    // Timer values past what Node's timers hold (about 24 days) are refused, not warned about.
    for (const opt of [
      ['--timeout', '99999999999'],
      ['--retry-delay', '99999999999'],
      ['--timeout', '0'],
    ]) {
      const r = await runRftp(['get', ...opt, server.url('exists.txt')], { env: env(home) });
      assert.equal(r.code, 2, `${opt.join(' ')}: ${r.stderr}`);
      assert.equal(errorLines(r.stderr).length, 1, r.stderr);
      assert.doesNotMatch(r.stderr, /TimeoutOverflowWarning/);
    }
  });

  test('the password appears nowhere: output, --debug log, JSON (state files: see interrupt tests)', async () => {
    const { d, home } = workdir();
    const secret = server.password;
    await server.put('p.bin', randomData(1000));
    const withPassword = server.url('p.bin', { withPassword: true });
    const r = await runRftp(['get', withPassword, '-o', join(d, 'p.bin'), '--debug', '--json'], { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    for (const text of [r.stdout, r.stderr]) {
      assert.ok(!text.includes(secret) && !text.includes(encodeURIComponent(secret)), text);
    }
    assert.match(r.stderr, /PASS \*\*\*/);
    const report = JSON.parse(r.stdout);
    assert.equal(report.result, 'ok');
    assert.equal(report.files[0].size, 1000);
    assert.equal(report.bytesTransferred, 1000);
  });
});
