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
  burst: number;

  constructor(
    /** Infinity: no cap (a bandwidth timetable's "off" hours). */
    public bytesPerSecond: number,
    private readonly clock: Clock = realClock,
    /** The run's: once it is aborted nobody waits here any more (a low rate means long waits). */
    private readonly signal?: AbortSignal,
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError('rate must be positive');
    this.burst = Math.max(16 * 1024, bytesPerSecond / 4);
    this.tokens = this.burst;
    this.last = clock.now();
  }

  /** A new cap from now on (a bandwidth timetable's next period); Infinity for none. */
  setRate(bytesPerSecond: number): void {
    this.reserve(0);
    this.bytesPerSecond = bytesPerSecond;
    this.burst = Math.max(16 * 1024, bytesPerSecond / 4);
    this.tokens = Math.min(this.tokens, this.burst);
  }

  /** Reserves n bytes; returns how many ms the caller must wait before sending them. */
  reserve(n: number): number {
    if (this.bytesPerSecond === Number.POSITIVE_INFINITY) return 0;
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

/** The bucket for a --limit-rate option (a rate or a timetable), or undefined when there is no limit. */
export function limiterFor(rate: string | undefined, signal?: AbortSignal): TokenBucket | undefined {
  if (rate === undefined || rate === '') return undefined;
  if (!rate.includes(',')) return new TokenBucket(parseRate(rate), realClock, signal);
  const table = parseTimetable(rate);
  const bucket = new TokenBucket(rateAt(table, new Date()), realClock, signal);
  // The cap follows the table while the command runs: a timer for each change (unref'd: a run
  // that is done does not wait for the next period).
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const now = new Date();
    timer = setTimeout(
      () => {
        bucket.setRate(rateAt(table, new Date()));
        arm();
      },
      Math.max(1000, nextChange(table, now) - now.getTime()),
    );
    timer.unref();
  };
  arm();
  signal?.addEventListener('abort', () => clearTimeout(timer), { once: true });
  return bucket;
}

/** A bandwidth timetable (rclone's syntax): "08:00,512k 18:00,4M 23:00,off"; local times of day. */
export interface TimetableEntry {
  /** Minutes after midnight. */
  at: number;
  /** Bytes per second; Infinity for off. */
  rate: number;
}

export function parseTimetable(text: string): TimetableEntry[] {
  const example = '(for example "08:00,512k 18:00,4M 23:00,off")';
  const table = text
    .trim()
    .split(/\s+/)
    .map((part) => {
      const m = /^(\d{1,2}):(\d{2}),(.+)$/.exec(part);
      if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) throw new RftpError('usage', `--limit-rate: cannot read "${part}" as TIME,RATE ${example}`);
      return { at: Number(m[1]) * 60 + Number(m[2]), rate: /^(off|unlimited)$/i.test(m[3]) ? Number.POSITIVE_INFINITY : parseRate(m[3]) };
    })
    .sort((a, b) => a.at - b.at);
  if (new Set(table.map((e) => e.at)).size !== table.length) throw new RftpError('usage', `--limit-rate: a time is given twice ${example}`);
  return table;
}

/** The rate in force at this local time: the last entry at or before it, else (before the first) the last of the day. */
export function rateAt(table: TimetableEntry[], date: Date): number {
  const minute = date.getHours() * 60 + date.getMinutes();
  const current = [...table].reverse().find((e) => e.at <= minute) ?? table[table.length - 1];
  return current.rate;
}

/** When the rate changes next after this local time (ms since the epoch). */
export function nextChange(table: TimetableEntry[], date: Date): number {
  const minute = date.getHours() * 60 + date.getMinutes();
  const next = table.find((e) => e.at > minute) ?? table[0];
  const at = new Date(date);
  at.setHours(Math.floor(next.at / 60), next.at % 60, 0, 0);
  if (at.getTime() <= date.getTime()) at.setDate(at.getDate() + 1);
  return at.getTime();
}
