import { lstat, unlink, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { RftpError } from '../errors.js';
import { CommandRefused, closeConnection, dataIsEncrypted, retrieve, type Client } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { statRemote, type RemoteInfo } from '../session/remote.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import type { Output, TransferProgress } from '../ui/output.js';
import { formatBytes } from '../ui/format.js';
import { commitPartial, flushAndCheck, openPartial, readRange, removeIfEmpty, statOrUndefined } from './local-file.js';
import { OverlapMismatch, PartialWriter, RunningSha256, TooMuchData } from './partial-writer.js';
import type { TokenBucket } from './rate-limit.js';
import { afterCommit, beforeCommit, checksBeforeCommit, type CheckedFile, type Checks } from './checks.js';
import { decideSingleStreamResume, type SingleStreamDecision } from './ranges.js';
import { decideDownloadResume, MAX_RESTARTS, type ResumeDecision } from './resume.js';
import { readState, removeState, writeState, type DownloadState, type HttpState, type SegmentedState } from './state.js';
import { retryOnMismatch, verifyContent, type VerifyMode } from './verify.js';

/** How far before the resume point the overlap check re-reads and compares. */
export const OVERLAP_BYTES = 64 * 1024;

export interface DownloadOptions {
  /** Replace an existing target. */
  force: boolean;
  /** Skip a target that is already complete (same size, not older); replace it otherwise. */
  continue: boolean;
  /** --limit-rate. */
  limiter?: TokenBucket;
  /** Scan, verify command and on-complete hook (checks.ts); required, so that no path drops them. */
  checks: Checks | undefined;
  /** --verify / --verify-required: the content against the server's hash (verify.ts). */
  verify?: VerifyMode;
}

export interface FileResult {
  remote: string;
  local: string;
  size: number;
  /** Bytes moved over the network in this run (overlap re-reads included). */
  bytesTransferred: number;
  /** Offset the transfer continued from (0 for a fresh one). */
  resumedFrom: number;
  restarted: boolean;
  skipped: boolean;
  /** Why it failed, in a report of several files (the others went on). */
  error?: string;
}

const partialResults = new WeakMap<object, FileResult>();

/** Remembers what a failed transfer did get done, for the --json report of the failure. */
export function withPartialResult(err: unknown, result: FileResult): unknown {
  if (err && typeof err === 'object') partialResults.set(err, result);
  return err;
}

export function partialResultOf(err: unknown): FileResult | undefined {
  return err && typeof err === 'object' ? partialResults.get(err) : undefined;
}

export const partialPath = (target: string) => `${target}.rftp-part`;
export const statePath = (target: string) => `${target}.rftp-state`;

/**
 * What get and pget do before connecting: refuse to clobber an existing target (unless --force or
 * -c), and open the partial, so a local problem fails fast without touching the network.
 */
export async function prepareDownload(display: string, target: string, opts: Pick<DownloadOptions, 'force' | 'continue'>) {
  // A dangling symlink exists too (lstat): it is not silently replaced.
  const existing = (await statOrUndefined(target)) ?? (await lstat(target).catch(() => undefined));
  if (existing?.isDirectory()) throw new RftpError('local', `${target} is a directory`);
  // The finished file is renamed into place: that would replace a device or a FIFO (/dev/null
  // included, as root) with a regular file.
  if (existing && !existing.isFile()) throw new RftpError('local', `${target} is not a regular file (a device, FIFO, socket or dangling symlink): not replaced`);
  if (existing && !opts.force && !opts.continue) {
    throw new RftpError('exists', `${target} already exists (use --force to replace it, or -c to skip it when complete)`);
  }
  const result: FileResult = { remote: display, local: target, size: 0, bytesTransferred: 0, resumedFrom: 0, restarted: false, skipped: false };
  const part = partialPath(target);
  const { fh, created } = await openPartial(part);
  return { display, target, part, stateFile: statePath(target), name: basename(target), existing, result, fh, created };
}

/**
 * get over one connection. A partial it left is continued after the identity and overlap checks;
 * a pget partial is continued from the end of its proven prefix and becomes a plain partial.
 */
// Long on purpose, with attempt() inside: each attempt's phases (identity, overlap check, RETR,
// size check, commit) share the partial's handle and writer; the resume rules themselves are
// pure functions in resume.ts and ranges.ts, unit-tested.
export function download(session: Session, url: FtpUrl, target: string, opts: DownloadOptions, out: Output): Promise<FileResult> {
  return retryOnMismatch(out, (retried) => downloadOnce(session, url, target, opts, out, retried));
}

async function downloadOnce(session: Session, url: FtpUrl, target: string, opts: DownloadOptions, out: Output, retried: boolean): Promise<FileResult> {
  const { display, part, stateFile, name, existing, result, fh, created } = await prepareDownload(displayUrl(url), target, opts);
  let progress: TransferProgress | undefined;
  let restUnsupported = false;
  let restarts = 0;
  let announced = false;
  let done = false;
  /** The furthest offset reached: the retry budget resets whenever it grows. */
  let furthest = 0;
  // Only when a check will want the sha256: plain transfers do not pay for hashing.
  const digest = opts.checks?.scan || opts.checks?.onComplete || (opts.verify ?? 'off') !== 'off' ? new RunningSha256() : undefined;

  const restartFromZero = async (reason: string, client: Client) => {
    if (++restarts > MAX_RESTARTS) throw new RftpError('transfer', `${display}: gave up restarting: ${reason}`);
    closeConnection(client);
    out.info(`${name}: restarting from zero: ${reason}`);
    result.restarted = true;
    await fh.truncate(0);
    return 'again' as const;
  };

  const attempt = async (client: Client): Promise<'done' | 'skip' | 'again'> => {
    const remote = await statRemote(client, url.path, { thenTransfer: true });
    result.size = remote.size ?? 0;
    if (existing && opts.continue && !opts.force && isComplete(existing, remote)) return 'skip';
    const partialSize = (await fh.stat()).size;
    const plain = await readState<DownloadState>(stateFile, 'download');
    // A pget partial (get --segments 1, sync) is continued from the end of its proven prefix.
    const pget = plain ? undefined : await readState<SegmentedState>(stateFile, 'segmented');
    let decision: ResumeDecision | SingleStreamDecision = pget ? decideSingleStreamResume(partialSize, pget, display, remote) : decideDownloadResume(partialSize, plain, display, remote);
    if (decision.action !== 'fresh' && decision.action !== 'restart' && restUnsupported) decision = { action: 'restart', reason: 'the server refused REST' };
    // An earlier run got every byte and then failed a check (a scanner that crashed): the same
    // remote file (the decision checked size and time) needs no transfer, only the checks again.
    // Only with a recorded time: on size alone the 64 KiB overlap check is the last proof left.
    if (decision.action === 'resume' && plain?.complete && plain.remoteMtimeMs !== null && decision.offset === remote.size) {
      out.info(`${name}: complete from an earlier run; checking it again`);
      result.resumedFrom = decision.offset;
      return 'done';
    }
    if (decision.action === 'restart') {
      out.info(`${name}: restarting from zero: ${decision.reason}`);
      result.restarted = true;
      await fh.truncate(0);
    }
    if (decision.action === 'convert') {
      // Only the proven prefix stays: past it the preallocated file holds zeros or bytes after a
      // gap, which must never pass for data (a later resume takes the partial's length as proven).
      // Durable before the plain state replaces the segmented one.
      await fh.truncate(decision.offset);
      await fh.sync();
    }
    if (decision.action !== 'resume') {
      await writeState(stateFile, { version: 1, kind: 'download', url: display, remoteSize: remote.size ?? -1, remoteMtimeMs: remote.mtimeMs ?? null });
    }
    const offset = decision.action === 'resume' || decision.action === 'convert' ? decision.offset : 0;
    if (!announced) {
      announced = true;
      result.resumedFrom = offset;
      if (decision.action === 'convert') {
        const again = decision.refetched > 0 ? `, and its other ${formatBytes(decision.refetched)} (after a gap) are fetched again` : '';
        out.info(`${name}: resuming at ${formatBytes(offset)} of ${formatBytes(remote.size ?? 0)} over one connection: an earlier segmented download is complete up to there${again}`);
      } else if (offset > 0) out.info(`${name}: resuming at ${formatBytes(offset)} of ${formatBytes(remote.size ?? 0)}`);
    }
    if (offset === 0) digest?.reset();
    const verifyFrom = Math.max(0, offset - OVERLAP_BYTES);
    const writer = new PartialWriter(fh, {
      start: verifyFrom,
      verifyTail: await readRange(fh, verifyFrom, offset),
      limit: remote.size,
      limiter: opts.limiter,
      syncWrites: dataIsEncrypted(client),
      onBytes: (pos) => progress?.update(pos),
      digest,
    });
    progress ??= out.transfer(name, remote.size, offset, 'got');
    const before = result.bytesTransferred;
    const account = () => {
      result.bytesTransferred = before + (writer.position - verifyFrom);
      furthest = Math.max(furthest, writer.position);
    };
    try {
      await retrieve(client, writer, url.path, verifyFrom);
    } catch (err) {
      await writer.settled();
      account();
      if (err instanceof OverlapMismatch) return restartFromZero(err.message, client);
      if (err instanceof TooMuchData) return restartFromZero(err.message, client);
      if (err instanceof CommandRefused) {
        restUnsupported = true;
        out.warn(`${name}: ${err.message}`);
        return restartFromZero('the server cannot resume', client);
      }
      throw err;
    }
    await writer.settled();
    account();
    if (!writer.overlapChecked) return restartFromZero('the remote file is shorter than the partial data', client);
    return checkLength(writer.position, remote);
  };

  try {
    for (;;) {
      const outcome = await session.run(`get ${display}`, () => furthest, attempt);
      if (outcome === 'skip') {
        result.skipped = true;
        result.size = existing!.size;
        await fh.close();
        await removeIfEmpty(part);
        out.info(`${name}: already complete, skipped`);
        return result;
      }
      if (outcome === 'done') break;
    }
    await finish(fh, part, target, stateFile);
    done = true;
    const discard = () => discardPartial(part, stateFile);
    const sha256 = digest?.result(result.size);
    await verifyContent(session, url, part, { mode: opts.verify ?? 'off', retried, name, out, discard, sha256 });
    const state = await readState<DownloadState>(stateFile, 'download');
    const file: CheckedFile = { part, target, url: display, size: result.size, direction: 'down', sha256 };
    await commitDownload(opts.checks, { state, stateFile, file, mtimeMs: state?.remoteMtimeMs ?? undefined, progress }, session.signal);
    return result;
  } catch (err) {
    progress?.stop();
    if (!done) await keepPartial(fh, part, created, out, session.signal.aborted);
    throw withPartialResult(err, result);
  }
}

/**
 * A finished single-stream download (FTP or http): its state marked complete when checks come
 * before the rename (a rerun then checks again without a transfer), the checks, the rename with
 * the remote time, the progress line, the hooks after.
 */
export async function commitDownload(
  checks: Checks | undefined,
  done: { state: DownloadState | HttpState | undefined; stateFile: string; file: CheckedFile; mtimeMs: number | undefined; progress: TransferProgress | undefined },
  signal: AbortSignal,
): Promise<void> {
  const { state, stateFile, file, mtimeMs, progress } = done;
  if (state && checksBeforeCommit(checks)) await writeState(stateFile, { ...state, complete: true });
  await checkedCommit(checks, file, stateFile, signal, () => commitPartial(file.part, file.target, mtimeMs));
  progress?.done();
  await afterCommit(checks, file, signal);
}

/**
 * The checks before the rename, then the rename. An infected file went to quarantine: its state
 * goes too. A failed check keeps partial and state, so a rerun checks again without a transfer.
 */
export async function checkedCommit(checks: Checks | undefined, file: CheckedFile, stateFile: string, signal: AbortSignal, commit: () => Promise<void>): Promise<void> {
  try {
    await beforeCommit(checks, file, signal);
  } catch (err) {
    if (err instanceof RftpError && err.kind === 'infected') await removeState(stateFile);
    throw err;
  }
  await commit();
  await removeState(stateFile);
}

/** A complete partial whose content the server's hash contradicts: nothing of it is kept. */
export async function discardPartial(part: string, stateFile: string): Promise<void> {
  await unlink(part).catch(() => {});
  await removeState(stateFile);
}

/** The remote file is only done when every announced byte is here. */
function checkLength(length: number, remote: RemoteInfo): 'done' {
  if (remote.size !== undefined && length < remote.size) {
    throw new RftpError('transfer', `transfer ended early: ${length} of ${remote.size} bytes`, { retryable: true });
  }
  return 'done';
}

/** -c: an existing target counts as complete when it has the remote size and is not older. */
export function isComplete(local: { size: number; mtimeMs: number }, remote: RemoteInfo): boolean {
  if (remote.size === undefined || local.size !== remote.size) return false;
  return remote.mtimeMs === undefined || local.mtimeMs + 1000 >= remote.mtimeMs;
}

async function finish(fh: FileHandle, part: string, target: string, stateFile: string): Promise<void> {
  const state = await readState<DownloadState>(stateFile, 'download');
  await flushAndCheck(fh, part, target, state && state.remoteSize >= 0 ? state.remoteSize : undefined);
}

/** On any failure: what arrived is flushed to disk and kept for the next run. */
export async function keepPartial(fh: FileHandle, part: string, created: boolean, out: Output, interrupted: boolean): Promise<void> {
  try {
    await fh.sync();
  } catch {
    // Already closed or unwritable: nothing more to save.
  }
  await fh.close().catch(() => {});
  const st = await statOrUndefined(part);
  if (!st || st.size === 0) {
    if (created) await removeIfEmpty(part);
    return;
  }
  // After Ctrl-C the error line itself says how to resume.
  out.info(`partial download kept: ${part} (${formatBytes(st.size)})${interrupted ? '' : '; run the same command again to resume'}`);
}
