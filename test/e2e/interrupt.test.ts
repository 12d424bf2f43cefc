// Interruptions with real signals against a throttled real vsftpd: the client killed, the
// server's session process killed or stopped, the remote file replaced between attempts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';
import { Terminal } from '../helpers/terminal.js';
import { ensureTool, randomData, runRftp, scratchDirs, sha256, sha256File, sizeOr0, spawnRftp, testEnv, waitFor } from '../helpers/cli.js';

const MiB = 1024 * 1024;
const RATE = 2 * MiB; // bytes per second per connection
const workdir = scratchDirs();

describe('interrupted transfers against a throttled vsftpd', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd({ maxRate: RATE });
  });
  after(() => server.stop());
  const env = (home: string) => testEnv(home, { RFTP_PASSWORD: server.password, RFTP_UPLOAD_SETTLE_MS: '300' });

  test('SIGKILL mid-download twice, rerun: identical file, server sent at most size + 1 MiB', async () => {
    const { d, home } = workdir();
    const data = randomData(8 * MiB);
    await server.put('kill/down.bin', data);
    const target = join(d, 'down.bin');
    const part = `${target}.rftp-part`;
    const sentBefore = (await server.xferTotals()).sent;
    for (const atLeast of [1 * MiB, 3 * MiB]) {
      const { child, done } = spawnRftp(['get', server.url('kill/down.bin'), '-o', target], { env: env(home) });
      await waitFor(() => sizeOr0(part) >= atLeast, `partial to reach ${atLeast}`);
      child.kill('SIGKILL');
      const r = await done;
      assert.equal(r.signal, 'SIGKILL');
      assert.equal(existsSync(target), false, 'a killed download never leaves a file at the target path');
      assert.ok(existsSync(`${target}.rftp-state`));
      assert.doesNotMatch(readFileSync(`${target}.rftp-state`, 'utf8'), new RegExp(server.password.replace(/[^\w]/g, '.')));
    }
    const r = await runRftp(['get', server.url('kill/down.bin'), '-o', target], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming at/);
    assert.equal(sha256File(target), sha256(data));
    assert.deepEqual(readdirSync(d), ['down.bin']);
    await waitFor(async () => (await server.xferTotals()).sent - sentBefore >= data.length, 'xferlog to record the transfers');
    const sent = (await server.xferTotals()).sent - sentBefore;
    assert.ok(sent <= data.length + MiB, `server sent ${sent} bytes for a ${data.length}-byte file`);
  });

  test('SIGKILL mid-upload twice, rerun: identical remote file, server received at most size + 1 MiB', async () => {
    const { d, home } = workdir();
    const data = randomData(8 * MiB);
    const local = join(d, 'up.bin');
    writeFileSync(local, data);
    const remotePart = join(server.root, 'up.bin.rftp-part');
    const receivedBefore = (await server.xferTotals()).received;
    for (const atLeast of [1 * MiB, 3 * MiB]) {
      const { child, done } = spawnRftp(['put', local, server.url('')], { env: env(home) });
      await waitFor(() => sizeOr0(remotePart) >= atLeast, `remote partial to reach ${atLeast}`);
      child.kill('SIGKILL');
      await done;
      assert.equal(existsSync(join(server.root, 'up.bin')), false, 'the final remote name only ever holds a complete file');
    }
    const stateDir = join(home, '.state', 'rftp', 'uploads');
    const states = readdirSync(stateDir).map((f) => readFileSync(join(stateDir, f), 'utf8'));
    assert.equal(states.length, 1);
    assert.ok(!states[0].includes(server.password) && !states[0].includes(encodeURIComponent(server.password)), states[0]);
    const r = await runRftp(['put', local, server.url('')], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming upload at/);
    assert.equal(sha256File(join(server.root, 'up.bin')), sha256(data));
    assert.equal(existsSync(remotePart), false);
    await waitFor(async () => (await server.xferTotals()).received - receivedBefore >= data.length, 'xferlog to record the uploads');
    const received = (await server.xferTotals()).received - receivedBefore;
    assert.ok(received <= data.length + MiB, `server received ${received} bytes for a ${data.length}-byte file`);
  });

  test('SIGKILL mid-upload, rerun on another machine (no local state): the partial is read back and continued', async () => {
    const first = workdir();
    const data = randomData(6 * MiB);
    const local = join(first.d, 'moved.bin');
    writeFileSync(local, data);
    const remotePart = join(server.root, 'moved.bin.rftp-part');
    const { child, done } = spawnRftp(['put', local, server.url('')], { env: env(first.home) });
    await waitFor(() => sizeOr0(remotePart) >= 2 * MiB, 'remote partial to reach 2 MiB');
    child.kill('SIGKILL');
    await done;
    // A fresh CI runner: the same file, but none of the first run's state.
    const second = workdir();
    const copy = join(second.d, 'moved.bin');
    writeFileSync(copy, data);
    await waitFor(async () => {
      const a = sizeOr0(remotePart);
      await new Promise((r) => setTimeout(r, 300));
      return sizeOr0(remotePart) === a;
    }, 'the killed upload to stop growing');
    const partial = sizeOr0(remotePart);
    const receivedBefore = (await server.xferTotals()).received;
    const r = await runRftp(['put', copy, server.url('')], { env: env(second.home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no record of the remote partial .* reading it back/);
    assert.match(r.stderr, /resuming upload at/);
    assert.equal(sha256File(join(server.root, 'moved.bin')), sha256(data));
    assert.equal(existsSync(remotePart), false);
    await waitFor(async () => (await server.xferTotals()).received - receivedBefore >= data.length - partial, 'xferlog to record the upload');
    const received = (await server.xferTotals()).received - receivedBefore;
    assert.equal(received, data.length - partial, 'only what the partial lacked was sent again');
  });

  test('a remote partial with no local record that differs from the local file: restarted, and the result is the local file', async () => {
    const { d, home } = workdir();
    const data = randomData(3 * MiB);
    const local = join(d, 'other.bin');
    writeFileSync(local, data);
    const wrong = Buffer.from(data.subarray(0, 2 * MiB));
    wrong[MiB + 5] ^= 0xff; // one byte in the middle differs: a tail check alone would not see it
    await server.put('other.bin.rftp-part', wrong);
    const r = await runRftp(['put', local, server.url('')], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /reading it back/);
    assert.match(r.stderr, /restarting upload from zero: the remote partial differs from the local file/);
    assert.equal(sha256File(join(server.root, 'other.bin')), sha256(data));
  });

  test('the server session process is killed mid-download: the same run reconnects and finishes', async () => {
    const { d, home } = workdir();
    const data = randomData(6 * MiB);
    await server.put('drop.bin', data);
    const target = join(d, 'drop.bin');
    const { done } = spawnRftp(['get', server.url('drop.bin'), '-o', target, '--retry-delay', '0.2'], { env: env(home) });
    await waitFor(() => sizeOr0(`${target}.rftp-part`) >= 2 * MiB, 'partial to reach 2 MiB');
    assert.ok(server.killSessions('SIGKILL') > 0);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /reconnecting/);
    assert.equal(sha256File(target), sha256(data));
  });

  test('the server session process is killed mid-upload: the same run reconnects, settles and finishes', async () => {
    const { d, home } = workdir();
    const data = randomData(6 * MiB);
    const local = join(d, 'drop-up.bin');
    writeFileSync(local, data);
    const { done } = spawnRftp(['put', local, server.url(''), '--retry-delay', '0.2'], { env: env(home) });
    await waitFor(() => sizeOr0(join(server.root, 'drop-up.bin.rftp-part')) >= 2 * MiB, 'remote partial to reach 2 MiB');
    assert.ok(server.killSessions('SIGKILL') > 0);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /reconnecting/);
    assert.equal(sha256File(join(server.root, 'drop-up.bin')), sha256(data));
  });

  test('the server session process is stopped (SIGSTOP): the stall is detected by --timeout and the download finishes', async () => {
    const { d, home } = workdir();
    const data = randomData(6 * MiB);
    await server.put('stall.bin', data);
    const target = join(d, 'stall.bin');
    const { done } = spawnRftp(['get', server.url('stall.bin'), '-o', target, '--timeout', '2', '--retry-delay', '0.2'], { env: env(home) });
    await waitFor(() => sizeOr0(`${target}.rftp-part`) >= 2 * MiB, 'partial to reach 2 MiB');
    const stopped = server.sessionPids();
    server.killSessions('SIGSTOP');
    try {
      const r = await done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /stalled|timeout/i);
      assert.equal(sha256File(target), sha256(data));
    } finally {
      for (const pid of stopped) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });

  test('remote file replaced between attempts (same size, newer time): the result is the new file', async () => {
    const { d, home } = workdir();
    const oldData = randomData(6 * MiB);
    await server.put('replaced.bin', oldData, new Date(Date.now() - 3600_000));
    const target = join(d, 'replaced.bin');
    const { child, done } = spawnRftp(['get', server.url('replaced.bin'), '-o', target], { env: env(home) });
    await waitFor(() => sizeOr0(`${target}.rftp-part`) >= 1 * MiB, 'partial to reach 1 MiB');
    child.kill('SIGKILL');
    await done;
    const newData = randomData(6 * MiB);
    await server.put('replaced.bin', newData, new Date());
    const r = await runRftp(['get', server.url('replaced.bin'), '-o', target], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /restarting from zero: the remote file was modified/);
    assert.equal(sha256File(target), sha256(newData));
  });

  test('Ctrl-C (SIGINT) keeps the partial, says how to resume, exits 130; the rerun resumes', async () => {
    const { d, home } = workdir();
    const data = randomData(6 * MiB);
    await server.put('int.bin', data);
    const target = join(d, 'int.bin');
    const { child, done } = spawnRftp(['get', server.url('int.bin'), '-o', target, '--json'], { env: env(home) });
    await waitFor(() => sizeOr0(`${target}.rftp-part`) >= 1 * MiB, 'partial to reach 1 MiB');
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /run the same command again to resume/);
    const interrupted = JSON.parse(r.stdout);
    assert.equal(interrupted.result, 'interrupted');
    // The report of the failed run still says what it moved.
    assert.ok(interrupted.bytesTransferred >= 1 * MiB, r.stdout);
    assert.equal(interrupted.files.length, 1);
    const kept = statSync(`${target}.rftp-part`).size;
    assert.ok(kept >= 1 * MiB);
    const again = await runRftp(['get', server.url('int.bin'), '-o', target, '--json'], { env: env(home) });
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(again.stdout);
    assert.ok(report.bytesResumed >= kept - 64 * 1024, JSON.stringify(report));
    assert.ok(report.bytesTransferred <= data.length - kept + 64 * 1024 + 1, JSON.stringify(report));
    assert.equal(sha256File(target), sha256(data));
  });

  test('Ctrl-C on a terminal during pget -n 4: exit 130 at once, partial and state kept, one spinner', async () => {
    ensureTool('tmux', 'tmux');
    const { d, home } = workdir();
    const data = randomData(24 * MiB);
    await server.put('tty.bin', data);
    const t = new Terminal(testEnv(home, { RFTP_PASSWORD: server.password, TERM: 'xterm' }));
    try {
      t.start(d, ['pget', '-n', '4', server.url('tty.bin')], { underShell: true });
      await waitFor(() => sizeOr0(join(d, 'tty.bin.rftp-part')) > 0 && existsSync(join(d, 'tty.bin.rftp-state')), 'the download under way', 20_000);
      await new Promise((r) => setTimeout(r, 500));
      t.keys('C-c');
      await t.waitScreen(/EXIT=130/, 'exit 130');
      const screen = t.screen();
      assert.match(screen, /run the same command again to resume/);
      assert.doesNotMatch(screen, /Multiple concurrent spinners/);
      assert.doesNotMatch(screen, /100%/, 'stopped before the end');
      assert.ok(existsSync(join(d, 'tty.bin.rftp-part')) && existsSync(join(d, 'tty.bin.rftp-state')), 'partial and state kept');
    } finally {
      t.stop();
    }
    const again = await runRftp(['pget', '-n', '4', server.url('tty.bin'), '-o', join(d, 'tty.bin')], { env: env(home), timeoutMs: 60_000 });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(sha256File(join(d, 'tty.bin')), sha256(data));
  });
});
