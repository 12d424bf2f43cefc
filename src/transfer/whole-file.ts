import { closeSync, constants, fstatSync, fsync, futimesSync, openSync, readSync, renameSync, rmSync, writevSync, type Stats } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { RftpError } from '../errors.js';
import { setTimeCommand } from '../session/hash.js';
import { hasFeature, removeRemote, renameRemote, retrieve, sizeOf, store } from '../session/ops.js';
import { afterCommit, beforeCommit, type CheckedFile, type Checks } from './checks.js';
import { modifiedTime } from '../session/remote.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import type { FileResult } from './download.js';
import { partialPath } from './download.js';
import { localError, statOrUndefined } from './local-file.js';
import { TooMuchData } from './partial-writer.js';
import { syncDir } from './state.js';
import { paced, type TokenBucket } from './rate-limit.js';
import { remoteTempPath } from './upload.js';
import { ContentMismatch, mismatchNote, retryOnMismatch, sameContent, serverHashFor, verifyContent, type VerifyMode } from './verify.js';
import type { Output } from '../ui/output.js';

/**
 * Files up to this size are sent whole by sync: re-sending one after an interruption costs less
 * than the resume bookkeeping (state file, SIZE/MDTM, fsyncs), which is most of the time a sync
 * of many small files would spend. They still go through a temporary name and a size check.
 */
export const WHOLE_FILE_BYTES = 256 * 1024;

/**
 * RETR into memory (at most WHOLE_FILE_BYTES), checked against the listing's size, then written to
 * `target.rftp-part`, fsynced and renamed into place. Nothing is written until the whole file is
 * here, so a failed transfer needs no clean-up; a run killed during the write leaves a partial
 * without state, which the next run replaces.
 * `dirs` collects the directories whose renames still need an fsync (sync does them once per
 * directory at the end); without it the directory is synced here.
 */
export interface WholeOptions {
  limiter?: TokenBucket;
  /** Directories whose renames still need an fsync (see downloadWhole). */
  dirs?: Set<string>;
  checks?: Checks;
  verify?: VerifyMode;
  out: Output;
}

export function downloadWhole(session: Session, url: FtpUrl, target: string, size: number, mtimeMs: number | undefined, opts: WholeOptions): Promise<FileResult> {
  return retryOnMismatch(opts.out, (retried) => downloadWholeOnce(session, url, target, size, mtimeMs, opts, retried));
}

async function downloadWholeOnce(session: Session, url: FtpUrl, target: string, size: number, mtimeMs: number | undefined, opts: WholeOptions, retried: boolean): Promise<FileResult> {
  const { limiter, dirs, checks } = opts;
  const result: FileResult = { remote: displayUrl(url), local: target, size, bytesTransferred: 0, resumedFrom: 0, restarted: false, skipped: false };
  let reached = 0;
  let attempts = 0;
  let data: Buffer[] = [];
  await session.run(
    `get ${result.remote}`,
    () => reached,
    async (client) => {
      attempts++;
      // The local copy takes the server's time, so a later change on the server is seen as newer.
      if (mtimeMs === undefined) mtimeMs = (await modifiedTime(client, url.path)).mtimeMs;
      const sink = new MemorySink(size, limiter);
      try {
        await retrieve(client, sink, url.path, 0);
      } catch (err) {
        if (err instanceof TooMuchData) throw new RftpError('transfer', `the file changed since it was listed (more than ${size} bytes)`);
        throw err;
      } finally {
        await sink.settled();
        result.bytesTransferred += sink.length;
        reached = Math.max(reached, sink.length);
      }
      if (sink.length !== size) {
        // A cut-off transfer is worth another try; the same short length again means the file
        // shrank since it was listed, which no retry fixes.
        throw new RftpError('transfer', `transfer ended early: ${sink.length} of ${size} bytes${attempts >= 3 ? ' (has the file changed since it was listed?)' : ''}`, { retryable: attempts < 3 });
      }
      data = sink.chunks;
    },
  );
  const name = basename(target);
  await verifyContent(session, url, data, { mode: opts.verify ?? 'off', retried, name, out: opts.out, discard: async () => {} });
  const part = partialPath(target);
  await writeDurably(part, data, size, mtimeMs);
  // A failed check keeps the partial for the user to look at; it has no state, so a rerun
  // fetches it again (at most WHOLE_FILE_BYTES) and checks it again.
  const file: CheckedFile = { part, target, url: result.remote, size, direction: 'down' };
  await beforeCommit(checks, file, session.signal);
  try {
    renameSync(part, target);
  } catch (err) {
    removeQuietly(part);
    throw localError(target, err, 'move the finished download to');
  }
  if (dirs) dirs.add(dirname(target));
  else await syncDir(dirname(target));
  await afterCommit(checks, file, session.signal);
  return result;
}

const fsyncFd = promisify(fsync);

/**
 * Writes a small file in one go and fsyncs it. The calls are synchronous except the fsync: for a
 * few hundred KiB, a thread-pool round trip per call costs more CPU than the call itself (a
 * 1000-file sync spent a quarter of its time there), while an fsync can wait on the disk.
 */
async function writeDurably(path: string, chunks: Buffer[], size: number, mtimeMs: number | undefined): Promise<void> {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    throw localError(path, err, 'write');
  }
  try {
    let written = 0;
    while (written < size) {
      const n = writevSync(fd, written === 0 ? chunks : [Buffer.concat(chunks).subarray(written)]);
      if (n <= 0) throw new Error('short write');
      written += n;
    }
    await fsyncFd(fd);
    if (mtimeMs !== undefined) futimesSync(fd, new Date(), new Date(mtimeMs));
    closeSync(fd);
  } catch (err) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    removeQuietly(path);
    throw localError(path, err, 'write');
  }
}

/** A download's destination in memory, for files up to WHOLE_FILE_BYTES. */
class MemorySink extends Writable {
  chunks: Buffer[] = [];
  length = 0;
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly limit: number,
    private readonly limiter?: TokenBucket,
  ) {
    super({ highWaterMark: limiter ? limiter.sliceBytes : WHOLE_FILE_BYTES });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.length + chunk.length > this.limit) {
      callback(new TooMuchData(this.limit));
      return;
    }
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (!this.limiter) {
      callback();
      return;
    }
    // --limit-rate: the next chunk is taken once this one's bytes are allowed (backpressure).
    this.pending = this.limiter.take(chunk.length);
    this.pending.then(() => callback(), callback);
  }

  async settled(): Promise<void> {
    await this.pending.catch(() => {});
  }
}

/**
 * STOR to the temporary name, SIZE must equal the local size, then RNFR/RNTO. The file is read
 * once, up front (it is small), so what is sent is one consistent version of it.
 */
export async function uploadWhole(session: Session, localPath: string, url: FtpUrl, opts: Omit<WholeOptions, 'dirs' | 'checks'>): Promise<FileResult> {
  const { limiter } = opts;
  let mismatched = false;
  const { data, before } = readSmallFile(localPath);
  const temp = remoteTempPath(url.path);
  const result: FileResult = { remote: displayUrl(url), local: localPath, size: data.length, bytesTransferred: 0, resumedFrom: 0, restarted: false, skipped: false };
  let attempts = 0;
  await session.run(
    `put ${result.remote}`,
    () => 0,
    async (client) => {
      // At most twice round when --verify finds the server's copy different: on this connection,
      // not through a reconnect and its back-off.
      for (;;) {
        attempts++;
        await store(client, limiter ? Readable.from(paced(limiter, data)) : Readable.from([data]), temp, { mode: 'stor' });
        result.bytesTransferred += data.length;
        const remote = await sizeOf(client, temp);
        if (remote !== data.length && (remote !== undefined || (await hasFeature(client, 'SIZE')))) {
          throw new RftpError('transfer', `upload ended early: the server has ${remote ?? 'no'} of ${data.length} bytes`, { retryable: attempts < 3 });
        }
        // Edited since it was read (same size, say): the server's copy, newer by its time, would look
        // up to date for ever. Failing the file makes the next run send the new version.
        const now = await statOrUndefined(localPath);
        if (!now || now.size !== before.size || now.mtimeMs !== before.mtimeMs) {
          throw new RftpError('local', `${localPath} changed while it was being uploaded; run again to upload the new version`);
        }
        // --verify: the temporary file's hash, before it takes the name.
        const remoteHash = await serverHashFor(client, temp, opts.verify ?? 'off', basename(localPath), opts.out);
        if (remoteHash && !(await sameContent([data], remoteHash))) {
          await removeRemote(client, temp);
          if (mismatched) throw new ContentMismatch(basename(localPath), remoteHash.algorithm);
          mismatched = true;
          opts.out.warn(mismatchNote(basename(localPath), remoteHash));
          continue;
        }
        // More files usually follow on this connection: their EPSV rides with the rename, and the
        // local file's time before it (MFMT on the temporary name, where offered).
        await renameRemote(client, temp, url.path, { thenPassive: true, setTime: await setTimeCommand(client, temp, before.mtimeMs) });
        return;
      }
    },
  );
  return result;
}

/**
 * Reads a small file in one go (it is at most WHOLE_FILE_BYTES as listed), refusing what is no
 * longer a regular file of that size: a FIFO or a symlink put there since the walk would block
 * the event loop or lead elsewhere.
 */
function readSmallFile(localPath: string): { data: Buffer; before: Stats } {
  let fd: number | undefined;
  try {
    fd = openSync(localPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const before = fstatSync(fd);
    if (!before.isFile()) throw new RftpError('local', `${localPath} is no longer a regular file`);
    if (before.size > WHOLE_FILE_BYTES) throw new RftpError('local', `${localPath} changed while it was being read; run again to upload the new version`);
    const data = Buffer.alloc(before.size);
    let got = 0;
    while (got < data.length) {
      const n = readSync(fd, data, got, data.length - got, got);
      if (n === 0) break;
      got += n;
    }
    const after = fstatSync(fd);
    if (got !== before.size || after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
      throw new RftpError('local', `${localPath} changed while it was being read; run again to upload the new version`);
    }
    return { data, before };
  } catch (err) {
    if (err instanceof RftpError) throw err;
    throw localError(localPath, err, 'read');
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Removes a file left by a failed step; a failure here must not hide the error that led to it. */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch {
    // the original error is the one worth reporting
  }
}
