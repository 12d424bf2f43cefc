// The queue's times on a fixed clock: --at forms, --every intervals, the next due time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextDue, parseAt, parseInterval } from '../../src/jobs/schedule.js';

test('--every: durations, and what is not one', () => {
  assert.equal(parseInterval('30m'), 1_800_000);
  assert.equal(parseInterval('6h'), 21_600_000);
  assert.equal(parseInterval('1d'), 86_400_000);
  assert.equal(parseInterval('1h30m'), 5_400_000);
  assert.equal(parseInterval('2s'), 2000);
  for (const bad of ['', '30', 'm', '5x', '1h junk', '0s']) assert.throws(() => parseInterval(bad), /--every/, bad);
});

test('--at: the next HH:MM, local dates, ISO with a zone, now+N', () => {
  const now = new Date(2026, 11, 2, 9, 30).getTime();
  assert.equal(parseAt('02:00', now), new Date(2026, 11, 3, 2, 0).getTime(), 'already past today: tomorrow');
  assert.equal(parseAt('18:45', now), new Date(2026, 11, 2, 18, 45).getTime());
  assert.equal(parseAt('2026-12-24 18:30', now), new Date(2026, 11, 24, 18, 30).getTime());
  assert.equal(parseAt('2026-12-24T18:30:00Z', now), Date.UTC(2026, 11, 24, 18, 30));
  assert.equal(parseAt('2026-12-24T18:30:00+02:00', now), Date.UTC(2026, 11, 24, 16, 30));
  assert.equal(parseAt('now+90m', now), now + 5_400_000);
  assert.equal(parseAt('now + 3s', now), now + 3000);
  for (const bad of ['25:00', '2026-02-30 10:00', 'tomorrow', '2026-12-24T18:30:00+2', 'now+soon']) assert.throws(() => parseAt(bad, now), /--at/, bad);
  assert.throws(() => parseAt('tomorrow', now), /for example 02:00/);
});

test('an --every entry is due again on its grid after now, never in the past', () => {
  assert.equal(nextDue(1000, 500, 1200), 1500);
  assert.equal(nextDue(1000, 500, 1500), 2000);
  assert.equal(nextDue(1000, 500, 9999), 10000);
  assert.equal(nextDue(1000, 500, 500), 1500, 'ran early: the next step');
});
