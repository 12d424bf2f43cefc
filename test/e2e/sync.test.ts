// rftp sync against real vsftpd: down and up mirrors of a nested tree, --delete, --dry-run,
// filters, an up-to-date rerun, unreadable server directories and files, same-size changes on a
// LIST-only server, rftp's own file names, and a SIGKILL mid-sync on a throttled server.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';
import { cleanup, randomData, runRftp, sha256, snapshot, spawnRftp, testEnv, tmpDir, tmpHome, waitFor, sha256File, type Snapshot } from '../helpers/cli.js';

const dirs: string[] = [];
after(() => cleanup(...dirs));

/**
 * A nested tree: dirs x subs x files small files in 3 levels (the full size has 1051 files), two
 * larger ones, an empty file, empty directories, names with spaces. Returns the bytes written.
 */
function makeTree(root: string, shape = { dirs: 8, subs: 4, files: 32 }): number {
  let bytes = 0;
  const put = (rel: string, data: Buffer) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), data);
    bytes += data.length;
  };
  for (let d = 0; d < shape.dirs; d++) {
    for (let s = 0; s < shape.subs; s++) {
      for (let f = 0; f < shape.files; f++) put(`d${d}/s${s}/f${f}.txt`, randomData(200 + ((d * 131 + s * 17 + f * 7) % 1800)));
    }
    for (let f = 0; f < 2; f++) put(`d${d}/top${f}.dat`, randomData(1000 + d));
  }
  for (let f = 0; f < 8; f++) put(`root file ${f}.txt`, randomData(50 + f));
  put('big/one.bin', randomData(700_000));
  put('big/two.bin', randomData(300_000));
  put('empty-file', Buffer.alloc(0));
  mkdirSync(join(root, 'empty'), { recursive: true });
  mkdirSync(join(root, 'nest/empty/deeper'), { recursive: true });
  return bytes;
}

/** Files written as root into the server's tree must belong to the ftp user, as uploads would. */
function chownToServer(server: VsftpdServer, path: string) {
  execFileSync('chown', ['-R', `${server.user}:${server.user}`, path]);
}

const fileCount = (s: Snapshot) => Object.keys(s.files).length;

describe('sync against vsftpd', () => {
  let server: VsftpdServer;
  /** 1051 files, for the full mirrors; `small` (71 files) for everything else, to keep the suite quick. */
  let fixture: string;
  let fixtureBytes: number;
  let small: string;
  let home: string;
  const env = () => testEnv(home, { RFTP_PASSWORD: server.password, RFTP_UPLOAD_SETTLE_MS: '200' });
  const sync = (...args: string[]) => runRftp(['sync', ...args, '--retry-delay', '0.1'], { env: env() });
  const remoteDir = (name: string) => join(server.root, name);
  /** Puts a copy of a fixture on the server under name. */
  const serve = (name: string, from = small) => {
    cpSync(from, remoteDir(name), { recursive: true });
    chownToServer(server, remoteDir(name));
  };
  const work = () => {
    const d = tmpDir();
    dirs.push(d);
    return d;
  };

  before(async () => {
    server = await startVsftpd();
    fixture = tmpDir('rftp-sync-fixture-');
    home = tmpHome();
    dirs.push(fixture, home);
    fixtureBytes = makeTree(fixture);
    small = tmpDir('rftp-sync-small-');
    dirs.push(small);
    makeTree(small, { dirs: 6, subs: 2, files: 4 });
  });
  after(() => server.stop());

  test('down: a nested tree with empty directories arrives identical; a rerun transfers nothing', async () => {
    serve('down1', fixture);
    const local = join(work(), 'mirror');
    const r = await sync(server.url('down1/'), local);
    assert.equal(r.code, 0, r.stderr);
    const want = snapshot(remoteDir('down1'));
    assert.ok(fileCount(want) > 1000);
    assert.deepEqual(snapshot(local), want);
    assert.match(r.stderr, /sync: 1051 received, .* 0 failed/);

    const sentBefore = (await server.xferTotals()).sent;
    const again = await sync(server.url('down1/'), local, '--json');
    assert.equal(again.code, 0, again.stderr);
    const report = JSON.parse(again.stdout);
    assert.equal(report.result, 'skipped');
    assert.equal(report.summary.skipped, fileCount(want));
    assert.equal(report.summary.received + report.summary.replaced + report.summary.continued, 0);
    assert.equal((await server.xferTotals()).sent, sentBefore);
  });

  test('up: a nested tree is mirrored to a directory that does not exist yet; a rerun transfers nothing', async () => {
    const r = await sync(fixture, server.url('up1/site/'));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(snapshot(remoteDir('up1/site')), snapshot(fixture));
    const receivedBefore = (await server.xferTotals()).received;
    assert.ok(receivedBefore >= fixtureBytes);

    const again = await sync(fixture, server.url('up1/site/'), '--json');
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).result, 'skipped');
    assert.equal((await server.xferTotals()).received, receivedBefore);
  });

  test('down --delete: stale local files and directories go, changed files are replaced', async () => {
    serve('down2');
    const local = join(work(), 'm');
    cpSync(small, local, { recursive: true });
    writeFileSync(join(local, 'stale.txt'), 'old');
    mkdirSync(join(local, 'stale-dir/sub'), { recursive: true });
    writeFileSync(join(local, 'stale-dir/sub/x'), 'x');
    writeFileSync(join(local, 'd1/s1/f3.txt'), 'changed and shorter');
    rmSync(join(local, 'd2'), { recursive: true });
    const r = await sync(server.url('down2'), local, '--delete', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(snapshot(local), snapshot(remoteDir('down2')));
    const s = JSON.parse(r.stdout).summary;
    assert.equal(s.replaced, 1);
    assert.equal(s.deleted, 4);
    assert.equal(s.received, 2 * 4 + 2);
  });

  test('up --delete: stale remote entries go, and the remote tree equals the local one', async () => {
    serve('up2');
    await server.put('up2/stale.txt', 'old');
    await server.put('up2/stale-dir/sub/x', 'x');
    const local = join(work(), 'src');
    cpSync(small, local, { recursive: true });
    rmSync(join(local, 'd3'), { recursive: true });
    writeFileSync(join(local, 'd4/new.txt'), 'new');
    // lftp spelling: mirror -R (reverse) -e (delete).
    const r = await runRftp(['mirror', '-R', '-e', local, server.url('up2/')], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(snapshot(remoteDir('up2')), snapshot(local));
  });

  test('a file where the other side has a directory (and the other way round): a conflict (8) without --delete; replaced with it, both ways', async () => {
    // Remote: x is a file, y a directory. Local: x is a directory with a file in it, y a file.
    await server.put('types/x', 'remote x');
    await server.put('types/y/inner', 'remote inner');
    await server.put('types/same.txt', 'same');
    const local = join(work(), 't');
    mkdirSync(join(local, 'x'), { recursive: true });
    writeFileSync(join(local, 'x/old'), 'local old');
    writeFileSync(join(local, 'y'), 'local y');
    writeFileSync(join(local, 'same.txt'), 'same');
    const before = snapshot(local);

    const refused = await sync(server.url('types/'), local);
    assert.equal(refused.code, 8, refused.stderr);
    assert.match(refused.stderr, /x: conflict: the destination is a directory, the source a file \(--delete replaces it\)/);
    assert.match(refused.stderr, /y: conflict: the destination is a file, the source a directory/);
    assert.deepEqual(snapshot(local), before);

    // Three removals in all (x/old, x, y): over --max-delete 2 nothing is removed, and the conflicts say why.
    const capped = await sync(server.url('types/'), local, '--delete', '--max-delete', '2');
    assert.equal(capped.code, 8, capped.stderr);
    assert.match(
      capped.stderr,
      /x: conflict: the destination is a directory, the source a file \(not replaced: 3 deletions planned \(3 of them in the way of the source\), more than --max-delete 2\)/,
    );
    assert.deepEqual(snapshot(local), before);

    const dry = await sync(server.url('types/'), local, '--delete', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /delete +x\/old: in the way of the source's file/);
    assert.match(dry.stdout, /delete +y: in the way of the source's directory/);
    assert.match(dry.stdout, /replace +x .*replaces a directory at the destination/);
    assert.deepEqual(snapshot(local), before);

    const down = await sync(server.url('types/'), local, '--delete', '--json');
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(snapshot(local), snapshot(remoteDir('types')));
    const s = JSON.parse(down.stdout).summary;
    assert.deepEqual([s.deleted, s.replaced, s.received, s.dirsCreated, s.conflicts], [3, 1, 1, 1, 0]);

    // Up: the local tree now has x as a file and y as a directory; the server gets the opposite first.
    rmSync(remoteDir('types'), { recursive: true });
    await server.put('types/x/deep/old', 'remote old');
    await server.put('types/y', 'remote y');
    const upRefused = await sync(local, server.url('types/'));
    assert.equal(upRefused.code, 8, upRefused.stderr);
    assert.equal(readFileSync(join(remoteDir('types'), 'y'), 'utf8'), 'remote y');
    assert.equal(readFileSync(join(remoteDir('types'), 'x/deep/old'), 'utf8'), 'remote old');
    assert.equal(existsSync(join(remoteDir('types'), 'y/inner')), false, 'nothing sent below a conflict');
    const up = await sync(local, server.url('types/'), '--delete');
    assert.equal(up.code, 0, up.stderr);
    assert.deepEqual(snapshot(remoteDir('types')), snapshot(local));
  });

  test('--dry-run changes nothing on either side, even with --delete, and prints the plan', async () => {
    serve('dry');
    await server.put('dry/only-remote.txt', 'r');
    const local = join(work(), 'm');
    cpSync(small, local, { recursive: true });
    mkdirSync(join(local, 'only-local-dir'), { recursive: true });
    writeFileSync(join(local, 'only-local.txt'), 'l');
    writeFileSync(join(local, 'd0/top0.dat'), 'different');
    const before = [snapshot(local), snapshot(remoteDir('dry'))];
    const xfer = await server.xferTotals();
    for (const [src, dst] of [
      [server.url('dry/'), local],
      [local, server.url('dry/')],
    ]) {
      const r = await sync(src, dst, '--dry-run', '--delete');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^delete +only-(local|remote)/m);
      assert.match(r.stdout, /^replace +d0\/top0\.dat/m);
      assert.match(r.stderr, /dry run, nothing changed/);
      const json = await sync(src, dst, '--dry-run', '--delete', '--json');
      assert.equal(json.code, 0, json.stderr);
      assert.ok(JSON.parse(json.stdout).actions.some((a: { op: string }) => a.op === 'delete'));
    }
    assert.deepEqual([snapshot(local), snapshot(remoteDir('dry'))], before);
    assert.deepEqual(await server.xferTotals(), xfer);
  });

  test('--include/--exclude: only matching files move, and excluded files are not deleted', async () => {
    serve('filt');
    const local = join(work(), 'm');
    mkdirSync(join(local, 'd5'), { recursive: true });
    writeFileSync(join(local, 'd5/keep-me.log'), 'excluded, so never deleted');
    // Options before the positional arguments too (they must not swallow them), one with "=".
    const r = await runRftp(['sync', '--include=*.txt', '-X', 'd5', server.url('filt/'), local, '-I', 'big/*', '-X', 's1', '--delete', '--retry-delay', '0.1'], { env: env() });
    assert.equal(r.code, 0, r.stderr);
    // One --exclude alone works too (a single value, not a list).
    const one = await runRftp(['sync', '--dry-run', '--json', '--exclude', 'd5', server.url('filt/'), join(work(), 'n')], { env: env() });
    assert.equal(one.code, 0, one.stderr);
    assert.ok(JSON.parse(one.stdout).actions.every((a: { path: string }) => !a.path.startsWith('d5')));
    const got = snapshot(local);
    const names = Object.keys(got.files);
    assert.ok(names.length > 20);
    assert.ok(
      names.every((n) => n.endsWith('.txt') || n.startsWith('big/') || n === 'd5/keep-me.log'),
      names.join(' '),
    );
    assert.ok(!names.some((n) => /(^|\/)s1\//.test(n) || (n.startsWith('d5/') && n !== 'd5/keep-me.log')));
    assert.ok(names.includes('big/one.bin') && names.includes('d0/s0/f0.txt') && names.includes('d5/keep-me.log'));
    assert.ok(!got.dirs.includes('d5/s0'));
    assert.ok(!got.dirs.some((d) => d.endsWith('/s1')));
  });

  test('--max-delete: too many deletions means none at all, and exit 8', async () => {
    serve('maxdel');
    const local = join(work(), 'm');
    cpSync(small, local, { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(join(local, `extra${i}`), 'x');
    const r = await sync(server.url('maxdel/'), local, '--delete', '--max-delete', '3');
    assert.equal(r.code, 8, r.stderr);
    assert.match(r.stderr, /more than --max-delete 3/);
    for (let i = 0; i < 5; i++) assert.ok(existsSync(join(local, `extra${i}`)));
    const ok = await sync(server.url('maxdel/'), local, '--delete', '--max-delete', '5');
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(snapshot(local), snapshot(remoteDir('maxdel')));
  });

  test('usage errors: two local directories, two URLs, -R with the URL first (exit 2)', async () => {
    const local = work();
    for (const args of [
      [local, local],
      [server.url('a/'), server.url('b/')],
      ['-R', server.url('a/'), local],
      [local, server.url('x/'), '--parallel', '0'],
    ]) {
      const r = await sync(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('rftp: error:')).length, 1, r.stderr);
    }
  });

  test('a remote directory that does not exist is an error (6), and nothing is deleted', async () => {
    const local = join(work(), 'm');
    mkdirSync(local);
    writeFileSync(join(local, 'precious'), 'p');
    const r = await sync(server.url('no-such-dir/'), local, '--delete');
    assert.equal(r.code, 6, r.stderr);
    assert.ok(existsSync(join(local, 'precious')));
  });

  test('an unreadable server directory (0311 itself, or 000 below) fails the run (8) and deletes nothing', async () => {
    serve('locked');
    const local = join(work(), 'm');
    assert.equal((await sync(server.url('locked/'), local)).code, 0);
    writeFileSync(join(local, 'extra.txt'), 'local only: a complete listing would delete it');
    const before = snapshot(local);
    // vsftpd runs as the test user, so these modes bite; the suite (root) can undo them.
    for (const [dir, mode, why] of [
      ['locked/d1', 0o000, /d1: listing failed/],
      ['locked', 0o311, /failed to open directory/],
    ] as const) {
      chmodSync(remoteDir(dir), mode);
      try {
        const r = await sync(server.url('locked/'), local, '--delete');
        assert.equal(r.code, 8, `${dir} ${mode.toString(8)}: ${r.stderr}`);
        assert.match(r.stderr, why);
        assert.deepEqual(snapshot(local), before, 'nothing deleted, nothing made up');
      } finally {
        chmodSync(remoteDir(dir), 0o755);
      }
    }
  });

  test('a failed transfer blocks every delete (8): extraneous local files stay', async () => {
    serve('faildel');
    await server.put('faildel/unreadable.bin', randomData(1000));
    chmodSync(remoteDir('faildel/unreadable.bin'), 0o000);
    const local = join(work(), 'm');
    mkdirSync(join(local, 'stale-dir'), { recursive: true });
    writeFileSync(join(local, 'stale.txt'), 'old');
    writeFileSync(join(local, 'stale-dir/x'), 'x');
    const r = await sync(server.url('faildel/'), local, '--delete');
    assert.equal(r.code, 8, r.stderr);
    assert.match(r.stderr, /unreadable\.bin failed/);
    assert.match(r.stderr, /deletions not made: not every transfer succeeded/);
    assert.ok(existsSync(join(local, 'stale.txt')) && existsSync(join(local, 'stale-dir/x')));
    const got = snapshot(local);
    const want = snapshot(remoteDir('faildel'));
    for (const [name, sum] of Object.entries(want.files)) if (name !== 'unreadable.bin') assert.equal(got.files[name], sum, name);
  });

  test('--delete spares rftp partials of an interrupted run, on either side', async () => {
    serve('partials');
    const local = join(work(), 'm');
    cpSync(small, local, { recursive: true });
    writeFileSync(join(local, 'gone.bin.rftp-part'), randomData(5000));
    writeFileSync(join(local, 'gone.bin.rftp-state'), JSON.stringify({ version: 1, kind: 'download', url: 'ftp://h/gone.bin', remoteSize: 9000, remoteMtimeMs: null }));
    writeFileSync(join(local, 'stale.txt'), 'old');
    const down = await sync(server.url('partials/'), local, '--delete');
    assert.equal(down.code, 0, down.stderr);
    assert.ok(!existsSync(join(local, 'stale.txt')));
    assert.ok(existsSync(join(local, 'gone.bin.rftp-part')) && existsSync(join(local, 'gone.bin.rftp-state')));

    await server.put('partials/up.bin.rftp-part', randomData(5000));
    await server.put('partials/stale-remote.txt', 'old');
    rmSync(join(local, 'gone.bin.rftp-part'));
    rmSync(join(local, 'gone.bin.rftp-state'));
    const up = await sync(local, server.url('partials/'), '--delete');
    assert.equal(up.code, 0, up.stderr);
    assert.ok(!existsSync(remoteDir('partials/stale-remote.txt')));
    assert.ok(existsSync(remoteDir('partials/up.bin.rftp-part')));
  });

  test("files named like rftp's own are warned about, not synced; only rftp's own state files are cleaned up", async () => {
    serve('ownnames');
    await server.put('ownnames/notes.rftp-state', 'a user file with an unlucky name');
    const local = join(work(), 'm');
    const first = await sync(server.url('ownnames/'), local);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /notes\.rftp-state: not synced: names ending in \.rftp-part or \.rftp-state are rftp's own/);
    assert.ok(!existsSync(join(local, 'notes.rftp-state')));

    // Beside up-to-date files: a user's file with a state name, and a real leftover state.
    writeFileSync(join(local, 'empty-file.rftp-state'), 'my notes, not JSON');
    writeFileSync(join(local, 'd0/top0.dat.rftp-state'), JSON.stringify({ version: 1, kind: 'download', url: 'ftp://h/d0/top0.dat', remoteSize: 1000, remoteMtimeMs: null }));
    writeFileSync(join(local, 'd0/top1.dat.rftp-state.tmp-999999999'), '{"something": "else"}');
    const again = await sync(server.url('ownnames/'), local);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readFileSync(join(local, 'empty-file.rftp-state'), 'utf8'), 'my notes, not JSON');
    assert.ok(existsSync(join(local, 'd0/top1.dat.rftp-state.tmp-999999999')));
    assert.ok(!existsSync(join(local, 'd0/top0.dat.rftp-state')));

    const up = await sync(local, server.url('ownnames-up/'));
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /empty-file\.rftp-state: not synced/);
    assert.ok(!existsSync(remoteDir('ownnames-up/empty-file.rftp-state')));
  });

  test('--limit-rate is accepted for the whole sync, both ways, and the trees are identical', async () => {
    const up = work();
    const files: Array<[string, Buffer]> = [
      ['small.txt', randomData(3000)],
      ['sub/big.bin', randomData(600_000)],
    ];
    for (const [name, data] of files) {
      mkdirSync(join(up, name, '..'), { recursive: true });
      writeFileSync(join(up, name), data);
    }
    const put = await sync(up, server.url('rate-up/'), '--limit-rate', '4M');
    assert.equal(put.code, 0, put.stderr);
    const down = join(work(), 'm');
    const get = await sync(server.url('rate-up/'), down, '--limit-rate', '4M');
    assert.equal(get.code, 0, get.stderr);
    for (const [name, data] of files) assert.equal(sha256File(join(down, name)), sha256(data), name);
    const bad = await sync(up, server.url('rate-up/'), '--limit-rate', 'fast');
    assert.equal(bad.code, 2, bad.stderr);
  });

  test('LIST-only server: a same-size change is sent both ways (MDTM decides); an unchanged tree is not', async () => {
    const hourAgo = new Date(Date.now() - 3600_000);
    const twoHoursAgo = new Date(Date.now() - 7200_000);
    // Up: a build made two hours ago, deployed an hour ago (the remote time is the upload time).
    const build = work();
    for (const [name, text] of [
      ['version.txt', '1.2.3'],
      ['other.txt', 'same'],
    ]) {
      writeFileSync(join(build, name), text);
      utimesSync(join(build, name), twoHoursAgo, twoHoursAgo);
    }
    assert.equal((await sync(build, server.url('ver-up/'))).code, 0);
    for (const name of ['version.txt', 'other.txt']) utimesSync(remoteDir(`ver-up/${name}`), hourAgo, hourAgo);
    const received = (await server.xferTotals()).received;
    const unchanged = await sync(build, server.url('ver-up/'), '--json');
    assert.equal(unchanged.code, 0, unchanged.stderr);
    assert.equal(JSON.parse(unchanged.stdout).result, 'skipped');
    assert.equal((await server.xferTotals()).received, received);
    writeFileSync(join(build, 'version.txt'), '1.2.4');
    const changed = await sync(build, server.url('ver-up/'), '--json');
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal(JSON.parse(changed.stdout).summary.replaced, 1);
    assert.equal(readFileSync(remoteDir('ver-up/version.txt'), 'utf8'), '1.2.4');
    assert.equal((await server.xferTotals()).received, received + 5);
    const rerun = await sync(build, server.url('ver-up/'), '--json');
    assert.equal(JSON.parse(rerun.stdout).result, 'skipped', 'the upload time is later than the local file');

    // Down: the local copy takes the remote time, so only a later remote change is fetched.
    await server.put('ver-down/version.txt', '1.2.3', hourAgo);
    await server.put('ver-down/other.txt', 'same', hourAgo);
    // Enough files of one size, with times hours apart, that their times are asked many per
    // write: a reply taken for another file's would replace (or keep) the wrong one.
    for (let i = 0; i < 24; i++) await server.put(`ver-down/pad-${String(i).padStart(2, '0')}.txt`, `pad ${i % 10}`, new Date(Date.now() - (i + 3) * 3600_000));
    const mirror = join(work(), 'm');
    assert.equal((await sync(server.url('ver-down/'), mirror)).code, 0);
    for (const name of readdirSync(remoteDir('ver-down'))) {
      // MDTM gives whole seconds.
      assert.equal(statSync(join(mirror, name)).mtimeMs, Math.floor(statSync(remoteDir(`ver-down/${name}`)).mtimeMs / 1000) * 1000, `${name} has its own server time`);
    }
    const sent = (await server.xferTotals()).sent;
    const same = await sync(server.url('ver-down/'), mirror, '--json');
    assert.equal(JSON.parse(same.stdout).result, 'skipped', same.stderr);
    assert.equal((await server.xferTotals()).sent, sent);
    await server.put('ver-down/version.txt', '1.2.4');
    const fetched = await sync(server.url('ver-down/'), mirror, '--json');
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal(JSON.parse(fetched.stdout).summary.replaced, 1);
    assert.equal(readFileSync(join(mirror, 'version.txt'), 'utf8'), '1.2.4');
    assert.equal((await server.xferTotals()).sent, sent + 5);
  });
});

describe('sync interrupted by SIGKILL on a throttled vsftpd', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd({ maxRate: 1024 * 1024 });
  });
  after(() => server.stop());

  test('rerun after SIGKILL: identical, partials continued, nothing complete sent again', async (t) => {
    const home = tmpHome();
    const local = join(tmpDir(), 'm');
    dirs.push(home, join(local, '..'));
    const env = testEnv(home, { RFTP_PASSWORD: server.password });
    let treeBytes = 0;
    for (let i = 0; i < 8; i++) {
      const data = randomData(600_000 + i * 1000);
      treeBytes += data.length;
      await server.put(`kill/big/b${i}.bin`, data);
    }
    for (let i = 0; i < 200; i++) {
      const data = randomData(100 + i);
      treeBytes += data.length;
      await server.put(`kill/small/s${i}.txt`, data);
    }
    const sentBefore = (await server.xferTotals()).sent;
    const { child, done } = spawnRftp(['sync', server.url('kill/'), local], { env });
    const partials = () => (existsSync(join(local, 'big')) ? readdirSync(join(local, 'big')).filter((n) => n.endsWith('.rftp-part')) : []);
    await waitFor(() => partials().some((n) => statSync(join(local, 'big', n)).size > 200_000), 'a partial of 200 KB');
    child.kill('SIGKILL');
    assert.equal((await done).signal, 'SIGKILL');
    const complete = readdirSync(join(local, 'small')).filter((n) => !n.includes('.rftp-'));
    assert.ok(complete.length > 0, 'some small files finished before the kill');

    const r = await runRftp(['sync', server.url('kill/'), local, '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.ok(report.summary.continued >= 1, r.stdout.slice(0, 500));
    const skipped = new Set(report.actions.filter((a: { op: string }) => a.op === 'skip').map((a: { path: string }) => a.path));
    for (const n of complete) assert.ok(skipped.has(`small/${n}`), `small/${n} was sent again`);
    assert.deepEqual(snapshot(local), snapshot(join(server.root, 'kill')));

    await waitFor(async () => (await server.xferTotals()).sent - sentBefore >= treeBytes, 'xferlog to record the transfers');
    const sent = (await server.xferTotals()).sent - sentBefore;
    t.diagnostic(`server sent ${sent - treeBytes} bytes more than the tree holds`);
    // Overlap re-reads (64 KiB per continued file) and what was in flight when the client died.
    assert.ok(sent <= treeBytes + 1024 * 1024, `server sent ${sent} bytes for a ${treeBytes}-byte tree`);
  });
});

describe('upward sync interrupted by SIGKILL on a throttled vsftpd', () => {
  let server: VsftpdServer;
  before(async () => {
    server = await startVsftpd({ maxRate: 1024 * 1024 });
  });
  after(() => server.stop());

  test('rerun after SIGKILL: the remote tree is identical, partial uploads continued, complete ones not sent again', async (t) => {
    const home = tmpHome();
    const local = tmpDir();
    dirs.push(home, local);
    const env = testEnv(home, { RFTP_PASSWORD: server.password, RFTP_UPLOAD_SETTLE_MS: '200' });
    let treeBytes = 0;
    const put = (rel: string, data: Buffer) => {
      mkdirSync(join(local, rel, '..'), { recursive: true });
      writeFileSync(join(local, rel), data);
      treeBytes += data.length;
    };
    for (let i = 0; i < 8; i++) put(`big/b${i}.bin`, randomData(600_000 + i * 1000));
    for (let i = 0; i < 200; i++) put(`small/s${i}.txt`, randomData(100 + i));
    const remote = join(server.root, 'upkill');
    const receivedBefore = (await server.xferTotals()).received;
    const { child, done } = spawnRftp(['sync', local, server.url('upkill/')], { env });
    const partials = () => (existsSync(join(remote, 'big')) ? readdirSync(join(remote, 'big')).filter((n) => n.endsWith('.rftp-part')) : []);
    await waitFor(() => partials().some((n) => statSync(join(remote, 'big', n)).size > 200_000), 'a remote partial of 200 KB');
    child.kill('SIGKILL');
    assert.equal((await done).signal, 'SIGKILL');
    const complete = readdirSync(join(remote, 'small')).filter((n) => !n.includes('.rftp-'));
    assert.ok(complete.length > 0, 'some small files finished before the kill');

    const r = await runRftp(['sync', local, server.url('upkill/'), '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.ok(report.summary.continued >= 1, r.stdout.slice(0, 500));
    const skipped = new Set(report.actions.filter((a: { op: string }) => a.op === 'skip').map((a: { path: string }) => a.path));
    for (const n of complete) assert.ok(skipped.has(`small/${n}`), `small/${n} was sent again`);
    assert.deepEqual(snapshot(remote), snapshot(local));
    const received = (await server.xferTotals()).received - receivedBefore;
    t.diagnostic(`server received ${received - treeBytes} bytes more than the tree holds`);
    assert.ok(received <= treeBytes + 1024 * 1024, `server received ${received} bytes for a ${treeBytes}-byte tree`);
  });
});

describe('sync against a vsftpd that allows 2 connections per address (max_per_ip)', () => {
  let server: VsftpdServer;
  let tree: string;
  let home: string;
  before(async () => {
    server = await startVsftpd({ maxPerIp: 2 });
    tree = tmpDir('rftp-sync-perip-');
    home = tmpHome();
    dirs.push(tree, home);
    makeTree(tree, { dirs: 3, subs: 1, files: 5 });
  });
  after(() => server.stop());
  const env = () => testEnv(home, { RFTP_PASSWORD: server.password, RFTP_UPLOAD_SETTLE_MS: '200' });

  test('--parallel 4 goes on with the connections the server accepts, both ways, and says so', async () => {
    const up = await runRftp(['sync', tree, server.url('perip/'), '--parallel', '4', '--retry-delay', '0.1'], { env: env() });
    assert.equal(up.code, 0, up.stderr);
    assert.match(up.stderr, /the server accepted [12] of 4 connections .*continuing with [12]/);
    assert.deepEqual(snapshot(join(server.root, 'perip')), snapshot(tree));
    const local = tmpDir();
    dirs.push(local);
    const down = await runRftp(['sync', server.url('perip/'), join(local, 'copy'), '--parallel', '4', '--retry-delay', '0.1', '--json'], { env: env() });
    assert.equal(down.code, 0, down.stderr);
    assert.match(down.stderr, /continuing with [12]/);
    const { connections } = JSON.parse(down.stdout);
    assert.equal(connections.requested, 4);
    assert.ok(connections.accepted >= 1 && connections.accepted <= 2, JSON.stringify(connections));
    assert.deepEqual(snapshot(join(local, 'copy')), snapshot(tree));
  });
});
