// A LIST line's time, for servers with neither MLSD nor MDTM: parsed as UTC with its precision.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListedTime } from '../../src/session/list-time.js';

const now = Date.UTC(2026, 11, 2, 9, 0);

test('Unix and IIS listing times, with the minute or the day they stand for', () => {
  assert.deepEqual(parseListedTime('Dec  2 08:15', now), { ms: Date.UTC(2026, 11, 2, 8, 15), precisionMs: 60_000 });
  // A date after tomorrow without a year is last year's (ls shows times for the last six months).
  assert.deepEqual(parseListedTime('Dec 24 10:00', now), { ms: Date.UTC(2025, 11, 24, 10, 0), precisionMs: 60_000 });
  assert.deepEqual(parseListedTime('Mar  5  2024', now), { ms: Date.UTC(2024, 2, 5), precisionMs: 86_400_000 });
  assert.deepEqual(parseListedTime('12-01-26 02:15PM', now), { ms: Date.UTC(2026, 11, 1, 14, 15), precisionMs: 60_000 });
  assert.deepEqual(parseListedTime('12-01-26 12:05AM', now), { ms: Date.UTC(2026, 11, 1, 0, 5), precisionMs: 60_000 });
  assert.deepEqual(parseListedTime('01-31-1999 23:59', now), { ms: Date.UTC(1999, 0, 31, 23, 59), precisionMs: 60_000 });
  for (const junk of [undefined, '', 'yesterday', 'Foo 2 08:15', '2026-12-01T10:00']) assert.equal(parseListedTime(junk, now), undefined, String(junk));
});
