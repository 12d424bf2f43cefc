// get/put against a scripted fake server that refuses or breaks things on purpose.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync, writeFileSync, statSync, mkdirSync, readdirSync, lstatSync, symlinkSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fakeServers } from '../helpers/fake-ftp.js';
import { ensureCerts } from '../helpers/vsftpd.js';
import { cleanup, errorLines, randomData, runRftp, sha256, sha256File, spawnRftp, testEnv, tmpDir, tmpHome } from '../helpers/cli.js';
import { uploadStatePath } from '../../src/transfer/state.js';

const fake = fakeServers();
const dirs: string[] = [];
after(() => cleanup(...dirs));

function tlsMaterial() {
  const dir = ensureCerts();
  return { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')), ca: join(dir, 'ca.pem') };
}

function workdir() {
  const d = tmpDir();
  const home = tmpHome();
  dirs.push(d, home);
  return { d, env: testEnv(home, { RFTP_PASSWORD: 'pw-for-fake' }) };
}

const fast = ['--retry-delay', '0.05', '--timeout', '3'];

test('AUTH TLS refused: TLS error before USER/PASS, nothing in clear', async () => {
  const { d, env } = workdir();
  const s = await fake({ '/f.bin': 'data' }, { authTls: 'refuse' });
  const r = await runRftp(['get', `ftpes://alice@127.0.0.1:${s.port}/f.bin`, '-o', join(d, 'f.bin'), ...fast], { env });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /refused AUTH TLS/);
  assert.equal(errorLines(r.stderr).length, 1);
  assert.ok(!s.commands.some((c) => /^(USER|PASS)/.test(c)), s.commands.join('|'));
  assert.equal(existsSync(join(d, 'f.bin')), false);
});

test('--tls on an ftp:// URL requires TLS too', async () => {
  const { d, env } = workdir();
  const s = await fake({ '/f.bin': 'data' }, { authTls: 'refuse' });
  const r = await runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, '--tls', '-o', join(d, 'f.bin'), ...fast], { env });
  assert.equal(r.code, 5, r.stderr);
  assert.ok(!s.commands.some((c) => /^(USER|PASS)/.test(c)));
});

// PBSZ and PROT go with PASS in one write (after login, as curl, lftp and FileZilla send them):
// the password travels inside TLS either way; what matters is that no data connection opens
// unprotected.
test('PROT P refused: TLS error before any data connection', async () => {
  const { d, env } = workdir();
  const t = tlsMaterial();
  const s = await fake({ '/f.bin': 'data' }, { authTls: 'ok', prot: 'refuse' }, t);
  const r = await runRftp(['get', `ftpes://alice@127.0.0.1:${s.port}/f.bin`, '--ca-file', t.ca, '-o', join(d, 'f.bin'), ...fast], { env });
  assert.equal(r.code, 5, r.stderr);
  assert.match(r.stderr, /refused PROT P/);
  assert.equal(s.commands[0], 'AUTH TLS', s.commands.join('|'));
  assert.ok(!s.commands.some((c) => /^(EPSV|PASV|RETR|LIST|MLSD)/.test(c)), s.commands.join('|'));
});

test('explicit TLS with PROT P works against a TLS-capable server', async () => {
  const { d, env } = workdir();
  const t = tlsMaterial();
  const data = randomData(300_000);
  const s = await fake({ '/f.bin': data }, { authTls: 'ok', prot: 'ok' }, t);
  const r = await runRftp(['get', `ftpes://alice@127.0.0.1:${s.port}/f.bin`, '--ca-file', t.ca, '-o', join(d, 'f.bin'), ...fast], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sha256File(join(d, 'f.bin')), sha256(data));
  assert.equal(s.commands[0], 'AUTH TLS', s.commands.join('|'));
  const firstData = s.commands.findIndex((c) => /^(EPSV|PASV)/.test(c));
  assert.ok(firstData > 0 && s.commands.indexOf('PROT P') >= 0 && s.commands.indexOf('PROT P') < firstData, s.commands.join('|'));
  assert.equal(s.commands.filter((c) => c === 'PROT P').length, 1, s.commands.join('|'));
});

test('REST refused: the download restarts from zero with a warning and is still exact', async () => {
  const { d, env } = workdir();
  const data = randomData(200_000);
  const s = await fake({ '/f.bin': data }, { shortRetr: { afterBytes: 80_000, reply: '426 Connection closed; transfer aborted.' } });
  const target = join(d, 'f.bin');
  const first = await runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, '-o', target, '--retries', '0', ...fast], { env });
  assert.equal(first.code, 8, first.stderr);
  assert.equal(existsSync(target), false, 'no incomplete file at the target path');
  assert.equal(statSync(`${target}.rftp-part`).size, 80_000);
  s.behaviour.shortRetr = undefined;
  s.behaviour.rest = 'refuse';
  const second = await runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, '-o', target, ...fast], { env });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /refused REST/);
  assert.match(second.stderr, /restarting from zero/);
  assert.equal(sha256File(target), sha256(data));
  assert.equal(existsSync(`${target}.rftp-part`), false);
  assert.equal(existsSync(`${target}.rftp-state`), false);
});

test('REST accepted but ignored (data from 0): the overlap check catches it and restarts', async () => {
  const { d, env } = workdir();
  const data = randomData(300_000);
  const s = await fake({ '/f.bin': data }, { shortRetr: { afterBytes: 150_000, reply: '426 aborted' } });
  const target = join(d, 'f.bin');
  assert.equal((await runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, '-o', target, '--retries', '0', ...fast], { env })).code, 8);
  s.behaviour.shortRetr = undefined;
  s.behaviour.rest = 'ignore';
  const r = await runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, '-o', target, ...fast], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /restarting from zero: the bytes before the resume point differ/);
  assert.equal(sha256File(target), sha256(data));
});

test('a transfer that ends early with 226 is not complete: it is retried and resumed', async () => {
  const { d, env } = workdir();
  const data = randomData(100_000);
  const s = await fake({ '/f.bin': data }, { shortRetr: { afterBytes: 30_000, reply: '226 Transfer complete.' } });
  const target = join(d, 'f.bin');
  const r = await runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, '-o', target, '--retries', '2', ...fast], { env });
  // Every attempt ends early: the client must give up, never call the file complete.
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /ended early/);
  assert.equal(existsSync(target), false);
  s.behaviour.shortRetr = undefined;
  const again = await runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, '-o', target, ...fast], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /resuming at/);
  assert.equal(sha256File(target), sha256(data));
});

test('a stalled data connection is detected by --timeout and the download continues', async () => {
  const { d, env } = workdir();
  const data = randomData(400_000);
  const s = await fake({ '/f.bin': data }, { stallRetrAfterBytes: 150_000 });
  const target = join(d, 'f.bin');
  const run = runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, '-o', target, '--timeout', '1', '--retry-delay', '0.05'], { env });
  // Let the stall happen once, then let the server behave.
  while (!s.commands.some((c) => c.startsWith('RETR'))) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 200));
  s.behaviour.stallRetrAfterBytes = undefined;
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /stalled|Timeout/i);
  assert.equal(sha256File(target), sha256(data));
  assert.ok(s.commands.filter((c) => c.startsWith('REST')).length >= 1, 'the second attempt resumed with REST');
});

test('junk SIZE means the size is unknown: no resume is attempted on a partial', async () => {
  const { d, env } = workdir();
  const data = randomData(50_000);
  const s = await fake({ '/f.bin': data }, { size: 'junk', mdtm: 'junk' });
  const target = join(d, 'f.bin');
  writeFileSync(`${target}.rftp-part`, data.subarray(0, 1000));
  const r = await runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, '-o', target, ...fast], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /restarting from zero/);
  assert.ok(!s.commands.some((c) => c.startsWith('REST')));
  assert.equal(sha256File(target), sha256(data));
});

test('wrong password: exit 4, one line, exactly one login attempt', async () => {
  const { d, env } = workdir();
  const s = await fake({ '/f.bin': 'x' }, { loginFails: true });
  const r = await runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, '-o', join(d, 'f.bin'), ...fast], { env });
  assert.equal(r.code, 4, r.stderr);
  assert.equal(errorLines(r.stderr).length, 1);
  assert.equal(s.commands.filter((c) => c.startsWith('PASS')).length, 1);
  assert.doesNotMatch(r.stderr + r.stdout, /pw-for-fake/);
});

test('upload resume with APPE refused falls back to REST + STOR', async () => {
  const { d, env } = workdir();
  const data = randomData(120_000);
  const local = join(d, 'up.bin');
  writeFileSync(local, data);
  const s = await fake({ '/up.bin.rftp-part': data.subarray(0, 70_000) }, { appe: 'refuse' });
  const url = `ftp://alice@127.0.0.1:${s.port}/up.bin`;
  // The state an earlier, interrupted run of the same upload would have left.
  const st = statSync(local);
  const statePath = uploadStatePath(url, local, env);
  mkdirSync(join(statePath, '..'), { recursive: true });
  writeFileSync(statePath, JSON.stringify({ version: 1, kind: 'upload', url, tempPath: 'up.bin.rftp-part', localPath: local, localSize: data.length, localMtimeMs: Math.trunc(st.mtimeMs) }));
  const r = await runRftp(['put', local, url, ...fast], { env: { ...env, RFTP_UPLOAD_SETTLE_MS: '50' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /resuming upload at/);
  assert.ok(s.commands.includes('APPE up.bin.rftp-part'), s.commands.join('|'));
  assert.ok(s.commands.includes('REST 70000'), s.commands.join('|'));
  assert.equal(sha256(s.files.get('/up.bin')!.data), sha256(data));
  assert.equal(s.files.has('/up.bin.rftp-part'), false);
  assert.equal(existsSync(statePath), false, 'state removed after success');
});

test('upload: a remote partial without matching local state is never continued', async () => {
  const { d, env } = workdir();
  const data = randomData(50_000);
  const local = join(d, 'up.bin');
  writeFileSync(local, data);
  const s = await fake({ '/up.bin.rftp-part': randomData(20_000) });
  const r = await runRftp(['put', local, `ftp://alice@127.0.0.1:${s.port}/`, ...fast], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /restarting upload from zero/);
  assert.ok(!s.commands.some((c) => c.startsWith('APPE')));
  assert.equal(sha256(s.files.get('/up.bin')!.data), sha256(data));
});

test('upload: a remote partial without local state on an upload-only account (RETR refused) is restarted, not an error', async () => {
  const { d, env } = workdir();
  const data = randomData(3 * 1024 * 1024);
  const local = join(d, 'up.bin');
  writeFileSync(local, data);
  // The start of this very file, as a killed run on another machine would have left it.
  const s = await fake({ '/up.bin.rftp-part': data.subarray(0, 2 * 1024 * 1024) }, { retr: 'refuse' });
  const r = await runRftp(['put', local, `ftp://alice@127.0.0.1:${s.port}/`, ...fast], { env: { ...env, RFTP_UPLOAD_SETTLE_MS: '20' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /restarting upload from zero: the server does not let rftp read the remote partial back/);
  assert.ok(!s.commands.some((c) => c.startsWith('APPE')));
  assert.equal(sha256(s.files.get('/up.bin')!.data), sha256(data));
});

test('upload: a read-back of a state-less partial that stalls every time ends with the retry budget, not a retry loop', async () => {
  const { d, env } = workdir();
  const data = randomData(3 * 1024 * 1024);
  const local = join(d, 'up.bin');
  writeFileSync(local, data);
  const s = await fake({ '/up.bin.rftp-part': data.subarray(0, 2 * 1024 * 1024) }, { stallRetrAfterBytes: 1536 * 1024 });
  const started = Date.now();
  const r = await runRftp(['put', local, `ftp://alice@127.0.0.1:${s.port}/`, '--retries', '2', '--retry-delay', '0.05', '--timeout', '1'], { env: { ...env, RFTP_UPLOAD_SETTLE_MS: '20' } });
  assert.notEqual(r.code, 0, r.stderr);
  assert.match(r.stderr, /reading it back/);
  // Each attempt reads from the start and stalls at the same place: not progress.
  assert.ok(s.commands.filter((c) => c.startsWith('RETR')).length <= 3, s.commands.join('\n'));
  assert.ok(Date.now() - started < 30_000);
  assert.ok(!s.files.has('/up.bin'), 'nothing at the final name');
});

test('upload: state from a failed earlier run plus an old final file of the same size is not "done"', async () => {
  const { d, env } = workdir();
  const data = randomData(40_000);
  const local = join(d, 'site.bin');
  writeFileSync(local, data);
  const old = randomData(40_000);
  const s = await fake({ '/site.bin': old });
  const url = `ftp://alice@127.0.0.1:${s.port}/site.bin`;
  const statePath = uploadStatePath(url, local, env);
  mkdirSync(join(statePath, '..'), { recursive: true });
  // What a run that failed before sending anything (e.g. 553) leaves: state, no partial.
  writeFileSync(
    statePath,
    JSON.stringify({ version: 1, kind: 'upload', url, tempPath: 'site.bin.rftp-part', localPath: local, localSize: data.length, localMtimeMs: Math.trunc(statSync(local).mtimeMs) }),
  );
  const plain = await runRftp(['put', local, url, ...fast], { env });
  assert.equal(plain.code, 9, plain.stderr);
  assert.equal(sha256(s.files.get('/site.bin')!.data), sha256(old));
  const forced = await runRftp(['put', '-f', local, url, ...fast], { env });
  assert.equal(forced.code, 0, forced.stderr);
  assert.doesNotMatch(forced.stderr, /skipped/);
  assert.equal(sha256(s.files.get('/site.bin')!.data), sha256(data));
});

test('upload resume where the read-back of the partial ignores REST: restart from zero, not an error', async () => {
  const { d, env } = workdir();
  const data = randomData(200_000);
  const local = join(d, 'up.bin');
  writeFileSync(local, data);
  const s = await fake({ '/up.bin.rftp-part': data.subarray(0, 120_000) }, { rest: 'ignore' });
  const url = `ftp://alice@127.0.0.1:${s.port}/up.bin`;
  const statePath = uploadStatePath(url, local, env);
  mkdirSync(join(statePath, '..'), { recursive: true });
  writeFileSync(
    statePath,
    JSON.stringify({ version: 1, kind: 'upload', url, tempPath: 'up.bin.rftp-part', localPath: local, localSize: data.length, localMtimeMs: Math.trunc(statSync(local).mtimeMs) }),
  );
  const r = await runRftp(['put', local, url, ...fast], { env: { ...env, RFTP_UPLOAD_SETTLE_MS: '20' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /restarting upload from zero: the remote partial does not match/);
  assert.equal(sha256(s.files.get('/up.bin')!.data), sha256(data));
});

test('upload to a server without SIZE: uploaded once with a warning, not retried forever', async () => {
  const { d, env } = workdir();
  const data = randomData(30_000);
  const local = join(d, 'nosize.bin');
  writeFileSync(local, data);
  const s = await fake({}, { size: 'refuse', feat: ['MDTM', 'UTF8'] });
  const r = await runRftp(['put', local, `ftp://alice@127.0.0.1:${s.port}/`, ...fast], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /cannot be verified/);
  assert.equal(s.commands.filter((c) => c.startsWith('STOR')).length, 1);
  assert.equal(sha256(s.files.get('/nosize.bin')!.data), sha256(data));
});

test('Ctrl-C while the server has not even greeted: exit 130 at once, nothing downloaded', async () => {
  const { d, env } = workdir();
  let connected = false;
  const silent = net.createServer(() => (connected = true));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  try {
    const { child, done } = spawnRftp(['get', `ftp://alice@127.0.0.1:${port}/f.bin`, '-o', join(d, 'f.bin'), '--timeout', '30'], { env });
    while (!connected) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.deepEqual(readdirSync(d), []);
  } finally {
    silent.close();
  }
});

test('a PASV reply naming another address is not followed unless --no-fix-pasv-address (also in the shell)', async () => {
  const { d, env } = workdir();
  const data = randomData(20_000);
  // 127.0.0.2 is loopback too, but the fake's data listener only answers on 127.0.0.1.
  const s = await fake({ '/f.bin': data }, { pasvHost: '127.0.0.2' });
  const url = `ftp://alice@127.0.0.1:${s.port}/f.bin`;
  const ok = await runRftp(['get', url, '-o', join(d, 'a.bin'), ...fast], { env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(sha256File(join(d, 'a.bin')), sha256(data));
  const trusting = await runRftp(['get', url, '-o', join(d, 'b.bin'), '--no-fix-pasv-address', '--retries', '0', ...fast], { env });
  assert.notEqual(trusting.code, 0, 'the data connection went to 127.0.0.2 as told');
  assert.equal(existsSync(join(d, 'b.bin')), false);
  const shellOk = await runRftp(['-c', `open ftp://alice@127.0.0.1:${s.port}/; lcd ${d}; get -o c.bin f.bin`], { env });
  assert.equal(shellOk.code, 0, shellOk.stderr);
  const shellTrusting = await runRftp(['-c', `set ftp:fix-pasv-address off; set retries 0; open ftp://alice@127.0.0.1:${s.port}/; lcd ${d}; get -o e.bin f.bin`], { env });
  assert.notEqual(shellTrusting.code, 0, shellTrusting.stderr);
  assert.equal(existsSync(join(d, 'e.bin')), false);
});

test('pget against a server that accepts REST but ignores it: fails, and keeps nothing to continue', async () => {
  const { d, env } = workdir();
  const data = randomData(3 * 1024 * 1024);
  const s = await fake({ '/big.bin': data }, { rest: 'ignore' });
  const target = join(d, 'big.bin');
  const r = await runRftp(['pget', '-n', '3', `ftp://alice@127.0.0.1:${s.port}/big.bin`, '-o', target, ...fast], { env });
  if (r.code === 0) {
    // Acceptable only if the result is exact.
    assert.equal(sha256File(target), sha256(data));
  } else {
    assert.equal(r.code, 8, r.stderr);
    assert.equal(existsSync(target), false);
    assert.equal(existsSync(`${target}.rftp-part`), false, 'no unproven partial is kept for a later run');
    assert.equal(existsSync(`${target}.rftp-state`), false);
  }
});

test('pget resume of a segment not yet started, against a server that now ignores REST: never a wrong file', async () => {
  const { d, env } = workdir();
  const MiB = 1024 * 1024;
  const data = randomData(2 * MiB);
  const s = await fake({ '/two.bin': data }, { rest: 'ignore' });
  const url = `ftp://alice@127.0.0.1:${s.port}/two.bin`;
  const target = join(d, 'two.bin');
  // What an earlier run against a well-behaved server left: the first segment complete, the
  // second not started.
  const part = Buffer.alloc(data.length);
  data.copy(part, 0, 0, MiB);
  writeFileSync(`${target}.rftp-part`, part);
  const mtime = Date.UTC(2020, 0, 2, 3, 4, 5); // the fake server's default modification time
  writeFileSync(
    `${target}.rftp-state`,
    JSON.stringify({
      version: 1,
      kind: 'segmented',
      url,
      remoteSize: data.length,
      remoteMtimeMs: mtime,
      ranges: [
        { start: 0, end: MiB, done: MiB },
        { start: MiB, end: 2 * MiB, done: 0 },
      ],
    }),
  );
  const r = await runRftp(['pget', '-n', '2', url, '-o', target, ...fast], { env });
  if (r.code === 0) assert.equal(sha256File(target), sha256(data), 'exit 0 only with the exact file');
  else {
    assert.equal(existsSync(target), false);
    assert.match(r.stderr, /differ|restarting/);
  }
  assert.ok(s.commands.includes(`REST ${MiB - 64 * 1024}`), `the second segment re-read the end of the first: ${s.commands.filter((c) => c.startsWith('REST')).join(', ')}`);
});

test('get -f onto a FIFO (or a device) refuses (7): it is never replaced by a regular file', async () => {
  const { d, env } = workdir();
  const s = await fake({ '/a.txt': 'hello' });
  const fifo = join(d, 'pipe');
  execFileSync('mkfifo', [fifo]);
  for (const extra of [['-f'], ['-c'], []]) {
    const r = await runRftp(['get', ...extra, `ftp://u@127.0.0.1:${s.port}/a.txt`, '-o', fifo, ...fast], { env });
    assert.equal(r.code, 7, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.ok(lstatSync(fifo).isFIFO(), 'still a FIFO');
  }
  assert.deepEqual(readdirSync(d), ['pipe'], 'no partial left next to it');
});

test('a name starting with "-" is never taken for a LIST option (ls lists that directory, not the current one)', async () => {
  const { env } = workdir();
  const s = await fake({ '/-x/inside.txt': 'in', '/top.txt': 'top' });
  const r = await runRftp(['ls', `ftp://u@127.0.0.1:${s.port}/-x/`, ...fast], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /inside\.txt/);
  assert.doesNotMatch(r.stdout, /top\.txt/);
});

test('SIGTERM under a very low --limit-rate ends the run at once (130), for get and pget; put of a FIFO is refused (7)', async () => {
  const { d, env } = workdir();
  const s = await fake({ '/big.bin': randomData(256 * 1024) });
  for (const cmd of [['get'], ['pget', '-n', '2']]) {
    const target = join(d, `${cmd[0]}.bin`);
    const { child, done } = spawnRftp([...cmd, '--limit-rate', '100', `ftp://u@127.0.0.1:${s.port}/big.bin`, '-o', target, ...fast], { env, timeoutMs: 20_000 });
    // A batch under this cap waits about 40 s for its bytes: the signal must not wait with it.
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGTERM');
    const r = await done;
    assert.equal(r.code, 130, `${cmd[0]}: ${r.stderr}`);
  }
  const fifo = join(d, 'in.pipe');
  execFileSync('mkfifo', [fifo]);
  // Opening a FIFO for reading waits for a writer: it must be refused before that.
  const put = await runRftp(['put', fifo, `ftp://u@127.0.0.1:${s.port}/`, ...fast], { env, timeoutMs: 15_000 });
  assert.equal(put.code, 7, put.stderr);
  assert.match(put.stderr, /not a regular file/);
});

test('CLI input audit: repeated or bad-valued options, empty paths, other schemes and "." names are usage errors (2)', async () => {
  const { d, env } = workdir();
  const s = await fake({ '/a.txt': 'hello' });
  const url = (p: string) => `ftp://u@127.0.0.1:${s.port}/${p}`;
  const cases: Array<[string[], RegExp]> = [
    // A second -u went to the server inside the user name, password and all.
    [['get', '-u', 'u:Secr3tPW', '-u', 'v:Other9PW', '--debug', url('a.txt'), '-o', join(d, 'x')], /-u was given more than once/],
    [['get', '-o', join(d, 'x'), '-o', join(d, 'y'), url('a.txt')], /-o was given more than once/],
    // yargs read --tls=yes as false, and went on in clear.
    [['get', '--tls=yes', url('a.txt'), '-o', join(d, 'x')], /--tls takes no value/],
    [['get', '--tls=TRUE', url('a.txt'), '-o', join(d, 'x')], /--tls takes no value/],
    [['get', '-k=1', url('a.txt'), '-o', join(d, 'x')], /-k takes no value/],
    [['get', url('a.txt'), '-o', ''], /empty local path/],
    [['sync', url(''), '', '--delete', '--dry-run'], /empty local path/],
    [['mv', url('a.txt'), 'http://x/y'], /mv: http\(s\) URLs can only be downloaded/],
    [['mv', url('a.txt'), 'gopher://x/y'], /no ftp:\/\/, ftpes:\/\/ or ftps:\/\/ one/],
    [['get', url('.'), '-o', join(d, 'x')], /names a directory/],
    // An unknown option took the URL as its value: the error spoke of a missing argument.
    [['get', '--nope', url('a.txt'), '-o', join(d, 'x')], /unknown option --nope/],
    [['sync', '--dleete', url(''), join(d, 'm')], /unknown option --dleete/],
    // yargs set --no-output to false, which failed as an internal error (exit 1).
    [['get', '--no-output', url('a.txt')], /--no-output \(--output is not a yes\/no option\)/],
  ];
  for (const [args, msg] of cases) {
    const r = await runRftp([...args, ...fast], { env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg, args.join(' '));
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.doesNotMatch(r.stderr + r.stdout, /Secr3t|Other9/);
  }
  assert.deepEqual([...s.files.keys()], ['/a.txt'], 'nothing moved or written on the server');
  assert.ok(!s.commands.some((c) => /^USER .*,/.test(c)), s.commands.join(', '));
  // put into "." is a put into that directory, never a file named ".".
  writeFileSync(join(d, 'up.txt'), 'up');
  const put = await runRftp(['put', join(d, 'up.txt'), url('.'), ...fast], { env });
  assert.equal(put.code, 0, put.stderr);
  assert.equal(s.files.get('/up.txt')?.data.toString(), 'up');
  // A dangling symlink as the target is not replaced without a word.
  symlinkSync(join(d, 'nowhere'), join(d, 'dangling'));
  const dl = await runRftp(['get', url('a.txt'), '-o', join(d, 'dangling'), ...fast], { env });
  assert.equal(dl.code, 7, dl.stderr);
  assert.ok(lstatSync(join(d, 'dangling')).isSymbolicLink());
});

test("a reply line over 64 KiB is the server's fault (8), not an internal error (1)", async () => {
  const { d, env } = workdir();
  const s = await fake({ '/a.txt': 'hello' });
  s.behaviour.replyInstead = (command) => (command.startsWith('SIZE') ? `213 ${'9'.repeat(70_000)}` : undefined);
  const r = await runRftp(['get', `ftp://u@127.0.0.1:${s.port}/a.txt`, '-o', join(d, 'a.txt'), '--retries', '0', ...fast], { env });
  assert.equal(r.code, 8, r.stderr);
  assert.equal(errorLines(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, /reply line over 64 KiB/);
});

test('rftp open --no-fix-pasv-address carries the option into the shell', async () => {
  const { env } = workdir();
  const s = await fake({ '/a.txt': 'hello' });
  for (const [opt, want] of [
    [[], 'on'],
    [['--no-fix-pasv-address'], 'off'],
  ] as const) {
    const r = await runRftp(['open', ...opt, `ftp://u@127.0.0.1:${s.port}/`], { env, input: 'set\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^set fix-pasv-address ${want}$`, 'm'));
  }
});

test('sync --json reports a refusal of its arguments as JSON too (exit 2), without the password', async () => {
  const { d, env } = workdir();
  for (const args of [
    ['--parallel', '0', 'ftp://u:Secr3tPW@127.0.0.1:1/x/', d],
    [d, join(d, 'other')],
    ['--timeout', '0', 'ftp://127.0.0.1:1/x/', d],
  ]) {
    const r = await runRftp(['sync', '--json', ...args], { env });
    assert.equal(r.code, 2, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual([report.command, report.result, report.exitCode], ['sync', 'error', 2]);
    assert.equal(typeof report.error, 'string');
    assert.doesNotMatch(r.stdout + r.stderr, /Secr3t/);
  }
});

test('replies ending in a bare CR, a bare LF or LF CR: get, put and ls work as with CRLF', async () => {
  for (const [what, lineEnd] of [
    ['bare CR', '\r'],
    ['bare LF', '\n'],
    ['LF CR', '\n\r'],
  ] as const) {
    const { d, env } = workdir();
    const data = randomData(200_000);
    const s = await fake({ '/dir/f.bin': data, '/dir/g.txt': 'g' }, { lineEnd });
    const url = (p: string) => `ftp://alice@127.0.0.1:${s.port}/${p}`;
    const get = await runRftp(['get', url('dir/f.bin'), '-o', join(d, 'f.bin'), ...fast], { env, timeoutMs: 20_000 });
    assert.equal(get.code, 0, `${what}: ${get.stderr}`);
    assert.equal(sha256File(join(d, 'f.bin')), sha256(data), what);
    writeFileSync(join(d, 'up.txt'), 'uploaded');
    const put = await runRftp(['put', join(d, 'up.txt'), url('dir/'), ...fast], { env, timeoutMs: 20_000 });
    assert.equal(put.code, 0, `${what}: ${put.stderr}`);
    assert.equal(s.files.get('/dir/up.txt')?.data.toString(), 'uploaded', what);
    const ls = await runRftp(['ls', url('dir/'), ...fast], { env, timeoutMs: 20_000 });
    assert.equal(ls.code, 0, `${what}: ${ls.stderr}`);
    assert.match(ls.stdout, /f\.bin/, what);
    assert.match(ls.stdout, /up\.txt/, what);
    // A sync asks MDTM for many files in one write: many replies arrive in one read.
    const sync = await runRftp(['sync', url('dir/'), join(d, 'mirror'), ...fast], { env, timeoutMs: 30_000 });
    assert.equal(sync.code, 0, `${what}: ${sync.stderr}`);
    assert.deepEqual(readdirSync(join(d, 'mirror')).sort(), ['f.bin', 'g.txt', 'up.txt'], what);
    assert.equal(sha256File(join(d, 'mirror', 'f.bin')), sha256(data), what);
  }
});

test('a wrong password answered with 530 and a hang-up (pure-ftpd) is a login failure (4), tried once', async () => {
  const { d, env } = workdir();
  const s = await fake({ '/f.bin': 'x' }, { loginFails: 'close' });
  const r = await runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, '-o', join(d, 'f.bin'), ...fast], { env });
  assert.equal(r.code, 4, r.stderr);
  assert.match(errorLines(r.stderr)[0], /login as alice failed: 530 Login incorrect/);
  assert.equal(s.commands.filter((c) => c.startsWith('PASS')).length, 1, s.commands.join('|'));
});

test('EPSV whose port cannot be reached: the transfers fall back to PASV and work', async () => {
  const { d, env } = workdir();
  const data = randomData(50_000);
  const s = await fake({ '/f.bin': data, '/g.bin': data }, { epsvUnreachable: true });
  const r = await runRftp(['get', `ftp://alice@127.0.0.1:${s.port}/f.bin`, `ftp://alice@127.0.0.1:${s.port}/g.bin`, '-o', `${d}/`, '-P', '1', ...fast], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(sha256File(join(d, 'f.bin')), sha256(data));
  assert.equal(sha256File(join(d, 'g.bin')), sha256(data));
  assert.ok(s.commands.includes('PASV'), s.commands.join('|'));
});
