// rftp sync over FTPS against real vsftpd: explicit TLS (ftpes://, with vsftpd's default
// require_ssl_reuse=YES, so every data connection must resume the control connection's TLS
// session) and implicit TLS (ftps://), certificates verified against the harness's CA.
// Covers both of sync's transfer paths: files up to 256 KiB are sent whole, larger ones through
// the resumable path; the tree includes a file of exactly 256 KiB and one a byte over.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';
import { cleanup, errorLines, randomData, runRftp, scratchDirs, snapshot, testEnv, tmpDir } from '../helpers/cli.js';

const workdir = scratchDirs();

/** 256 KiB: sync's threshold between whole-file and resumable transfers (README, Known limits). */
const WHOLE = 256 * 1024;

/**
 * A nested tree: 36 small files three levels deep, a few at the top (names with spaces), an empty
 * file, files of exactly 256 KiB and 256 KiB + 1, a 700 KB file, and empty directories.
 */
function makeTree(root: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const put = (rel: string, data: Buffer) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
    bytes += data.length;
    files++;
  };
  for (let a = 0; a < 3; a++) {
    for (let b = 0; b < 3; b++) {
      for (let f = 0; f < 4; f++) put(`a${a}/b${b}/f${f}.txt`, randomData(100 + ((a * 977 + b * 131 + f * 37) % 5000)));
    }
  }
  for (let f = 0; f < 4; f++) put(`top file ${f}.txt`, randomData(10 + f));
  put('empty-file', Buffer.alloc(0));
  put('edge/exactly-256k.bin', randomData(WHOLE));
  put('edge/over-256k.bin', randomData(WHOLE + 1));
  put('big/large.bin', randomData(700_000));
  mkdirSync(join(root, 'empty'), { recursive: true });
  mkdirSync(join(root, 'nest/empty/deeper'), { recursive: true });
  return { bytes, files };
}

let fixture: string;
let fixtureBytes: number;
let fixtureFiles: number;
before(() => {
  fixture = tmpDir('rftp-sync-tls-fixture-');
  ({ bytes: fixtureBytes, files: fixtureFiles } = makeTree(fixture));
});
after(() => cleanup(fixture));

/** Copies the fixture into the server's tree under name, owned by the ftp user as uploads would be. */
function serve(server: VsftpdServer, name: string): string {
  const dir = join(server.root, name);
  cpSync(fixture, dir, { recursive: true });
  execFileSync('chown', ['-R', `${server.user}:${server.user}`, dir]);
  return dir;
}

const runSync = (server: VsftpdServer, home: string, args: string[]) =>
  runRftp(['sync', ...args, '--retry-delay', '0.1'], { env: testEnv(home, { RFTP_PASSWORD: server.password, RFTP_UPLOAD_SETTLE_MS: '200' }), timeoutMs: 60_000 });

/** Down sync with --parallel 4 into a fresh directory: identical tree, every byte sent once; a rerun sends nothing. */
async function downAndRerun(server: VsftpdServer, name: string) {
  const remote = serve(server, name);
  const { d, home } = workdir();
  const local = join(d, 'mirror');
  const sentBefore = (await server.xferTotals()).sent;
  const r = await runSync(server, home, [server.url(`${name}/`), local, '--parallel', '4', '--ca-file', server.caFile, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const want = snapshot(remote);
  assert.equal(Object.keys(want.files).length, fixtureFiles);
  assert.deepEqual(snapshot(local), want, 'local tree (files, sha256, empty directories) equals the server tree; no partials left');
  const report = JSON.parse(r.stdout);
  assert.equal(report.result, 'ok');
  assert.equal(report.summary.received, fixtureFiles);
  assert.equal(report.summary.failed, 0);
  assert.equal((await server.xferTotals()).sent - sentBefore, fixtureBytes, 'each file sent exactly once');

  const again = await runSync(server, home, [server.url(`${name}/`), local, '--parallel', '4', '--ca-file', server.caFile, '--json']);
  assert.equal(again.code, 0, again.stderr);
  const rerun = JSON.parse(again.stdout);
  assert.equal(rerun.result, 'skipped');
  assert.equal(rerun.summary.skipped, fixtureFiles);
  assert.equal(rerun.summary.received + rerun.summary.replaced + rerun.summary.continued, 0);
  assert.equal((await server.xferTotals()).sent - sentBefore, fixtureBytes, 'the rerun sent nothing');
  assert.deepEqual(snapshot(local), want);
}

/** A sync that must stop at the certificate: exit 5, one error line naming it, no stack trace. */
function assertTlsRefusal(r: { code: number | null; stderr: string }, what: string) {
  assert.equal(r.code, 5, `${what}: ${r.stderr}`);
  const lines = errorLines(r.stderr);
  assert.equal(lines.length, 1, `${what}: ${r.stderr}`);
  assert.match(lines[0]!, /certificate/i, what);
  assert.doesNotMatch(r.stderr, /^\s+at .*:\d+:\d+\)?$/m, `${what}: no stack trace`);
}

describe('sync over explicit TLS (ftpes://, require_ssl_reuse=YES)', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd({ tls: 'explicit' });
  });
  after(() => server.stop());

  test('down, --parallel 4: the tree arrives identical (whole-file and resumable sizes); a rerun transfers nothing', async () => {
    await downAndRerun(server, 'down');
  });

  test('up, --parallel 4: the server tree equals the local one; a rerun sends nothing', async () => {
    const { home } = workdir();
    const remote = join(server.root, 'up', 'site');
    const receivedBefore = (await server.xferTotals()).received;
    const r = await runSync(server, home, [fixture, server.url('up/site/'), '--parallel', '4', '--ca-file', server.caFile, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(snapshot(remote), snapshot(fixture), 'server tree (files, sha256, empty directories) equals the local tree; no partials left');
    const report = JSON.parse(r.stdout);
    assert.equal(report.result, 'ok');
    assert.equal(report.summary.sent, fixtureFiles);
    assert.equal(report.summary.failed, 0);
    assert.equal((await server.xferTotals()).received - receivedBefore, fixtureBytes, 'each file received exactly once');

    const again = await runSync(server, home, [fixture, server.url('up/site/'), '--parallel', '4', '--ca-file', server.caFile, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const rerun = JSON.parse(again.stdout);
    assert.equal(rerun.result, 'skipped');
    assert.equal(rerun.summary.sent + rerun.summary.replaced + rerun.summary.continued, 0);
    assert.equal((await server.xferTotals()).received - receivedBefore, fixtureBytes, 'the rerun sent nothing');
    assert.deepEqual(snapshot(remote), snapshot(fixture));
  });

  test('certificates are verified: without --ca-file, or with the wrong CA, sync stops with exit 5 and writes nothing', async () => {
    serve(server, 'verify');
    const { d, home } = workdir();
    const xfer = await server.xferTotals();
    for (const [what, extra] of [
      ['no --ca-file', []],
      ['an unrelated CA', ['--ca-file', server.otherCaFile]],
    ] as const) {
      const down = await runSync(server, home, [server.url('verify/'), join(d, 'mirror'), '--parallel', '4', ...extra]);
      assertTlsRefusal(down, `down, ${what}`);
      assert.deepEqual(readdirSync(d), [], `down, ${what}: nothing written locally`);

      const up = await runSync(server, home, [fixture, server.url('verify-up/'), '--parallel', '4', ...extra]);
      assertTlsRefusal(up, `up, ${what}`);
      assert.ok(!existsSync(join(server.root, 'verify-up')), `up, ${what}: nothing created on the server`);
    }
    assert.deepEqual(await server.xferTotals(), xfer, 'no transfer at all');
    assert.deepEqual(snapshot(fixture).files, snapshot(join(server.root, 'verify')).files, 'the server tree is untouched');
  });

  test('--insecure syncs without the CA, and says that certificate checks are off', async () => {
    const remote = serve(server, 'insecure');
    const { d, home } = workdir();
    const r = await runSync(server, home, [server.url('insecure/'), join(d, 'mirror'), '--insecure']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /certificate checks are off/);
    assert.deepEqual(snapshot(join(d, 'mirror')), snapshot(remote));
  });
});

describe('sync over implicit TLS (ftps://)', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd({ tls: 'implicit' });
  });
  after(() => server.stop());

  test('down, --parallel 4: the tree arrives identical (whole-file and resumable sizes); a rerun transfers nothing', async () => {
    assert.match(server.url('/'), /^ftps:\/\//);
    await downAndRerun(server, 'down');
  });

  test('without --ca-file the sync stops with exit 5 and writes nothing', async () => {
    serve(server, 'verify');
    const { d, home } = workdir();
    const r = await runSync(server, home, [server.url('verify/'), join(d, 'mirror'), '--parallel', '4']);
    assertTlsRefusal(r, 'implicit, no --ca-file');
    assert.deepEqual(readdirSync(d), []);
  });
});
