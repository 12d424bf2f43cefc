import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

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
  onBytes?: (position: number) => void;
}

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

  constructor(
    private readonly fh: FileHandle,
    private readonly opts: PartialWriterOptions,
  ) {
    super({ highWaterMark: 4 * 1024 * 1024 });
    this.position = opts.start;
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (err?: Error | null) => void): void {
    this.consume(chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.consume(chunk, callback);
  }

  private consume(data: Buffer, callback: (err?: Error | null) => void): void {
    const tail = this.opts.verifyTail;
    if (this.verified < tail.length) {
      const n = Math.min(tail.length - this.verified, data.length);
      if (!data.subarray(0, n).equals(tail.subarray(this.verified, this.verified + n))) return callback(new OverlapMismatch());
      this.verified += n;
      this.position += n;
      data = data.subarray(n);
      if (data.length === 0) return callback();
    }
    if (this.opts.limit !== undefined && this.position + data.length > this.opts.limit) return callback(new TooMuchData(this.opts.limit));
    const at = this.position;
    this.pending = writeAll(this.fh, data, at).then(() => {
      this.position = at + data.length;
      this.opts.onBytes?.(this.position);
    });
    this.pending.then(() => callback(), (err) => callback(err));
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

async function writeAll(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off, position + off);
    off += bytesWritten;
  }
}
