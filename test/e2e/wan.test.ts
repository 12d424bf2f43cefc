// Round trips over a link with latency: vsftpd behind the latency proxy (test/helpers/wan.ts),
// which counts the client's waits per connection. Over a real link each one costs a full round
// trip, so these counts are what decides speed there; the times themselves are the bench's.
//
// The issue's budgets count the control connection's round trips after the greeting (a final
// QUIT is none: nobody waits for its reply): a one-file get or put <= 7, each further file of a
// sync <= 3 down and <= 4 up, an up-to-date sync of one directory <= login + 3. rftp's control
// connection does get 4 (USER; PASS..PWD; SIZE, MDTM, EPSV; RETR), put 6 (USER; PASS..PWD; SIZE,
// SIZE, EPSV; STOR; SIZE; RNFR, RNTO, SIZE), a further file 2 down (EPSV; RETR) and 3 up (STOR;
// SIZE; RNFR, RNTO and the next EPSV), up to date login + 3 (CWD, EPSV; LIST; MDTMs).
// Opening each data connection waits for its connect as well (the proxy counts it; the kernel
// answers at once here, a real link takes a round trip): so in all, get 5, put 7, 3 and 4 per
// further file, up to date login + 4. Both are asserted, so a change that adds a wait shows.
// vsftpd asks for a password, so a login is USER, then PASS with everything else the session
// needs in the same write: 2.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomData, runRftp, scratchDirs, sha256, sha256File, testEnv } from '../helpers/cli.js';
import { allWaits, conversation, startWanVsftpd, type ConnectionCount, type WanServer } from '../helpers/wan.js';

const workdir = scratchDirs();
const LOGIN = 2;
/** [control connection, all connections] */
const GET = [4, 5];
const PUT = [6, 7];
const DOWN_PER_FILE = [2, 3];
const UP_PER_FILE = [3, 4];
const UP_TO_DATE = [LOGIN + 3, LOGIN + 4];
/** 5 ms each way: a real wait always shows as a round trip; the suite stays quick. */
const DELAY_MS = 5;

/**
 * The last run: its control connections, all it waited for (every connection), and a message
 * showing what each control connection sent per round trip.
 */
function controls(server: WanServer): { connections: number; waits: [number, number]; shown: string } {
  const all = server.proxy.controls();
  const data = server.proxy.connections().length - all.length;
  return {
    connections: all.length,
    waits: [allWaits(all), allWaits(server.proxy.connections())],
    shown: `${data} data connections\n${all.map((c: ConnectionCount, i) => `connection ${i + 1}:\n${conversation(c)}`).join('\n')}`,
  };
}

/** Waits within the limits, on the control connection and on all of them. */
function within(waits: number[], limits: number[], shown: string): void {
  assert.ok(waits[0] <= limits[0] && waits[1] <= limits[1], `waited ${waits.join(' (control) and ')} (all), limits ${limits.join(' and ')}:\n${shown}`);
}

/** The waits of each further file, from a run of 1 file and one of 7. */
const perFile = (one: number[], seven: number[]) => [0, 1].map((i) => (seven[i] - one[i]) / 6);

describe('round trips over a link with latency (plain FTP)', () => {
  let server: WanServer;
  before(async () => {
    server = await startWanVsftpd(DELAY_MS);
  });
  after(() => server?.stop());

  async function rftp(home: string, args: string[]) {
    server.proxy.reset();
    const r = await runRftp(args, { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
    assert.equal(r.code, 0, r.stderr);
    return controls(server);
  }

  test('a one-file get and put: 4 and 6 round trips on the control connection (budget 7), on one connection', async () => {
    const { d, home } = workdir();
    const data = randomData(30_000);
    await server.put('one.bin', data);
    const got = await rftp(home, ['get', server.url('one.bin'), '-o', join(d, 'one.bin')]);
    assert.equal(sha256File(join(d, 'one.bin')), sha256(data));
    assert.equal(got.connections, 1, got.shown);
    within(got.waits, GET, got.shown);

    writeFileSync(join(d, 'up.bin'), data);
    const put = await rftp(home, ['put', join(d, 'up.bin'), server.url('')]);
    assert.equal(sha256(readFileSync(join(server.root, 'up.bin'))), sha256(data));
    assert.equal(put.connections, 1, put.shown);
    within(put.waits, PUT, put.shown);
  });

  test('sync down: each further file 2 round trips (budget 3); up to date, login + 3', async () => {
    const { d, home } = workdir();
    for (let i = 0; i < 7; i++) await server.put(`down7/f${i}.txt`, `file ${i}\n`);
    await server.put('down1/f0.txt', 'file 0\n');
    // One connection: per-file costs add up on it instead of spreading over several.
    const one = await rftp(home, ['sync', server.url('down1/'), join(d, 'down1'), '--parallel', '1']);
    const seven = await rftp(home, ['sync', server.url('down7/'), join(d, 'down7'), '--parallel', '1']);
    assert.equal(readFileSync(join(d, 'down7', 'f6.txt'), 'utf8'), 'file 6\n');
    assert.deepEqual([one.connections, seven.connections], [1, 1], `${one.shown}\n${seven.shown}`);
    within(perFile(one.waits, seven.waits), DOWN_PER_FILE, seven.shown);

    const again = await rftp(home, ['sync', server.url('down7/'), join(d, 'down7'), '--parallel', '1']);
    assert.equal(again.connections, 1, again.shown);
    within(again.waits, UP_TO_DATE, again.shown);
  });

  test('sync up: each further file 3 round trips (budget 4); up to date, login + 3; a missing root costs no new login', async () => {
    const { d, home } = workdir();
    for (const [dir, n] of [
      ['site1', 1],
      ['site7', 7],
    ] as const) {
      mkdirSync(join(d, dir));
      for (let i = 0; i < n; i++) writeFileSync(join(d, dir, `u${i}.txt`), `up ${i}\n`);
    }
    const one = await rftp(home, ['sync', join(d, 'site1'), server.url('www1/'), '--parallel', '1']);
    const seven = await rftp(home, ['sync', join(d, 'site7'), server.url('www7/'), '--parallel', '1']);
    assert.equal(readFileSync(join(server.root, 'www7', 'u6.txt'), 'utf8'), 'up 6\n');
    // The root does not exist yet: the refused CWD is an answer, the same connection goes on.
    assert.deepEqual([one.connections, seven.connections], [1, 1], `${one.shown}\n${seven.shown}`);
    within(perFile(one.waits, seven.waits), UP_PER_FILE, seven.shown);

    const again = await rftp(home, ['sync', join(d, 'site7'), server.url('www7/'), '--parallel', '1']);
    assert.equal(again.connections, 1, again.shown);
    within(again.waits, UP_TO_DATE, again.shown);
  });

  test('with 4 connections, no step of a sync opens a fifth', async () => {
    const { d, home } = workdir();
    mkdirSync(join(d, 'many', 'sub'), { recursive: true });
    for (let i = 0; i < 12; i++) writeFileSync(join(d, 'many', i % 2 ? 'sub' : '', `m${i}.txt`), `m ${i}\n`);
    const up = await rftp(home, ['sync', join(d, 'many'), server.url('many/'), '--parallel', '4']);
    assert.ok(up.connections <= 4, up.shown);
    const down = await rftp(home, ['sync', server.url('many/'), join(d, 'back'), '--parallel', '4']);
    assert.ok(down.connections <= 4, down.shown);
    assert.equal(readFileSync(join(d, 'back', 'sub', 'm11.txt'), 'utf8'), 'm 11\n');
  });
});

describe('sync --parallel auto over a link with latency', () => {
  let server: WanServer;
  let capped: WanServer;
  before(async () => {
    // 10 ms each way: a file then costs ~80 ms on a connection, so more connections move more.
    server = await startWanVsftpd(10, { pasvPorts: 60 });
    capped = await startWanVsftpd(10, { pasvPorts: 40, maxPerIp: 6 });
  });
  after(async () => {
    await server?.stop();
    await capped?.stop();
  });

  function site(d: string, n: number): string {
    const root = join(d, 'site');
    for (let i = 0; i < n; i++) {
      mkdirSync(join(root, `d${i % 5}`), { recursive: true });
      writeFileSync(join(root, `d${i % 5}`, `f${i}.txt`), `file ${i}\n`);
    }
    return root;
  }

  test('auto starts with 4 and adds connections while the files per second rise, up to 16', async () => {
    const { d, home } = workdir();
    const root = site(d, 240);
    server.proxy.reset();
    const r = await runRftp(['sync', root, server.url('auto/'), '--parallel', 'auto', '--json'], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(server.root, 'auto', 'd4', 'f239.txt'), 'utf8'), 'file 239\n');
    const { connections } = JSON.parse(r.stdout);
    const opened = server.proxy.controls().length;
    assert.equal(connections.requested, 'auto');
    assert.ok(opened > 4 && opened <= 16, `${opened} control connections`);
    // Logins of a last round may still have been under way when the files ran out.
    assert.ok(connections.accepted > 4 && connections.accepted <= opened, JSON.stringify(connections));
  });

  test('a server that refuses more connections ends the growth quietly: no warning, every file arrives', async () => {
    const { d, home } = workdir();
    const root = site(d, 240);
    const r = await runRftp(['sync', root, capped.url('capped/'), '-P', 'auto', '--debug'], { env: testEnv(home, { RFTP_PASSWORD: capped.password }) });
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /warning/, r.stderr);
    assert.match(r.stderr, /--parallel auto: the server refused connection \d+ .*421/);
    assert.equal(readdirSync(join(capped.root, 'capped'), { recursive: true }).filter((f) => String(f).endsWith('.txt')).length, 240);
  });
});

describe('TLS over a link with latency (explicit TLS)', () => {
  let server: WanServer;
  before(async () => {
    server = await startWanVsftpd(DELAY_MS, { tls: 'explicit' });
  });
  after(() => server?.stop());

  test('one full handshake per run: data and further control connections resume it; PBSZ and PROT once per connection', async () => {
    const { d, home } = workdir();
    for (let i = 0; i < 6; i++) await server.put(`tls/f${i}.txt`, `tls ${i}\n`);
    const r = await runRftp(['sync', server.url('tls/'), join(d, 'tls'), '--parallel', '3', '--debug', '--ca-file', server.caFile], {
      env: testEnv(home, { RFTP_PASSWORD: server.password }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(d, 'tls', 'f5.txt'), 'utf8'), 'tls 5\n');
    const connections = server.proxy.controls().length;
    assert.equal(connections, 3);
    // 3 control connections, and a data connection per listing and per file: only the first
    // control connection's handshake is a full one.
    const m = /TLS handshakes: (\d+) full, (\d+) resumed/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.equal(Number(m[1]), 1, r.stderr);
    assert.ok(Number(m[2]) >= 2 + 6 + 1, r.stderr);
    assert.equal(r.stderr.match(/debug: > PBSZ 0/g)?.length, connections, r.stderr);
    assert.equal(r.stderr.match(/debug: > PROT P/g)?.length, connections, r.stderr);
  });
});
