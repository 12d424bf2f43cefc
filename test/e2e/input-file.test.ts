// Many transfers in one command: 20 URLs at --parallel 4 from the command line, from -i FILE and
// from -i - (standard input), against a real vsftpd; a bad line stops everything before it starts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomData, runRftp, scratchDirs, sha256, sha256File, spawnRftp, testEnv } from '../helpers/cli.js';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';

const workdir = scratchDirs();
const N = 20;

describe('get, pget and put of many files, from the command line and from -i', () => {
  let server: VsftpdServer;
  before(async () => {
    // Throttled a little, so that the transfers overlap and the connections can be counted.
    server = await startVsftpd({ maxRate: 2 * 1024 * 1024, pasvPorts: 40 });
    for (let i = 0; i < N; i++) await server.put(`many/f${i}.bin`, randomData(200_000 + i));
  });
  after(() => server.stop());
  const env = (home: string) => testEnv(home, { RFTP_PASSWORD: server.password });
  const same = (dir: string) => {
    for (let i = 0; i < N; i++) assert.equal(sha256File(join(dir, `f${i}.bin`)), sha256(readFileSync(join(server.root, `many/f${i}.bin`))), `f${i}.bin`);
  };

  /** Runs rftp while counting the server's sessions (vsftpd: two processes each on plain FTP). */
  async function counted(args: string[], opts: { env: NodeJS.ProcessEnv; input?: string }) {
    const run = spawnRftp(args, opts);
    let most = 0;
    const timer = setInterval(() => {
      most = Math.max(most, Math.ceil(server.sessionPids().length / 2));
    }, 10);
    const r = await run.done;
    clearInterval(timer);
    return { ...r, most };
  }

  test('20 URLs with --parallel 4: all identical, at most 4 connections, one summary', async () => {
    const { d, home } = workdir();
    const urls = Array.from({ length: N }, (_, i) => server.url(`many/f${i}.bin`));
    const r = await counted(['get', '-o', `${d}/`, '--parallel', '4', ...urls], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    same(d);
    assert.ok(r.most >= 2 && r.most <= 4, `at most 4 connections at once (saw ${r.most})`);
    assert.match(r.stderr, /get: 20 files: 20 done, 0 resumed, 0 skipped, 0 failed/);
  });

  test('-i FILE and -i - (standard input): a line each, # comments and blank lines, options per line', async () => {
    const { d, home } = workdir();
    const lines = ['# downloads for tonight', '', ...Array.from({ length: N }, (_, i) => `${server.url(`many/f${i}.bin`)} -o ${d}/${i < 10 ? 'a' : 'b'}/`), ''];
    const list = join(d, 'urls.txt');
    writeFileSync(list, lines.join('\n'));
    const r = await counted(['get', '-i', list, '--parallel', '4', '--create-dirs'], { env: env(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.most <= 4, `at most 4 connections (saw ${r.most})`);
    assert.equal(readdirSync(join(d, 'a')).length, 10);
    assert.equal(readdirSync(join(d, 'b')).length, 10);
    const { d: d2, home: home2 } = workdir();
    const piped = await runRftp(['get', '-i', '-', '-o', `${d2}/`], { env: env(home2), input: Array.from({ length: N }, (_, i) => server.url(`many/f${i}.bin`)).join('\n') });
    assert.equal(piped.code, 0, piped.stderr);
    same(d2);
  });

  test('a bad line: its number, exit 2, nothing transferred', async () => {
    const { d, home } = workdir();
    const list = join(d, 'urls.txt');
    writeFileSync(list, `${server.url('many/f0.bin')}\n${server.url('many/f1.bin')} --segmnets 2\n`);
    const sentBefore = (await server.xferTotals()).sent;
    const r = await runRftp(['get', '-i', list, '-o', `${d}/`], { env: env(home) });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /urls\.txt, line 2: unknown option --segmnets/);
    const wide = join(d, 'wide.txt');
    writeFileSync(wide, `${server.url('many/f0.bin')} --parallel 8\n`);
    const w = await runRftp(['get', '-i', wide], { env: env(home) });
    assert.equal(w.code, 2, w.stderr);
    assert.match(w.stderr, /wide\.txt, line 1: --parallel applies to the whole run/);
    assert.equal((await server.xferTotals()).sent, sentBefore);
    assert.deepEqual(readdirSync(d).sort(), ['urls.txt', 'wide.txt']);
  });

  test('pget and put take -i too', async () => {
    const { d, home } = workdir();
    const list = join(d, 'p.txt');
    writeFileSync(list, `${server.url('many/f1.bin')} -n 2\n${server.url('many/f2.bin')} -n 3 -o ${d}/two.bin\n`);
    const p = await runRftp(['pget', '-i', list, '-o', `${d}/`], { env: env(home) });
    assert.equal(p.code, 0, p.stderr);
    assert.equal(sha256File(join(d, 'f1.bin')), sha256(readFileSync(join(server.root, 'many/f1.bin'))));
    assert.equal(sha256File(join(d, 'two.bin')), sha256(readFileSync(join(server.root, 'many/f2.bin'))));
    writeFileSync(join(d, 'up1'), 'one\n');
    writeFileSync(join(d, 'up2'), 'two\n');
    const uplist = join(d, 'up.txt');
    writeFileSync(uplist, `${join(d, 'up1')} ${server.url('')}\n${join(d, 'up2')} ${server.url('up2-renamed')}\n`);
    const u = await runRftp(['put', '-i', uplist], { env: env(home) });
    assert.equal(u.code, 0, u.stderr);
    assert.equal(readFileSync(join(server.root, 'up1'), 'utf8'), 'one\n');
    assert.equal(readFileSync(join(server.root, 'up2-renamed'), 'utf8'), 'two\n');
  });
});
