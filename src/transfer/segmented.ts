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
import { afterCommit, type CheckedFile, type Checks } from './checks.js';
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
  const file = new SegmentedFile(await prepareDownload(displayUrl(url), target, opts), out);
  const { display, part, stateFile, name, existing, result, fh } = file.prepared;
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
        if (existing && opts.continue && !opts.force && isComplete(existing, remote)) return await file.alreadyComplete();
        if (remote.size === undefined) {
          // Without a size there is nothing to split; a plain get still resumes safely.
          await file.handOver('the server does not tell the file size');
          return await download(first, url, target, { force: opts.force, continue: opts.continue, limiter: opts.limiter, checks: opts.checks, verify: opts.verify }, out);
        }
        const size = remote.size;
        const decision: SegmentedDecision = file.forceFresh
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
        const progress = await file.begin(decision, state, size);
        const outcome = await fetchAll({ first, open, round, fh, stateFile, state, live: file.live, url, display, name, remote, opts, out, result, progress });
        if (outcome instanceof Restart) {
          file.restartAfter(outcome);
          continue;
        }
        break;
      } finally {
        round.abort();
        for (const s of sessions) s.close();
        signal.removeEventListener('abort', onAbort);
      }
    }
    const saved = await file.finish();
    if (opts.verify && opts.verify !== 'off') {
      const session = newSession();
      try {
        await verifyContent(session, url, part, { mode: opts.verify, retried, name, out, discard: () => discardPartial(part, stateFile) });
      } finally {
        session.close();
      }
    }
    return await file.commit(opts.checks, signal, saved?.remoteMtimeMs ?? undefined);
  } catch (err) {
    await file.fail(signal.aborted);
    throw err;
  }
}

/**
 * One segmented download's partial across its rounds, as FTP's and http's pget share it: the
 * layout of each round, the restarts, the checks and rename at the end, and what a failure keeps.
 */
export class SegmentedFile {
  live: Live[] = [];
  /** The next round starts from zero (a range proved the partial wrong). */
  forceFresh = false;
  private progress: TransferProgress | undefined;
  private restarts = 0;
  private announced = false;
  private finished = false;
  /** Ranges recorded as done may hold unproven data: nothing of this partial may be continued. */
  private untrusted = false;

  constructor(
    readonly prepared: Awaited<ReturnType<typeof prepareDownload>>,
    private readonly out: Output,
  ) {}

  /** The target is complete already (-c). */
  async alreadyComplete(): Promise<FileResult> {
    const { result, existing, fh, part, name } = this.prepared;
    result.skipped = true;
    result.size = existing!.size;
    this.finished = true;
    await fh.close();
    await removeIfEmpty(part);
    this.out.info(`${name}: already complete, skipped`);
    return result;
  }

  /** Ranges cannot be used: the download goes over one stream, which opens the partial itself. */
  async handOver(why: string): Promise<void> {
    const { fh, part, created, name } = this.prepared;
    this.out.info(`${name}: ${why}; downloading over one connection`);
    this.finished = true;
    await fh.close();
    if (created) await removeIfEmpty(part);
  }

  /** A round as decided: the reason of a restart, the partial laid out, the first round's note. */
  async begin(decision: SegmentedDecision | { action: string; ranges: Range[]; offset?: number; reason?: string }, state: SegmentedState, size: number): Promise<TransferProgress> {
    const { fh, stateFile, result, name } = this.prepared;
    if (decision.action === 'restart') {
      this.out.info(`${name}: restarting from zero: ${'reason' in decision ? decision.reason : ''}`);
      result.restarted = true;
    }
    this.live = await layOutRanges(fh, stateFile, state, decision, size);
    this.forceFresh = false;
    const already = doneBytes(this.live);
    if (!this.announced) {
      this.announced = true;
      result.resumedFrom = already;
      const note = resumeNote(decision, this.live, size);
      if (note) this.out.info(`${name}: ${note}`);
    }
    this.progress ??= this.out.transfer(name, size, already, 'got');
    return this.progress;
  }

  /** After a range proved the partial wrong: the next round starts from zero, at most MAX_RESTARTS times. */
  restartAfter(outcome: Restart): void {
    const { result, name, display } = this.prepared;
    if (++this.restarts > MAX_RESTARTS) {
      // The ranges recorded as done may hold data that was never proven (REST or Range ignored,
      // a file changing under us): nothing of this partial may be continued later.
      this.untrusted = true;
      throw new RftpError('transfer', `${display}: gave up restarting: ${outcome.reason}`);
    }
    this.out.info(`${name}: restarting from zero: ${outcome.reason}`);
    result.restarted = true;
    this.forceFresh = true;
  }

  /** Every range recorded complete: the partial flushed and its size checked. */
  async finish(): Promise<SegmentedState | undefined> {
    const { fh, part, target, stateFile, result } = this.prepared;
    const saved = await readState<SegmentedState>(stateFile, 'segmented');
    await finishSegments(fh, part, target, result.size, saved);
    this.finished = true;
    return saved;
  }

  /** The checks before the rename, the rename (with the remote time), the checks after. */
  async commit(checks: Checks | undefined, signal: AbortSignal, mtimeMs: number | undefined): Promise<FileResult> {
    const { part, target, stateFile, result, display } = this.prepared;
    const file: CheckedFile = { part, target, url: display, size: result.size, direction: 'down' };
    await checkedCommit(checks, file, stateFile, signal, () => commitPartial(part, target, mtimeMs));
    this.progress?.done();
    await afterCommit(checks, file, signal);
    return result;
  }

  /** On failure: an untrusted partial is discarded; otherwise what arrived is kept for a rerun. */
  async fail(interrupted: boolean): Promise<void> {
    const { fh, part, stateFile, created, result, name } = this.prepared;
    this.progress?.stop();
    if (this.untrusted) {
      await fh.close().catch(() => {});
      await unlink(part).catch(() => {});
      await removeState(stateFile);
      this.out.info(`${name}: partial data discarded: it could not be proven to belong to the remote file`);
    } else if (!this.finished) await keepSegments(fh, part, stateFile, created, this.live, result.size, this.out, interrupted);
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
 * Lays out the partial for a round as decided and returns its live ranges: emptied for a fresh
 * start; for anything but a resume, the state first, then the preallocation (a crash in between
 * leaves a partial whose size does not match its record, which restarts instead of passing for
 * complete). A plain partial taken over is fsynced first: its bytes become ranges marked done.
 */
export async function layOutRanges(fh: FileHandle, stateFile: string, state: SegmentedState, decision: { action: string; ranges: Range[] }, size: number): Promise<Live[]> {
  if (decision.action === 'fresh' || decision.action === 'restart') await fh.truncate(0);
  if (decision.action === 'convert') await fh.sync();
  if (decision.action !== 'resume') {
    await writeState(stateFile, state);
    await fh.truncate(size);
  }
  return decision.ranges.map((range) => ({ range, pos: range.start + range.done }));
}

/** What the first round says about where it continues from (nothing for a fresh start). */
export function resumeNote(decision: { action: string; offset?: number }, live: Live[], size: number): string | undefined {
  const already = doneBytes(live);
  if (decision.action === 'convert') return `continuing the ${formatBytes(decision.offset ?? 0)} of an earlier plain download in ${live.length} segments`;
  return already > 0 ? `resuming at ${formatBytes(already)} of ${formatBytes(size)} (${live.length} segments)` : undefined;
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
