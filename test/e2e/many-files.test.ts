// get, put and pget of several files in one command: files at once up to --parallel, one
// connection each, the first logged in before the others; the report and exit code in the order
// the files were given.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fakeServers } from '../helpers/fake-ftp.js';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';
import { errorLines, randomData, runRftp, sha256, sha256File, testEnv, scratchDirs } from '../helpers/cli.js';

const workdir = scratchDirs();
const fake = fakeServers();

describe('several files against a vsftpd that accepts two connections per address', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd({ maxPerIp: 2 });
    for (let i = 0; i < 6; i++) await server.put(`f${i}.bin`, randomData(100_000 + i));
  });
  after(() => server.stop());

  test('get of six files with --parallel 4: all arrive, over the two connections the server accepts, at once', async () => {
    const { d, home } = workdir();
    const started = Date.now();
    const urls = Array.from({ length: 6 }, (_, i) => server.url(`f${i}.bin`));
    const r = await runRftp(['get', '-o', `${d}/`, '--parallel', '4', ...urls, '--json'], { env: testEnv(home, { RFTP_PASSWORD: server.password }) });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 20_000, 'no retries of refused connections');
    assert.match(r.stderr, /accepted 2 of 4 connections/);
    assert.doesNotMatch(r.stderr, /reconnecting/);
    for (let i = 0; i < 6; i++) assert.equal(sha256File(join(d, `f${i}.bin`)), sha256(readFileSync(join(server.root, `f${i}.bin`))));
    const report = JSON.parse(r.stdout);
    assert.deepEqual(
      report.files.map((f: { local: string }) => f.local),
      urls.map((_, i) => join(d, `f${i}.bin`)),
      'in the order given',
    );
  });
});

test('a wrong password with several files: one login, one error line, exit 4', async () => {
  const { d, home } = workdir();
  const s = await fake({ '/a': 'a', '/b': 'b', '/c': 'c' }, { loginFails: true });
  const url = (p: string) => `ftp://u@127.0.0.1:${s.port}/${p}`;
  const r = await runRftp(['get', '-o', `${d}/`, url('a'), url('b'), url('c'), '--retries', '1'], { env: testEnv(home, { RFTP_PASSWORD: 'wrong-pw' }) });
  assert.equal(r.code, 4, r.stderr);
  assert.equal(errorLines(r.stderr).length, 1, r.stderr);
  assert.equal(s.commands.filter((c) => c.startsWith('PASS')).length, 1, s.commands.join(', '));
});

test('one missing file of three: the others arrive, exit 6 after a summary; --json has every file in order', async () => {
  const { d, home } = workdir();
  const s = await fake({ '/a': 'aaa', '/c': 'ccc' });
  const url = (p: string) => `ftp://u@127.0.0.1:${s.port}/${p}`;
  const r = await runRftp(['get', '-o', `${d}/`, url('a'), url('missing'), url('c'), '--json'], { env: testEnv(home, { RFTP_PASSWORD: 'pw' }) });
  assert.equal(r.code, 6, r.stderr);
  assert.match(errorLines(r.stderr).join('\n'), /missing/);
  assert.match(errorLines(r.stderr).at(-1)!, /get: 1 of 3 files failed/);
  assert.equal(readFileSync(join(d, 'a'), 'utf8'), 'aaa');
  assert.equal(readFileSync(join(d, 'c'), 'utf8'), 'ccc');
  const report = JSON.parse(r.stdout);
  assert.deepEqual([report.result, report.exitCode], ['error', 6]);
  assert.deepEqual(
    report.files.map((f: { remote: string; error?: string }) => [f.remote.replace(/.*\//, ''), f.error === undefined]),
    [
      ['a', true],
      ['missing', false],
      ['c', true],
    ],
  );
});

test('two files that would land on one local name are refused before anything starts (2)', async () => {
  const { d, home } = workdir();
  const s = await fake({ '/x/same': '1', '/y/same': '2' });
  const url = (p: string) => `ftp://u@127.0.0.1:${s.port}/${p}`;
  const r = await runRftp(['get', '-o', `${d}/`, url('x/same'), url('y/same')], { env: testEnv(home, { RFTP_PASSWORD: 'pw' }) });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /would both be written to/);
  assert.equal(s.connections, 0);
  writeFileSync(join(d, 'one'), '1');
  const put = await runRftp(['put', join(d, 'one'), join(d, '.', 'one'), url('')], { env: testEnv(home, { RFTP_PASSWORD: 'pw' }) });
  assert.equal(put.code, 2, put.stderr);
  assert.match(put.stderr, /would both be uploaded as one/);
});
