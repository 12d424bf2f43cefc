// http(s) downloads against a real nginx (Debian's package, unpacked and run by the suite on
// 127.0.0.1): resume proven by If-Range with nginx's strong ETags, ranges, TLS, redirects, auth,
// and the bytes nginx really sent (its access log).
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { ensureTool, errorLines, RFTP, randomData, runRftp, scratchDirs, sha256, sha256File, sizeOr0, spawnRftp, testEnv, waitFor } from '../helpers/cli.js';
import { startNginx, type Nginx } from '../helpers/nginx.js';
import { Terminal } from '../helpers/terminal.js';

const workdir = scratchDirs();
const MiB = 1024 * 1024;

describe('http(s) downloads from nginx', () => {
  let web: Nginx;
  const data = randomData(3 * MiB + 123);
  const big = randomData(2 * MiB + 7);
  before(async () => {
    web = await startNginx({ rate: '256k' });
    writeFileSync(join(web.root, 'data.bin'), data);
    writeFileSync(join(web.root, 'big.bin'), big);
  });
  after(() => web.stop());

  /** Starts a download of a rate-limited file and SIGKILLs it once its partial holds `atLeast` bytes. */
  const killDuring = async (args: string[], part: string, atLeast: number, env: NodeJS.ProcessEnv) => {
    const { child, done } = spawnRftp(args, { env });
    await waitFor(() => sizeOr0(part) >= atLeast, `${part} to reach ${atLeast} bytes`);
    child.kill('SIGKILL');
    await done;
  };

  test('get over http and https (with --ca-file): identical files, one line of success each', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['get', `${web.url}/data.bin`, '-o', `${d}/`], { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(join(d, 'data.bin')), sha256(data));
    const s = await runRftp(['get', '--ca-file', web.caFile, `${web.httpsUrl}/data.bin`, '-o', join(d, 's.bin'), '--json'], { env: testEnv(home) });
    assert.equal(s.code, 0, s.stderr);
    assert.equal(sha256File(join(d, 's.bin')), sha256(data));
    const report = JSON.parse(s.stdout);
    assert.equal(report.files[0].size, data.length);
    assert.deepEqual(readdirSync(d).sort(), ['data.bin', 's.bin'], 'no partial or state left');
    // -c: HEAD says it is complete (same length, not older): skipped without a byte of the body.
    const before = web.log().length;
    const c = await runRftp(['get', '-c', `${web.url}/data.bin`, '-o', `${d}/`], { env: testEnv(home) });
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stderr, /already complete, skipped/);
    assert.deepEqual(
      web
        .log()
        .slice(before)
        .map((l) => l.request.split(' ')[0]),
      ['HEAD'],
    );
    const p = await runRftp(['pget', '-c', `${web.url}/data.bin`, '-o', `${d}/`], { env: testEnv(home) });
    assert.match(p.stderr, /already complete, skipped/);
  });

  test('--limit-rate holds an unthrottled http download back (nginx would send it in a blink)', async () => {
    const { d, home } = workdir();
    const target = join(d, 'r.bin');
    const { child, done } = spawnRftp(['get', '--limit-rate', '100k', `${web.url}/data.bin`, '-o', target], { env: testEnv(home) });
    await waitFor(() => sizeOr0(`${target}.rftp-part`) > 0, 'the download under way');
    await new Promise((r) => setTimeout(r, 1500));
    const got = sizeOr0(`${target}.rftp-part`);
    child.kill('SIGKILL');
    await done;
    assert.ok(!existsSync(target), 'not finished');
    // At 100 KiB/s (plus the bucket's first slice) 1.5 s is far below 1 MiB; unthrottled, 3 MiB.
    assert.ok(got < MiB, `${got} bytes after 1.5 s`);
  });

  test('an untrusted certificate is refused (exit 5), another CA too; --insecure says so', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['get', `${web.httpsUrl}/data.bin`, '-o', `${d}/`], { env: testEnv(home) });
    assert.equal(r.code, 5, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /certificate/);
    const other = await runRftp(['get', '--ca-file', web.otherCaFile, `${web.httpsUrl}/data.bin`, '-o', `${d}/`], { env: testEnv(home) });
    assert.equal(other.code, 5, other.stderr);
    assert.deepEqual(readdirSync(d), []);
    const k = await runRftp(['get', '--insecure', `${web.httpsUrl}/data.bin`, '-o', `${d}/`], { env: testEnv(home) });
    assert.equal(k.code, 0, k.stderr);
    assert.match(k.stderr, /certificate checks are off/);
  });

  test('get killed with SIGKILL twice, then finished: identical, nginx sent at most size + 1 MiB', async () => {
    const { d, home } = workdir();
    const name = 'k1.bin';
    writeFileSync(join(web.root, name), big);
    const target = join(d, name);
    const args = ['get', `${web.url}/slow/${name}`, '-o', target];
    await killDuring(args, `${target}.rftp-part`, 300_000, testEnv(home));
    const state = JSON.parse(readFileSync(`${target}.rftp-state`, 'utf8'));
    assert.match(state.validator, /^"[0-9a-f]+-[0-9a-f]+"$/, 'the strong ETag is recorded');
    assert.equal(state.length, big.length);
    const first = sizeOr0(`${target}.rftp-part`);
    await killDuring(args, `${target}.rftp-part`, first + 300_000, testEnv(home));
    const r = await runRftp(args, { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming at/);
    assert.equal(sha256File(target), sha256(big));
    assert.ok(!existsSync(`${target}.rftp-part`) && !existsSync(`${target}.rftp-state`));
    const ranged = web.log().filter((l) => l.request.includes(name) && l.range !== '');
    assert.equal(ranged.length, 2, 'both reruns asked for a range');
    assert.ok(
      ranged.every((l) => l.status === 206 && l.ifRange === state.validator),
      JSON.stringify(ranged),
    );
    const sent = web.bytesSent(name);
    assert.ok(sent <= big.length + MiB, `nginx sent ${sent} bytes for a ${big.length}-byte file`);
  });

  test('the file replaced between runs (new ETag), or asked for by another URL: the result is the new file, and the line says why', async () => {
    const { d, home } = workdir();
    const name = 'changing.bin';
    writeFileSync(join(web.root, name), big);
    const target = join(d, name);
    const args = ['get', `${web.url}/slow/${name}`, '-o', target];
    await killDuring(args, `${target}.rftp-part`, 300_000, testEnv(home));
    const replaced = randomData(big.length);
    writeFileSync(join(web.root, name), replaced);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(web.root, name), later, later);
    const r = await runRftp(['get', `${web.url}/${name}`, '-o', target], { env: testEnv(home) });
    // Another URL (not /slow/) is another resource: the partial is restarted for that reason.
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /restarting from zero: the partial data came from another URL/);
    assert.equal(sha256File(target), sha256(replaced));
    const { d: d2, home: h2 } = workdir();
    const t2 = join(d2, name);
    writeFileSync(join(web.root, name), big);
    const args2 = ['get', `${web.url}/slow/${name}`, '-o', t2];
    await killDuring(args2, `${t2}.rftp-part`, 300_000, testEnv(h2));
    const again = randomData(big.length);
    writeFileSync(join(web.root, name), again);
    const later2 = new Date(Date.now() + 10_000);
    utimesSync(join(web.root, name), later2, later2);
    const r2 = await runRftp([...args2, '--limit-rate', '50M'], { env: testEnv(h2) });
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /restarting from zero: the resource changed/);
    assert.equal(sha256File(t2), sha256(again));
  });

  test('pget -n 4: identical, four ranges; killed and rerun, it continues each range', async () => {
    const { d, home } = workdir();
    const five = randomData(5 * MiB + 3);
    const name = 'pk.bin';
    writeFileSync(join(web.root, name), five);
    const before = web.log().length;
    const r = await runRftp(['pget', '-n', '4', `${web.url}/${name}`, '-o', join(d, 'p.bin')], { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(join(d, 'p.bin')), sha256(five));
    const fast = web.log().slice(before);
    assert.deepEqual(fast.map((l) => l.request.split(' ')[0]).sort(), ['GET', 'GET', 'GET', 'GET', 'HEAD'], JSON.stringify(fast));
    const target = join(d, name);
    const args = ['pget', '-n', '4', `${web.url}/slow/${name}`, '-o', target];
    const { child, done } = spawnRftp(args, { env: testEnv(home) });
    await waitFor(() => {
      try {
        const s = JSON.parse(readFileSync(`${target}.rftp-state`, 'utf8'));
        return s.ranges.reduce((n: number, x: { done: number }) => n + x.done, 0) > 1_000_000;
      } catch {
        return false;
      }
    }, 'pget progress');
    child.kill('SIGKILL');
    await done;
    const rerun = await runRftp(args, { env: testEnv(home) });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stderr, /resuming at .* \(4 segments\)/);
    assert.equal(sha256File(target), sha256(five));
    const ranged = web.log().filter((l) => l.request.includes(`/slow/${name}`) && l.range !== '');
    assert.ok(ranged.length >= 8, `${ranged.length} ranged requests`);
    assert.ok(
      ranged.every((l) => l.status === 206 && /^bytes=\d+-\d+$/.test(l.range) && /^"[0-9a-f]+-[0-9a-f]+"$/.test(l.ifRange)),
      JSON.stringify(ranged),
    );
    const slowSent = web
      .log()
      .filter((l) => l.request.includes(`/slow/${name}`))
      .reduce((n, l) => n + l.bytes, 0);
    assert.ok(slowSent <= five.length + MiB, `nginx sent ${slowSent}`);
  });

  test('Ctrl-C on a terminal during pget over http: exit 130, partial and state kept, the rerun finishes it', async () => {
    ensureTool('tmux', 'tmux');
    const { d, home } = workdir();
    const name = 'tty.bin';
    const five = randomData(5 * MiB);
    writeFileSync(join(web.root, name), five);
    const t = new Terminal(testEnv(home, { TERM: 'xterm' }));
    try {
      t.start(d, ['pget', '-n', '4', `${web.url}/slow/${name}`], { underShell: true });
      await waitFor(() => sizeOr0(join(d, `${name}.rftp-part`)) > 0 && existsSync(join(d, `${name}.rftp-state`)), 'the download under way', 20_000);
      await new Promise((r) => setTimeout(r, 700));
      t.keys('C-c');
      await t.waitScreen(/EXIT=130/, 'exit 130');
      const screen = t.screen();
      assert.match(screen, /run the same command again to resume/);
      assert.doesNotMatch(screen, /at .*\.js:\d+/, 'no stack trace');
      assert.ok(existsSync(join(d, `${name}.rftp-part`)) && existsSync(join(d, `${name}.rftp-state`)), 'partial and state kept');
    } finally {
      t.stop();
    }
    const again = await runRftp(['pget', '-n', '4', `${web.url}/slow/${name}`, '-o', join(d, name)], { env: testEnv(home) });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /resuming at/);
    assert.equal(sha256File(join(d, name)), sha256(five));
  });

  test('status codes: 404 exit 6, 403 exit 8, 401 exit 4, each one line and not retried', async () => {
    const { d, home } = workdir();
    for (const [path, code, words] of [
      ['nothere.bin', 6, /404 Not Found/],
      ['secret', 8, /403 Forbidden/],
      ['private/data.bin', 4, /401 Unauthorized/],
    ] as const) {
      const before = web.log().length;
      const r = await runRftp(['get', `${web.url}/${path}`, '-o', join(d, 'x.bin')], { env: testEnv(home) });
      assert.equal(r.code, code, r.stderr);
      assert.equal(errorLines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, words);
      assert.doesNotMatch(r.stderr, /retry/);
      assert.equal(web.log().length - before, 1, 'one request');
    }
    assert.deepEqual(readdirSync(d), []);
  });

  test('Basic auth from -u and RFTP_PASSWORD; the password is in no output, JSON or state file', async () => {
    const { d, home } = workdir();
    const password = 'Pw4-http';
    const r = await runRftp(['get', '-u', 'alice', `${web.url}/private/data.bin`, '-o', join(d, 'a.bin'), '--json', '--debug'], { env: testEnv(home, { RFTP_PASSWORD: password }) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /unencrypted over http/);
    assert.equal(sha256File(join(d, 'a.bin')), sha256(data));
    assert.doesNotMatch(r.stdout + r.stderr, /Pw4-http/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(Buffer.from(`alice:${password}`).toString('base64')));
    const s = await runRftp(['get', '--ca-file', web.caFile, `${web.httpsUrl.replace('//', '//alice@')}/private/data.bin`, '-o', join(d, 's.bin')], {
      env: testEnv(home, { RFTP_PASSWORD: password }),
    });
    assert.equal(s.code, 0, s.stderr);
    assert.doesNotMatch(s.stderr, /unencrypted/);
    const wrong = await runRftp(['get', '-u', 'alice', `${web.url}/private/data.bin`, '-o', join(d, 'w.bin')], { env: testEnv(home, { RFTP_PASSWORD: 'nope-nope' }) });
    assert.equal(wrong.code, 4, wrong.stderr);
    // ~/.netrc gives user and password for the host; without any, no Authorization is sent at all.
    writeFileSync(join(home, '.netrc'), `machine 127.0.0.1 login alice password ${password}\n`, { mode: 0o600 });
    const netrc = await runRftp(['get', `${web.url}/private/data.bin`, '-o', join(d, 'n.bin')], { env: testEnv(home) });
    assert.equal(netrc.code, 0, netrc.stderr);
    assert.equal(sha256File(join(d, 'n.bin')), sha256(data));
    const { home: bare } = workdir();
    const before = web.log().length;
    await runRftp(['get', `${web.url}/data.bin`, '-o', join(d, 'none.bin')], { env: testEnv(bare) });
    assert.equal(web.log()[before].authorization, '');
    // A partial left while authenticated: its state holds no password.
    const name = 'private-slow.bin';
    writeFileSync(join(web.root, name), big);
    const t = join(d, name);
    const { child, done } = spawnRftp(['get', `${web.url.replace('//', `//alice:${password}@`)}/slow/${name}`, '-o', t], { env: testEnv(home) });
    await waitFor(() => sizeOr0(`${t}.rftp-part`) > 100_000, 'partial');
    child.kill('SIGKILL');
    await done;
    assert.doesNotMatch(readFileSync(`${t}.rftp-state`, 'utf8'), /Pw4-http/);
  });

  test('redirects: followed; the final URL is recorded, and the rerun goes straight there', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['get', `${web.url}/moved`, '-o', join(d, 'm.bin')], { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(join(d, 'm.bin')), sha256(data));
    const loop = await runRftp(['get', `${web.url}/loop`, '-o', join(d, 'l.bin')], { env: testEnv(home) });
    assert.equal(loop.code, 8, loop.stderr);
    assert.match(loop.stderr, /more than 10 redirects/);
    const t = join(d, 'big.bin');
    await killDuring(['get', `${web.url}/slow-moved`, '-o', t], `${t}.rftp-part`, 200_000, testEnv(home));
    const state = JSON.parse(readFileSync(`${t}.rftp-state`, 'utf8'));
    assert.equal(state.finalUrl, `${web.url}/slow/big.bin`);
    const before = web.log().length;
    const again = await runRftp(['get', `${web.url}/slow-moved`, '-o', t, '--limit-rate', '50M'], { env: testEnv(home) });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(sha256File(t), sha256(big));
    const requests = web.log().slice(before);
    assert.equal(requests[0].request.split(' ')[1], '/slow/big.bin', JSON.stringify(requests));
    assert.equal(requests[0].status, 206);
  });

  test('https to http redirects are refused (exit 5) unless --allow-insecure-redirect', async () => {
    const { d, home } = workdir();
    const r = await runRftp(['get', '--ca-file', web.caFile, `${web.httpsUrl}/to-http`, '-o', join(d, 'x.bin')], { env: testEnv(home) });
    assert.equal(r.code, 5, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /refusing the redirect from https to http:/);
    assert.deepEqual(readdirSync(d), []);
    const k = await runRftp(['get', '--insecure', `${web.httpsUrl}/to-http`, '-o', join(d, 'x.bin')], { env: testEnv(home) });
    assert.equal(k.code, 5, '--insecure is about certificates, not this');
    const ok = await runRftp(['get', '--ca-file', web.caFile, '--allow-insecure-redirect', `${web.httpsUrl}/to-http`, '-o', join(d, 'x.bin')], { env: testEnv(home) });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(sha256File(join(d, 'x.bin')), sha256(data));
  });

  test('a failed verify command keeps the complete partial; the rerun checks again after a 64 KiB overlap only', async () => {
    const { d, home } = workdir();
    const t = join(d, 'v.bin');
    const r = await runRftp(['get', `${web.url}/data.bin`, '-o', t, '--verify-command', 'false'], { env: testEnv(home) });
    assert.equal(r.code, 11, r.stderr);
    assert.ok(!existsSync(t));
    assert.equal(sizeOr0(`${t}.rftp-part`), data.length);
    const before = web.bytesSent('data.bin');
    const ok = await runRftp(['get', `${web.url}/data.bin`, '-o', t, '--verify-command', 'true'], { env: testEnv(home) });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(sha256File(t), sha256(data));
    assert.equal(web.bytesSent('data.bin') - before, 64 * 1024);
  });

  test('cat, -i lists, the shell and the queue take http URLs; put, sync, ls, rm, mkdir, mv and open refuse them', async () => {
    const { d, home } = workdir();
    const printed = execFileSync(process.execPath, [RFTP, 'cat', `${web.url}/data.bin`], { env: testEnv(home), maxBuffer: 64 * MiB });
    assert.equal(sha256(printed), sha256(data));
    writeFileSync(join(d, 'urls.txt'), `${web.url}/data.bin -o one.bin\n${web.url}/big.bin -o two.bin\n`);
    const list = await runRftp(['get', '-i', 'urls.txt'], { env: testEnv(home), cwd: d });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(sha256File(join(d, 'one.bin')), sha256(data));
    assert.equal(sha256File(join(d, 'two.bin')), sha256(big));
    const shell = await runRftp([], { env: testEnv(home), cwd: d, input: `get ${web.url}/big.bin -o sh.bin\npget -n 2 ${web.url}/data.bin -o shp.bin\nopen ${web.url}/\n` });
    assert.equal(sha256File(join(d, 'sh.bin')), sha256(big));
    assert.equal(sha256File(join(d, 'shp.bin')), sha256(data));
    assert.match(shell.stderr, /open: http\(s\) URLs can only be downloaded/);
    const add = await runRftp(['queue', 'add', '--', 'get', `${web.url}/big.bin`, '-o', join(d, 'q.bin')], { env: testEnv(home) });
    assert.equal(add.code, 0, add.stderr);
    const run = await runRftp(['queue', 'run', '--wait'], { env: testEnv(home) });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(sha256File(join(d, 'q.bin')), sha256(big));
    for (const argv of [
      ['put', join(d, 'one.bin'), `${web.url}/up.bin`],
      ['sync', `${web.url}/`, join(d, 'mirror')],
      ['ls', `${web.url}/`],
      ['rm', `${web.url}/data.bin`],
      ['mkdir', `${web.url}/new`],
      ['mv', `${web.url}/data.bin`, 'other.bin'],
    ]) {
      const r = await runRftp(argv, { env: testEnv(home), cwd: d });
      assert.equal(r.code, 2, `${argv[0]}: ${r.stderr}`);
      assert.equal(errorLines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, /http\(s\) URLs can only be downloaded \(get, pget, cat\)/);
    }
    assert.ok(existsSync(join(web.root, 'data.bin')));
  });
});
