// rftp sync against a scripted server that lies in its listings: names that climb out of the
// target, control characters, duplicates, symlinks, cut-off and unparsable listings, an endless
// tree, directory loops. Nothing may be written outside the target, nothing deleted, and the run
// must end with a clear report and a non-zero exit.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fakeServers, type FakeBehaviour } from '../helpers/fake-ftp.js';
import { cleanup, errorLines, runRftp, testEnv, tmpDir, tmpHome, waitFor } from '../helpers/cli.js';

const fake = fakeServers();
const dirs: string[] = [];
after(() => cleanup(...dirs));

/** A private parent directory holding only the target, with a file --delete would remove. */
function workdir() {
  const parent = tmpDir('rftp-hostile-');
  const home = tmpHome();
  dirs.push(parent, home);
  const target = join(parent, 'target');
  mkdirSync(target);
  writeFileSync(join(target, 'precious.txt'), 'not on the server');
  return { parent, target, env: testEnv(home, { RFTP_PASSWORD: 'pw' }) };
}

const fast = ['--retries', '1', '--retry-delay', '0.05', '--timeout', '3'];
const file = (name: string, size = 4) => `-rw-r--r--    1 ftp      ftp      ${String(size).padStart(8)} Jan 02  2020 ${name}`;
const dir = (name: string) => `drwxr-xr-x    2 ftp      ftp          4096 Jan 02  2020 ${name}`;

/** Every path under root, for "nothing else was written" checks. */
function tree(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      out.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk('');
  return out.sort();
}

test('hostile names are skipped with escaped warnings; the rest arrives; nothing deleted; exit 8', async () => {
  const { parent, target, env } = workdir();
  const s = await fake({ '/h/real.txt': 'real', '/h/ok/inner.txt': 'in' });
  s.behaviour.listing = (d) => {
    if (d !== '/h') return { lines: [file('inner.txt', 2)] };
    return {
      lines: [
        dir('.'),
        dir('..'),
        file('real.txt'),
        file('real.txt'),
        dir('ok'),
        file('../escape.txt'),
        file('../../escape2.txt'),
        file('/tmp/abs-escape.txt'),
        file('a/b.txt'),
        file('back\\slash.txt'),
        file('C:drive.txt'),
        file('esc\x1b[31mred.txt'),
        file('nul\0name.txt'),
        file('cr\rname.txt'),
        'lrwxrwxrwx    1 ftp      ftp             4 Jan 02  2020 link -> /etc',
      ],
    };
  };
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/h/`, target, '--delete', ...fast], { env });
  assert.equal(r.code, 8, r.stderr);
  assert.equal(errorLines(r.stderr).length, 1, r.stderr);
  assert.match(errorLines(r.stderr)[0], /sync incomplete: .*unsafe/);
  assert.doesNotMatch(r.stderr, /\x1b|\0/, 'control characters reach the terminal only escaped');
  assert.match(r.stderr, /esc\\x1b\[31mred\.txt: unsafe name skipped/);
  assert.match(r.stderr, /real\.txt: listed twice/);
  assert.match(r.stderr, /unreadable listing line: .*cr\\x0dname\.txt/);
  assert.match(r.stderr, /link: symlink on the server/);
  assert.match(r.stderr, /deletions not made/);
  assert.deepEqual(readdirSync(parent), ['target']);
  assert.deepEqual(tree(target), ['ok', 'ok/inner.txt', 'precious.txt', 'real.txt']);
  assert.equal(readFileSync(join(target, 'real.txt'), 'utf8'), 'real');
  assert.equal(existsSync('/tmp/abs-escape.txt'), false);
  assert.equal(s.commands.filter((c) => c === 'RETR /h/real.txt' || c === 'RETR h/real.txt').length, 1, 'a duplicate is not fetched twice');
});

test('a listing cut off by 426 drives no delete and fails the run; what was listed completely still arrives', async () => {
  const { target, env } = workdir();
  writeFileSync(join(target, 'sub-sibling.txt'), 'local only');
  const s = await fake({ '/c/top.txt': 'top!', '/c/sub/x.txt': 'x' });
  s.behaviour.listing = (d) => (d === '/c/sub' ? { lines: [file('x.txt', 1)], finalReply: '426 Connection closed; transfer aborted.' } : { lines: [file('top.txt'), dir('sub')] });
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/c/`, target, '--delete', '--json', ...fast], { env });
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /sub: listing failed/);
  const report = JSON.parse(r.stdout);
  assert.equal(report.result, 'error');
  assert.equal(report.summary.deleted, 0);
  assert.ok(report.problems.some((p: { path: string }) => p.path === 'sub'));
  assert.deepEqual(tree(target), ['precious.txt', 'sub', 'sub-sibling.txt', 'top.txt']);
});

test('a root listing cut off by 426 ends with exit 8 and changes nothing', async () => {
  const { target, env } = workdir();
  const s = await fake({ '/c2/a.txt': 'aaaa' });
  s.behaviour.listing = () => ({ lines: [file('a.txt')], finalReply: '426 Connection closed; transfer aborted.' });
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/c2/`, target, '--delete', ...fast], { env });
  assert.equal(r.code, 8, r.stderr);
  assert.equal(errorLines(r.stderr).length, 1, r.stderr);
  assert.deepEqual(tree(target), ['precious.txt']);
});

test('unparsable listing lines count as an incomplete listing: no delete, exit 8', async () => {
  const { target, env } = workdir();
  const s = await fake({ '/u/a.txt': 'aaaa' });
  s.behaviour.listing = () => ({ lines: [file('a.txt'), 'this is not a listing line', file('b.txt')] });
  s.files.set('/u/b.txt', { data: Buffer.from('bbbb') });
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/u/`, target, '--delete', ...fast], { env });
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /unreadable listing line: this is not a listing line/);
  assert.deepEqual(tree(target), ['a.txt', 'b.txt', 'precious.txt']);
});

test('an endless directory tree stops at the depth limit, inside the target, with exit 8', async () => {
  const { parent, target, env } = workdir();
  const s = await fake({ '/e/seed.txt': 'seed' });
  s.behaviour.listing = () => ({ lines: [dir('again')] });
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/e/`, target, '--delete', ...fast], { env, timeoutMs: 60_000 });
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /deeper than 64 levels: not synced/);
  assert.deepEqual(readdirSync(parent), ['target']);
  const paths = tree(target);
  assert.ok(paths.includes('precious.txt'));
  assert.ok(Math.max(...paths.map((p) => p.split('/').length)) <= 64);
  assert.ok(s.commands.filter((c) => c.startsWith('LIST')).length <= 70);
});

test('MLSD: a directory loop (repeated unique id) and a name with "/" the library would drop silently', async () => {
  const { target, env } = workdir();
  const s = await fake({ '/m/f.txt': 'mlsd' }, { feat: ['SIZE', 'MDTM', 'REST STREAM', 'UTF8', 'MLST type*;size*;modify*;unique*;'] });
  s.behaviour.listing = (d) => ({
    lines:
      d === '/m'
        ? [
            'type=cdir;unique=root; .',
            'type=file;size=4;modify=20200102030405; f.txt',
            'type=dir;unique=L1; loop',
            'type=file;size=4;modify=20200102030405; ../x.txt',
            'type=file;size=4;modify=20200102030405; a/b',
          ]
        : ['type=dir;unique=L1; loop'],
  });
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/m/`, target, '--delete', ...fast], { env });
  assert.equal(r.code, 8, r.stderr);
  assert.ok(
    s.commands.some((c) => c.startsWith('MLSD')),
    'MLSD was used',
  );
  assert.match(r.stderr, /directory loop/);
  // basic-ftp drops MLSD names containing "/" on its own; they still show up, as unreadable lines.
  assert.match(r.stderr, /unreadable listing line: .*; a\/b/);
  assert.match(r.stderr, /unreadable listing line: .*; \.\.\/x\.txt/);
  assert.deepEqual(tree(target), ['f.txt', 'loop', 'precious.txt']);
});

test('no write goes through a local symlink in the target', async () => {
  const { parent, target, env } = workdir();
  const outside = join(parent, 'outside');
  mkdirSync(outside);
  symlinkSync(outside, join(target, 'sub'));
  const s = await fake({ '/s/sub/file.txt': 'would land outside', '/s/ok.txt': 'ok' });
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/s/`, target, ...fast], { env });
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /sub: conflict/);
  assert.deepEqual(readdirSync(outside), []);
  assert.equal(readFileSync(join(target, 'ok.txt'), 'utf8'), 'ok');
});

test('a directory the server cannot open ("226 ... failed to open directory", empty) drives no delete: exit 8', async () => {
  const { target, env } = workdir();
  mkdirSync(join(target, 'locked'));
  writeFileSync(join(target, 'locked', 'mirrored.txt'), 'from an earlier run');
  const s = await fake({ '/f/a.txt': 'aaaa', '/f/locked/mirrored.txt': 'from an earlier run' });
  const failed = { lines: [], finalReply: '226 Transfer done (but failed to open directory).' };
  s.behaviour.listing = (d) => (d === '/f/locked' ? failed : undefined);
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/f/`, target, '--delete', ...fast], { env });
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /locked: listing failed: .*could not read the directory \(226 Transfer done \(but failed to open directory\)\.\)/);
  assert.match(r.stderr, /deletions not made/);
  assert.deepEqual(tree(target), ['a.txt', 'locked', 'locked/mirrored.txt', 'precious.txt']);

  // The same for the root: nothing changes at all.
  s.behaviour.listing = (d) => (d === '/f' ? failed : undefined);
  const root = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/f/`, target, '--delete', ...fast], { env });
  assert.equal(root.code, 8, root.stderr);
  assert.equal(errorLines(root.stderr).length, 1, root.stderr);
  assert.match(errorLines(root.stderr)[0], /failed to open directory/);
  assert.deepEqual(tree(target), ['a.txt', 'locked', 'locked/mirrored.txt', 'precious.txt']);
});

test('a listing of only the directory itself (vsftpd on "LIST -a dir" it cannot open) is a failed listing', async () => {
  const { target, env } = workdir();
  // "same/same" is a real directory holding only a subdirectory of its own name: that one is fine.
  const s = await fake({ '/w/a.txt': 'aaaa', '/w/same/same/x.txt': 'x' });
  s.behaviour.listing = (d) => {
    if (d === '/w') return { lines: [file('a.txt'), dir('same'), dir('secret')] };
    if (d === '/w/secret') return { lines: ['d---------    2 ftp      ftp          4096 Jan 02  2020 secret'] };
    return undefined;
  };
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/w/`, target, '--delete', ...fast], { env });
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /secret: listing failed: .*only the directory itself/);
  assert.doesNotMatch(r.stderr, /same: listing failed/);
  assert.deepEqual(tree(target), ['a.txt', 'precious.txt', 'same', 'same/same', 'same/same/x.txt', 'secret']);
  assert.ok(
    s.commands.some((c) => /^(LIST -a|MLSD|LIST)$/.test(c)),
    'directories are listed without a path argument',
  );
});

test('a tree that branches without end stops at the directory budget with exit 8', async () => {
  const { parent, target, env } = workdir();
  const s = await fake({ '/b/seed.txt': 'seed' });
  s.behaviour.listing = (d) => (d.startsWith('/b') ? { lines: [dir('left'), dir('right')] } : undefined);
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/b/`, target, '--delete', '--max-dirs', '100', ...fast], { env, timeoutMs: 60_000 });
  assert.equal(r.code, 8, r.stderr);
  assert.equal(errorLines(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, /more than 100 directories: the rest is not synced \(raise --max-dirs/);
  assert.ok(s.commands.filter((c) => /^(LIST|MLSD)/.test(c)).length <= 100);
  assert.deepEqual(readdirSync(parent), ['target']);
  // Only directories that were listed are made; precious.txt stays (deletes are blocked).
  const made = tree(target);
  assert.ok(made.includes('precious.txt'));
  assert.ok(made.length - 1 < 100, `${made.length - 1} directories made`);
});

test('a small file that changed size since the listing fails clearly, without a retry storm or a wrong file', async () => {
  const { target, env } = workdir();
  // The listing says 100 bytes; the file is 200 (grew) or 50 (shrank) when it is fetched.
  const s = await fake({ '/c/grew.bin': Buffer.alloc(200, 1), '/c/shrank.bin': Buffer.alloc(50, 2) });
  s.behaviour.listing = (dir) => (dir === '/c' ? { lines: [file('grew.bin', 100), file('shrank.bin', 100)] } : undefined);
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/c/`, target, ...fast], { env });
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /changed since it was listed/);
  assert.ok(s.commands.filter((c) => c === 'RETR grew.bin' || (c.endsWith('/grew.bin') && c.startsWith('RETR'))).length <= 1, 'a grown file is not fetched again and again');
  assert.ok(s.commands.filter((c) => c.startsWith('RETR') && c.includes('shrank.bin')).length <= 3);
  assert.ok(!existsSync(join(target, 'grew.bin')) && !existsSync(join(target, 'shrank.bin')));
});

test('a connection the server refuses in the middle of a run (its slot taken) is retired; the others finish the sync', async () => {
  const { target, env } = workdir();
  const files: Record<string, string> = {};
  for (let i = 0; i < 12; i++) files[`/m/f${i}.txt`] = `file ${i}`;
  // Two connections and no more, for this whole run: a third login is refused for good.
  const s = await fake(files, { acceptConnections: 2 });
  // gone.txt is listed but cannot be fetched (550): the failure drops that worker's connection,
  // and its reconnect is refused.
  s.behaviour.listing = () => ({ lines: [file('gone.txt'), ...Object.keys(files).map((p) => file(p.slice(3), files[p].length))] });
  const started = Date.now();
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/m/`, target, '--parallel', '2', '--retries', '3', '--retry-delay', '0.05', '--timeout', '3', '--json'], { env });
  assert.equal(r.code, 8, r.stderr); // one file failed; not 3 (connection) for the whole run
  assert.deepEqual(JSON.parse(r.stdout).connections, { requested: 2, accepted: 2, retired: 1 });
  assert.match(r.stderr, /gone\.txt/);
  assert.match(r.stderr, /continuing with 1 connection/);
  for (let i = 0; i < 12; i++) assert.equal(readFileSync(join(target, `f${i}.txt`), 'utf8'), `file ${i}`);
  assert.ok(Date.now() - started < 30_000);
});

for (const phase of ['walk', 'file times'] as const) {
  test(`a connection refused for good during the ${phase} is retired once, told once, counted, and not tried again`, async () => {
    const { target, env } = workdir();
    const files: Record<string, string> = {};
    for (let i = 0; i < 6; i++) files[`/w/a/x${i}.txt`] = `a ${i}`;
    for (let i = 0; i < 6; i++) files[`/w/b/y${i}.txt`] = `b ${i}`;
    // Two logins and no more: the dropped connection's reconnect is refused (421).
    const s = await fake(files, { acceptConnections: 2 });
    let dropped = false;
    s.behaviour.dropOn = (command, cwd) => {
      const hit = phase === 'walk' ? cwd === '/w/b' && /^LIST/.test(command) : /^MDTM/.test(command);
      if (!hit || dropped) return false;
      dropped = true;
      return true;
    };
    const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/w/`, target, '--parallel', '2', ...fast, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(dropped);
    assert.deepEqual(JSON.parse(r.stdout).connections, { requested: 2, accepted: 2, retired: 1 });
    assert.equal(r.stderr.match(/continuing with 1 connection/g)?.length, 1, r.stderr);
    // Two logins, then the refused reconnects: one (--retries 1) for the listing; two for the times,
    // as the batch that failed is asked again as a new operation. The later steps never ask again.
    assert.equal(s.connections, phase === 'walk' ? 3 : 4, r.stderr);
    for (const [p, text] of Object.entries(files)) assert.equal(readFileSync(join(target, p.slice(3)), 'utf8'), text);
  });
}

for (const step of ['MKD', 'RMD'] as const) {
  test(`up --delete: a connection refused for good at its ${step} is retired, and another one does it`, async () => {
    const { target: local, env } = workdir();
    mkdirSync(join(local, 'new/sub'), { recursive: true });
    writeFileSync(join(local, 'new/sub/n.txt'), 'n');
    const s = await fake({ '/u/stale/deep/s.txt': 's', '/u/keep.txt': 'k' }, { acceptConnections: 2 });
    writeFileSync(join(local, 'keep.txt'), 'k');
    let dropped = false;
    s.behaviour.dropOn = (command) => {
      if (!command.startsWith(step) || dropped) return false;
      dropped = true;
      return true;
    };
    const r = await runRftp(['sync', local, `ftp://u@127.0.0.1:${s.port}/u/`, '--delete', '--parallel', '2', ...fast, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(dropped);
    assert.deepEqual(JSON.parse(r.stdout).connections, { requested: 2, accepted: 2, retired: 1 });
    assert.equal(r.stderr.match(/continuing with 1 connection/g)?.length, 1, r.stderr);
    assert.equal(s.files.get('/u/new/sub/n.txt')?.data.toString(), 'n');
    assert.deepEqual(
      [...s.files.keys()].filter((p) => p.startsWith('/u/stale')),
      [],
    );
    assert.ok(s.commands.includes('RMD /u/stale') || s.commands.some((c) => /^RMD .*stale$/.test(c)), s.commands.join(', '));
  });
}

test('a run that fails while its extra connections are still logging in ends at once: those logins are cut, not awaited', async () => {
  const { target, env } = workdir();
  const s = await fake({ '/f/a.txt': 'a' });
  // The first login is quick; the other three take 20 s. The listing of the root fails.
  s.behaviour.slowLogins = { after: 1, ms: 20_000 };
  s.behaviour.listing = (dir) => (dir === '/f' ? { lines: [], finalReply: '550 Permission denied.' } : undefined);
  // --timeout 30: a run that awaited those logins would go on past runRftp's 15 s.
  const r = await runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/f/`, target, '--parallel', '4', '--retries', '1', '--timeout', '30'], { env, timeoutMs: 15_000 });
  assert.equal(r.code, 8, r.stderr);
  assert.equal(errorLines(r.stderr).length, 1, r.stderr);
  assert.match(r.stderr, /listing failed/);
  assert.doesNotMatch(r.stderr, /accepted|continuing with/);
  // The client closed the three slow logins before the server answered them.
  await waitFor(() => s.loginsCut === 3, 'the slow logins to be cut');
});

test('--delete: when the entry in the way cannot be removed, nothing is written at or below its path', async () => {
  const { target: local, env } = workdir();
  writeFileSync(join(local, 'x'), 'local x is a file now');
  mkdirSync(join(local, 'y'));
  writeFileSync(join(local, 'y/in'), 'local in');
  writeFileSync(join(local, 'z.txt'), 'z');
  // On the server x is a directory whose file cannot be deleted; y is a file that can.
  const s = await fake({ '/u/x/old': 'remote old', '/u/x/keep': 'remote keep', '/u/y': 'remote y' });
  s.behaviour.replyInstead = (command) => (/^DELE .*x\/old$/.test(command) ? '550 Permission denied.' : undefined);
  const r = await runRftp(['sync', local, `ftp://u@127.0.0.1:${s.port}/u/`, '--delete', '--json', ...fast], { env });
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /delete x\/old failed: .*550 Permission denied/);
  // x: still the server's directory with its old file; nothing was uploaded in its place.
  assert.equal(s.files.get('/u/x/old')?.data.toString(), 'remote old');
  assert.ok(!s.commands.some((c) => /^(STOR|APPE|RNTO) .*\/?x(\.rftp-part)?$/.test(c)), s.commands.join(', '));
  const items = JSON.parse(r.stdout).actions as Array<{ op: string; path: string; ok: boolean; error?: string; replacedBy?: string }>;
  assert.ok(
    items.some((i) => i.op === 'replace' && i.path === 'x' && !i.ok && /could not be removed/.test(i.error ?? '')),
    r.stdout,
  );
  // y was cleared and replaced; z.txt sent; the failure blocks the ordinary deletes only.
  assert.equal(s.files.get('/u/y/in')?.data.toString(), 'local in');
  assert.equal(s.files.get('/u/z.txt')?.data.toString(), 'z');
  assert.ok(
    items.some((i) => i.op === 'delete' && i.path === 'y' && i.ok && i.replacedBy === 'dir'),
    r.stdout,
  );
});

/**
 * A LIST-only server and a local copy of the same sizes: each file has its own remote time, hours
 * apart; unchanged files have it locally too, f07 is half an hour older locally (to be replaced).
 * The contents differ, so a file skipped or sent by a time meant for another one shows on disk.
 */
async function sameSizeTree(behaviour: FakeBehaviour) {
  const w = workdir();
  const files: Record<string, { data: Buffer; mtime: Date }> = {};
  for (let i = 0; i < 20; i++) {
    const name = `f${String(i).padStart(2, '0')}.txt`;
    const remoteTime = new Date(Date.UTC(2020, 0, 2, 3, 4, 5) + i * 3600_000);
    files[`/p/${name}`] = { data: Buffer.from(`new ${name}`), mtime: remoteTime };
    writeFileSync(join(w.target, name), `old ${name}`);
    utimesSync(join(w.target, name), remoteTime, i === 7 ? new Date(remoteTime.getTime() - 1800_000) : remoteTime);
  }
  const s = await fake(files, behaviour);
  const run = (...extra: string[]) => runRftp(['sync', `ftp://u@127.0.0.1:${s.port}/p/`, w.target, '--json', ...fast, ...extra], { env: w.env });
  const check = (r: Awaited<ReturnType<typeof run>>) => {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).summary.replaced, 1, r.stdout);
    for (let i = 0; i < 20; i++) {
      const name = `f${String(i).padStart(2, '0')}.txt`;
      assert.equal(readFileSync(join(w.target, name), 'utf8'), `${i === 7 ? 'new' : 'old'} ${name}`, name);
    }
    // Every time was asked for.
    for (const name of Object.keys(files))
      assert.ok(
        s.commands.some((c) => c.startsWith('MDTM ') && c.endsWith(name.slice(2))),
        `${name}: ${s.commands.join(', ')}`,
      );
  };
  return { s, run, check };
}

test('LIST-only server: the times of same-size files, asked many per write, decide what is sent', async () => {
  const { s, run, check } = await sameSizeTree({});
  const r = await run();
  check(r);
  assert.doesNotMatch(r.stderr, /stalled|reconnecting|one at a time/, r.stderr);
  assert.ok(s.maxCommandsPerPacket >= 3, `commands were sent together (${s.maxCommandsPerPacket} at most)`);
});

test('replies split anywhere by the network still match their files', async () => {
  // 5-byte pieces cut "213 20200102030405" inside the code, the time and the line end.
  const { run, check } = await sameSizeTree({ replyInPieces: 5 });
  const r = await run();
  check(r);
  assert.doesNotMatch(r.stderr, /stalled|reconnecting|one at a time/, r.stderr);
});

test('a server that answers one of the commands sent together twice is caught: no time goes to the wrong file', async () => {
  const { run, check } = await sameSizeTree({ mdtmTwice: 'f05.txt' });
  const r = await run();
  check(r);
  assert.match(r.stderr, /asking for file times one at a time/);
});

test('a server whose stray reply lands on the next command is caught, and the sync stops before any transfer', async () => {
  // Pipelined, the count is off by one; asked one at a time, the NOOP after each MDTM gets the
  // stray reply. Times from such a server cannot be trusted: nothing is transferred.
  const { run, s } = await sameSizeTree({ mdtmTwice: 'f05.txt', mdtmTwiceLate: true });
  const r = await run();
  assert.equal(r.code, 8, r.stderr);
  assert.match(r.stderr, /asking for file times one at a time/);
  assert.match(errorLines(r.stderr).join('\n'), /out of step with its commands/);
  assert.equal(s.commands.filter((c) => c.startsWith('RETR')).length, 0);
});

test('a server that loses commands sent together: times are asked one at a time, and the result is the same', async () => {
  const { s, run, check } = await sameSizeTree({ pipelining: 'drop' });
  const r = await run();
  check(r);
  // Since every connection sends its login's commands together, that first batch went unanswered
  // until the timeout, once, on the first connection; it reconnected (its one retry) and every
  // connection of the run then sent one command at a time, the file times too.
  assert.match(r.stderr, /left commands sent together unanswered.*one at a time from now on/);
  assert.equal(r.stderr.match(/reconnecting/g)?.length, 1, r.stderr);
  const mdtms = s.commands.filter((c) => c.startsWith('MDTM'));
  assert.ok(mdtms.length >= 20 && mdtms.length <= 24, mdtms.join(', '));
});

test('--no-pipelining: the same server is asked one MDTM at a time from the start, with no stall', async () => {
  const { s, run, check } = await sameSizeTree({ pipelining: 'drop' });
  const r = await run('--no-pipelining');
  check(r);
  assert.doesNotMatch(r.stderr, /stalled|one at a time|reconnecting/, r.stderr);
  assert.equal(s.maxCommandsPerPacket, 1);
  assert.equal(s.commands.filter((c) => c.startsWith('MDTM')).length, 20);
});

test("the shell's mirror --no-pipelining does the same", async () => {
  const names = Array.from({ length: 12 }, (_, i) => `f${i}.txt`);
  const files = Object.fromEntries(names.map((n) => [`/q/${n}`, 'new']));
  const mirror = async (behaviour: FakeBehaviour, option: string) => {
    const w = workdir();
    for (const n of names) writeFileSync(join(w.target, n), 'old');
    const s = await fake(files, behaviour);
    // --no-pipelining is a connection option: the shell's own connection takes it at open.
    const r = await runRftp(['-c', `open ${option} ftp://u@127.0.0.1:${s.port}/; mirror ${option} q/ ${w.target}`], { env: w.env });
    assert.equal(r.code, 0, r.stderr);
    // Same size, the local copy newer: kept.
    for (const n of names) assert.equal(readFileSync(join(w.target, n), 'utf8'), 'old', n);
    return { s, r };
  };
  // The control: without the option the shell's mirror does send MDTMs together.
  assert.ok((await mirror({}, '')).s.maxCommandsPerPacket >= 3);
  const { s, r } = await mirror({ pipelining: 'drop' }, '--no-pipelining');
  assert.doesNotMatch(r.stderr, /stalled|one at a time/, r.stderr);
  assert.equal(s.maxCommandsPerPacket, 1);
});

test('--parallel 16: no listener-leak warning from Node (every connection listens for the abort)', async () => {
  const { target, env } = workdir();
  const files: Record<string, string> = {};
  for (let i = 0; i < 20; i++) files[`/many/f${i}.txt`] = `file ${i}`;
  const s = await fake(files);
  const r = await runRftp(['sync', '--parallel', '16', `ftp://u@127.0.0.1:${s.port}/many/`, target, ...fast], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /MaxListenersExceeded|memory leak/);
  assert.equal(readFileSync(join(target, 'f7.txt'), 'utf8'), 'file 7');
});
