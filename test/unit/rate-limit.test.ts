import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RftpError } from '../../src/errors.js';
import { paced, parseRate, TokenBucket, type Clock } from '../../src/transfer/rate-limit.js';

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
