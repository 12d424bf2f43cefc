import { createHash } from 'node:crypto';
import { writeSync, writevSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { TokenBucket } from './rate-limit.js';

export class OverlapMismatch extends Error {
  constructor() {
    super('the bytes before the resume point differ from the remote file');
  }
}

export class TooMuchData extends Error {
  constructor(limit: number) {
    super(`the server sent more data than the ${limit} bytes it announced`);
  }
}

export interface PartialWriterOptions {
  /** Where the server's data starts in the file (the REST offset). */
  start: number;
  /** Local bytes [start, verifyEnd) are compared with the incoming data instead of written. */
  verifyTail: Buffer;
  /** No byte may land at or past this offset (the announced remote size), when known. */
  limit?: number;
  /** A segment's end: bytes at or past it are dropped, and onFull is called once it is reached. */
  stopAt?: number;
  onFull?: () => void;
  /** --limit-rate: each batch waits for its bytes before it is written (backpressure slows the server). */
  limiter?: TokenBucket;
  onBytes?: (position: number) => void;
  /**
   * Write each chunk as it arrives, synchronously (ignored under a rate limit). For TLS data: a
   * decrypted 16 KiB chunk is still in the CPU cache, and copying it to the file at once on the
   * same thread costs a fraction of what a 4 MiB batch handed to the thread pool does (perf: the
   * kernel's copy into the file fell from 11% to 3% of the samples). The whole of rftp get, 512 MiB
   * over TLS to tmpfs, 10 interleaved runs: median 1.91 s against 2.07 s and a narrower spread
   * (1.81-1.98 s against 1.77-2.34 s); the CPU used is about the same (more, smaller writes).
   * Plain data comes in 64 KiB reads and gains from the large batches instead (a bare basic-ftp
   * download: 0.9-1.0 s against 1.2-1.4 s).
   * A write that blocks (a slow or network disk, the kernel throttling writers) would hold up the
   * whole process, every pget connection and Ctrl-C included: after one write slower than
   * slowWriteMs the writer goes back to batches written by the thread pool.
   */
  syncWrites?: boolean;
  /** See syncWrites (default SLOW_WRITE_MS). */
  slowWriteMs?: number;
  /** A sha256 that follows the file from byte 0 (see RunningSha256), fed what is written. */
  digest?: RunningSha256;
}

/**
 * The sha256 of a partial, computed while it is written in order from byte 0, so that checks
 * after the transfer (quarantine records, --on-complete, --verify) need not read the file again.
 * Node's hashes cannot be saved: a write anywhere else (a resume from an earlier run, a retry)
 * breaks it, and the caller reads the finished file instead.
 */
export class RunningSha256 {
  private hash = createHash('sha256');
  private at = 0;
  private broken = false;
  /** From zero again (the partial was truncated). */
  reset(): void {
    this.hash = createHash('sha256');
    this.at = 0;
    this.broken = false;
  }
  add(at: number, list: Buffer[], length: number): void {
    if (this.broken) return;
    if (at !== this.at) {
      this.broken = true;
      return;
    }
    for (const b of list) this.hash.update(b);
    this.at += length;
  }
  /** The hex digest when it covers exactly `size` bytes from zero; else undefined. */
  result(size: number): string | undefined {
    return !this.broken && this.at === size ? this.hash.digest('hex') : undefined;
  }
}

/** An inline write taking longer than this means the disk can block: batches from then on. */
const SLOW_WRITE_MS = 5;

/** Batches of up to this size become one positioned write (see the throughput notes in the README). */
const BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * The destination of a download: writes each batch of chunks with one positioned write, so a
 * resumed file is written exactly where the data belongs, and checks the overlap first. Large
 * batches keep the number of system calls low (see the throughput notes in the README).
 */
export class PartialWriter extends Writable {
  /** The offset up to which data is on disk (not yet necessarily fsynced). */
  position: number;
  private verified = 0;
  private pending: Promise<void> = Promise.resolve();
  /** Writing each chunk at once, synchronously (see PartialWriterOptions.syncWrites). */
  private inline: boolean;

  constructor(
    private readonly fh: FileHandle,
    private readonly opts: PartialWriterOptions,
  ) {
    // Under a rate limit, small batches keep the stream moving in short, even steps.
    super({ highWaterMark: opts.limiter ? Math.min(BUFFER_BYTES, opts.limiter.sliceBytes) : BUFFER_BYTES });
    this.position = opts.start;
    this.inline = Boolean(opts.syncWrites) && !opts.limiter;
  }

  /** Whether chunks are still written as they arrive (false after a slow write, or when not asked). */
  get writesInline(): boolean {
    return this.inline;
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    this.consume(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.consume([chunk], callback);
  }

  /**
   * One batch: compared while in the overlap, trimmed at stopAt, then one positioned writev (no
   * copy). Long on purpose: it is the hot path of every download, kept in one place so that no
   * byte is handled twice.
   */
  private consume(list: Buffer[], callback: (err?: Error | null) => void): void {
    const tail = this.opts.verifyTail;
    if (this.verified < tail.length) {
      const data = list.length === 1 ? list[0] : Buffer.concat(list);
      const n = Math.min(tail.length - this.verified, data.length);
      if (!data.subarray(0, n).equals(tail.subarray(this.verified, this.verified + n))) {
        callback(new OverlapMismatch());
        return;
      }
      this.verified += n;
      this.position += n;
      if (n === data.length) {
        callback();
        return;
      }
      list = [data.subarray(n)];
    }
    let length = list.reduce((sum, b) => sum + b.length, 0);
    const { stopAt, limiter } = this.opts;
    if (stopAt !== undefined) {
      if (this.position >= stopAt) {
        callback();
        return;
      }
      if (this.position + length > stopAt) {
        list = firstBytes(list, stopAt - this.position);
        length = stopAt - this.position;
      }
    }
    if (this.opts.limit !== undefined && this.position + length > this.opts.limit) {
      callback(new TooMuchData(this.opts.limit));
      return;
    }
    const at = this.position;
    const bytes = list;
    if (this.inline) {
      try {
        const began = performance.now();
        writeAllSync(this.fh.fd, bytes, length, at);
        this.opts.digest?.add(at, bytes, length);
        if (performance.now() - began > (this.opts.slowWriteMs ?? SLOW_WRITE_MS)) this.inline = false;
        this.position = at + length;
        // Inside a socket's 'data' event: a throw here must fail the stream, not the process.
        this.opts.onBytes?.(this.position);
        if (stopAt !== undefined && this.position >= stopAt) this.opts.onFull?.();
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback();
      return;
    }
    this.pending = (limiter ? limiter.take(length) : Promise.resolve())
      .then(() => writeAll(this.fh, bytes, length, at))
      .then(() => {
        this.opts.digest?.add(at, bytes, length);
        this.position = at + length;
        this.opts.onBytes?.(this.position);
        if (stopAt !== undefined && this.position >= stopAt) this.opts.onFull?.();
      });
    this.pending.then(
      () => callback(),
      (err) => callback(err),
    );
  }

  /** Resolves once no write is in flight, whatever happened to the stream. */
  async settled(): Promise<void> {
    await this.pending.catch(() => {});
  }

  /** Whether the whole overlap was compared (a resume is proven only then). */
  get overlapChecked(): boolean {
    return this.verified === this.opts.verifyTail.length;
  }
}

function firstBytes(list: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of list) {
    if (n <= 0) break;
    out.push(b.length <= n ? b : b.subarray(0, n));
    n -= b.length;
  }
  return out;
}

async function writeAll(fh: FileHandle, list: Buffer[], length: number, position: number): Promise<void> {
  let off = list.length === 1 ? (await fh.write(list[0], 0, length, position)).bytesWritten : (await fh.writev(list, position)).bytesWritten;
  if (off === length) return;
  // A short write (rare on regular files): the rest once more, copied into one buffer.
  const rest = Buffer.concat(list).subarray(off);
  while (off < length) off += (await fh.write(rest, off - (length - rest.length), length - off, position + off)).bytesWritten;
}

function writeAllSync(fd: number, list: Buffer[], length: number, position: number): void {
  let off = list.length === 1 ? writeSync(fd, list[0], 0, length, position) : writevSync(fd, list, position);
  if (off === length) return;
  const rest = Buffer.concat(list).subarray(off);
  while (off < length) off += writeSync(fd, rest, off - (length - rest.length), length - off, position + off);
}
