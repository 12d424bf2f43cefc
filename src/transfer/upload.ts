import { realpath, stat, type FileHandle } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { RftpError } from '../errors.js';
import { CommandRefused, closeConnection, hasFeature, refusedByServer, removeRemote, renameRemote, retrieve, sizeOf, store, type Client, type StoreMode } from '../session/ops.js';
import { remoteBasename, remoteDirname, remoteJoin } from '../session/paths.js';
import { sleep } from '../session/retry.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import { formatBytes } from '../ui/format.js';
import type { Output, TransferProgress } from '../ui/output.js';
import type { FileResult } from './download.js';
import { OVERLAP_BYTES, withPartialResult } from './download.js';
import { openToRead, readRange } from './local-file.js';
import { paced, type TokenBucket } from './rate-limit.js';
import { decideUploadResume, type ResumeDecision } from './resume.js';
import { readState, removeState, uploadStatePath, writeState, type UploadState } from './state.js';

export interface UploadOptions {
  force: boolean;
  continue: boolean;
  /** How long the remote partial's size must stay unchanged before it is appended to. */
  settleMs: number;
  /** --limit-rate. */
  limiter?: TokenBucket;
}

const MAX_RESTARTS = 3;
const MAX_SETTLE_ROUNDS = 30;

/** How long a remote partial must keep its size before an upload appends to it (RFTP_UPLOAD_SETTLE_MS, see README). */
export function settleMs(env: NodeJS.ProcessEnv): number {
  const v = Number(env.RFTP_UPLOAD_SETTLE_MS);
  return Number.isFinite(v) && v >= 0 && env.RFTP_UPLOAD_SETTLE_MS !== undefined ? v : 1000;
}

export const remoteTempPath = (finalPath: string) => remoteJoin(remoteDirname(finalPath), `${remoteBasename(finalPath)}.rftp-part`);

/**
 * Uploads to a temporary remote name, continues it with APPE (or REST + STOR) after a crash,
 * and renames it into place only when its size is right. Local state in the XDG state directory
 * remembers which local file (size, mtime) a remote partial came from.
 */
export async function upload(session: Session, localPath: string, url: FtpUrl, opts: UploadOptions, out: Output): Promise<FileResult> {
  const { fh, st } = await openToRead(localPath);
  try {
    const local = { path: await realpath(localPath), size: st.size, mtimeMs: Math.trunc(st.mtimeMs) };
    return await uploadOpen(session, fh, local, url, opts, out);
  } finally {
    await fh.close().catch(() => {});
  }
}

async function uploadOpen(session: Session, fh: FileHandle, local: { path: string; size: number; mtimeMs: number }, url: FtpUrl, opts: UploadOptions, out: Output): Promise<FileResult> {
  const display = displayUrl(url);
  const finalPath = url.path;
  const tempPath = remoteTempPath(finalPath);
  const stateFile = uploadStatePath(display, local.path);
  const name = remoteBasename(finalPath);
  const result: FileResult = { remote: display, local: local.path, size: local.size, bytesTransferred: 0, resumedFrom: 0, restarted: false, skipped: false };
  let progress: TransferProgress | undefined;
  let appeRefused = false;
  let restRefused = false;
  let forceRestart = false;
  let restarts = 0;
  let checkedFinal = false;
  let announced = false;
  let furthest = 0;
  /**
   * How far a read-back of the remote partial has got, at most: progress too, for the retry
   * budget. Each attempt reads from 0 again, so only a new furthest point counts.
   */
  let readBack = 0;
  const stored = { url: display, tempPath, localPath: local.path, localSize: local.size, localMtimeMs: local.mtimeMs };

  const restart = (reason: string) => {
    if (++restarts > MAX_RESTARTS) throw new RftpError('transfer', `${display}: gave up restarting: ${reason}`);
    out.info(`${name}: restarting upload from zero: ${reason}`);
    result.restarted = true;
    forceRestart = true;
    return 'again' as const;
  };

  const attempt = async (client: Client): Promise<'done' | 'skip' | 'again'> => {
    const state = await readState<UploadState>(stateFile, 'upload');
    if (!checkedFinal) {
      const finalSize = await sizeOf(client, finalPath);
      const tempSize = await sizeOf(client, tempPath);
      if (finalSize !== undefined) {
        // A previous run that was cut off between RNTO and removing its state: only its own
        // rename counts, and only if the file there ends with our bytes.
        const renamedByUs = state?.phase === 'renaming' && decideUploadResume(0, state, stored).action !== 'restart';
        if (renamedByUs && tempSize === undefined && finalSize === local.size && (await tailMatches(client, fh, finalPath, local.size))) return 'skip';
        if (!opts.force && opts.continue && finalSize === local.size) return 'skip';
        if (!opts.force) throw new RftpError('exists', `${display} already exists (use --force to replace it, or -c to skip it when complete)`);
      }
      checkedFinal = true;
    }

    let remotePartial = await sizeOf(client, tempPath);
    if (remotePartial !== undefined) {
      // Right after a crash the server's old session may still be writing into the partial:
      // whether it is continued or overwritten, wait until it stops changing.
      remotePartial = await settledSize(client, tempPath, remotePartial, opts.settleMs, session.signal);
    }
    let decision = forceRestart ? ({ action: 'fresh' } as ResumeDecision) : decideUploadResume(remotePartial, state, stored);
    let proven = false;
    if (!forceRestart && !state && remotePartial !== undefined && remotePartial >= READ_BACK_MIN_BYTES && remotePartial <= local.size) {
      // Left by a run on another machine (a fresh CI runner has none of our state): reading it
      // back costs a download of what is there, and spares uploading it again.
      out.info(`${name}: no record of the remote partial (${formatBytes(remotePartial)}) on this machine: reading it back to compare`);
      const compared = await prefixMatches(client, fh, tempPath, remotePartial, (pos) => (readBack = Math.max(readBack, pos)));
      if (compared !== 'same') {
        closeConnection(client);
        return restart(compared === 'differs' ? 'the remote partial differs from the local file' : 'the server does not let rftp read the remote partial back');
      }
      decision = { action: 'resume', offset: remotePartial };
      proven = true;
      await writeState(stateFile, { version: 1, kind: 'upload', ...stored });
    }
    if (decision.action === 'resume' && !proven && !(await tailMatches(client, fh, tempPath, decision.offset))) {
      // The read-back may have been cut short: start over on a fresh connection.
      closeConnection(client);
      return restart('the remote partial does not match the local file');
    }
    if (decision.action === 'restart') {
      out.info(`${name}: restarting upload from zero: ${decision.reason}`);
      result.restarted = true;
    }
    if (decision.action !== 'resume') await writeState(stateFile, { version: 1, kind: 'upload', ...stored });
    forceRestart = false;
    const offset = decision.action === 'resume' ? decision.offset : 0;
    if (!announced) {
      announced = true;
      result.resumedFrom = offset;
      if (offset > 0) out.info(`${name}: resuming upload at ${formatBytes(offset)} of ${formatBytes(local.size)}`);
    }
    progress ??= out.transfer(name, local.size, offset, 'put');

    if (offset < local.size || local.size === 0) await send(client, offset);

    const remoteSize = await sizeOf(client, tempPath);
    if (remoteSize === undefined && !(await hasFeature(client, 'SIZE'))) {
      // Without SIZE nothing can be verified or resumed; retrying would only upload it again.
      out.warn(`${name}: the server does not report file sizes (no SIZE): the upload cannot be verified`);
    } else if (remoteSize !== local.size) {
      if (remoteSize !== undefined && remoteSize > local.size) return restart(`the remote partial has ${remoteSize} bytes, more than the ${local.size} sent`);
      throw new RftpError('transfer', `upload ended early: the server has ${remoteSize ?? 'no'} of ${local.size} bytes`, { retryable: true });
    }
    const now = await stat(local.path).catch(() => undefined);
    if (!now || now.size !== local.size || Math.trunc(now.mtimeMs) !== local.mtimeMs) {
      throw new RftpError('local', `${local.path} changed while it was being uploaded; run again to upload the new version`);
    }
    await writeState(stateFile, { version: 1, kind: 'upload', ...stored, phase: 'renaming' });
    await renameRemote(client, tempPath, finalPath);
    const finalSize = await sizeOf(client, finalPath);
    if (finalSize !== undefined && finalSize !== local.size) {
      await removeRemote(client, finalPath);
      return restart(`the uploaded file has ${finalSize} bytes after the rename, expected ${local.size}`);
    }
    return 'done';
  };

  const send = async (client: Client, offset: number) => {
    // A stream of its own per attempt (the library destroys it when a transfer fails), read only
    // when the data connection pulls: bytes are counted as they are handed over, not read ahead
    // before the server has even answered STOR.
    let sent = 0;
    const source = Readable.from(
      readChunks(local.path, offset, opts.limiter, (n) => {
        sent += n;
        furthest = Math.max(furthest, offset + sent);
        progress?.update(offset + sent);
      }),
      { objectMode: false, highWaterMark: 64 * 1024 },
    );
    const how: StoreMode = offset === 0 ? { mode: 'stor' } : appeRefused ? { mode: 'rest-stor', offset } : { mode: 'appe' };
    try {
      await store(client, source, tempPath, how);
    } catch (err) {
      if (err instanceof CommandRefused) {
        closeConnection(client);
        if (err.command === 'APPE') appeRefused = true;
        else restRefused = true;
        out.warn(`${name}: ${err.message}`);
        throw new RftpError('transfer', err.message, { retryable: true });
      }
      throw err;
    } finally {
      result.bytesTransferred += sent;
      source.destroy();
    }
  };

  try {
    for (;;) {
      const outcome = await session.run(
        `put ${display}`,
        () => furthest + readBack,
        async (client) => {
          if (appeRefused && restRefused && !forceRestart) {
            restRefused = false;
            return restart('the server can neither append (APPE) nor restart (REST) uploads');
          }
          return attempt(client);
        },
      );
      if (outcome === 'skip') {
        result.skipped = true;
        await removeState(stateFile);
        out.info(`${name}: already on the server with the same size, skipped`);
        return result;
      }
      if (outcome === 'done') break;
    }
    await removeState(stateFile);
    progress?.done();
    return result;
  } catch (err) {
    progress?.stop();
    if (furthest > 0 && !(err instanceof RftpError && err.kind === 'exists')) {
      out.info(`partial upload kept on the server as ${tempPath}${session.signal.aborted ? '' : '; run the same command again to resume'}`);
    }
    throw withPartialResult(err, result);
  }
}

const CHUNK_BYTES = 1024 * 1024;

/**
 * The local file from `start`, in chunks, paced by --limit-rate; `onChunk` counts what is handed on.
 * The next chunk is read while this one is sent, so the data connection never waits on the disk.
 */
async function* readChunks(path: string, start: number, limiter: TokenBucket | undefined, onChunk: (bytes: number) => void): AsyncGenerator<Buffer> {
  // Opened again by path (see upload()): never block on a FIFO put there since.
  const { fh } = await openToRead(path, 'is no longer a regular file');
  const readAt = (pos: number) => {
    const read = fh.read(Buffer.allocUnsafe(CHUNK_BYTES), 0, CHUNK_BYTES, pos);
    // Awaited later; until then a failed read must not count as an unhandled rejection.
    read.catch(() => {});
    return read;
  };
  let next = readAt(start);
  try {
    for (let pos = start; ; ) {
      const { bytesRead, buffer } = await next;
      if (bytesRead === 0) return;
      pos += bytesRead;
      next = readAt(pos);
      for await (const slice of paced(limiter, buffer.subarray(0, bytesRead))) {
        onChunk(slice.length);
        yield slice;
      }
    }
  } finally {
    // A read may still be in flight (the consumer stopped early): let it end before closing.
    await next.catch(() => {});
    await fh.close();
  }
}

/** Reads SIZE until two reads settleMs apart agree. */
async function settledSize(client: Client, path: string, first: number, settleMs: number, signal: AbortSignal): Promise<number | undefined> {
  let last: number | undefined = first;
  for (let i = 0; i < MAX_SETTLE_ROUNDS; i++) {
    await sleep(settleMs, signal);
    const now = await sizeOf(client, path);
    if (now === last) return now;
    last = now;
  }
  throw new RftpError('transfer', `the remote partial ${path} keeps changing size; is another upload running?`);
}

/** Remote partials smaller than this are sent again rather than read back. */
const READ_BACK_MIN_BYTES = 1024 * 1024;

/**
 * Whether the remote file holds exactly the local file's first `length` bytes, read back in full
 * and compared as it arrives (a difference ends the transfer, and with it the connection).
 * 'unreadable': the server refuses to send it (an upload-only account, say).
 */
async function prefixMatches(client: Client, fh: FileHandle, path: string, length: number, onPosition: (pos: number) => void): Promise<'same' | 'differs' | 'unreadable'> {
  let pos = 0;
  let differs = false;
  const compare = async (data: Buffer) => {
    if (pos + data.length > length || !(await readRange(fh, pos, pos + data.length)).equals(data)) differs = true;
    pos += data.length;
    onPosition(pos);
  };
  const sink = new Writable({
    highWaterMark: 1024 * 1024,
    writev(chunks, cb) {
      compare(Buffer.concat(chunks.map((c) => c.chunk as Buffer))).then(() => cb(differs ? new Error('the remote partial differs') : null), cb);
    },
  });
  try {
    await retrieve(client, sink, path, 0);
  } catch (err) {
    if (differs) return 'differs';
    if (refusedByServer(err)) return 'unreadable';
    throw err;
  }
  return !differs && pos === length ? 'same' : 'differs';
}

/** Proof that the remote partial is a prefix of the local file: its last bytes match ours. */
async function tailMatches(client: Client, fh: FileHandle, path: string, offset: number): Promise<boolean> {
  const from = Math.max(0, offset - OVERLAP_BYTES);
  const expected = await readRange(fh, from, offset);
  const chunks: Buffer[] = [];
  let received = 0;
  let tooMuch = false;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      received += chunk.length;
      // More than the remote size allows: REST was ignored or the file grew. Not a match.
      if (received > expected.length) tooMuch = true;
      cb(tooMuch ? new Error('more data than expected') : null);
    },
  });
  try {
    await retrieve(client, sink, path, from);
  } catch (err) {
    // A refused REST or RETR (an upload-only account) cannot prove anything: the upload restarts.
    if (err instanceof CommandRefused || tooMuch || refusedByServer(err)) return false;
    throw err;
  }
  return Buffer.concat(chunks).equals(expected);
}
