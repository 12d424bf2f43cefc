import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideSegmentedResume, decideSingleStreamResume, markPrefixDone, provenPrefix, rangesComplete, splitRanges, validRanges } from '../../src/transfer/ranges.js';
import type { DownloadState, SegmentedState } from '../../src/transfer/state.js';

const MiB = 1024 * 1024;
const url = 'ftp://u@h/f';
const remote = { size: 10 * MiB, mtimeMs: 5000 };

test('splitRanges: contiguous, covering, near-equal', () => {
  const r = splitRanges(10 * MiB + 3, 4);
  assert.equal(r.length, 4);
  assert.equal(r[0].start, 0);
  assert.equal(r[3].end, 10 * MiB + 3);
  for (let i = 1; i < r.length; i++) assert.equal(r[i].start, r[i - 1].end);
  const lens = r.map((x) => x.end - x.start);
  assert.ok(Math.max(...lens) - Math.min(...lens) <= 1);
  assert.ok(r.every((x) => x.done === 0));
  assert.ok(validRanges(r, 10 * MiB + 3));
});

test('splitRanges: small files get fewer ranges, empty files none', () => {
  assert.equal(splitRanges(100, 4).length, 1);
  assert.equal(splitRanges(3 * MiB, 8).length, 3);
  assert.deepEqual(splitRanges(0, 4), []);
  assert.equal(splitRanges(10, 4, 1).length, 4);
  assert.equal(splitRanges(3, 4, 1).length, 3);
});

test('validRanges: gaps, overlaps, bad progress and wrong totals are rejected', () => {
  const good = splitRanges(4 * MiB, 4);
  assert.ok(validRanges(good, 4 * MiB));
  assert.equal(validRanges(good, 4 * MiB + 1), false);
  assert.equal(validRanges([{ ...good[0], end: good[0].end - 1 }, ...good.slice(1)], 4 * MiB), false);
  assert.equal(validRanges([{ ...good[0], done: good[0].end + 1 }, ...good.slice(1)], 4 * MiB), false);
  assert.equal(validRanges([{ ...good[0], done: -1 }, ...good.slice(1)], 4 * MiB), false);
  assert.equal(validRanges([{ ...good[0], done: 1.5 }, ...good.slice(1)], 4 * MiB), false);
  assert.equal(validRanges([], 0), false);
  assert.equal(validRanges('junk', 4 * MiB), false);
});

const segState = (over: Partial<SegmentedState> = {}): SegmentedState => ({
  version: 1,
  kind: 'segmented',
  url,
  remoteSize: remote.size,
  remoteMtimeMs: remote.mtimeMs,
  ranges: markPrefixDone(splitRanges(remote.size, 4), 0).map((r, i) => ({ ...r, done: i * 1000 })),
  ...over,
});

test('segmented resume: no partial is fresh; a matching record resumes its own ranges', () => {
  assert.equal(decideSegmentedResume(undefined, segState(), undefined, url, remote, 4).action, 'fresh');
  assert.equal(decideSegmentedResume(0, undefined, undefined, url, remote, 4).action, 'fresh');
  const d = decideSegmentedResume(remote.size, segState(), undefined, url, remote, 8);
  assert.equal(d.action, 'resume');
  assert.deepEqual(d.ranges, segState().ranges, 'the recorded split is kept even when -n changed');
});

test('segmented resume: a changed or inconsistent remote or record restarts with a reason', () => {
  const cases: Array<[number, SegmentedState, { size: number; mtimeMs?: number }, RegExp]> = [
    [remote.size, segState({ url: 'ftp://u@h/g' }), remote, /another URL/],
    [remote.size, segState(), { size: remote.size + 1, mtimeMs: 5000 }, /changed size/],
    [remote.size, segState(), { size: remote.size, mtimeMs: 6000 }, /modified/],
    [remote.size - 1, segState(), remote, /does not match its record/],
    [remote.size, segState({ ranges: splitRanges(remote.size, 4).slice(1) }), remote, /does not match its record/],
  ];
  for (const [partial, st, rem, reason] of cases) {
    const d = decideSegmentedResume(partial, st, undefined, url, rem, 4);
    assert.equal(d.action, 'restart');
    assert.match((d as { reason: string }).reason, reason);
    assert.ok(
      d.ranges.every((r) => r.done === 0),
      'a restart starts every range at zero',
    );
  }
});

test('segmented resume: a partial without any record restarts', () => {
  const d = decideSegmentedResume(1234, undefined, undefined, url, remote, 4);
  assert.equal(d.action, 'restart');
});

test('segmented resume: a plain get partial of the same file is converted into range progress', () => {
  const plain: DownloadState = { version: 1, kind: 'download', url, remoteSize: remote.size, remoteMtimeMs: remote.mtimeMs };
  const d = decideSegmentedResume(3 * MiB, undefined, plain, url, remote, 4);
  assert.equal(d.action, 'convert');
  assert.deepEqual(
    d.ranges.map((r) => r.done),
    [2621440, 3 * MiB - 2621440, 0, 0],
  );
  // A plain partial that looks complete still has its last byte fetched (and its tail compared).
  const full = decideSegmentedResume(remote.size, undefined, plain, url, remote, 4);
  assert.equal(full.action, 'convert');
  assert.equal(
    full.ranges.reduce((n, r) => n + r.done, 0),
    remote.size - 1,
  );
  // ... but not when it belongs to another file.
  assert.equal(decideSegmentedResume(3 * MiB, undefined, { ...plain, remoteMtimeMs: 1 }, url, remote, 4).action, 'restart');
});

test('rangesComplete: a full-size partial is complete only when every range is done', () => {
  const r = splitRanges(8 * MiB, 4);
  assert.equal(rangesComplete(r, 8 * MiB), false);
  const full = r.map((x) => ({ ...x, done: x.end - x.start }));
  assert.equal(rangesComplete(full, 8 * MiB), true);
  // One range not done (a worker gave up on it): never complete.
  assert.equal(
    rangesComplete(
      full.map((x, i) => (i === 2 ? { ...x, done: 0 } : x)),
      8 * MiB,
    ),
    false,
  );
  assert.equal(
    rangesComplete(
      full.map((x, i) => (i === 3 ? { ...x, done: x.end - x.start - 1 } : x)),
      8 * MiB,
    ),
    false,
  );
  assert.equal(rangesComplete(full.slice(0, 3), 8 * MiB), false);
  assert.equal(rangesComplete(undefined, 8 * MiB), false);
  assert.equal(rangesComplete([], 0), true);
});

test('provenPrefix: the contiguous run of recorded bytes from offset 0, nothing past a gap', () => {
  const r = splitRanges(8 * MiB, 4); // four ranges of 2 MiB
  const withDone = (...done: number[]) => r.map((x, i) => ({ ...x, done: done[i] }));
  assert.equal(provenPrefix(withDone(0, 0, 0, 0)), 0);
  assert.equal(provenPrefix(withDone(0, MiB, 2 * MiB, 5)), 0, 'range 0 without progress: nothing is proven');
  assert.equal(provenPrefix(withDone(700, MiB, 2 * MiB, 5)), 700, 'range 0 incomplete: its own progress');
  assert.equal(provenPrefix(withDone(2 * MiB, 0, 2 * MiB, 2 * MiB)), 2 * MiB, 'range 0 complete, range 1 not started');
  assert.equal(provenPrefix(withDone(2 * MiB, 300, 2 * MiB, 2 * MiB)), 2 * MiB + 300);
  assert.equal(provenPrefix(withDone(2 * MiB, 2 * MiB, 2 * MiB - 1, 2 * MiB)), 6 * MiB - 1);
  assert.equal(provenPrefix(withDone(2 * MiB, 2 * MiB, 2 * MiB, 2 * MiB)), 8 * MiB, 'all complete: the whole file');
  assert.equal(provenPrefix([{ start: 0, end: 10, done: 10 }]), 10);
  assert.equal(provenPrefix([]), 0);
});

test('single-stream takeover of a pget partial: from the proven prefix, after the same identity checks', () => {
  const ranges = splitRanges(remote.size, 4).map((r, i) => ({ ...r, done: i === 0 ? r.end - r.start : i === 1 ? 4096 : 1000 }));
  const prefix = ranges[1].start + 4096;
  const st = segState({ ranges });
  assert.deepEqual(decideSingleStreamResume(remote.size, st, url, remote), { action: 'convert', offset: prefix, refetched: 2000 });
  assert.deepEqual(decideSingleStreamResume(undefined, st, url, remote), { action: 'fresh' });
  assert.deepEqual(decideSingleStreamResume(0, st, url, remote), { action: 'fresh' });
  // Truncated to the prefix by an interrupted takeover: still proven below the partial's length.
  assert.equal((decideSingleStreamResume(prefix, st, url, remote) as { offset: number }).offset, prefix);
  assert.equal((decideSingleStreamResume(prefix - 10, st, url, remote) as { offset: number }).offset, prefix - 10);
  // A record with range 0 at zero (the others ahead) proves nothing: restart, with the reason.
  const gap = decideSingleStreamResume(remote.size, segState(), url, remote);
  assert.equal(gap.action, 'restart');
  assert.match((gap as { reason: string }).reason, /no complete data at the start/);
  const cases: Array<[number, SegmentedState, { size?: number; mtimeMs?: number }, RegExp]> = [
    [remote.size, segState({ ranges, url: 'ftp://u@h/g' }), remote, /another URL/],
    [remote.size, segState({ ranges }), { size: remote.size + 1, mtimeMs: 5000 }, /changed size/],
    [remote.size, segState({ ranges }), { size: remote.size, mtimeMs: 6000 }, /modified/],
    [remote.size, segState({ ranges }), { size: remote.size }, /no longer available/],
    [remote.size, segState({ ranges }), { mtimeMs: 5000 }, /does not tell the file size/],
    [remote.size + 1, segState({ ranges }), remote, /larger than the remote/],
    [remote.size, segState({ ranges: ranges.slice(1) }), remote, /does not match its record/],
    [remote.size, segState({ ranges: 'junk' as unknown as SegmentedState['ranges'] }), remote, /does not match its record/],
  ];
  for (const [partial, s, rem, reason] of cases) {
    const d = decideSingleStreamResume(partial, s, url, rem);
    assert.equal(d.action, 'restart', String(reason));
    assert.match((d as { reason: string }).reason, reason);
  }
});
