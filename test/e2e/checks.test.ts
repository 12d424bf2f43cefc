// The checks after a transfer (--scan, --verify-command, --on-complete) against a real vsftpd and
// ClamAV's clamscan with a signature database built here (sigtool --md5: no download needed).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureTool, errorLines, randomData, runRftp, scratchDirs, sha256, sha256File, spawnRftp, testEnv, waitFor } from '../helpers/cli.js';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';

const workdir = scratchDirs();

describe('checks after a transfer', () => {
  let server: VsftpdServer;
  let db: string;
  /** The "virus": random bytes whose md5 the test database knows. */
  const virus = randomData(300_000);
  const clean = randomData(200_000);
  // Large enough for sync to go through download() with its state file, not the whole-file path.
  const bigClean = randomData(600_000);
  before(async () => {
    ensureTool('clamscan', 'clamav');
    server = await startVsftpd();
    await server.put('pub/eicar.bin', virus);
    await server.put('pub/clean.bin', clean);
    await server.put('tree/ok.txt', 'fine\n');
    await server.put('tree/big.bin', bigClean);
    await server.put('tree/sub/bad.bin', virus);
    const { d } = workdir();
    writeFileSync(join(d, 'eicar.bin'), virus);
    db = join(d, 'test.hdb');
    writeFileSync(db, execFileSync('sigtool', ['--md5', join(d, 'eicar.bin')]));
  });
  after(() => server.stop());
  const env = (home: string, extra: NodeJS.ProcessEnv = {}) => testEnv(home, { RFTP_PASSWORD: server.password, ...extra });
  const scan = () => `clamscan --no-summary -d ${db}`;

  test('an infected download never appears: quarantined with a record, exit 10', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['get', server.url('pub/eicar.bin'), '-o', `${d}/`, '--scan', scan()], { env: env(home) });
    assert.equal(r.code, 10, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /eicar\.bin: infected \(.*FOUND\); quarantined as /);
    assert.deepEqual(readdirSync(d), [], 'no target, no partial, no state');
    const qdir = join(home, '.state', 'rftp', 'quarantine');
    assert.equal(statSync(qdir).mode & 0o777, 0o700);
    const files = readdirSync(qdir).sort();
    assert.equal(files.length, 2, files.join(' '));
    const [data, record] = files;
    assert.equal(statSync(join(qdir, data)).mode & 0o777, 0o600);
    assert.equal(sha256File(join(qdir, data)), sha256(virus));
    const rec = JSON.parse(readFileSync(join(qdir, record), 'utf8'));
    assert.equal(rec.sha256, sha256(virus));
    assert.equal(rec.size, virus.length);
    assert.match(rec.scanner, /FOUND/);
    assert.equal(rec.source, server.url('pub/eicar.bin'));
    assert.doesNotMatch(JSON.stringify(rec), new RegExp(server.password.replace(/[&:]/g, '.')));
  });

  test('a clean download lands; RFTP_SCAN is the default scanner; --quarantine elsewhere', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['get', server.url('pub/clean.bin'), '-o', `${d}/`], { env: env(home, { RFTP_SCAN: scan() }) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(join(d, 'clean.bin')), sha256(clean));
    assert.deepEqual(readdirSync(d), ['clean.bin']);
    const q = join(d, 'q');
    const bad = await runRftp(['get', server.url('pub/eicar.bin'), '-o', join(d, 'x.bin'), '--quarantine', q], { env: env(home, { RFTP_SCAN: scan() }) });
    assert.equal(bad.code, 10, bad.stderr);
    assert.equal(existsSync(join(d, 'x.bin')), false);
    assert.equal(readdirSync(q).length, 2);
  });

  test('pget: the assembled file is scanned before the rename', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['pget', '-n', '3', server.url('pub/eicar.bin'), '-o', join(d, 'e.bin'), '--scan', scan()], { env: env(home) });
    assert.equal(r.code, 10, r.stderr);
    assert.deepEqual(readdirSync(d), []);
    const ok = await runRftp(['pget', '-n', '3', server.url('pub/clean.bin'), '-o', join(d, 'c.bin'), '--scan', scan()], { env: env(home) });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(sha256File(join(d, 'c.bin')), sha256(clean));
  });

  test('a scanner that fails keeps the complete partial; a rerun scans again without downloading', async () => {
    const { d, home } = workdir();
    const broken = `sh -c 'echo "LibClamAV Error: cannot load the database" >&2; exit 2' scanner`;
    const target = join(d, 'clean.bin');
    const r = await runRftp(['get', server.url('pub/clean.bin'), '-o', target, '--scan', broken], { env: env(home) });
    assert.equal(r.code, 11, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /virus scan failed \(exit 2: LibClamAV Error: cannot load the database\)/);
    assert.equal(existsSync(target), false);
    assert.equal(sha256File(`${target}.rftp-part`), sha256(clean));
    assert.ok(existsSync(`${target}.rftp-state`));
    const sentBefore = (await server.xferTotals()).sent;
    const again = await runRftp(['get', server.url('pub/clean.bin'), '-o', target, '--scan', scan()], { env: env(home) });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /complete from an earlier run; checking it again/);
    assert.equal(sha256File(target), sha256(clean));
    assert.deepEqual(readdirSync(d), ['clean.bin']);
    assert.equal((await server.xferTotals()).sent - sentBefore, 0, 'nothing downloaded again');
  });

  test('a scanner that hangs is stopped at --scan-timeout (exit 11, partial kept)', async () => {
    const { d, home } = workdir();
    const started = Date.now();
    const r = await runRftp(['get', server.url('pub/clean.bin'), '-o', join(d, 'c.bin'), '--scan', "sh -c 'sleep 60' scanner", '--scan-timeout', '1'], { env: env(home) });
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /virus scan failed \(no answer within 1 s\)/);
    assert.ok(Date.now() - started < 30_000);
    assert.ok(existsSync(join(d, 'c.bin.rftp-part')));
  });

  test('--verify-command: non-zero fails the file with its last line (11), and it never lands', async () => {
    const { d, home } = workdir();
    const verify = `sh -c 'echo checking "$1"; echo "signature does not match" >&2; exit 1' verify`;
    const r = await runRftp(['get', server.url('pub/clean.bin'), '-o', join(d, 'c.bin'), '--verify-command', verify], { env: env(home) });
    assert.equal(r.code, 11, r.stderr);
    assert.match(r.stderr, /verify command failed \(exit 1: signature does not match\)/);
    assert.equal(existsSync(join(d, 'c.bin')), false);
    const ok = await runRftp(['get', server.url('pub/clean.bin'), '-o', join(d, 'c.bin'), '--verify-command', `sh -c 'test -s "$1"' verify`], { env: env(home) });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(sha256File(join(d, 'c.bin')), sha256(clean));
  });

  test('--on-complete: told about the file in its environment, never a password; its failure is 11, the file stays', async () => {
    const { d, home } = workdir();
    const envFile = join(d, 'hook.env');
    const hook = `sh -c 'env > ${envFile}'`;
    const r = await runRftp(['get', server.url('pub/clean.bin'), '-o', join(d, 'c.bin'), '--on-complete', hook], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    const seen = Object.fromEntries(
      readFileSync(envFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    assert.equal(seen.RFTP_LOCAL, join(d, 'c.bin'));
    assert.equal(seen.RFTP_URL, server.url('pub/clean.bin'));
    assert.equal(seen.RFTP_SIZE, String(clean.length));
    assert.equal(seen.RFTP_SHA256, sha256(clean));
    assert.equal(seen.RFTP_DIRECTION, 'down');
    assert.equal(seen.RFTP_PASSWORD, undefined);
    assert.equal(readFileSync(envFile, 'utf8').includes(server.password), false);

    writeFileSync(join(d, 'up.bin'), clean);
    const up = await runRftp(['put', join(d, 'up.bin'), server.url('pub/'), '--on-complete', hook], { env: env(home) });
    assert.equal(up.code, 0, up.stderr);
    assert.match(readFileSync(envFile, 'utf8'), /^RFTP_DIRECTION=up$/m);
    assert.match(readFileSync(envFile, 'utf8'), new RegExp(`^RFTP_SHA256=${sha256(clean)}$`, 'm'));

    const failing = await runRftp(['get', server.url('pub/clean.bin'), '-o', join(d, 'f.bin'), '--on-complete', `sh -c 'echo "disk full" >&2; exit 3'`], { env: env(home) });
    assert.equal(failing.code, 11, failing.stderr);
    assert.match(failing.stderr, /on-complete command failed \(exit 3: disk full\); the file is in place/);
    assert.equal(sha256File(join(d, 'f.bin')), sha256(clean));
  });

  test('sync down: an infected file is quarantined, the others land, the report counts it (exit 10)', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['sync', server.url('tree/'), join(d, 'tree'), '--scan', scan(), '--json'], { env: env(home) });
    assert.equal(r.code, 10, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.summary.infected, 1, r.stdout);
    assert.equal(report.summary.failed, 1);
    assert.equal(report.summary.received, 2);
    assert.equal(readFileSync(join(d, 'tree/ok.txt'), 'utf8'), 'fine\n');
    assert.equal(sha256File(join(d, 'tree/big.bin')), sha256(bigClean));
    assert.deepEqual(readdirSync(join(d, 'tree/sub')), []);
    assert.equal(readdirSync(join(home, '.state', 'rftp', 'quarantine')).length, 2);
    // A scanner that fails: counted apart (scanFailed), exit 11, the files kept as partials.
    const { d: d2, home: home2 } = workdir();
    const broken = await runRftp(['sync', server.url('tree/'), d2, '--scan', "sh -c 'exit 2'", '--json'], { env: env(home2) });
    assert.equal(broken.code, 11, broken.stderr);
    assert.equal(JSON.parse(broken.stdout).summary.scanFailed, 3);
    assert.equal(existsSync(join(d2, 'ok.txt')), false);
  });

  test('sync up refuses --scan (it checks downloads); the shell takes set scan', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['sync', d, server.url('up/'), '--scan', scan()], { env: env(home) });
    assert.equal(r.code, 2, r.stderr);
    const sh = await runRftp(['-c', `set scan '${scan()}'; open ${server.url('/pub')}; get eicar.bin`], { env: env(home), cwd: d });
    assert.equal(sh.code, 10, sh.stderr);
    assert.equal(existsSync(join(d, 'eicar.bin')), false);
  });

  test('Ctrl-C during a scan stops the scanner at once: exit 130, the complete partial kept, nothing in place', async () => {
    const { d, home } = workdir();
    const mark = join(d, 'scanning');
    const target = join(d, 'c.bin');
    const run = spawnRftp(['get', server.url('pub/clean.bin'), '-o', target, '--scan', `sh -c 'touch ${mark}; sleep 30' scanner`], { env: env(home) });
    await waitFor(() => existsSync(mark), 'the scanner to start');
    const started = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    assert.equal(r.code, 130, r.stderr);
    assert.ok(Date.now() - started < 10_000, 'not after the scanner would have finished');
    assert.equal(existsSync(target), false);
    assert.equal(sha256File(`${target}.rftp-part`), sha256(clean));
    assert.equal(execFileSync('sh', ['-c', `pgrep -f "${mark}[;] sleep 30" || true`], { encoding: 'utf8' }).trim(), '', 'the scanner is stopped');
  });

  test('a scanner that does not exist is a usage error before anything is fetched; set scan "" turns RFTP_SCAN off', async () => {
    const { d, home } = workdir();
    const sentBefore = (await server.xferTotals()).sent;
    const r = await runRftp(['sync', server.url('tree/'), d, '--scan', 'clamscna --no-summary'], { env: env(home) });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--scan: clamscna: command not found/);
    assert.equal((await server.xferTotals()).sent, sentBefore);
    const sh = await runRftp(['-c', `set scan ''; open ${server.url('/pub')}; get eicar.bin`], { env: env(home, { RFTP_SCAN: scan() }), cwd: d });
    assert.equal(sh.code, 0, sh.stderr);
    assert.ok(existsSync(join(d, 'eicar.bin')));
  });

  test('sync: a failing --on-complete is exit 11, the files stay and count as received', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['sync', server.url('pub/'), d, '--on-complete', `sh -c 'exit 4'`, '--json'], { env: env(home) });
    assert.equal(r.code, 11, r.stderr);
    const report = JSON.parse(r.stdout);
    const files = readdirSync(join(server.root, 'pub')).length;
    assert.equal(report.summary.received, files, r.stdout);
    assert.equal(report.summary.failed, 0);
    assert.equal(report.summary.hookFailed, files);
    assert.equal(sha256File(join(d, 'clean.bin')), sha256(clean));
  });
});
