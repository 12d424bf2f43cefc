import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayHttpUrl, httpPath, parseHttpUrl } from '../../src/session/http-url.js';
import { decideHttpResume, decideHttpSegments, judgeRangeResponse, parseContentRange, validatorOf } from '../../src/transfer/http-resume.js';
import type { HttpState, SegmentedState } from '../../src/transfer/state.js';

const url = 'https://h/f.iso';
const state: HttpState = { version: 1, kind: 'http', url, length: 1000, validator: '"abc"' };

test('http resume: only a recorded URL, validator and length may be continued', () => {
  assert.deepEqual(decideHttpResume(0, state, url), { action: 'fresh' });
  assert.deepEqual(decideHttpResume(400, state, url), { action: 'resume', offset: 400, validator: '"abc"' });
  assert.deepEqual(decideHttpResume(1000, state, url), { action: 'resume', offset: 1000, validator: '"abc"' });
  const reasons = [
    decideHttpResume(400, undefined, url),
    decideHttpResume(400, { ...state, url: 'https://h/other' }, url),
    decideHttpResume(400, { ...state, validator: undefined }, url),
    decideHttpResume(400, { ...state, length: -1 }, url),
    decideHttpResume(400, { ...state, encoding: 'gzip' }, url),
    decideHttpResume(1001, state, url),
  ].map((d) => (d.action === 'restart' ? d.reason : d.action));
  assert.deepEqual(reasons, [
    'no record of which resource the partial data came from',
    'the partial data came from another URL',
    'the server gave no ETag or Last-Modified for it, so the partial data cannot be proven to belong',
    'the server did not say the length, so the partial data cannot be proven complete',
    'the partial data was sent gzip-encoded, which cannot be resumed',
    'the partial file is larger than the resource',
  ]);
});

test('validators: a strong ETag, else Last-Modified; a weak ETag proves nothing', () => {
  assert.equal(validatorOf({ etag: '"x"', 'last-modified': 'Wed, 02 Dec 2026 10:00:00 GMT' }), '"x"');
  assert.equal(validatorOf({ etag: 'W/"x"', 'last-modified': 'Wed, 02 Dec 2026 10:00:00 GMT' }), 'Wed, 02 Dec 2026 10:00:00 GMT');
  assert.equal(validatorOf({ etag: 'W/"x"' }), undefined);
  assert.equal(validatorOf({}), undefined);
});

test('Content-Range parsing', () => {
  assert.deepEqual(parseContentRange('bytes 10-99/100'), { first: 10, last: 99, total: 100 });
  assert.deepEqual(parseContentRange('bytes 10-99/*'), { first: 10, last: 99, total: undefined });
  assert.equal(parseContentRange('bytes 99-10/100'), undefined);
  assert.equal(parseContentRange('items 1-2/3'), undefined);
  assert.equal(parseContentRange(undefined), undefined);
});

test('a range answer is appended only when it is the 206 asked for, with the recorded total', () => {
  const ok = { 'content-range': 'bytes 400-999/1000' };
  assert.deepEqual(judgeRangeResponse(206, ok, { from: 400 }, 1000, '"abc"'), { action: 'append' });
  assert.deepEqual(judgeRangeResponse(206, { 'content-range': 'bytes 400-499/1000' }, { from: 400, to: 499 }, 1000, '"abc"'), { action: 'append' });
  const verdicts = [
    judgeRangeResponse(206, { 'content-range': 'bytes 401-999/1000' }, { from: 400 }, 1000, '"abc"'),
    judgeRangeResponse(206, { 'content-range': 'bytes 400-1099/1100' }, { from: 400 }, 1000, '"abc"'),
    judgeRangeResponse(206, { 'content-range': 'bytes 400-998/1000' }, { from: 400 }, 1000, '"abc"'),
    judgeRangeResponse(206, {}, { from: 400 }, 1000, '"abc"'),
    judgeRangeResponse(206, { ...ok, 'content-encoding': 'gzip' }, { from: 400 }, 1000, '"abc"'),
  ];
  for (const v of verdicts) assert.equal(v.action, 'restart', JSON.stringify(v));
  assert.deepEqual(judgeRangeResponse(206, { ...ok, 'content-encoding': 'identity' }, { from: 400 }, 1000, '"abc"'), { action: 'append' });
  assert.deepEqual(judgeRangeResponse(416, {}, { from: 400 }, 1000, '"abc"'), { action: 'unsatisfiable' });
  const changed = judgeRangeResponse(200, { etag: '"new"' }, { from: 400 }, 1000, '"abc"');
  assert.equal(changed.action === 'restart' && changed.wholeBody, true);
  assert.match(changed.action === 'restart' ? changed.reason : '', /changed/);
  const ignored = judgeRangeResponse(200, { etag: '"abc"' }, { from: 400 }, 1000, '"abc"');
  assert.match(ignored.action === 'restart' ? ignored.reason : '', /whole file instead of the range/);
});

test('pget over http: segments resumed only for the same resource; a plain partial is taken over', () => {
  const now = { length: 4 * 1024 * 1024, validator: '"v"' };
  const seg: SegmentedState = {
    version: 1,
    kind: 'segmented',
    url,
    remoteSize: now.length,
    remoteMtimeMs: null,
    validator: '"v"',
    ranges: [
      { start: 0, end: 2 * 1024 * 1024, done: 100 },
      { start: 2 * 1024 * 1024, end: now.length, done: 5 },
    ],
  };
  assert.equal(decideHttpSegments(now.length, seg, undefined, url, now, 2).action, 'resume');
  assert.equal(decideHttpSegments(now.length, { ...seg, validator: '"w"' }, undefined, url, now, 2).action, 'restart');
  assert.equal(decideHttpSegments(now.length, { ...seg, validator: undefined }, undefined, url, now, 2).action, 'restart');
  assert.equal(decideHttpSegments(100, seg, undefined, url, now, 2).action, 'restart', 'not preallocated');
  const plain: HttpState = { version: 1, kind: 'http', url, length: now.length, validator: '"v"' };
  const d = decideHttpSegments(3 * 1024 * 1024, undefined, plain, url, now, 2);
  assert.equal(d.action, 'convert');
  assert.deepEqual(
    d.ranges.map((r) => r.done),
    [2 * 1024 * 1024, 1024 * 1024],
  );
  assert.equal(decideHttpSegments(10, undefined, { ...plain, encoding: 'gzip' }, url, now, 2).action, 'restart');
  assert.equal(decideHttpSegments(0, undefined, undefined, url, now, 4).ranges.length, 4);
});

test('http URLs: the request target keeps its encoding and query; the display never has a password', () => {
  const u = parseHttpUrl('https://al%40ice:p%3Ass@Example.com:8443/a%20b/c.iso?x=1#frag');
  assert.deepEqual(u, { scheme: 'https', host: 'example.com', port: 8443, user: 'al@ice', password: 'p:ss', target: '/a%20b/c.iso?x=1' });
  assert.equal(displayHttpUrl(u), 'https://al%40ice@example.com:8443/a%20b/c.iso?x=1');
  assert.equal(httpPath(u), '/a b/c.iso');
  assert.equal(parseHttpUrl('http://[::1]/f').host, '::1');
  assert.equal(parseHttpUrl('http://h/f').port, 80);
  assert.throws(() => parseHttpUrl('http://h/a\nb'), /control character/);
  assert.throws(() => parseHttpUrl('http://'), /malformed URL/);
});
