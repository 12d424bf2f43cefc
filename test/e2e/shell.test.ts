// The lftp-style shell: scripts (-c, -f, stdin) and the interactive prompt in a real terminal
// (tmux), against real vsftpd.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startFakeFtp, type FakeFtpServer } from '../helpers/fake-ftp.js';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';
import { Terminal } from '../helpers/terminal.js';
import { ensureTool, errorLines, randomData, runRftp, scratchDirs, sha256, sha256File, sizeOr0, spawnRftp, testEnv, waitFor } from '../helpers/cli.js';

const MiB = 1024 * 1024;
const workdir = scratchDirs();

describe('shell scripts (-c, -f, stdin)', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd();
    await server.put('pub/a.txt', 'alpha\n');
    await server.put('pub/b.txt', 'beta\n');
    await server.put('pub/c.bin', randomData(300_000));
    await server.put('pub/sub/d.txt', 'delta\n');
  });
  after(() => server.stop());
  const env = (home: string) => testEnv(home, { RFTP_PASSWORD: server.password });

  test('-c: open, cd, ls, get, mget with a glob, put, cat; exit 0', async () => {
    const { d, home } = workdir();
    writeFileSync(join(d, 'up.txt'), 'uploaded\n');
    const r = await runRftp(['-c', `open ${server.url('/')}; cd pub; ls; get c.bin; mget *.txt; put up.txt; cat a.txt; pwd`], { env: env(home), cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').slice(0, 4), ['a.txt', 'b.txt', 'c.bin', 'sub/']);
    assert.match(r.stdout, /alpha\n\/pub\n$/);
    assert.equal(sha256File(join(d, 'c.bin')), sha256(readFileSync(join(server.root, 'pub/c.bin'))));
    assert.equal(readFileSync(join(d, 'b.txt'), 'utf8'), 'beta\n');
    assert.equal(readFileSync(join(server.root, 'pub/up.txt'), 'utf8'), 'uploaded\n');
  });

  test('-f: a failing command stops the script with its exit code', async () => {
    const { d, home } = workdir();
    const script = join(d, 'script.rftp');
    writeFileSync(script, `# comment\nopen ${server.url('/pub')}\nget missing.txt\nget a.txt\n`);
    const r = await runRftp(['-f', script], { env: env(home), cwd: d });
    assert.equal(r.code, 6, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.match(errorLines(r.stderr)[0], /missing\.txt/);
    assert.equal(existsSync(join(d, 'a.txt')), false, 'the command after the failure must not run');
  });

  test('-f with set fail-exit off: goes on, exits with the last failure', async () => {
    const { d, home } = workdir();
    const script = join(d, 'script.rftp');
    writeFileSync(script, `set fail-exit off\nopen ${server.url('/pub')}\nget missing.txt\nget a.txt\n`);
    const r = await runRftp(['-f', script], { env: env(home), cwd: d });
    assert.equal(r.code, 6, r.stderr);
    assert.equal(readFileSync(join(d, 'a.txt'), 'utf8'), 'alpha\n');
  });

  test('stdin script: mkdir -p, put, mv, rm, rmdir, and an unknown command exits 2', async () => {
    const { d, home } = workdir();
    writeFileSync(join(d, 'f.txt'), 'file\n');
    const ok = await runRftp([], { env: env(home), cwd: d, input: `open ${server.url('/')}\nmkdir -p new/deep\ncd new/deep\nput f.txt\nmv f.txt g.txt\nls\n` });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'g.txt\n');
    assert.equal(readFileSync(join(server.root, 'new/deep/g.txt'), 'utf8'), 'file\n');
    const rm = await runRftp([], { env: env(home), cwd: d, input: `open ${server.url('/')}\nrm new/deep/g.txt\nrmdir new/deep\nls new\nfrobnicate\nls\n` });
    assert.equal(rm.code, 2, rm.stderr);
    assert.equal(existsSync(join(server.root, 'new/deep')), false);
    assert.equal(rm.stdout, '', 'ls of the empty dir prints nothing and nothing runs after the unknown command');
  });

  test('mirror inside the shell', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['-c', `open ${server.url('/')}; lcd ${d}; mirror pub copy`], { env: env(home), cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(d, 'copy/sub/d.txt'), 'utf8'), 'delta\n');
    assert.equal(sha256File(join(d, 'copy/c.bin')), sha256(readFileSync(join(server.root, 'pub/c.bin'))));
  });

  test('bookmarks: add from the open site, open by name, no password in the file', async () => {
    const { d, home } = workdir();
    const e = env(home);
    const add = await runRftp(['-c', `open ${server.url('/', { withPassword: true })}; cd pub; bookmark add pubsite; bookmark list`], { env: e, cwd: d });
    assert.equal(add.code, 0, add.stderr);
    const file = readFileSync(join(home, '.config/rftp/bookmarks.json'), 'utf8');
    assert.equal(file.includes(server.password), false);
    assert.equal(file.includes(encodeURIComponent(server.password)), false);
    const use = await runRftp(['-c', 'open pubsite; pwd; get a.txt'], { env: e, cwd: d });
    assert.equal(use.code, 0, use.stderr);
    assert.equal(use.stdout, '/pub\n');
    assert.equal(readFileSync(join(d, 'a.txt'), 'utf8'), 'alpha\n');
    const listed = await runRftp(['-c', 'bookmark list'], { env: e, cwd: d });
    assert.match(listed.stdout, /pubsite/);
    const del = await runRftp(['-c', 'bookmark del pubsite; bookmark list'], { env: e, cwd: d });
    assert.equal(del.code, 0, del.stderr);
    assert.doesNotMatch(del.stdout, /pubsite/);
    assert.notEqual((await runRftp(['-c', 'open pubsite'], { env: e, cwd: d })).code, 0, 'a deleted bookmark no longer opens');
  });
});

describe('shell against a vsftpd that allows 2 connections per address (max_per_ip)', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd({ maxPerIp: 2 });
    for (let i = 0; i < 8; i++) await server.put(`t/f${i}.txt`, `file ${i}\n`);
  });
  after(() => server.stop());

  test('set parallel 4; mget and mput go on with the connections the server accepts', async () => {
    const { d, home } = workdir();
    for (let i = 0; i < 4; i++) writeFileSync(join(d, `u${i}.dat`), `up ${i}\n`);
    const started = Date.now();
    const r = await runRftp(['-c', `open ${server.url('/')}; set parallel 4; mget t/*.txt; mput u*.dat`], { env: testEnv(home, { RFTP_PASSWORD: server.password }), cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the server accepted [12] of 4 connections .*continuing with [12]/);
    for (let i = 0; i < 8; i++) assert.equal(readFileSync(join(d, `f${i}.txt`), 'utf8'), `file ${i}\n`);
    for (let i = 0; i < 4; i++) assert.equal(readFileSync(join(server.root, `u${i}.dat`), 'utf8'), `up ${i}\n`);
    // Before, refused connections were retried with backoff for minutes.
    assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
  });
});

describe('interactive shell in a terminal', () => {
  let server: VsftpdServer;
  const RATE = 1 * MiB;
  before(async () => {
    ensureTool('tmux');
    server = await startVsftpd({ maxRate: RATE });
    await server.put('projects/alpha/readme.txt', 'hi\n');
  });
  after(() => server.stop());

  test('Tab completes a remote directory; history is recalled after a restart', async () => {
    const { d, home } = workdir();
    const env = { ...testEnv(home, { RFTP_PASSWORD: server.password }), TERM: 'xterm' };
    const t = new Terminal(env);
    try {
      t.start(d, ['open', server.url('/')]);
      await t.waitScreen(/rftp rftptest@127\.0\.0\.1:~>$/m, 'the prompt');
      t.type('cd proj');
      t.keys('Tab');
      await t.waitScreen(/> cd projects\/$/m, 'completion of projects/');
      t.type('al');
      t.keys('Tab');
      await t.waitScreen(/> cd projects\/alpha\/$/m, 'completion of alpha/');
      t.keys('Enter');
      await t.waitScreen(/:~\/projects\/alpha>$/m, 'the prompt in the new directory');
      t.type('user rftptest notthepassword');
      t.keys('Enter');
      await t.waitScreen(/error: login as rftptest failed[^\n]*\n.*:~\/projects\/alpha>$/m, 'the failed login, with the old session kept');
      t.type('not sent');
      t.keys('C-c');
      t.type('exit');
      t.keys('Enter');
      await waitFor(() => existsSync(join(home, '.state/rftp/history')), 'the history file');
      t.stop();
      const history = readFileSync(join(home, '.state/rftp/history'), 'utf8');
      assert.equal(history, 'cd projects/alpha/\nuser rftptest\nexit\n');

      const t2 = new Terminal(env);
      try {
        t2.start(d, ['open', server.url('/')]);
        await t2.waitScreen(/:~>$/m, 'the prompt after restart');
        t2.keys('Up', 'Up', 'Up');
        await t2.waitScreen(/:~> cd projects\/alpha\/$/m, 'the recalled cd line');
        t2.keys('Enter');
        await t2.waitScreen(/:~\/projects\/alpha>$/m, 'the recalled command ran');
      } finally {
        t2.stop();
      }
    } finally {
      t.stop();
    }
  });

  test('Ctrl-C during a throttled get keeps the shell and the partial; get again resumes it', async () => {
    const { d, home } = workdir();
    const data = randomData(6 * MiB);
    await server.put('big.bin', data);
    const env = { ...testEnv(home, { RFTP_PASSWORD: server.password }), TERM: 'xterm' };
    const t = new Terminal(env);
    const part = join(d, 'big.bin.rftp-part');
    try {
      t.start(d, ['open', server.url('/')]);
      await t.waitScreen(/:~>$/m, 'the prompt');
      const sentBefore = (await server.xferTotals()).sent;
      t.type('get big.bin');
      t.keys('Enter');
      await waitFor(() => sizeOr0(part) >= 1 * MiB, 'a partial of 1 MiB');
      t.keys('C-c');
      await t.waitScreen(/interrupted[^\n]*\n(.*\n)*rftp rftptest@127\.0\.0\.1:~>$/m, 'the prompt after Ctrl-C');
      const kept = sizeOr0(part);
      assert.ok(kept >= 1 * MiB && kept < data.length, `partial kept: ${kept}`);
      assert.equal(existsSync(join(d, 'big.bin')), false);
      t.type('get big.bin');
      t.keys('Enter');
      await waitFor(() => existsSync(join(d, 'big.bin')), 'the finished download', 30_000);
      await t.waitScreen(/resuming at 1\.\d MiB of 6\.0 MiB/, 'the resume line');
      assert.equal(sha256File(join(d, 'big.bin')), sha256(data));
      // Resumed, not restarted: the server sent the file about once (plus the overlap check and
      // what sat in socket buffers when the first connection was cut).
      await waitFor(async () => (await server.xferTotals()).entries >= 2, 'xferlog entries');
      const sent = (await server.xferTotals()).sent - sentBefore;
      assert.ok(sent < data.length + 2 * MiB, `server sent ${sent} bytes for a ${data.length}-byte file`);
    } finally {
      t.stop();
    }
  });
});

/** Bytes a pget state file says are on disk (0 while there is none). */
function savedProgress(stateFile: string): number {
  try {
    const st = JSON.parse(readFileSync(stateFile, 'utf8'));
    return st.kind === 'segmented' ? st.ranges.reduce((n: number, r: { done: number }) => n + r.done, 0) : 0;
  } catch {
    return 0;
  }
}

describe('interactive shell: reconnects, local side, leaving', () => {
  let server: VsftpdServer;
  before(async () => {
    ensureTool('tmux');
    server = await startVsftpd();
    await server.put('docs/a.txt', 'alpha\n');
  });
  after(() => server.stop());

  test('password asked once; a dropped connection is reopened without asking again; lcd completes local paths; Ctrl-D leaves', async () => {
    const { d, home } = workdir();
    mkdirSync(join(d, 'subdir'));
    writeFileSync(join(d, 'subdir', 'local.txt'), 'x');
    // No RFTP_PASSWORD: the password comes from the prompt, typed once.
    const t = new Terminal({ ...testEnv(home), TERM: 'xterm' });
    try {
      t.start(d, ['open', server.url('/')]);
      await t.waitScreen(/Password for rftptest@127\.0\.0\.1:/, 'the password prompt');
      t.type(server.password);
      t.keys('Enter');
      await t.waitScreen(/:~>$/m, 'the prompt');
      t.type('cls docs');
      t.keys('Enter');
      await t.waitScreen(/a\.txt\n.*:~>$/m, 'the listing');
      // The server drops the session; the next command reconnects with the same credentials.
      assert.ok(server.killSessions('SIGKILL') > 0);
      t.type('cat docs/a.txt');
      t.keys('Enter');
      await t.waitScreen(/alpha\n.*:~>$/m, 'cat after the reconnect');
      assert.equal(t.screen().match(/Password for/g)?.length, 1, 'the password was not asked again');
      t.type('lcd sub');
      t.keys('Tab');
      await t.waitScreen(/> lcd subdir\/$/m, 'completion of the local directory');
      t.keys('Enter');
      t.type('lpwd');
      t.keys('Enter');
      await t.waitScreen(new RegExp(`${realpathSync(d).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/subdir\n`), 'lpwd in subdir');
      t.type('lls');
      t.keys('Enter');
      await t.waitScreen(/local\.txt\n.*:~>$/m, 'lls');
      t.keys('C-d');
      await waitFor(() => !t.running(), 'the shell to exit on Ctrl-D', 10_000);
    } finally {
      t.stop();
    }
  });
});

describe("the shell and the one-shot commands continue each other's partials", () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd({ maxRate: 1 * MiB });
  });
  after(() => server.stop());
  const env = (home: string) => testEnv(home, { RFTP_PASSWORD: server.password });

  /** Starts args, kills it (SIGKILL) once cond holds. */
  async function killWhen(args: string[], opts: { env: NodeJS.ProcessEnv; cwd: string }, cond: () => boolean, what: string) {
    const { child, done } = spawnRftp(args, opts);
    await waitFor(cond, what);
    child.kill('SIGKILL');
    assert.equal((await done).signal, 'SIGKILL');
  }

  test('rftp get, killed, then get in the shell resumes; and the other way round', async () => {
    const { d, home } = workdir();
    const one = randomData(3 * MiB);
    const two = randomData(3 * MiB);
    await server.put('share/one.bin', one);
    await server.put('share/two.bin', two);
    const o = { env: env(home), cwd: d };
    await killWhen(['get', server.url('share/one.bin')], o, () => sizeOr0(join(d, 'one.bin.rftp-part')) >= 1 * MiB, 'a partial from rftp get');
    const sh = await runRftp(['-c', `open ${server.url('/')}; cd share; get one.bin`], o);
    assert.equal(sh.code, 0, sh.stderr);
    assert.match(sh.stderr, /one\.bin: resuming at/);
    assert.doesNotMatch(sh.stderr, /restarting/);
    assert.equal(sha256File(join(d, 'one.bin')), sha256(one));

    await killWhen(['-c', `open ${server.url('/')}; get share/two.bin`], o, () => sizeOr0(join(d, 'two.bin.rftp-part')) >= 1 * MiB, 'a partial from the shell');
    const get = await runRftp(['get', server.url('share/two.bin')], o);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stderr, /two\.bin: resuming at/);
    assert.doesNotMatch(get.stderr, /restarting/);
    assert.equal(sha256File(join(d, 'two.bin')), sha256(two));
  });

  test("a pget partial is continued in segments by the shell's get", async () => {
    const { d, home } = workdir();
    const data = randomData(4 * MiB);
    await server.put('share/seg.bin', data);
    const o = { env: env(home), cwd: d };
    await killWhen(['pget', '-n', '3', server.url('share/seg.bin')], o, () => savedProgress(join(d, 'seg.bin.rftp-state')) >= 1 * MiB, 'pget progress');
    const r = await runRftp(['-c', `open ${server.url('/')}; get share/seg.bin`], o);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming at .* \(3 segments\)/);
    assert.equal(sha256File(join(d, 'seg.bin')), sha256(data));
    assert.deepEqual(readdirSync(d), ['seg.bin']);
  });

  for (const [name, cmd, file] of [
    ['pget', 'pget -n 2 share/p.bin', 'p.bin'],
    ['mirror', 'mirror share/tree tree', 'tree/m.bin'],
  ] as const) {
    test(`Ctrl-C during the shell's ${name}: one error line, exit 130, the partial kept`, async () => {
      const { d, home } = workdir();
      await server.put(name === 'pget' ? 'share/p.bin' : 'share/tree/m.bin', randomData(4 * MiB));
      const { child, done } = spawnRftp(['-c', `open ${server.url('/')}; ${cmd}`], { env: env(home), cwd: d });
      const part = join(d, `${file}.rftp-part`);
      await waitFor(() => (name === 'pget' ? savedProgress(join(d, `${file}.rftp-state`)) : sizeOr0(part)) >= 512 * 1024, 'progress');
      child.kill('SIGINT');
      const r = await done;
      assert.equal(r.code, 130, r.stderr);
      assert.deepEqual(errorLines(r.stderr), ['rftp: error: interrupted; run the same command again to resume'], r.stderr);
      assert.ok(existsSync(part), 'the partial is kept');
    });
  }
});

describe('shell details', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd();
    await server.put('pub/a.txt', 'alpha\n');
  });
  after(() => server.stop());

  test('rftp open -u USER URL logs in as USER (-u USER:PASSWORD too, never echoed)', async () => {
    const { d, home } = workdir();
    const bare = `ftp://127.0.0.1:${server.port}/pub`;
    const r = await runRftp(['open', '-u', server.user, bare], { env: testEnv(home, { RFTP_PASSWORD: server.password }), cwd: d, input: 'pwd\nls\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '/pub\na.txt\n');
    const p = await runRftp(['open', '--debug', '-u', `${server.user}:${server.password}`, bare], { env: testEnv(home), cwd: d, input: 'pwd\n' });
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout, '/pub\n');
    assert.equal(p.stderr.includes(server.password), false, p.stderr);
  });

  test("a full URL works without open; a command's --debug shows its own conversation; help NAME = NAME --help", async () => {
    const { d, home } = workdir();
    const e = testEnv(home, { RFTP_PASSWORD: server.password });
    const r = await runRftp(['-c', `get ${server.url('pub/a.txt')}; cat ${server.url('pub/a.txt')}`], { env: e, cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'alpha\n');
    assert.equal(readFileSync(join(d, 'a.txt'), 'utf8'), 'alpha\n');
    const dbg = await runRftp(['-c', `open ${server.url('pub')}; ls --debug`], { env: e, cwd: d });
    assert.equal(dbg.code, 0, dbg.stderr);
    assert.match(dbg.stderr, /debug: > (MLSD|LIST)/);
    assert.doesNotMatch(dbg.stderr, new RegExp(server.password.replace(/[&:]/g, '.')));
    const help = await runRftp(['-c', 'help get; get --help'], { env: e, cwd: d });
    assert.equal(help.code, 0, help.stderr);
    const [a, b] = help.stdout.split(/(?=^rftp get )/m);
    assert.equal(a, b);
  });

  test('rftp open on a terminal: Ctrl-C stops a command and the shell stays, however often', async () => {
    ensureTool('tmux', 'tmux');
    const { d, home } = workdir();
    const t = new Terminal(testEnv(home, { RFTP_PASSWORD: server.password, TERM: 'xterm' }));
    const prompts = () =>
      t
        .screen()
        .split('\n')
        .filter((l) => /~\/pub>/.test(l)).length;
    try {
      t.start(d, ['open', server.url('pub')], { underShell: true });
      await t.waitScreen(/~\/pub>$/m, 'the prompt');
      for (let i = 1; i <= 3; i++) {
        t.type('!sleep 20');
        t.keys('Enter');
        await t.waitScreen(new RegExp(`(!sleep 20[\\s\\S]*){${i}}`), 'the command typed');
        await new Promise((r) => setTimeout(r, 500));
        t.keys('C-c');
        await waitFor(() => prompts() > i, `the prompt after Ctrl-C number ${i} (screen:\n${t.screen()})`, 20_000);
      }
      assert.doesNotMatch(t.screen(), /run the same command again to resume|EXIT/, 'a local command is not a transfer to resume');
      t.type('pwd');
      t.keys('Enter');
      await t.waitScreen(/^\/pub$/m, 'pwd still answers on the same site');
    } finally {
      t.stop();
    }
  });

  test('! in a script read from stdin does not get the script as its stdin', async () => {
    const { d, home } = workdir();
    const r = await runRftp([], { env: testEnv(home), cwd: d, input: '!if [ -c /dev/stdin ]; then echo own; else echo shared; fi\nlpwd\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `own\n${realpathSync(d)}\n`);
  });

  test('open USER:PASSWORD@host (no scheme) fails without echoing the password', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['-c', 'open alice:hunter22@files.example.com'], { env: testEnv(home), cwd: d });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.equal(r.stderr.includes('hunter22'), false, r.stderr);
  });
});

describe('rm -r never takes the login directory, also when it is not /', () => {
  let fake: FakeFtpServer;
  before(async () => {
    fake = await startFakeFtp({ '/home/alice/keep.txt': 'k', '/home/alice/sub/x.txt': 'x' }, { home: '/home/alice' });
  });
  after(() => fake.close());

  test('shell: rm -r . / ~ / .. / the absolute name are refused; one-shot: %2F and sub/.. too', async () => {
    const { d, home } = workdir();
    const o = { env: testEnv(home, { RFTP_PASSWORD: 'pw-x' }), cwd: d };
    const url = (path: string) => `ftp://alice@127.0.0.1:${fake.port}/${path}`;
    for (const cmd of ['rm -r .', 'rm -r ~', 'cd sub; rm -r ..', 'rm -r /home/alice', 'rm -r /', 'rm -r ..', 'rm -r /home', 'rm -r ../']) {
      const r = await runRftp(['-c', `open ${url('')}; ${cmd}`], o);
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, /refusing to remove the login or root directory/, cmd);
    }
    for (const path of ['%2Fhome/alice/', 'sub/..', './', '%2Fhome/alice/sub/..', '..', '%2Fhome', '%2Fhome/']) {
      const r = await runRftp(['rm', '-r', url(path)], o);
      assert.equal(r.code, 2, `${path}: ${r.stderr}`);
    }
    assert.deepEqual([...fake.files.keys()].sort(), ['/home/alice/keep.txt', '/home/alice/sub/x.txt']);
    // Names of Object.prototype are only bookmark names like any other.
    for (const [cmd, msg] of [
      ['open constructor', /neither an ftp/],
      [`bookmark add __proto__ ${url('')}`, /bad bookmark name/],
      ['bookmark del toString', /no bookmark named toString/],
      ['set timeout 99999999999', /at most 86400/],
      ['exit 0x10', /0-255/],
      ["set parallel ' 0x4'", /whole number/],
      ['cat a.txt\\', /backslash at the end/],
      ['mirror --max-entries -5 a b', /--max-entries needs a value; for a value starting with "-" write --max-entries=-XYZ/],
      ['mirror -P -5 a b', /-P needs a value; for a value starting with "-" write --parallel=-XYZ or -P-XYZ/],
    ] as const) {
      const r = await runRftp(['-c', cmd], o);
      assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, msg, cmd);
      assert.doesNotMatch(r.stderr, /internal error/, cmd);
    }
    // The server names the directory; its escape sequences do not reach the terminal.
    const esc = await runRftp(['-c', `open ${url('')}; mkdir "d\x1b[31mRED"; cd "d\x1b[31mRED"; pwd`.replace(/\\x1b/g, '\x1b')], o);
    assert.equal(esc.code, 0, esc.stderr);
    assert.equal(esc.stdout.includes('\x1b'), false, JSON.stringify(esc.stdout));
    assert.match(esc.stdout, /d\\x1b\[31mRED/);
    // A directory below it still goes.
    const ok = await runRftp(['-c', `open ${url('')}; mkdir gone; rm -r gone`], o);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(fake.commands.filter((c) => /^RMD .*gone$/.test(c)).length, 1, 'gone was removed');
  });
});

describe('background jobs in the shell', () => {
  let server: VsftpdServer;
  before(async () => {
    ensureTool('tmux');
    server = await startVsftpd({ maxRate: 1 * MiB });
  });
  after(() => server.stop());

  test('get … & runs in the background: the prompt stays, Ctrl-C is not its, jobs shows progress, wait, kill, exit', async () => {
    const { d, home } = workdir();
    const data = randomData(4 * MiB);
    await server.put('bg/one.bin', data);
    await server.put('bg/two.bin', randomData(6 * MiB));
    const env = { ...testEnv(home, { RFTP_PASSWORD: server.password }), TERM: 'xterm' };
    const t = new Terminal(env);
    try {
      t.start(d, ['open', server.url('/bg')]);
      await t.waitScreen(/:~\/bg>$/m, 'the prompt');
      t.type('get one.bin &');
      t.keys('Enter');
      await t.waitScreen(/\[1\] get one\.bin\n(.*\n)*.*:~\/bg>$/m, 'the prompt back at once');
      await waitFor(() => sizeOr0(join(d, 'one.bin.rftp-part')) > 512 * 1024, 'the job under way');
      // Ctrl-C at the prompt belongs to the prompt, not to the job.
      t.keys('C-c');
      t.type('jobs');
      t.keys('Enter');
      await t.waitScreen(/\[1\] running +get one\.bin — one\.bin [\d.]+ (KiB|MiB) of 4\.0 MiB \(\d+%\)/, 'the job with its progress');
      t.type('pwd');
      t.keys('Enter');
      await t.waitScreen(/^\/bg$/m, 'a command at the prompt while the job runs');
      t.type('wait');
      t.keys('Enter');
      await t.waitScreen(/\[1\] done: get one\.bin\n(.*\n)*.*:~\/bg>$/m, 'the job done, the prompt back');
      assert.equal(sha256File(join(d, 'one.bin')), sha256(data));
      t.type('get two.bin &');
      t.keys('Enter');
      await waitFor(() => sizeOr0(join(d, 'two.bin.rftp-part')) > 512 * 1024, 'the second job under way');
      t.type('kill 2');
      t.keys('Enter');
      await t.waitScreen(/\[2\] interrupted \(its partial files are kept: run it again to resume\)/, 'the job stopped');
      assert.ok(sizeOr0(join(d, 'two.bin.rftp-part')) > 0);
      assert.equal(existsSync(join(d, 'two.bin')), false);
      t.type('get two.bin &');
      t.keys('Enter');
      await t.waitScreen(/\[3\] get two\.bin/, 'a third job');
      t.type('exit');
      t.keys('Enter');
      await t.waitScreen(/1 background jobs are running: wait for them, kill them, exit bg to move them to the persistent queue, or exit again/, 'exit refused once');
      t.type('exit');
      t.keys('Enter');
      await waitFor(() => !t.running(), 'the shell ended', 20_000);
      assert.ok(sizeOr0(join(d, 'two.bin.rftp-part')) > 0, 'the partial is kept');
      assert.equal(existsSync(join(d, 'two.bin')), false);
    } finally {
      t.stop();
    }
  });

  test('in a script: jobs run beside the next commands, and the script waits for them at its end', async () => {
    const { d, home } = workdir();
    const data = randomData(2 * MiB);
    await server.put('bg/s.bin', data);
    await server.put('bg/note.txt', 'note\n');
    const r = await runRftp(['-c', `open ${server.url('/bg')}; get s.bin &; cat note.txt; jobs`], { env: testEnv(home, { RFTP_PASSWORD: server.password }), cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^note\n\[1\] running +get s\.bin/);
    assert.match(r.stderr, /\[1\] done: get s\.bin/);
    assert.equal(sha256File(join(d, 's.bin')), sha256(data));
    const bad = await runRftp(['-c', `open ${server.url('/bg')}; cd .. &`], { env: testEnv(home, { RFTP_PASSWORD: server.password }), cwd: d });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /cd: only transfers run in the background/);
  });

  test("lftp's queue and at: one after another, at a time; queue -d drops a waiting one", async () => {
    const { d, home } = workdir();
    for (const n of ['qa', 'qb', 'qc', 'qd']) await server.put(`bg/${n}.bin`, randomData(600_000));
    const env = testEnv(home, { RFTP_PASSWORD: server.password });
    const started = Date.now();
    const r = await runRftp(['-c', `open ${server.url('/bg')}; queue get qa.bin; queue get qb.bin; queue get qd.bin; queue -d 3; at now+2s -- get qc.bin; queue; jobs`], { env, cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\[1\] running +get qa\.bin\n\[2\] after \[1\] +get qb\.bin/, 'the queue, in order');
    assert.match(r.stdout, /\[4\] at \d\d:\d\d +get qc\.bin/, 'the at job waits for its time');
    assert.ok(Date.now() - started >= 2000, 'the at job ran at its time');
    const done = [...r.stderr.matchAll(/\[(\d)\] done: get (\w+)\.bin/g)].map((m) => m[2]);
    assert.ok(done.indexOf('qa') < done.indexOf('qb'), `qa before qb: ${done.join(' ')}`);
    for (const n of ['qa', 'qb', 'qc']) assert.equal(sha256File(join(d, `${n}.bin`)), sha256(readFileSync(join(server.root, `bg/${n}.bin`))), n);
    assert.equal(existsSync(join(d, 'qd.bin')), false, 'dropped before it started');
    assert.match(r.stderr, /\[3\] dropped before it started/);
  });

  test('a queued job keeps the directory it was given in; -u, --json and a past time are refused', async () => {
    const { d, home } = workdir();
    await server.put('bg/here/k.bin', randomData(300_000));
    await server.put('bg/there/k.bin', randomData(300_000));
    const env = testEnv(home, { RFTP_PASSWORD: server.password });
    const r = await runRftp(['-c', `open ${server.url('/bg/here')}; queue get k.bin; cd ../there; wait`], { env, cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(join(d, 'k.bin')), sha256(readFileSync(join(server.root, 'bg/here/k.bin'))), 'the file of the directory it was queued in');
    for (const [line, message] of [
      ['get -u bob:secretpw k.bin &', /-u belongs to open/],
      ['get --json k.bin &', /--json is for a command in the foreground/],
      ['at "2001-01-01 10:00" -- get k.bin', /is in the past/],
    ] as const) {
      const bad = await runRftp(['-c', `open ${server.url('/bg/here')}; ${line}`], { env, cwd: d });
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, message);
      assert.doesNotMatch(bad.stderr, /secretpw/);
    }
  });

  test('exit bg: running jobs become entries of the persistent queue, which continues them', async () => {
    const { d, home } = workdir();
    const big = randomData(3 * MiB);
    const up = randomData(2 * MiB);
    await server.put('bg/x/big.bin', big);
    writeFileSync(join(d, 'up.bin'), up);
    mkdirSync(join(server.root, 'bg/x/in'), { recursive: true });
    chmodSync(join(server.root, 'bg/x/in'), 0o777);
    const env = testEnv(home, { RFTP_PASSWORD: server.password });
    const r = await runRftp(['-c', `open ${server.url('/bg')}; cd x; get big.bin -o got/ &; put up.bin -o in/ &\n!sleep 1\nexit bg`], { env, cwd: d });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /\[1\] moved to the queue as entry 1 \(rftp queue run continues it\): get --output=got\/ -- ftp:\/\/rftptest@127\.0\.0\.1:\d+\/bg\/x\/big\.bin/);
    assert.match(r.stderr, /\[2\] moved to the queue as entry 2 .*: put -- up\.bin ftp:\/\/rftptest@127\.0\.0\.1:\d+\/bg\/x\/in\//);
    assert.equal(existsSync(join(d, 'got', 'big.bin')), false, 'stopped, not finished');
    const run = await runRftp(['queue', 'run', '--parallel', '2'], { env, cwd: '/', timeoutMs: 60_000 });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(sha256File(join(d, 'got', 'big.bin')), sha256(big));
    assert.equal(sha256File(join(server.root, 'bg/x/in/up.bin')), sha256(up));
    // A password typed in the open URL is not kept anywhere: such a job is not queued.
    const { d: d2, home: home2 } = workdir();
    const typed = await runRftp(['-c', `open ${server.url('/bg/x', { withPassword: true })}; get big.bin &\n!sleep 0.5\nexit bg`], { env: testEnv(home2), cwd: d2 });
    assert.equal(typed.code, 0, typed.stderr);
    assert.match(typed.stderr, /\[1\] not queued: its password was typed/);
    assert.equal(existsSync(join(home2, '.state/rftp/queue')) ? readdirSync(join(home2, '.state/rftp/queue')).filter((n) => n.endsWith('.json')).length : 0, 0);
    assert.doesNotMatch(typed.stderr, new RegExp(server.password.replace(/[&:]/g, '.')));
  });
});
