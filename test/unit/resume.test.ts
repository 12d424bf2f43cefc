import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideDownloadResume, decideUploadResume } from '../../src/transfer/resume.js';
import type { DownloadState } from '../../src/transfer/state.js';

const url = 'ftp://u@h/f';
const state: DownloadState = { version: 1, kind: 'download', url, remoteSize: 1000, remoteMtimeMs: 5000 };

test('download: no partial is a fresh start', () => {
  assert.deepEqual(decideDownloadResume(undefined, state, url, { size: 1000, mtimeMs: 5000 }), { action: 'fresh' });
  assert.deepEqual(decideDownloadResume(0, undefined, url, { size: 1000 }), { action: 'fresh' });
});

test('download: matching identity resumes from the partial length', () => {
  assert.deepEqual(decideDownloadResume(400, state, url, { size: 1000, mtimeMs: 5000 }), { action: 'resume', offset: 400 });
  assert.deepEqual(decideDownloadResume(1000, state, url, { size: 1000, mtimeMs: 5000 }), { action: 'resume', offset: 1000 });
  const noTimes = { ...state, remoteMtimeMs: null };
  assert.deepEqual(decideDownloadResume(400, noTimes, url, { size: 1000 }), { action: 'resume', offset: 400 });
});

test('download: anything unproven restarts, with a reason', () => {
  const cases: Array<[number, DownloadState | undefined, string, { size?: number; mtimeMs?: number }, RegExp]> = [
    [400, undefined, url, { size: 1000, mtimeMs: 5000 }, /no record/],
    [400, state, 'ftp://u@h/g', { size: 1000, mtimeMs: 5000 }, /another URL/],
    [400, state, url, { mtimeMs: 5000 }, /does not tell the file size/],
    [400, state, url, { size: 999, mtimeMs: 5000 }, /changed size/],
    [400, state, url, { size: 1000, mtimeMs: 6000 }, /modified/],
    [400, state, url, { size: 1000 }, /no longer available/],
    [1200, { ...state, remoteSize: 1000 }, url, { size: 1000, mtimeMs: 5000 }, /larger than the remote/],
  ];
  for (const [partial, st, u, remote, reason] of cases) {
    const d = decideDownloadResume(partial, st, u, remote);
    assert.equal(d.action, 'restart', JSON.stringify(remote));
    assert.match((d as { reason: string }).reason, reason);
  }
});

test('upload: only a partial from the same local file and upload is continued', () => {
  const id = { url, tempPath: 'f.rftp-part', localSize: 1000, localMtimeMs: 7 };
  assert.deepEqual(decideUploadResume(undefined, id, id), { action: 'fresh' });
  assert.deepEqual(decideUploadResume(300, id, id), { action: 'resume', offset: 300 });
  assert.deepEqual(decideUploadResume(0, id, id), { action: 'fresh' });
  assert.equal(decideUploadResume(300, undefined, id).action, 'restart');
  assert.equal(decideUploadResume(300, { ...id, localMtimeMs: 8 }, id).action, 'restart');
  assert.equal(decideUploadResume(300, { ...id, localSize: 999 }, id).action, 'restart');
  assert.equal(decideUploadResume(300, { ...id, url: 'ftp://x/y' }, id).action, 'restart');
  assert.equal(decideUploadResume(1001, id, id).action, 'restart');
});
