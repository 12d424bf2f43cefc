import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyTree, globMatcher, makeFilter, makePlan, sameSizePairs, withContentVerdicts, type Entry, type Tree } from '../../src/sync/plan.js';

function tree(entries: Record<string, Entry | number>, extra: Partial<Tree> = {}): Tree {
  const t = emptyTree();
  for (const [p, e] of Object.entries(entries)) t.entries.set(p, typeof e === 'number' ? { type: 'file', size: e } : e);
  return Object.assign(t, extra);
}
const dir: Entry = { type: 'dir' };

test('missing files are sent, missing directories created parents first', () => {
  const plan = makePlan(tree({ a: dir, 'a/b': dir, 'a/b/x': 5, y: 1, e: dir }), tree({}), { delete: false });
  assert.deepEqual(
    plan.mkdirs.map((m) => m.path),
    ['a', 'e', 'a/b'],
  );
  assert.deepEqual(
    plan.transfers.map((t) => [t.op, t.path]),
    [
      ['send', 'a/b/x'],
      ['send', 'y'],
    ],
  );
});

test('same size is up to date; with times on both sides an older destination is replaced', () => {
  const t0 = Date.UTC(2024, 0, 1);
  const plan = makePlan(
    tree({ same: 3, newer: { type: 'file', size: 3, mtimeMs: t0 + 60_000 }, rounding: { type: 'file', size: 3, mtimeMs: t0 + 500 }, notime: { type: 'file', size: 3, mtimeMs: t0 } }),
    tree({ same: 3, newer: { type: 'file', size: 3, mtimeMs: t0 }, rounding: { type: 'file', size: 3, mtimeMs: t0 }, notime: 3 }),
    { delete: false },
  );
  assert.deepEqual(plan.skips.map((s) => s.path).sort(), ['notime', 'rounding', 'same']);
  assert.deepEqual(
    plan.transfers.map((t) => [t.op, t.path]),
    [['replace', 'newer']],
  );
});

test('a different size, or an unknown source size, is sent again; a partial is continued', () => {
  const plan = makePlan(
    tree({ bigger: 10, smaller: 2, unknown: { type: 'file' }, part: 100, toobig: 5 }),
    tree(
      { bigger: 5, smaller: 5, unknown: 5 },
      {
        partials: new Map([
          ['part', 40],
          ['toobig', 9],
        ]),
      },
    ),
    { delete: false },
  );
  const ops = Object.fromEntries(plan.transfers.map((t) => [t.path, t.op]));
  assert.deepEqual(ops, { bigger: 'replace', smaller: 'replace', unknown: 'replace', part: 'continue', toobig: 'send' });
});

test('without --delete, file/directory clashes and destination symlinks are conflicts, never overwritten', () => {
  const plan = makePlan(tree({ f: 1, d: dir, l: 1 }), tree({ f: dir, 'f/in': 1, d: 1, l: { type: 'symlink' } }), { delete: false });
  assert.deepEqual(plan.conflicts.map((c) => c.path).sort(), ['d', 'f', 'l']);
  assert.ok(plan.conflicts.every((c) => /--delete replaces it/.test(c.reason)));
  assert.equal(plan.transfers.length + plan.mkdirs.length + plan.replaced.length + plan.deletes.length, 0);
});

test('with --delete, an entry of the wrong type is removed first (with what is under it), and the source takes its place', () => {
  const src = tree({ f: 3, d: dir, 'd/x': 1, l: 1, keep: 1 });
  const dst = tree({ f: dir, 'f/in': 1, 'f/sub': dir, 'f/sub/deep': 1, d: 1, l: { type: 'symlink' }, keep: 1, old: 1 });
  const plan = makePlan(src, dst, { delete: true });
  assert.deepEqual(plan.conflicts, []);
  assert.deepEqual(
    plan.replaced.map((r) => [r.path, r.type, r.replacedBy]),
    [
      ['f/sub/deep', 'file', 'file'],
      ['f/in', 'file', 'file'],
      ['f/sub', 'dir', 'file'],
      ['d', 'file', 'dir'],
      ['f', 'dir', 'file'],
      ['l', 'symlink', 'file'],
    ],
  );
  assert.deepEqual(
    plan.mkdirs.map((m) => m.path),
    ['d'],
  );
  assert.deepEqual(
    plan.transfers.map((t) => [t.op, t.path, t.reason]),
    [
      ['send', 'd/x', 'missing at the destination'],
      ['replace', 'f', 'replaces a directory at the destination'],
      ['replace', 'l', 'replaces a symlink at the destination'],
    ],
  );
  // The ordinary deletes do not repeat what was cleared.
  assert.deepEqual(
    plan.deletes.map((d) => d.path),
    ['old'],
  );
  assert.equal(plan.deletesBlocked, undefined);
});

test('no replacement when it is not safe: an incomplete listing, entries kept inside, or more than --max-delete', () => {
  const src = () => tree({ f: 1 });
  const dst = (extra: Partial<Tree> = {}) => tree({ f: dir, 'f/a': 1, 'f/b': 1 }, extra);
  const incomplete = makePlan(src(), dst({ complete: false }), { delete: true });
  assert.deepEqual([incomplete.conflicts.length, incomplete.replaced.length, incomplete.transfers.length], [1, 0, 0]);
  assert.match(incomplete.deletesBlocked ?? '', /incomplete/);
  // An excluded file (or an rftp partial) inside would be lost with the directory.
  const kept = makePlan(src(), dst({ kept: new Set(['f/notes.txt']) }), { delete: true });
  assert.deepEqual([kept.conflicts.length, kept.replaced.length], [1, 0]);
  assert.equal(kept.conflicts[0].reason, 'the destination is a directory holding entries that are not synced, the source a file');
  // Three removals (f/a, f/b, f): over a cap of 2 nothing is removed, and the conflict says why; at 3 it is.
  const capped = makePlan(src(), dst(), { delete: true, maxDelete: 2 });
  assert.deepEqual([capped.conflicts.length, capped.replaced.length, capped.deletes.length], [1, 0, 0]);
  assert.equal(capped.deletesBlocked, '3 deletions planned (3 of them in the way of the source), more than --max-delete 2');
  assert.match(capped.conflicts[0].reason, /\(not replaced: 3 deletions planned .*more than --max-delete 2\)$/);
  assert.match(incomplete.conflicts[0].reason, /\(not replaced: a listing was incomplete\)$/);
  assert.equal(makePlan(src(), dst(), { delete: true, maxDelete: 3 }).replaced.length, 3);
});

test('nothing is planned below a conflict: its files are not sent into a path that is a file', () => {
  const plan = makePlan(tree({ d: dir, 'd/x': 1, 'd/sub': dir, 'd/sub/y': 1, 'd-x': 1 }), tree({ d: 1 }), { delete: false });
  assert.deepEqual(
    plan.conflicts.map((c) => c.path),
    ['d'],
  );
  assert.deepEqual(
    plan.transfers.map((t) => t.path),
    ['d-x'],
  );
  assert.deepEqual(plan.mkdirs, []);
});

test('a source symlink (kept) where the destination has a directory: nothing in that directory is deleted', () => {
  const plan = makePlan(tree({}, { kept: new Set(['l']) }), tree({ l: dir, 'l/precious': 1, 'l/sub': dir, 'l/sub/more': 1, other: 1 }), { delete: true });
  assert.deepEqual(
    plan.deletes.map((d) => d.path),
    ['other'],
  );
  assert.deepEqual([plan.conflicts.length, plan.replaced.length], [0, 0]);
});

test('entries the source does not sync do not stop a replacement: only what the destination holds counts', () => {
  // The local source directory a/ holds a symlink (kept at the source); the server has a file a.
  const plan = makePlan(tree({ a: dir, 'a/x': 1 }, { kept: new Set(['a/link']) }), tree({ a: 1 }), { delete: true });
  assert.deepEqual(plan.conflicts, []);
  assert.deepEqual(
    plan.replaced.map((r) => r.path),
    ['a'],
  );
  assert.deepEqual(
    plan.mkdirs.map((m) => m.path),
    ['a'],
  );
  assert.deepEqual(
    plan.transfers.map((t) => t.path),
    ['a/x'],
  );
});

test('--delete removes what the source lacks, deepest first, sparing kept and partial files', () => {
  const dst = tree({ keep: 1, old: 1, gone: dir, 'gone/x': 1, 'gone/sub': dir, 'gone/sub/y': 1, held: dir, 'held/z': 1 }, { kept: new Set(['held/z.rftp-part']) });
  const plan = makePlan(tree({ keep: 1 }), dst, { delete: true });
  assert.deepEqual(
    plan.deletes.map((d) => d.path),
    ['gone/sub/y', 'gone/sub', 'gone/x', 'held/z', 'gone', 'old'],
  );
  assert.equal(plan.deletesBlocked, undefined);
  assert.equal(makePlan(tree({ keep: 1 }), dst, { delete: false }).deletes.length, 0);
});

test('source entries left out (symlinks, excluded) protect the same path at the destination', () => {
  const plan = makePlan(tree({}, { kept: new Set(['link', 'logs/a.log']) }), tree({ link: 1, logs: dir, 'logs/a.log': 1, other: 1 }), { delete: true });
  assert.deepEqual(
    plan.deletes.map((d) => d.path),
    ['other'],
  );
});

test('an incomplete listing, an unsafe entry or --max-delete blocks every delete', () => {
  const dst = () => tree({ a: 1, b: 1, c: 1 });
  assert.match(makePlan(tree({}, { complete: false }), dst(), { delete: true }).deletesBlocked ?? '', /incomplete/);
  assert.match(makePlan(tree({}), tree({ a: 1 }, { complete: false }), { delete: true }).deletesBlocked ?? '', /incomplete/);
  assert.ok(makePlan(tree({}, { problems: [{ path: 'x', message: 'unsafe' }] }), dst(), { delete: true }).deletesBlocked);
  assert.match(makePlan(tree({}), dst(), { delete: true, maxDelete: 2 }).deletesBlocked ?? '', /--max-delete 2/);
  assert.equal(makePlan(tree({}), dst(), { delete: true, maxDelete: 3 }).deletesBlocked, undefined);
});

test('globs: no "/" matches the name at any depth, "/" anchors to the root, ** crosses directories', () => {
  assert.ok(globMatcher('*.log')('a/b/x.log'));
  assert.ok(!globMatcher('*.log')('a/b/x.logs'));
  assert.ok(globMatcher('build/*.js')('build/app.js'));
  assert.ok(!globMatcher('build/*.js')('build/sub/app.js'));
  assert.ok(!globMatcher('build/*.js')('x/build/app.js'));
  assert.ok(globMatcher('/build/**/*.js')('build/sub/deep/app.js'));
  assert.ok(globMatcher('build/**/*.js')('build/app.js'));
  assert.ok(globMatcher('file?.[ch]')('dir/file1.c'));
  assert.ok(!globMatcher('file?.[!ch]')('file1.c'));
  assert.ok(globMatcher('a.b')('a.b') && !globMatcher('a.b')('axb'));
  assert.ok(globMatcher('(x)+')('(x)+'));
  assert.throws(
    () => globMatcher('[z-a]'),
    (err: unknown) => (err as { exitCode?: number }).exitCode === 2 && /bad glob "\[z-a\]"/.test((err as Error).message),
  );
});

test('filters: excludes hit files and directories, includes only files', () => {
  const f = makeFilter(['*.html'], ['drafts']);
  assert.ok(f.accepts('site', true));
  assert.ok(f.accepts('site/index.html', false));
  assert.ok(!f.accepts('site/app.js', false));
  assert.ok(!f.accepts('site/drafts', true));
  assert.ok(makeFilter([], []).accepts('anything', false));
});

test('--checksum: same-size pairs are decided by content, whatever their times say', () => {
  const f = (size: number, mtimeMs: number): Entry => ({ type: 'file', size, mtimeMs });
  const src = tree({ same: f(5, 1000), edited: f(5, 1000), older: f(5, 900_000), grown: f(9, 1000), fresh: f(3, 1000) });
  const dst = tree({ same: f(5, 1000), edited: f(5, 1000), older: f(5, 1000), grown: f(5, 1000) });
  const plan = makePlan(src, dst, { delete: false });
  assert.deepEqual(sameSizePairs(plan, src, dst).sort(), ['edited', 'older', 'same']);
  const decided = withContentVerdicts(
    plan,
    src,
    new Map([
      ['same', false],
      ['edited', true],
      ['older', false],
    ]),
    'SHA-256',
  );
  assert.deepEqual(decided.skips.map((s) => s.path).sort(), ['older', 'same']);
  assert.deepEqual(decided.transfers.map((t) => `${t.op} ${t.path} ${t.reason}`).sort(), [
    'replace edited content differs (SHA-256)',
    'replace grown size differs (5 -> 9)',
    'send fresh missing at the destination',
  ]);
});

test('a listing time (no MLSD, no MDTM) decides only when its whole minute is on one side', () => {
  const minute = 60_000;
  const t0 = Date.UTC(2026, 0, 1, 12, 0);
  const listed = (ms: number): Entry => ({ type: 'file', size: 4, listed: { ms, precisionMs: minute } });
  const local = (ms: number): Entry => ({ type: 'file', size: 4, mtimeMs: ms });
  // Down: the remote (source) shows 12:00; a local copy from before that minute is older.
  const down = makePlan(tree({ old: listed(t0), same: listed(t0) }), tree({ old: local(t0 - 5000), same: local(t0 + 30_000) }), { delete: false });
  assert.deepEqual(
    down.transfers.map((t) => `${t.op} ${t.path} ${t.mtimeMs}`),
    [`replace old ${t0}`],
  );
  // Up: the remote (destination) shows 12:00, true time up to 12:00:59; only a local file newer than that is sent.
  const up = makePlan(tree({ edited: local(t0 + 2 * minute), within: local(t0 + 50_000) }), tree({ edited: listed(t0), within: listed(t0) }), { delete: false });
  assert.deepEqual(
    up.transfers.map((t) => t.path),
    ['edited'],
  );
  assert.deepEqual(
    up.skips.map((t) => t.path),
    ['within'],
  );
});
