// rftp queue against a real vsftpd: entries stored without passwords, run when due, each once
// even with two runs at once, continued after SIGKILL, a corrupted entry moved aside.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomData, runRftp, scratchDirs, sha256, sha256File, sizeOr0, spawnRftp, testEnv, waitFor } from '../helpers/cli.js';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';

const workdir = scratchDirs();
const MiB = 1024 * 1024;

describe('rftp queue', () => {
  let server: VsftpdServer;
  let slow: VsftpdServer;
  before(async () => {
    server = await startVsftpd();
    slow = await startVsftpd({ maxRate: 1024 * 1024 });
    for (let i = 0; i < 3; i++) await server.put(`q/f${i}.bin`, randomData(150_000 + i));
    for (let i = 0; i < 3; i++) await slow.put(`big${i}.bin`, randomData(3 * MiB + i));
  });
  after(async () => {
    await server.stop();
    await slow.stop();
  });
  const env = (home: string, s: VsftpdServer = server) => testEnv(home, { RFTP_PASSWORD: s.password });
  const qdir = (home: string) => join(home, '.state', 'rftp', 'queue');

  test('add refuses a password and stores nothing; list shows entries; run runs them, relative paths as added', async () => {
    const { d, home } = workdir();
    const withPw = await runRftp(['queue', 'add', '--', 'get', server.url('q/f0.bin', { withPassword: true }), '-o', `${d}/`], { env: env(home) });
    assert.equal(withPw.code, 2, withPw.stderr);
    assert.match(withPw.stderr, /refusing to store the password in .*keychain/);
    assert.equal(existsSync(qdir(home)) ? readdirSync(qdir(home)).length : 0, 0);
    const withU = await runRftp(['queue', 'add', '--', 'get', '-u', `${server.user}:${server.password}`, server.url('q/f0.bin')], { env: env(home) });
    assert.equal(withU.code, 2, withU.stderr);
    for (let i = 0; i < 3; i++) {
      const r = await runRftp(['queue', 'add', '--name', `f${i}`, '--', 'get', server.url(`q/f${i}.bin`), '-o', 'out/', '--create-dirs'], { env: env(home), cwd: d });
      assert.equal(r.code, 0, r.stderr);
    }
    const grep = spawnGrep(qdir(home), server.password);
    assert.equal(grep, '', 'no password anywhere in the queue');
    const ls = await runRftp(['queue', '--json'], { env: env(home) });
    assert.equal(ls.code, 0, ls.stderr);
    const listed = JSON.parse(ls.stdout);
    assert.deepEqual(
      listed.map((e: { name: string; state: string }) => `${e.name} ${e.state}`),
      ['f0 waiting', 'f1 waiting', 'f2 waiting'],
    );
    const run = await runRftp(['queue', 'run', '--parallel', '2'], { env: env(home), cwd: '/' });
    assert.equal(run.code, 0, run.stderr);
    for (let i = 0; i < 3; i++) assert.equal(sha256File(join(d, 'out', `f${i}.bin`)), sha256(readFileSync(join(server.root, `q/f${i}.bin`))));
    const after = JSON.parse((await runRftp(['queue', '--json'], { env: env(home) })).stdout);
    assert.deepEqual(
      after.map((e: { state: string; last: { code: number } }) => `${e.state} ${e.last.code}`),
      ['done 0', 'done 0', 'done 0'],
    );
    const again = await runRftp(['queue', 'run'], { env: env(home) });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /queue: 0 entries run/);
  });

  test('--at now+3s runs then and not before; --every runs again; --on-finish sees the summary', async () => {
    const { d, home } = workdir();
    const added = Date.now();
    await runRftp(['queue', 'add', '--at', 'now+3s', '--', 'get', server.url('q/f0.bin'), '-o', join(d, 'later.bin')], { env: env(home) });
    const early = await runRftp(['queue', 'run'], { env: env(home) });
    assert.equal(early.code, 0, early.stderr);
    assert.equal(existsSync(join(d, 'later.bin')), false, 'not before its time');
    const marker = join(d, 'finished');
    const r = await runRftp(['queue', 'run', '--wait', '--on-finish', `sh -c 'echo "$RFTP_QUEUE_DONE $RFTP_QUEUE_FAILED $RFTP_QUEUE_EXIT" > ${marker}'`], { env: env(home), timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - added >= 3000, 'ran once due');
    assert.ok(existsSync(join(d, 'later.bin')));
    assert.equal(readFileSync(marker, 'utf8'), '1 0 0\n');
    // --every 2s: after its first run it is waiting again, two seconds on.
    const { d: d2, home: h2 } = workdir();
    await runRftp(['queue', 'add', '--every', '2s', '--', 'get', server.url('q/f1.bin'), '-o', join(d2, 'e.bin'), '-f'], { env: env(h2) });
    const first = await runRftp(['queue', 'run'], { env: env(h2) });
    assert.equal(first.code, 0, first.stderr);
    const [e] = JSON.parse((await runRftp(['queue', '--json'], { env: env(h2) })).stdout);
    assert.equal(e.state, 'waiting');
    assert.equal(e.runs, 1);
    assert.ok(Date.parse(e.due) > Date.now() - 100, 'due again later');
    // And it does run again once due.
    await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(e.due) - Date.now()) + 200));
    const second = await runRftp(['queue', 'run'], { env: env(h2) });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(JSON.parse((await runRftp(['queue', '--json'], { env: env(h2) })).stdout)[0].runs, 2);
  });

  test('two queue runs at once: each entry runs once', async () => {
    const { d, home } = workdir();
    for (let i = 0; i < 3; i++) await runRftp(['queue', 'add', '--', 'get', server.url(`q/f${i}.bin`), '-o', join(d, `f${i}.bin`)], { env: env(home) });
    const sentBefore = (await server.xferTotals()).entries;
    const [a, b] = await Promise.all([runRftp(['queue', 'run'], { env: env(home) }), runRftp(['queue', 'run'], { env: env(home) })]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal((await server.xferTotals()).entries - sentBefore, 3, 'three transfers in all, not six');
  });

  test('SIGKILL during a run: the next run continues each entry from its partial; a corrupted entry is moved aside', async () => {
    const { d, home } = workdir();
    for (let i = 0; i < 3; i++) await runRftp(['queue', 'add', '--', 'get', slow.url(`big${i}.bin`), '-o', join(d, `big${i}.bin`)], { env: env(home, slow) });
    writeFileSync(join(qdir(home), '99.json'), '{ not json');
    const sentBefore = (await slow.xferTotals()).sent;
    const first = spawnRftp(['queue', 'run', '--wait', '--parallel', '3'], { env: env(home, slow) });
    await waitFor(() => [0, 1, 2].every((i) => sizeOr0(join(d, `big${i}.bin.rftp-part`)) > 300_000), 'three partials growing', 30_000);
    // The list shows how far each running entry is.
    await waitFor(
      async () => {
        const listed = JSON.parse((await runRftp(['queue', '--json'], { env: env(home, slow) })).stdout) as Array<{ state: string; progress?: { bytes: number; total: number } }>;
        return listed.filter((e) => e.state === 'running' && e.progress && e.progress.bytes > 0 && e.progress.total === 3 * MiB + listed.indexOf(e)).length === 3;
      },
      'three running entries with their progress',
      30_000,
    );
    first.child.kill('SIGKILL');
    const killed = await first.done;
    assert.match(killed.stderr, /99\.json could not be read .*moved aside/);
    const rest = await runRftp(['queue', 'run', '--parallel', '3'], { env: env(home, slow), timeoutMs: 90_000 });
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stderr, /locked by process \d+, which is gone; taking it over/);
    for (let i = 0; i < 3; i++) assert.equal(sha256File(join(d, `big${i}.bin`)), sha256(readFileSync(join(slow.root, `big${i}.bin`))));
    const sent = (await slow.xferTotals()).sent - sentBefore;
    const total = [0, 1, 2].reduce((n, i) => n + 3 * MiB + i, 0);
    assert.ok(sent <= total + 3 * MiB, `at most size + 1 MiB per file sent (${sent} for ${total})`);
    assert.ok(readdirSync(qdir(home)).some((n) => n.startsWith('99.json.corrupt-')));
  });

  test('an unknown entry is exit 2; rm, pause and resume change what run does', async () => {
    const { d, home } = workdir();
    assert.equal((await runRftp(['queue', 'rm', '42'], { env: env(home) })).code, 2);
    await runRftp(['queue', 'add', '--name', 'p', '--', 'get', server.url('q/f0.bin'), '-o', join(d, 'p.bin')], { env: env(home) });
    await runRftp(['queue', 'pause', 'p'], { env: env(home) });
    await runRftp(['queue', 'run'], { env: env(home) });
    assert.equal(existsSync(join(d, 'p.bin')), false, 'a paused entry waits');
    await runRftp(['queue', 'resume', 'p'], { env: env(home) });
    const junk = await runRftp(['queue', 'run', '--limit-rate', 'fast'], { env: env(home) });
    assert.equal(junk.code, 2, junk.stderr);
    assert.equal(existsSync(join(d, 'p.bin')), false, 'a bad cap is refused before anything runs');
    const capped = await runRftp(['queue', 'run', '--limit-rate', '00:00,20M 12:00,20M'], { env: env(home) });
    assert.equal(capped.code, 0, capped.stderr);
    assert.ok(existsSync(join(d, 'p.bin')));
    await runRftp(['queue', 'rm', 'p'], { env: env(home) });
    assert.equal(JSON.parse((await runRftp(['queue', '--json'], { env: env(home) })).stdout).length, 0);
  });
});

/** Files under dir containing text (grep -r), as one string. */
function spawnGrep(dir: string, text: string): string {
  try {
    return execFileSync('grep', ['-rlF', text, dir], { encoding: 'utf8' });
  } catch {
    return '';
  }
}
