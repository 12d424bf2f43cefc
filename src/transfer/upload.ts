import { realpath, stat, type FileHandle } from 'node:fs/promises';
import { Readable, Writable } from 'node:stream';
import { RftpError } from '../errors.js';
import { CommandRefused, closeConnection, hasFeature, refusedByServer, removeRemote, renameThenSize, retrieve, sizeOf, store, type Client, type StoreMode } from '../session/ops.js';
import { setTimeCommand } from '../session/hash.js';
import { withPassive } from '../session/pipeline.js';
import { parseSize } from '../session/remote.js';
import { commandPath, remoteBasename, remoteDirname, remoteJoin } from '../session/paths.js';
import { sleep } from '../session/retry.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import { formatBytes } from '../ui/format.js';
import type { Output, TransferProgress } from '../ui/output.js';
import type { FileResult } from './download.js';
import { OVERLAP_BYTES, withPartialResult } from './download.js';
import { openToRead, readRange } from './local-file.js';
import { paced, type TokenBucket } from './rate-limit.js';
import { decideUploadResume, MAX_RESTARTS, type ResumeDecision } from './resume.js';
import { ContentMismatch, sameContent, serverHashFor, type VerifyMode } from './verify.js';
import { readState, removeState, uploadStatePath, writeState, type UploadState } from './state.js';

export interface UploadOptions {
  force: boolean;
  continue: boolean;
  /** How long the remote partial's size must stay unchanged before it is appended to. */
  settleMs: number;
  /** --limit-rate. */
  limiter?: TokenBucket;
  /** --verify / --verify-required: the server's hash of the temporary file before the rename. */
  verify?: VerifyMode;
}

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
    const local: LocalFile = { path: await realpath(localPath), size: st.size, mtimeMs: Math.trunc(st.mtimeMs) };
    return await uploadOpen(session, fh, local, url, opts, out);
  } finally {
    await fh.close().catch(() => {});
  }
}

interface LocalFile {
  path: string;
  size: number;
  mtimeMs: number;
}

type Outcome = 'done' | 'skip' | 'again';

async function uploadOpen(session: Session, fh: FileHandle, local: LocalFile, url: FtpUrl, opts: UploadOptions, out: Output): Promise<FileResult> {
  return new UploadJob(session, fh, local, url, opts, out).run();
}

/**
 * One upload, as an explicit state machine (lftp's FileCopy is one too): each attempt checks the
 * final name once, settles and proves the remote partial, sends what is missing, verifies the
 * size and renames into place; a failed attempt is retried by the session on a new connection,
 * and what it learnt (APPE or REST refused, a restart forced) carries over in these fields.
 */
class UploadJob {
  private readonly display: string;
  private readonly finalPath: string;
  private readonly tempPath: string;
  private readonly stateFile: string;
  private readonly name: string;
  private readonly result: FileResult;
  private readonly stored: Omit<UploadState, 'version' | 'kind'>;
  private progress: TransferProgress | undefined;
  private appeRefused = false;
  private restRefused = false;
  private forceRestart = false;
  private restarts = 0;
  private checkedFinal = false;
  /** --verify found the content different once already. */
  private mismatched = false;
  private announced = false;
  /** The furthest byte handed to a data connection: progress, for the retry budget. */
  private furthest = 0;
  /** How far a read-back of the remote partial has got; each starts at 0, only a new furthest point counts. */
  private readBack = 0;

  constructor(
    private readonly session: Session,
    private readonly fh: FileHandle,
    private readonly local: LocalFile,
    url: FtpUrl,
    private readonly opts: UploadOptions,
    private readonly out: Output,
  ) {
    this.display = displayUrl(url);
    this.finalPath = url.path;
    this.tempPath = remoteTempPath(url.path);
    this.stateFile = uploadStatePath(this.display, local.path);
    this.name = remoteBasename(url.path);
    this.result = { remote: this.display, local: local.path, size: local.size, bytesTransferred: 0, resumedFrom: 0, restarted: false, skipped: false };
    this.stored = { url: this.display, tempPath: this.tempPath, localPath: local.path, localSize: local.size, localMtimeMs: local.mtimeMs };
  }

  async run(): Promise<FileResult> {
    try {
      for (;;) {
        const outcome = await this.session.run(
          `put ${this.display}`,
          () => this.furthest + this.readBack,
          (client) => this.attempt(client),
        );
        if (outcome === 'skip') {
          this.result.skipped = true;
          await removeState(this.stateFile);
          this.out.info(`${this.name}: already on the server with the same size, skipped`);
          return this.result;
        }
        if (outcome === 'done') break;
      }
      await removeState(this.stateFile);
      this.progress?.done();
      return this.result;
    } catch (err) {
      this.progress?.stop();
      if (this.furthest > 0 && !(err instanceof RftpError && err.kind === 'exists') && !(err instanceof ContentMismatch)) {
        this.out.info(`partial upload kept on the server as ${this.tempPath}${this.session.signal.aborted ? '' : '; run the same command again to resume'}`);
      }
      throw withPartialResult(err, this.result);
    }
  }

  private async attempt(client: Client): Promise<Outcome> {
    if (this.appeRefused && this.restRefused && !this.forceRestart) {
      this.restRefused = false;
      return this.restart('the server can neither append (APPE) nor restart (REST) uploads');
    }
    const state = await readState<UploadState>(this.stateFile, 'upload');
    // The sizes decide whether and from where to send, not how: the data connection for the send
    // is opened in the same write (see withPassive).
    const sizes = this.checkedFinal
      ? [undefined, ...(await withPassive(client, [`SIZE ${commandPath(this.tempPath)}`]))]
      : await withPassive(client, [`SIZE ${commandPath(this.finalPath)}`, `SIZE ${commandPath(this.tempPath)}`]);
    const [finalSize, tempSize] = sizes.map((r) => (r?.code === 213 ? parseSize(r.message) : undefined));
    if (!this.checkedFinal && (await this.finalIsThere(client, state, finalSize, tempSize))) return 'skip';
    this.checkedFinal = true;
    const offset = await this.resumePoint(client, state, tempSize);
    if (offset === 'again') return 'again';
    this.announce(offset);
    if (offset < this.local.size || this.local.size === 0) await this.send(client, offset);
    return this.verifyAndRename(client);
  }

  private restart(reason: string): 'again' {
    if (++this.restarts > MAX_RESTARTS) throw new RftpError('transfer', `${this.display}: gave up restarting: ${reason}`);
    this.out.info(`${this.name}: restarting upload from zero: ${reason}`);
    this.result.restarted = true;
    this.forceRestart = true;
    return 'again';
  }

  /** True to skip the upload; throws when the target exists and may not be replaced. */
  private async finalIsThere(client: Client, state: UploadState | undefined, finalSize: number | undefined, tempSize: number | undefined): Promise<boolean> {
    const { local, opts } = this;
    if (finalSize === undefined) return false;
    // A previous run that was cut off between RNTO and removing its state: only its own
    // rename counts, and only if the file there ends with our bytes.
    const renamedByUs = state?.phase === 'renaming' && decideUploadResume(0, state, this.stored).action !== 'restart';
    if (renamedByUs && tempSize === undefined && finalSize === local.size && (await tailMatches(client, this.fh, this.finalPath, local.size))) return true;
    if (!opts.force && opts.continue && finalSize === local.size) return true;
    if (!opts.force) throw new RftpError('exists', `${this.display} already exists (use --force to replace it, or -c to skip it when complete)`);
    return false;
  }

  /** Where to continue: the remote partial settled and proven, or 0; 'again' after a forced restart. */
  private async resumePoint(client: Client, state: UploadState | undefined, tempSize: number | undefined): Promise<number | 'again'> {
    let remotePartial = tempSize;
    // Right after a crash the server's old session may still be writing into the partial:
    // whether it is continued or overwritten, wait until it stops changing.
    if (remotePartial !== undefined) remotePartial = await settledSize(client, this.tempPath, remotePartial, this.opts.settleMs, this.session.signal);
    let decision = this.forceRestart ? ({ action: 'fresh' } as ResumeDecision) : decideUploadResume(remotePartial, state, this.stored);
    let proven = false;
    if (!this.forceRestart && !state && remotePartial !== undefined && remotePartial >= READ_BACK_MIN_BYTES && remotePartial <= this.local.size) {
      // Left by a run on another machine (a fresh CI runner has none of our state): reading it
      // back costs a download of what is there, and spares uploading it again.
      this.out.info(`${this.name}: no record of the remote partial (${formatBytes(remotePartial)}) on this machine: reading it back to compare`);
      const compared = await prefixMatches(client, this.fh, this.tempPath, remotePartial, (pos) => (this.readBack = Math.max(this.readBack, pos)));
      if (compared !== 'same') {
        closeConnection(client);
        return this.restart(compared === 'differs' ? 'the remote partial differs from the local file' : 'the server does not let rftp read the remote partial back');
      }
      decision = { action: 'resume', offset: remotePartial };
      proven = true;
      await writeState(this.stateFile, { version: 1, kind: 'upload', ...this.stored });
    }
    if (decision.action === 'resume' && !proven && !(await tailMatches(client, this.fh, this.tempPath, decision.offset))) {
      // The read-back may have been cut short: start over on a fresh connection.
      closeConnection(client);
      return this.restart('the remote partial does not match the local file');
    }
    if (decision.action === 'restart') {
      this.out.info(`${this.name}: restarting upload from zero: ${decision.reason}`);
      this.result.restarted = true;
    }
    if (decision.action !== 'resume') await writeState(this.stateFile, { version: 1, kind: 'upload', ...this.stored });
    this.forceRestart = false;
    return decision.action === 'resume' ? decision.offset : 0;
  }

  private announce(offset: number): void {
    if (!this.announced) {
      this.announced = true;
      this.result.resumedFrom = offset;
      if (offset > 0) this.out.info(`${this.name}: resuming upload at ${formatBytes(offset)} of ${formatBytes(this.local.size)}`);
    }
    this.progress ??= this.out.transfer(this.name, this.local.size, offset, 'put');
  }

  private async send(client: Client, offset: number): Promise<void> {
    // A stream of its own per attempt (the library destroys it when a transfer fails), read only
    // when the data connection pulls: bytes are counted as they are handed over, not read ahead
    // before the server has even answered STOR.
    let sent = 0;
    const source = Readable.from(
      readChunks(this.local.path, offset, this.opts.limiter, (n) => {
        sent += n;
        this.furthest = Math.max(this.furthest, offset + sent);
        this.progress?.update(offset + sent);
      }),
      { objectMode: false, highWaterMark: 64 * 1024 },
    );
    const how: StoreMode = offset === 0 ? { mode: 'stor' } : this.appeRefused ? { mode: 'rest-stor', offset } : { mode: 'appe' };
    try {
      await store(client, source, this.tempPath, how);
    } catch (err) {
      if (err instanceof CommandRefused) {
        closeConnection(client);
        if (err.command === 'APPE') this.appeRefused = true;
        else this.restRefused = true;
        this.out.warn(`${this.name}: ${err.message}`);
        throw new RftpError('transfer', err.message, { retryable: true });
      }
      throw err;
    } finally {
      this.result.bytesTransferred += sent;
      source.destroy();
    }
  }

  /** The server's size must be the local one, the local file unchanged: then RNFR/RNTO, and the size again. */
  /**
   * --verify: the server's hash of the temporary file against the local file. A mismatch removes
   * the temporary file and sends it again (why, returned); a second one fails the file.
   */
  private async contentDiffers(client: Client): Promise<string | undefined> {
    const mode = this.opts.verify ?? 'off';
    const remote = await serverHashFor(client, this.tempPath, mode, this.name, this.out);
    if (!remote || (await sameContent(this.local.path, remote))) return undefined;
    await removeRemote(client, this.tempPath);
    if (this.mismatched) throw new ContentMismatch(this.name, remote.algorithm);
    this.mismatched = true;
    return `the content differs from the server's ${remote.algorithm}`;
  }

  private async verifyAndRename(client: Client): Promise<Outcome> {
    const { local, name } = this;
    const remoteSize = await sizeOf(client, this.tempPath);
    if (remoteSize === undefined && !(await hasFeature(client, 'SIZE'))) {
      // Without SIZE nothing can be verified or resumed; retrying would only upload it again.
      this.out.warn(`${name}: the server does not report file sizes (no SIZE): the upload cannot be verified`);
    } else if (remoteSize !== local.size) {
      if (remoteSize !== undefined && remoteSize > local.size) return this.restart(`the remote partial has ${remoteSize} bytes, more than the ${local.size} sent`);
      throw new RftpError('transfer', `upload ended early: the server has ${remoteSize ?? 'no'} of ${local.size} bytes`, { retryable: true });
    }
    const now = await stat(local.path).catch(() => undefined);
    if (!now || now.size !== local.size || Math.trunc(now.mtimeMs) !== local.mtimeMs) {
      throw new RftpError('local', `${local.path} changed while it was being uploaded; run again to upload the new version`);
    }
    const differs = await this.contentDiffers(client);
    if (differs) return this.restart(differs);
    await writeState(this.stateFile, { version: 1, kind: 'upload', ...this.stored, phase: 'renaming' });
    // The remote file takes the local one's time (MFMT on the temporary name, where offered), in the rename's write.
    const setTime = await setTimeCommand(client, this.tempPath, local.mtimeMs);
    const finalSize = await renameThenSize(client, this.tempPath, this.finalPath, true, setTime);
    if (finalSize !== undefined && finalSize !== local.size) {
      await removeRemote(client, this.finalPath);
      return this.restart(`the uploaded file has ${finalSize} bytes after the rename, expected ${local.size}`);
    }
    return 'done';
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
