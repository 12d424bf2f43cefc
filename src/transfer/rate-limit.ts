import { RftpError } from '../errors.js';

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * A token bucket shared by everything that moves bytes under one --limit-rate: one transfer, or
 * all segments of a pget (the cap is then overall). Bytes are reserved first and waited for
 * after, so the bucket can go into debt: concurrent callers queue up behind each other's debt
 * instead of all waking at once.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Largest burst: a quarter of a second's worth, at least 16 KiB. */
  readonly burst: number;

  constructor(
    readonly bytesPerSecond: number,
    private readonly clock: Clock = realClock,
    /** The run's: once it is aborted nobody waits here any more (a low rate means long waits). */
    private readonly signal?: AbortSignal,
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError('rate must be positive');
    this.burst = Math.max(16 * 1024, bytesPerSecond / 4);
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** Reserves n bytes; returns how many ms the caller must wait before sending them. */
  reserve(n: number): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = now;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.bytesPerSecond;
  }

  async take(n: number): Promise<void> {
    const wait = this.reserve(n);
    const signal = this.signal;
    if (wait <= 0 || signal?.aborted) return;
    if (!signal) return this.clock.sleep(wait);
    await new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      void this.clock.sleep(wait).then(done);
    });
  }

  /**
   * A batch size that keeps waits short (about 1/8 s of traffic): a stream held up for longer
   * would look stalled to a server, and the cap would be lumpy.
   */
  get sliceBytes(): number {
    return Math.max(4096, Math.floor(this.bytesPerSecond / 8));
  }
}

/** Yields chunk in slices, each after its bytes were taken from the bucket (none: the chunk whole). */
export async function* paced(bucket: TokenBucket | undefined, chunk: Buffer): AsyncGenerator<Buffer> {
  if (!bucket) return yield chunk;
  const step = bucket.sliceBytes;
  for (let off = 0; off < chunk.length; off += step) {
    const slice = chunk.subarray(off, off + step);
    await bucket.take(slice.length);
    yield slice;
  }
}

const units: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** `500k`, `2M`, `1.5m`, `100000`, `2MB/s`: bytes per second (k = 1024, as in curl and wget). */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?(?:\/s)?\s*$/i.exec(text);
  const value = m ? Number(m[1]) * units[m[2].toLowerCase()] : NaN;
  if (!Number.isFinite(value) || value < 1) {
    throw new RftpError('usage', `--limit-rate: cannot read "${text}" as a rate (examples: 500k, 2M, 100000)`);
  }
  return Math.floor(value);
}

/** The bucket for a --limit-rate option, or undefined when there is no limit. */
export function limiterFor(rate: string | undefined, signal?: AbortSignal): TokenBucket | undefined {
  return rate === undefined || rate === '' ? undefined : new TokenBucket(parseRate(rate), realClock, signal);
}
