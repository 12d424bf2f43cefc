import { unlink, type FileHandle } from 'node:fs/promises';
import { RftpError } from '../errors.js';
import { CommandRefused, closeConnection, dataIsEncrypted, refusedExtraConnection, retrieve } from '../session/ops.js';
import { statRemote, type RemoteInfo } from '../session/remote.js';
import { backoffDelay, sleep } from '../session/retry.js';
import { acceptedConnections } from '../session/pool.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import { formatBytes } from '../ui/format.js';
import type { Output, TransferProgress } from '../ui/output.js';
import { afterCommit, type CheckedFile } from './checks.js';
import { checkedCommit, discardPartial, download, isComplete, OVERLAP_BYTES, prepareDownload, type DownloadOptions, type FileResult } from './download.js';
import { commitPartial, flushAndCheck, readRange, removeIfEmpty } from './local-file.js';
import { OverlapMismatch, PartialWriter, TooMuchData } from './partial-writer.js';
import { decideSegmentedResume, rangesComplete, splitRanges, type Range, type SegmentedDecision } from './ranges.js';
import type { TokenBucket } from './rate-limit.js';
import { MAX_RESTARTS } from './resume.js';
import { readState, removeState, writeState, type DownloadState, type SegmentedState } from './state.js';
import { retryOnMismatch, verifyContent } from './verify.js';

export interface SegmentedOptions extends DownloadOptions {
  /** Connections (and ranges for a fresh start). */
  segments: number;
  /** One bucket for all connections: --limit-rate caps the whole download. */
  limiter?: TokenBucket;
}

/** Makes a Session on its own control connection, stopped by the given signal. */
export type SessionMaker = (signal?: AbortSignal) => Session;

/** How often range progress is made durable (fsync data, then the state): bounds what a crash costs. */
export const CHECKPOINT_MS = 250;

/** A range proved that the partial data cannot be trusted: start the whole file again. */
export class Restart {
  constructor(readonly reason: string) {}
}

/** A range being fetched: `pos` is the absolute offset up to which its bytes are written. */
export interface Live {
  range: Range;
  pos: number;
}

/**
 * pget: the file is split into ranges, each fetched on its own connection (REST at its current
 * offset, connection closed once the range is full: basic-ftp has no ABOR) and written at its
 * offset into one preallocated partial file. The state file records each range's progress after
 * the data was fsynced, so a rerun continues every range where it stopped.
 */
// Long on purpose: the rounds (fetch, restart when the file changed, commit) share the partial's
// file handle, its state and the result; the rounds themselves are fetchAll and its workers.
export function segmentedDownload(newSession: SessionMaker, signal: AbortSignal, url: FtpUrl, target: string, opts: SegmentedOptions, out: Output): Promise<FileResult> {
  return retryOnMismatch(out, (retried) => segmentedOnce(newSession, signal, url, target, opts, out, retried));
}

async function segmentedOnce(newSession: SessionMaker, signal: AbortSignal, url: FtpUrl, target: string, opts: SegmentedOptions, out: Output, retried: boolean): Promise<FileResult> {
  const { display, part, stateFile, name, existing, result, fh, created } = await prepareDownload(displayUrl(url), target, opts);
  let progress: TransferProgress | undefined;
  let restarts = 0;
  let forceFresh = false;
  let finished = false;
  let untrusted = false;
  let live: Live[] = [];
  let announced = false;

  try {
    for (;;) {
      const round = new AbortController();
      const onAbort = () => round.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const sessions: Session[] = [];
      const open = () => {
        const s = newSession(round.signal);
        sessions.push(s);
        return s;
      };
      try {
        const first = open();
        const remote = await first.run(
          `pget ${display}`,
          () => 0,
          (c) => statRemote(c, url.path),
        );
        result.size = remote.size ?? 0;
        if (existing && opts.continue && !opts.force && isComplete(existing, remote)) {
          result.skipped = true;
          result.size = existing.size;
          await fh.close();
          await removeIfEmpty(part);
          out.info(`${name}: already complete, skipped`);
          return result;
        }
        if (remote.size === undefined) {
          // Without a size there is nothing to split; a plain get still resumes safely.
          out.info(`${name}: the server does not tell the file size; downloading over one connection`);
          await fh.close();
          if (created) await removeIfEmpty(part);
          finished = true;
          return await download(first, url, target, { force: opts.force, continue: opts.continue, limiter: opts.limiter, checks: opts.checks, verify: opts.verify }, out);
        }
        const size = remote.size;
        const decision: SegmentedDecision = forceFresh
          ? { action: 'fresh', ranges: splitRanges(size, opts.segments) }
          : decideSegmentedResume(
              (await fh.stat()).size,
              await readState<SegmentedState>(stateFile, 'segmented'),
              await readState<DownloadState>(stateFile, 'download'),
              display,
              { ...remote, size },
              opts.segments,
            );
        const state: SegmentedState = { version: 1, kind: 'segmented', url: display, remoteSize: size, remoteMtimeMs: remote.mtimeMs ?? null, ranges: decision.ranges };
        if (decision.action === 'restart') {
          out.info(`${name}: restarting from zero: ${decision.reason}`);
          result.restarted = true;
        }
        if (decision.action === 'fresh' || decision.action === 'restart') await fh.truncate(0);
        if (decision.action !== 'resume') {
          // State first, then the preallocation: a crash in between leaves a partial whose size
          // does not match its record, which restarts instead of passing for complete.
          await writeState(stateFile, state);
          await fh.truncate(size);
        }
        forceFresh = false;
        live = decision.ranges.map((range) => ({ range, pos: range.start + range.done }));
        const already = doneBytes(live);
        if (!announced) {
          announced = true;
          result.resumedFrom = already;
          if (decision.action === 'convert') out.info(`${name}: continuing the ${formatBytes(decision.offset)} of an earlier plain download in ${live.length} segments`);
          else if (already > 0) out.info(`${name}: resuming at ${formatBytes(already)} of ${formatBytes(size)} (${live.length} segments)`);
        }
        progress ??= out.transfer(name, size, already, 'got');
        const outcome = await fetchAll({ first, open, round, fh, stateFile, state, live, url, display, name, remote, opts, out, result, progress });
        if (outcome instanceof Restart) {
          if (++restarts > MAX_RESTARTS) {
            // The ranges recorded as done may hold data that was never proven (REST ignored, a
            // file changing under us): nothing of this partial may be continued later.
            untrusted = true;
            throw new RftpError('transfer', `${display}: gave up restarting: ${outcome.reason}`);
          }
          out.info(`${name}: restarting from zero: ${outcome.reason}`);
          result.restarted = true;
          forceFresh = true;
          continue;
        }
        break;
      } finally {
        round.abort();
        for (const s of sessions) s.close();
        signal.removeEventListener('abort', onAbort);
      }
    }
    const saved = await readState<SegmentedState>(stateFile, 'segmented');
    await finishSegments(fh, part, target, result.size, saved);
    finished = true;
    if (opts.verify && opts.verify !== 'off') {
      const session = newSession();
      try {
        await verifyContent(session, url, part, { mode: opts.verify, retried, name, out, discard: () => discardPartial(part, stateFile) });
      } finally {
        session.close();
      }
    }
    const file: CheckedFile = { part, target, url: display, size: result.size, direction: 'down' };
    await checkedCommit(opts.checks, file, stateFile, signal, () => commitPartial(part, target, saved?.remoteMtimeMs ?? undefined));
    progress?.done();
    await afterCommit(opts.checks, file, signal);
    return result;
  } catch (err) {
    progress?.stop();
    if (untrusted) {
      await fh.close().catch(() => {});
      await unlink(part).catch(() => {});
      await removeState(stateFile);
      out.info(`${name}: partial data discarded: it could not be proven to belong to the remote file`);
    } else if (!finished) await keepSegments(fh, part, stateFile, created, live, result.size, out, signal.aborted);
    throw err;
  }
}

interface Job {
  first: Session;
  open: () => Session;
  round: AbortController;
  fh: FileHandle;
  stateFile: string;
  state: SegmentedState;
  live: Live[];
  url: FtpUrl;
  display: string;
  name: string;
  remote: RemoteInfo;
  opts: SegmentedOptions;
  out: Output;
  result: FileResult;
  progress: TransferProgress;
}

/** Runs the unfinished ranges over as many connections as the server accepts (up to opts.segments). */
// Long on purpose: the workers' loop and the connection cap's bookkeeping (alive, counted,
// restart) must be read together to see that no range is lost or fetched twice.
async function fetchAll(job: Job): Promise<'done' | Restart> {
  const { live, out, name, round } = job;
  const queue = live.filter((l) => l.pos < l.range.end);
  if (queue.length === 0) return 'done';
  const want = Math.min(job.opts.segments, queue.length);
  // Servers cap connections per user or address (vsftpd's max_per_ip answers 421): use what we got.
  const workers =
    want > 1
      ? await acceptedConnections(
          job.first,
          Array.from({ length: want - 1 }, () => job.open()),
          (text) => out.warn(`${name}: ${text}`),
        )
      : [job.first];

  const checkpoint = checkpointer(job);
  const timer = setInterval(() => void checkpoint().catch(() => {}), CHECKPOINT_MS);
  let restart: Restart | undefined;
  let failure: unknown;
  // Workers in their loop and not waiting for a connection: one of them picks up any range a
  // refused connection puts back. The last one never gives up (it retries like any session).
  let alive = workers.length;
  const work = async (session: Session) => {
    let counted = true;
    try {
      while (queue.length > 0 && !restart && failure === undefined) {
        const l = queue.shift()!;
        alive--;
        counted = false;
        // Checked and put back in one step, so no other worker can leave in between.
        const giveUp = () => {
          if (alive === 0) return false;
          queue.unshift(l);
          return true;
        };
        if (!(await reconnect(session, round.signal, giveUp, out))) {
          // This connection is refused now (the cap counts it): the others take over its ranges.
          out.warn(`${name}: a connection was refused; continuing with ${alive}`);
          return;
        }
        alive++;
        counted = true;
        const outcome = await fetchRangeBusy(job, session, l);
        if (outcome instanceof Restart) {
          restart ??= outcome;
          round.abort();
        }
      }
    } catch (err) {
      if (failure === undefined && !restart) failure = err;
      round.abort();
    } finally {
      if (counted) alive--;
    }
  };
  try {
    await Promise.all(workers.map(work));
  } finally {
    clearInterval(timer);
    await checkpoint().catch(() => {});
  }
  if (restart) return restart;
  if (failure !== undefined) throw failure;
  const missing = live.filter((l) => l.pos < l.range.end).length;
  if (missing > 0) throw new RftpError('transfer', `${job.display}: ${missing} segment(s) left unfinished; run again to resume`, { retryable: true });
  return 'done';
}

/**
 * Opens the session's connection. A refusal (421, or 530 from a per-user cap: the same login
 * already worked) means busy: wait and try again; short network failures are retried too.
 * Returns false only after a few refusals and when giveUp() handed the range to another worker.
 */
async function reconnect(session: Session, signal: AbortSignal, giveUp: () => boolean, out: Output): Promise<boolean> {
  const policy = session.config.retry;
  for (let i = 1; ; i++) {
    try {
      await session.connected();
      return true;
    } catch (err) {
      if (signal.aborted) throw err;
      const busy = refusedExtraConnection(err);
      if (!busy && !(err instanceof RftpError && err.retryable)) throw err;
      if (busy && i > 3 && giveUp()) return false;
      if (i > Math.max(3, policy.retries)) throw busy ? new RftpError('connection', `${(err as Error).message} (the server kept refusing the connection)`) : err;
      // The server may still count a connection we just closed: give it a moment to notice.
      const delay = i <= 3 ? 250 * i : backoffDelay(policy, i - 3);
      out.debug(`${(err as Error).message}; connecting again in ${delay} ms`);
      await sleep(delay, signal);
    }
  }
}

/** fetchRange, where a login refused on a reconnect after a drop counts as busy, not as bad credentials. */
async function fetchRangeBusy(job: Job, session: Session, l: Live): Promise<'done' | Restart> {
  for (let i = 0; ; i++) {
    try {
      return await fetchRange(job, session, l);
    } catch (err) {
      if (!(err instanceof RftpError && err.kind === 'login') || i >= 3) throw err;
      await reconnect(session, job.round.signal, () => false, job.out);
    }
  }
}

/** Fetches one range on one session (which reconnects and retries on its own), from where it stands. */
async function fetchRange(job: Job, session: Session, l: Live): Promise<'done' | Restart> {
  const { fh, url, display, remote, opts, result, progress, live } = job;
  const r = l.range;
  let attempts = 0;
  return session.run(
    `pget ${display} bytes ${r.start}-${r.end - 1}`,
    () => l.pos,
    async (client) => {
      if (attempts++ > 0) {
        const now = await statRemote(client, url.path);
        if (now.size !== remote.size || now.mtimeMs !== remote.mtimeMs) return new Restart('the remote file changed during the download');
      }
      const from = l.pos;
      // The bytes just before the resume point are fetched again and compared (as a plain get does).
      // A range with little or nothing done reaches back into the previous range when that one is
      // complete on disk: so even its first byte is proven to come from the right offset (a server
      // that accepts REST but ignores it is caught). Range 0 starts at 0 and needs no REST.
      const prev = live.find((o) => o.range.end === r.start);
      const floor = prev && prev.pos >= prev.range.end ? prev.range.start : r.start;
      const verifyFrom = Math.max(floor, from - OVERLAP_BYTES);
      const writer = new PartialWriter(fh, {
        start: verifyFrom,
        verifyTail: await readRange(fh, verifyFrom, from),
        limit: remote.size,
        // The last range runs to the end of the file, so a file that grew is noticed (TooMuchData).
        stopAt: r.end < (remote.size ?? 0) ? r.end : undefined,
        limiter: opts.limiter,
        syncWrites: dataIsEncrypted(client),
        // basic-ftp has no ABOR: a range cut short ends with its connection, never reused.
        onFull: () => closeConnection(client),
        onBytes: (pos) => {
          l.pos = pos;
          progress.update(doneBytes(live));
        },
      });
      const account = () => {
        result.bytesTransferred += writer.position - verifyFrom;
      };
      try {
        await retrieve(client, writer, url.path, verifyFrom);
      } catch (err) {
        await writer.settled();
        account();
        if (l.pos >= r.end) return 'done';
        if (err instanceof OverlapMismatch || err instanceof TooMuchData) return new Restart(err.message);
        if (err instanceof CommandRefused) {
          throw new RftpError('transfer', `${display}: ${err.message}: it cannot be fetched in segments; use rftp get`);
        }
        throw err;
      }
      await writer.settled();
      account();
      if (l.pos < r.end) {
        if (!writer.overlapChecked) return new Restart('the remote file is shorter than the partial data');
        throw new RftpError('transfer', `segment ended early: ${l.pos - r.start} of ${r.end - r.start} bytes`, { retryable: true });
      }
      return 'done';
    },
  );
}

/**
 * Saves range progress: positions are read first, the data is fsynced, then the state is
 * replaced atomically, so the state never claims bytes that are not on disk.
 */
export function checkpointer(job: { fh: FileHandle; stateFile: string; state: SegmentedState; live: Live[] }): () => Promise<void> {
  let chain: Promise<void> = Promise.resolve();
  let saved = -1;
  return () => {
    chain = chain.then(async () => {
      const snap = job.live.map((l) => l.pos - l.range.start);
      const sum = snap.reduce((a, b) => a + b, 0);
      if (sum === saved) return;
      await job.fh.datasync();
      await writeState(job.stateFile, { ...job.state, ranges: job.live.map((l, i) => ({ start: l.range.start, end: l.range.end, done: snap[i] })) });
      saved = sum;
    });
    return chain;
  };
}

export const doneBytes = (live: Live[]) => live.reduce((n, l) => n + (l.pos - l.range.start), 0);

export async function finishSegments(fh: FileHandle, part: string, target: string, size: number, saved: SegmentedState | undefined): Promise<void> {
  // The state is the proof: a preallocated partial has the full size whether or not it is filled.
  if (!saved || !rangesComplete(saved.ranges, size)) {
    throw new RftpError('transfer', `${target}: not every segment was downloaded; run again to resume`, { retryable: true });
  }
  await flushAndCheck(fh, part, target, size);
}

/** On failure: the data is flushed and the ranges' progress was saved by the last checkpoint. */
export async function keepSegments(fh: FileHandle, part: string, stateFile: string, created: boolean, live: Live[], size: number, out: Output, interrupted: boolean): Promise<void> {
  await fh.sync().catch(() => {});
  await fh.close().catch(() => {});
  const have = doneBytes(live);
  if (have === 0) {
    // Nothing arrived: a partial this run created (preallocated, so not empty) is not worth keeping.
    if (created) {
      await unlink(part).catch(() => {});
      await removeState(stateFile);
    }
    return;
  }
  out.info(`partial download kept: ${part} (${formatBytes(have)} of ${formatBytes(size)})${interrupted ? '' : '; run the same command again to resume'}`);
}
