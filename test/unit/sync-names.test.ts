import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkNoSymlinks, isReserved, localPathInside, partialOf, unsafeName, UnsafePath } from '../../src/sync/names.js';
import { failedReply } from '../../src/session/ops.js';
import { makeFilter } from '../../src/sync/plan.js';
import { walkLocal } from '../../src/sync/walk-local.js';
import { DEFAULT_LIMITS } from '../../src/sync/walk-remote.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('names a server may not choose are refused, with a reason', () => {
  for (const bad of ['', '.', '..', '../x', 'a/b', '/etc', 'a\\b', '..\\x', 'C:x', 'a\rb', 'a\nb', 'a\0b', 'esc\x1b[31m', 'del\x7f', 'c1\x9b']) {
    assert.ok(unsafeName(bad), `expected ${JSON.stringify(bad)} to be refused`);
  }
  for (const ok of ['a', 'file.txt', 'with space', ' lead', '...', '..x', 'x..', 'ünïcødé', '-dash', 'ab:c', '#hash']) {
    assert.equal(unsafeName(ok), undefined, ok);
  }
});

test('rftp partial and state names are reserved', () => {
  assert.ok(isReserved('a.rftp-part'));
  assert.ok(isReserved('a.rftp-state'));
  assert.ok(isReserved('a.rftp-state.tmp-123'));
  assert.ok(!isReserved('a.rftp-partial'));
  assert.ok(!isReserved('rftp-part'));
  assert.equal(partialOf('big.iso.rftp-part'), 'big.iso');
  assert.equal(partialOf('.rftp-part'), undefined);
  assert.equal(partialOf('x.rftp-state'), undefined);
});

test('localPathInside keeps every path inside the root', () => {
  const root = '/tmp/root';
  assert.equal(localPathInside(root, 'a/b.txt'), '/tmp/root/a/b.txt');
  for (const bad of ['../x', 'a/../../x', '/abs', 'a//b', 'a/./b', 'a\\..\\b']) {
    assert.throws(() => localPathInside(root, bad), UnsafePath, bad);
  }
});

test('checkNoSymlinks refuses a symlink anywhere under the root, but deletes may remove one', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rftp-names-'));
  const outside = mkdtempSync(join(tmpdir(), 'rftp-outside-'));
  dirs.push(root, outside);
  mkdirSync(join(root, 'real'));
  symlinkSync(outside, join(root, 'link'));
  symlinkSync(join(outside, 'f'), join(root, 'real', 'flink'));
  writeFileSync(join(root, 'real', 'file'), 'x');
  assert.equal(await checkNoSymlinks(root, 'real/new.txt', 'file'), join(root, 'real', 'new.txt'));
  assert.equal(await checkNoSymlinks(root, 'real/file', 'file'), join(root, 'real', 'file'));
  await assert.rejects(checkNoSymlinks(root, 'link/x.txt', 'file'), /symlink/);
  await assert.rejects(checkNoSymlinks(root, 'link', 'dir'), /symlink/);
  await assert.rejects(checkNoSymlinks(root, 'real/flink', 'file'), /symlink/);
  await assert.rejects(checkNoSymlinks(root, 'real/file/x', 'file'), /not a directory/);
  await assert.rejects(checkNoSymlinks(root, 'real', 'file'), /directory/);
  assert.equal(await checkNoSymlinks(root, 'real/flink', 'any'), join(root, 'real', 'flink'));
  await assert.rejects(checkNoSymlinks(root, 'link/x', 'any'), /symlink/);
});

test('the local walk: a directory budget ends it (unread directories left out), rftp names at the source are warned about', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rftp-walk-'));
  dirs.push(root);
  for (const d of ['a/a1', 'a/a2', 'b/b1', 'c']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'x.rftp-part'), 'user data');
  writeFileSync(join(root, 'y.rftp-state'), '{"mine": true}');
  const side = (role: 'source' | 'destination', maxDirs: number) => ({ role, filter: makeFilter([], []), limits: { ...DEFAULT_LIMITS, maxDirs } });

  const all = await walkLocal(root, side('source', 100));
  assert.equal(all.complete, true);
  assert.deepEqual(all.skipped.map((p) => p.path).sort(), ['x.rftp-part', 'y.rftp-state']);
  assert.match(all.skipped[0].message, /rftp's own/);
  assert.equal((await walkLocal(root, side('destination', 100))).skipped.length, 0, 'at the destination they are ours: no warning');

  const cut = await walkLocal(root, side('source', 4));
  assert.equal(cut.complete, false);
  assert.match(cut.problems.map((p) => p.message).join('\n'), /more than 4 directories: the rest is not synced \(raise --max-dirs/);
  const listedDirs = [...cut.entries].filter(([, e]) => e.type === 'dir').map(([p]) => p);
  assert.ok(listedDirs.length <= 3, listedDirs.join(' '));
  assert.ok(listedDirs.every((d) => !cut.kept.has(d)));
});

test('a listing reply that admits a failure counts as a failed listing', () => {
  for (const bad of ['226 Transfer done (but failed to open directory).', '226 Permission denied, listing empty', '250 Cannot read directory', '226 Completed with errors']) {
    assert.equal(failedReply(bad), true, bad);
  }
  for (const ok of ['226 Directory send OK.', '226 Transfer complete', '226-Options: -a -l\r\n226 3 matches total', '226 Transfer complete, 0 errors', '250 End']) {
    assert.equal(failedReply(ok), false, ok);
  }
});
