// pget (segmented download) against real vsftpd: identical files over plain and TLS, resume of
// every segment after SIGKILL, fallback when the server caps connections, a remote replaced
// between runs, plain and segmented partials taken over by each other (also by get --segments 1
// and sync, over one connection), --limit-rate.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';
import { randomData, runRftp, scratchDirs, sha256, sha256File, sizeOr0, spawnRftp, testEnv, waitFor } from '../helpers/cli.js';

const MiB = 1024 * 1024;
const workdir = scratchDirs();

/** Bytes the state file says are on disk, summed over the ranges (0 while there is none). */
function savedProgress(stateFile: string): number {
  try {
    const st = JSON.parse(readFileSync(stateFile, 'utf8'));
    return st.kind === 'segmented' ? st.ranges.reduce((n: number, r: { done: number }) => n + r.done, 0) : 0;
  } catch {
    return 0;
  }
}

for (const tls of ['none', 'explicit'] as const) {
  describe(`pget over ${tls === 'none' ? 'plain FTP' : 'explicit TLS'}`, () => {
    let server: VsftpdServer;
    before(async () => {
      server = await startVsftpd({ tls });
    });
    after(() => server.stop());

    test('pget -n 4 is byte-identical, uses 4 connections, leaves no partial or state', async () => {
      const { d, home } = workdir();
      const data = randomData(12 * MiB + 321);
      await server.put('seg/big.bin', data);
      const tlsArgs = tls === 'none' ? [] : ['--ca-file', server.caFile];
      const before = (await server.xferTotals()).entries;
      const r = await runRftp(['pget', '-n', '4', server.url('seg/big.bin'), '-o', `${d}/`, ...tlsArgs, '--json'], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256File(join(d, 'big.bin')), sha256(data));
      assert.deepEqual(readdirSync(d), ['big.bin']);
      const report = JSON.parse(r.stdout);
      assert.equal(report.result, 'ok');
      assert.equal(report.files[0].size, data.length);
      await waitFor(async () => (await server.xferTotals()).entries - before >= 4, 'four transfers in the xferlog');
    });
  });
}

describe('pget against a throttled vsftpd', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd({ maxRate: 1 * MiB });
  });
  after(() => server.stop());
  const env = (home: string) => testEnv(home, { RFTP_PASSWORD: server.password });
  /**
   * After a SIGKILL: waits until every vsftpd session of the killed run has exited. A session logs
   * its cut transfer before it exits, so xferlog totals taken after this count nothing of the killed
   * run later (a range that reconnected under load can add a fifth, late entry).
   */
  const killedRunGone = () => waitFor(() => server.sessionPids().length === 0, "the killed run's server sessions to exit");

  test('SIGKILL mid-pget, rerun: every segment continues, identical file, server sent at most size + 4 MiB', async () => {
    const { d, home } = workdir();
    const data = randomData(8 * MiB);
    await server.put('kill/seg.bin', data);
    const target = join(d, 'seg.bin');
    const stateFile = `${target}.rftp-state`;
    const sentBefore = (await server.xferTotals()).sent;
    const { child, done } = spawnRftp(['pget', '-n', '4', server.url('kill/seg.bin'), '-o', target], { env: env(home) });
    await waitFor(() => savedProgress(stateFile) >= 2 * MiB, 'two MiB of saved progress');
    child.kill('SIGKILL');
    assert.equal((await done).signal, 'SIGKILL');
    assert.equal(existsSync(target), false, 'a killed pget never leaves a file at the target path');
    const st = JSON.parse(readFileSync(stateFile, 'utf8'));
    assert.equal(st.kind, 'segmented');
    assert.equal(st.ranges.length, 4);
    assert.ok(st.ranges.filter((r: { done: number }) => r.done > 0).length >= 2, 'several segments made progress');
    assert.doesNotMatch(readFileSync(stateFile, 'utf8'), /s3cr/);

    const r = await runRftp(['pget', '-n', '4', server.url('kill/seg.bin'), '-o', target], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming at/);
    assert.equal(sha256File(target), sha256(data));
    assert.deepEqual(readdirSync(d), ['seg.bin']);
    await waitFor(async () => (await server.xferTotals()).sent - sentBefore >= data.length, 'xferlog to record the transfers');
    const sent = (await server.xferTotals()).sent - sentBefore;
    assert.ok(sent <= data.length + 4 * MiB, `server sent ${sent} bytes for a ${data.length}-byte file`);
  });

  test('server sessions killed mid-pget: each segment reconnects and continues in the same run', async () => {
    const { d, home } = workdir();
    const data = randomData(8 * MiB);
    await server.put('drop/s.bin', data);
    const target = join(d, 's.bin');
    const { done } = spawnRftp(['pget', '-n', '4', '--retry-delay', '0.2', server.url('drop/s.bin'), '-o', target], { env: env(home) });
    await waitFor(() => savedProgress(`${target}.rftp-state`) >= 2 * MiB, 'saved progress');
    assert.ok(server.killSessions() > 0);
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /reconnecting/);
    assert.equal(sha256File(target), sha256(data));
    assert.deepEqual(readdirSync(d), ['s.bin']);
  });

  test('remote replaced between runs: the rerun restarts and gets the new file', async () => {
    const { d, home } = workdir();
    const old = randomData(6 * MiB);
    await server.put('swap/f.bin', old, new Date('2024-01-01T00:00:00Z'));
    const target = join(d, 'f.bin');
    const { child, done } = spawnRftp(['pget', '-n', '3', server.url('swap/f.bin'), '-o', target], { env: env(home) });
    await waitFor(() => savedProgress(`${target}.rftp-state`) >= 1 * MiB, 'saved progress');
    child.kill('SIGKILL');
    await done;
    const fresh = randomData(6 * MiB); // same size, other bytes, newer time
    await server.put('swap/f.bin', fresh, new Date('2024-06-01T00:00:00Z'));
    const r = await runRftp(['pget', '-n', '3', server.url('swap/f.bin'), '-o', target], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /restarting from zero: the remote file was modified/);
    assert.equal(sha256File(target), sha256(fresh));
  });

  test('a plain get partial is continued by pget, and a pget partial by a plain get', async () => {
    const { d, home } = workdir();
    const data = randomData(6 * MiB);
    await server.put('mix/a.bin', data);
    const target = join(d, 'a.bin');
    const g = spawnRftp(['get', server.url('mix/a.bin'), '-o', target], { env: env(home) });
    await waitFor(() => sizeOr0(`${target}.rftp-part`) >= 1 * MiB, 'plain partial');
    g.child.kill('SIGKILL');
    await g.done;
    const p = spawnRftp(['pget', '-n', '3', server.url('mix/a.bin'), '-o', target], { env: env(home) });
    await waitFor(() => savedProgress(`${target}.rftp-state`) >= 3 * MiB, 'segmented progress');
    p.child.kill('SIGKILL');
    const killed = await p.done;
    assert.match(killed.stderr, /continuing the .* of an earlier plain download/);
    const r = await runRftp(['get', server.url('mix/a.bin'), '-o', target], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming at .* \(3 segments\)/);
    assert.equal(sha256File(target), sha256(data));
    assert.deepEqual(readdirSync(d), ['a.bin']);
  });

  /**
   * A pget -n 4 SIGKILLed once `minSaved` bytes of progress are recorded. Waits until the server
   * logged the killed transfers, so the xferlog totals returned count only what comes after.
   */
  async function killedPget(remotePath: string, size: number, minSaved: number, target: string, home: string) {
    const data = randomData(size);
    await server.put(remotePath, data);
    const stateFile = `${target}.rftp-state`;
    const entries = (await server.xferTotals()).entries;
    const { child, done } = spawnRftp(['pget', '-n', '4', server.url(remotePath), '-o', target], { env: env(home) });
    await waitFor(() => savedProgress(stateFile) >= minSaved, 'saved pget progress');
    child.kill('SIGKILL');
    assert.equal((await done).signal, 'SIGKILL');
    await waitFor(async () => (await server.xferTotals()).entries - entries >= 4, 'the killed transfers in the xferlog');
    await killedRunGone();
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { kind: string; ranges: Array<{ start: number; end: number; done: number }> };
    assert.equal(state.kind, 'segmented');
    assert.equal(state.ranges.length, 4);
    return { data, stateFile, state, totals: await server.xferTotals() };
  }

  /** Bytes the server sent since `before`, once the run's transfers are logged. */
  async function sentSince(before: { sent: number; entries: number }, transfers: number): Promise<number> {
    await waitFor(async () => (await server.xferTotals()).entries - before.entries >= transfers, 'the rerun in the xferlog');
    return (await server.xferTotals()).sent - before.sent;
  }

  for (const getArgs of [['get'], ['get', '--segments', '1']]) {
    test(`SIGKILL mid-pget, then ${getArgs.join(' ')}: continues the partial, identical file, less than the file sent again`, async () => {
      const { d, home } = workdir();
      const target = join(d, 'k.bin');
      const { data, state, totals } = await killedPget('takeover/k.bin', 8 * MiB, 2 * MiB, target, home);
      const r = await runRftp([...getArgs, server.url('takeover/k.bin'), '-o', target], { env: env(home) });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256File(target), sha256(data));
      assert.deepEqual(readdirSync(d), ['k.bin']);
      assert.doesNotMatch(r.stderr, /restarting/);
      if (getArgs.length === 1) {
        // Plain get continues every range in segments.
        assert.match(r.stderr, /resuming at .* \(4 segments\)/);
        const sent = await sentSince(totals, 4);
        assert.ok(sent < data.length, `server sent ${sent} bytes for a ${data.length}-byte file`);
      } else {
        // One stream: from the end of range 0's recorded progress (range 0 is not complete yet).
        const prefix = state.ranges[0].done;
        assert.ok(prefix > 0 && prefix < state.ranges[0].end, JSON.stringify(state.ranges));
        assert.match(r.stderr, /resuming at .* over one connection: an earlier segmented download is complete up to there, and its other .* \(after a gap\) are fetched again/);
        // The exact count proves the offset: REST 64 KiB before the prefix, then to the end.
        const sent = await sentSince(totals, 1);
        assert.equal(sent, data.length - Math.max(0, prefix - 64 * 1024), 'one stream from 64 KiB before the prefix to the end');
      }
    });
  }

  test('get --segments 1 continues past a complete first range (plain get -> pget -> get --segments 1)', async () => {
    const { d, home } = workdir();
    const data = randomData(8 * MiB);
    await server.put('chain/c.bin', data);
    const target = join(d, 'c.bin');
    const stateFile = `${target}.rftp-state`;
    // A plain partial past 2 MiB: pget -n 4 takes it over with range 0 (2 MiB) complete, and
    // fetches the other three ranges until it is killed.
    let entries = (await server.xferTotals()).entries;
    const g = spawnRftp(['get', server.url('chain/c.bin'), '-o', target], { env: env(home) });
    await waitFor(() => sizeOr0(`${target}.rftp-part`) >= 2.25 * MiB, 'plain partial');
    g.child.kill('SIGKILL');
    await g.done;
    await waitFor(async () => (await server.xferTotals()).entries - entries >= 1, 'the killed get in the xferlog');
    await killedRunGone();
    entries = (await server.xferTotals()).entries;
    const p = spawnRftp(['pget', '-n', '4', server.url('chain/c.bin'), '-o', target], { env: env(home) });
    await waitFor(() => savedProgress(stateFile) >= 3.5 * MiB, 'segmented progress');
    p.child.kill('SIGKILL');
    assert.match((await p.done).stderr, /continuing the .* of an earlier plain download/);
    await waitFor(async () => (await server.xferTotals()).entries - entries >= 3, 'the killed transfers in the xferlog');
    await killedRunGone();
    const totals = await server.xferTotals();
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { ranges: Array<{ start: number; end: number; done: number }> };
    const [r0, r1] = state.ranges;
    assert.equal(r0.done, r0.end - r0.start, 'range 0 complete');
    assert.ok(r1.done > 0 && r1.done < r1.end - r1.start, JSON.stringify(state.ranges));
    const r = await runRftp(['get', '--segments', '1', server.url('chain/c.bin'), '-o', target], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming at .* over one connection: an earlier segmented download is complete up to there/);
    assert.equal(sha256File(target), sha256(data));
    assert.deepEqual(readdirSync(d), ['c.bin']);
    assert.equal(await sentSince(totals, 1), data.length - (r1.start + r1.done - 64 * 1024));
  });

  test('a pget partial whose first range has no recorded progress: get --segments 1 restarts from zero and says why', async () => {
    const { d, home } = workdir();
    const target = join(d, 'z.bin');
    const { data, stateFile, state, totals } = await killedPget('takeover/z.bin', 4 * MiB, 1 * MiB, target, home);
    // As if range 0 had not reached its first checkpoint: the other ranges' bytes prove nothing at offset 0.
    writeFileSync(stateFile, JSON.stringify({ ...state, ranges: state.ranges.map((r, i) => (i === 0 ? { ...r, done: 0 } : r)) }));
    const r = await runRftp(['get', '--segments', '1', server.url('takeover/z.bin'), '-o', target], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /restarting from zero: the earlier segmented download has no complete data at the start of the file/);
    assert.doesNotMatch(r.stderr, /resuming/);
    assert.equal(sha256File(target), sha256(data));
    assert.deepEqual(readdirSync(d), ['z.bin']);
    assert.equal(await sentSince(totals, 1), data.length);
  });

  test('sync continues a pget partial in its destination from the proven prefix', async () => {
    const { d, home } = workdir();
    const target = join(d, 'big.bin');
    const { data, state, totals } = await killedPget('tree/big.bin', 6 * MiB, 2 * MiB, target, home);
    const r = await runRftp(['sync', server.url('tree/'), d], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /1 continued/);
    assert.match(r.stderr, /big\.bin: resuming at .* over one connection: an earlier segmented download is complete up to there/);
    assert.equal(sha256File(target), sha256(data));
    assert.deepEqual(readdirSync(d), ['big.bin']);
    const sent = await sentSince(totals, 1);
    assert.equal(sent, data.length - Math.max(0, state.ranges[0].done - 64 * 1024));
  });

  test('sync --use-pget-n 3: a large file comes in 3 segments; SIGKILL, rerun: every segment continues, small files whole', async () => {
    const { d, home } = workdir();
    const data = randomData(6 * MiB);
    await server.put('pn/big.bin', data);
    await server.put('pn/small.txt', 'small');
    const target = join(d, 'big.bin');
    const sentBefore = (await server.xferTotals()).sent;
    const { child, done } = spawnRftp(['sync', '--use-pget-n', '3', server.url('pn/'), d], { env: env(home) });
    await waitFor(() => savedProgress(`${target}.rftp-state`) >= 1.5 * MiB, 'segmented progress');
    child.kill('SIGKILL');
    await done;
    await killedRunGone();
    const st = JSON.parse(readFileSync(`${target}.rftp-state`, 'utf8')) as { kind: string; ranges: Array<{ done: number }> };
    assert.equal(st.kind, 'segmented');
    assert.equal(st.ranges.length, 3);
    assert.ok(st.ranges.filter((r) => r.done > 0).length >= 2, 'several segments made progress at once');

    const r = await runRftp(['sync', '--use-pget-n', '3', server.url('pn/'), d], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /big\.bin: resuming at .* \(3 segments\)/);
    assert.match(r.stderr, /sync: .*1 continued/);
    assert.equal(sha256File(target), sha256(data));
    assert.equal(readFileSync(join(d, 'small.txt'), 'utf8'), 'small');
    assert.deepEqual(readdirSync(d).sort(), ['big.bin', 'small.txt']);
    await waitFor(async () => (await server.xferTotals()).sent - sentBefore >= data.length, 'xferlog to record the transfers');
    const sent = (await server.xferTotals()).sent - sentBefore;
    assert.ok(sent <= data.length + 5 + 3 * MiB, `server sent ${sent} bytes for ${data.length + 5}`);
  });

  test('sync --use-pget-n: bad values are usage errors (2); files under 2 MiB are not split', async () => {
    const { d, home } = workdir();
    for (const bad of ['0', '1.5', 'abc', '99']) {
      const r = await runRftp(['sync', '--use-pget-n', bad, server.url('pn/'), d], { env: env(home) });
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--use-pget-n/);
    }
    await server.put('pn2/mid.bin', randomData(MiB + MiB / 2));
    const entries = (await server.xferTotals()).entries;
    const r = await runRftp(['sync', '--use-pget-n', '4', server.url('pn2/'), d], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    await waitFor(async () => (await server.xferTotals()).entries > entries, 'the transfer in the xferlog');
    assert.equal((await server.xferTotals()).entries - entries, 1, 'one stream for a file of 1.5 MiB');
  });

  test('--limit-rate is accepted by get, put and pget and changes nothing in the result', async () => {
    const { d, home } = workdir();
    const data = randomData(MiB + 7);
    await server.put('rate/r.bin', data);
    for (const cmd of [['get'], ['pget', '-n', '2']]) {
      const out = join(d, `${cmd[0]}.bin`);
      const r = await runRftp([...cmd, '--limit-rate', '4M', server.url('rate/r.bin'), '-o', out], { env: env(home) });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256File(out), sha256(data));
    }
    writeFileSync(join(d, 'up.bin'), data);
    const up = await runRftp(['put', '--limit-rate', '4M', join(d, 'up.bin'), server.url('rate/')], { env: env(home) });
    assert.equal(up.code, 0, up.stderr);
    assert.equal(sha256File(join(server.root, 'rate', 'up.bin')), sha256(data));
    for (const cmd of [
      ['get', server.url('rate/r.bin'), '-o', join(d, 'x.bin')],
      ['sync', '--dry-run', server.url('rate/'), join(d, 'm')],
      ['sync', 'ftp://127.0.0.1:1/x/', join(d, 'm')],
    ]) {
      const bad = await runRftp([cmd[0], '--limit-rate', 'fast', ...cmd.slice(1)], { env: env(home) });
      assert.equal(bad.code, 2, `${cmd.join(' ')}: ${bad.stderr}`);
      assert.match(bad.stderr, /--limit-rate/);
    }
  });
});

describe('pget against a server that caps connections per address', () => {
  let server: VsftpdServer;
  before(async () => {
    // Per-connection rate cap: both connections finish their ranges together and reconnect at once.
    server = await startVsftpd({ maxPerIp: 2, maxRate: 1 * MiB });
  });
  after(() => server.stop());

  test('pget -n 4 with max_per_ip=2 falls back to fewer connections and succeeds', async () => {
    const { d, home } = workdir();
    const data = randomData(8 * MiB + 1);
    await server.put('cap/c.bin', data);
    const r = await runRftp(['pget', '-n', '4', server.url('cap/c.bin'), '-o', join(d, 'c.bin')], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /accepted 2 of 4 connections/);
    assert.equal(sha256File(join(d, 'c.bin')), sha256(data));
    assert.deepEqual(readdirSync(d), ['c.bin']);
  });

  test("sync --use-pget-n against a server with no slot left: each large file comes over its worker's connection", async () => {
    const { d, home } = workdir();
    const data = randomData(3 * MiB);
    await server.put('capsync/big.bin', data);
    await server.put('capsync/small.txt', 'small');
    // Two workers hold both slots of max_per_ip=2: every segment connection is refused.
    const r = await runRftp(['sync', '--parallel', '2', '--use-pget-n', '3', '--retry-delay', '0.1', server.url('capsync/'), d], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(join(d, 'big.bin')), sha256(data));
    assert.equal(readFileSync(join(d, 'small.txt'), 'utf8'), 'small');
    assert.doesNotMatch(r.stderr, /continuing with 1 connection/);
  });

  test('another client takes every connection slot pget frees: identical file or a failure, never a file with holes', async () => {
    const { d, home } = workdir();
    const data = randomData(8 * MiB);
    await server.put('cap/grab.bin', data);
    const target = join(d, 'grab.bin');
    const { done } = spawnRftp(['pget', '-n', '4', '--retries', '3', '--retry-delay', '0.2', server.url('cap/grab.bin'), '-o', target], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
    await waitFor(() => savedProgress(`${target}.rftp-state`) > 0, 'pget under way');
    // A raw client that keeps any control connection the server accepts, for a few seconds.
    const held: Socket[] = [];
    let grabbing = true;
    const grab = async () => {
      while (grabbing) {
        const s = connect(server.port, '127.0.0.1');
        s.on('error', () => {});
        s.once('data', (b) => (b.toString().startsWith('220') && grabbing ? held.push(s) : s.destroy()));
        await new Promise((res) => setTimeout(res, 30));
      }
    };
    const grabber = grab();
    const release = setTimeout(() => (grabbing = false), 8000);
    const r = await done;
    clearTimeout(release);
    grabbing = false;
    await grabber;
    for (const s of held) s.destroy();
    if (r.code === 0) assert.equal(sha256File(target), sha256(data), 'exit 0 must mean an identical file');
    else assert.equal(existsSync(target), false, r.stderr);
    assert.doesNotMatch(r.stderr, /continuing with 0/);
  });
});
