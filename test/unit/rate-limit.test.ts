import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RftpError } from '../../src/errors.js';
import { limiterFor, nextChange, paced, parseRate, parseTimetable, rateAt, TokenBucket, type Clock } from '../../src/transfer/rate-limit.js';

/** A clock that only moves when someone sleeps: the waits a bucket asks for add up to simulated time. */
function fakeClock(): Clock & { t: number; sleeps: number[] } {
  const c = {
    t: 0,
    sleeps: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.sleeps.push(ms);
      c.t += ms;
    },
  };
  return c;
}

test('parseRate: plain numbers and k/M/G suffixes (1024-based), with optional B and /s', () => {
  assert.equal(parseRate('100000'), 100000);
  assert.equal(parseRate('500k'), 500 * 1024);
  assert.equal(parseRate('500K'), 500 * 1024);
  assert.equal(parseRate('2M'), 2 * 1024 * 1024);
  assert.equal(parseRate('1.5m'), 1.5 * 1024 * 1024);
  assert.equal(parseRate('1g'), 1024 ** 3);
  assert.equal(parseRate('2MB/s'), 2 * 1024 * 1024);
  assert.equal(parseRate('64KiB'), 64 * 1024);
});

test('parseRate: junk, zero and negative rates are usage errors', () => {
  for (const bad of ['', 'fast', '-1k', '0', '0k', '2T', '1e6', 'k', '5 M B']) {
    assert.throws(
      () => parseRate(bad),
      (e: unknown) => e instanceof RftpError && e.kind === 'usage',
      bad,
    );
  }
});

test('bucket: a burst passes at once, then bytes pass at the rate', async () => {
  const clock = fakeClock();
  const bucket = new TokenBucket(100_000, clock);
  assert.equal(bucket.burst, 25_000);
  await bucket.take(25_000);
  assert.equal(clock.t, 0, 'the initial burst costs no wait');
  await bucket.take(50_000);
  assert.equal(clock.t, 500, '50 kB at 100 kB/s is half a second');
  for (let i = 0; i < 100; i++) await bucket.take(10_000);
  assert.equal(Math.round(clock.t), 10_500);
});

test('bucket: idle time refills only up to the burst', async () => {
  const clock = fakeClock();
  const bucket = new TokenBucket(100_000, clock);
  await bucket.take(25_000);
  clock.t += 60_000; // a minute idle
  const before = clock.t;
  await bucket.take(125_000);
  assert.equal(clock.t - before, 1000, 'only one burst was saved up, not a minute of traffic');
});

test('bucket: concurrent takers share the rate (the cap is overall)', async () => {
  const clock = fakeClock();
  const bucket = new TokenBucket(1_000_000, clock);
  const waits = [0, 1, 2, 3].map(() => bucket.reserve(500_000));
  // 2 MB reserved at once against a 250 kB burst: the last one waits for 1.75 s of tokens.
  assert.deepEqual(waits.map(Math.round), [250, 750, 1250, 1750]);
});

test('paced: slices of 1/8 s each pass after their tokens, in order', async () => {
  const clock = fakeClock();
  const bucket = new TokenBucket(80_000, clock);
  const out: Buffer[] = [];
  const data = Buffer.alloc(100_000, 7);
  for await (const s of paced(bucket, data)) out.push(s);
  assert.deepEqual(
    out.map((b) => b.length),
    [10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000],
  );
  assert.ok(Buffer.concat(out).equals(data));
  assert.equal(Math.round(clock.t), 1000, '100 kB minus the 20 kB burst at 80 kB/s');
});

test('bandwidth timetable: parsed, the rate in force at a local time, the next change', () => {
  const table = parseTimetable('18:00,4M 08:00,512k 23:00,off');
  assert.deepEqual(
    table.map((e) => [e.at, e.rate]),
    [
      [480, 512 * 1024],
      [1080, 4 * 1024 * 1024],
      [1380, Number.POSITIVE_INFINITY],
    ],
  );
  const at = (h: number, m = 0) => new Date(2026, 11, 2, h, m);
  assert.equal(rateAt(table, at(9)), 512 * 1024);
  assert.equal(rateAt(table, at(18)), 4 * 1024 * 1024);
  assert.equal(rateAt(table, at(23, 30)), Number.POSITIVE_INFINITY);
  assert.equal(rateAt(table, at(3)), Number.POSITIVE_INFINITY, "before the first entry: the last one's, from the day before");
  assert.equal(nextChange(table, at(9)), at(18).getTime());
  assert.equal(nextChange(table, at(23, 30)), new Date(2026, 11, 3, 8, 0).getTime(), 'tomorrow morning');
  for (const bad of ['8,512k', '25:00,1M 08:00,2M', '08:00,fast 09:00,1M', '08:00,1M 08:00,2M']) assert.throws(() => parseTimetable(bad), /--limit-rate/, bad);
});

test('bucket: a new rate applies from then on; Infinity passes everything at once', async () => {
  const clock = fakeClock();
  const bucket = new TokenBucket(Number.POSITIVE_INFINITY, clock);
  assert.equal(bucket.reserve(100 * 1024 * 1024), 0);
  bucket.setRate(64 * 1024);
  assert.equal(bucket.reserve(16 * 1024), 0, 'the burst');
  assert.equal(bucket.reserve(64 * 1024), 1000, 'then a second per 64 KiB');
  bucket.setRate(Number.POSITIVE_INFINITY);
  assert.equal(bucket.reserve(1024 * 1024), 0);
});

test('limiterFor: a timetable gives a bucket at the rate of the hour, which stops following it on abort', () => {
  const controller = new AbortController();
  const bucket = limiterFor('00:00,1M 12:00,2M', controller.signal)!;
  assert.equal(bucket.bytesPerSecond, new Date().getHours() < 12 ? 1024 * 1024 : 2 * 1024 * 1024);
  controller.abort();
  assert.throws(() => limiterFor('00:00,1M junk', controller.signal), /--limit-rate/);
});
