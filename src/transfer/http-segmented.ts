// pget over http(s): HEAD for the length, the validator and Accept-Ranges, then N ranges fetched at
// once (`Range: bytes=a-b` with If-Range each), written at their offsets into one preallocated
// partial whose state records each range's progress, as pget over FTP does (segmented.ts).
import type { FileHandle } from 'node:fs/promises';
import { RftpError } from '../errors.js';
import { header, type HttpClient, type HttpResponse } from '../session/http.js';
import { displayHttpUrl, type HttpUrl } from '../session/http-url.js';
import type { Output, TransferProgress } from '../ui/output.js';
import { isComplete, OVERLAP_BYTES, prepareDownload, withPartialResult, type FileResult } from './download.js';
import { dateMs, failOnStatus, httpDownload, identityOf, receive, refuseVerifyRequired, requestVia } from './http-download.js';
import { decideHttpSegments, judgeRangeResponse } from './http-resume.js';
import { readRange } from './local-file.js';
import { OverlapMismatch, PartialWriter, TooMuchData } from './partial-writer.js';
import { CHECKPOINT_MS, checkpointer, doneBytes, Restart, SegmentedFile, type Live, type SegmentedOptions } from './segmented.js';
import { splitRanges } from './ranges.js';
import { readState, type HttpState, type SegmentedState } from './state.js';

// Long on purpose, as segmentedOnce: the rounds (probe, fetch, restart when the resource changed,
// commit) share the partial's handle, its state and the result.
export async function httpSegmentedDownload(client: HttpClient, url: HttpUrl, target: string, opts: SegmentedOptions, out: Output): Promise<FileResult> {
  const display = displayHttpUrl(url);
  refuseVerifyRequired(opts, display);
  const file = new SegmentedFile(await prepareDownload(display, target, opts), out);
  const { stateFile, name, existing, result, fh } = file.prepared;
  let lastModified: string | undefined;
  try {
    for (;;) {
      const recorded = await readState<SegmentedState>(stateFile, 'segmented');
      const head = await client.run(
        `pget ${display}`,
        () => 0,
        async () => {
          const res = await requestVia(client, url, recorded?.finalUrl, { method: 'HEAD' }, out);
          res.body.resume();
          if (res.status !== 405 && res.status !== 501) await failOnStatus(res, `pget ${display}`, client);
          return res;
        },
      );
      const id = identityOf(head);
      const oneStream = whyOneStream(head, id);
      if (oneStream) {
        await file.handOver(oneStream);
        return await httpDownload(client, url, target, opts, out);
      }
      const length = id.length!;
      const validator = id.validator!;
      lastModified = id.lastModified;
      result.size = length;
      if (existing && opts.continue && !opts.force && isComplete(existing, { size: length, mtimeMs: dateMs(lastModified) })) return await file.alreadyComplete();
      const decision = file.forceFresh
        ? { action: 'fresh' as const, ranges: splitRanges(length, opts.segments) }
        : decideHttpSegments((await fh.stat()).size, recorded, await readState<HttpState>(stateFile, 'http'), display, { length, validator }, opts.segments);
      const finalUrl = displayHttpUrl(head.url);
      const state: SegmentedState = {
        version: 1,
        kind: 'segmented',
        url: display,
        remoteSize: length,
        remoteMtimeMs: null,
        ranges: decision.ranges,
        validator,
        finalUrl: finalUrl !== display ? finalUrl : undefined,
      };
      const progress = await file.begin(decision, state, length);
      const job: RangeJob = {
        client,
        url,
        display,
        name,
        fh,
        state,
        live: file.live,
        length,
        validator,
        opts,
        out,
        result,
        progress,
        stop: undefined,
        active: new Set(),
        round: linkedAbort(client.signal),
        stateFile,
      };
      const outcome = await fetchRanges(job).finally(() => job.round.abort());
      if (outcome instanceof Restart) {
        file.restartAfter(outcome);
        continue;
      }
      break;
    }
    await file.finish();
    if (opts.verify === 'on') out.info(`${name}: --verify: an http(s) server offers no hash; the size check alone`);
    return await file.commit(opts.checks, client.signal, dateMs(lastModified));
  } catch (err) {
    await file.fail(client.signal.aborted);
    throw withPartialResult(err, result);
  }
}

/** Why ranges cannot be used for this resource, said to the user; undefined when they can. */
function whyOneStream(head: HttpResponse, id: ReturnType<typeof identityOf>): string | undefined {
  if (head.status !== 200) return `the server does not answer HEAD (${head.status})`;
  if (!/\bbytes\b/i.test(header(head.headers, 'accept-ranges') ?? '')) return 'the server does not offer byte ranges (no Accept-Ranges: bytes)';
  if (id.encoding) return `the server sends it ${id.encoding}-encoded`;
  if (id.length === undefined) return 'the server does not say the length';
  if (!id.validator) return 'the server gives no ETag or Last-Modified, so ranges could not be proven to come from one version';
  if (id.length === 0) return 'the file is empty';
  return undefined;
}

interface RangeJob {
  client: HttpClient;
  url: HttpUrl;
  display: string;
  name: string;
  fh: FileHandle;
  stateFile: string;
  state: SegmentedState;
  live: Live[];
  length: number;
  validator: string;
  opts: SegmentedOptions;
  out: Output;
  result: FileResult;
  progress: TransferProgress;
  /** Aborted with the client's signal, or when the others must stop: ends requests and retry waits. */
  round: AbortController;
  /** Set when a range proved the partial wrong (or one failed for good): the others stop. */
  stop: Restart | 'failed' | undefined;
  /** Bodies being read: destroyed when the others must stop. */
  active: Set<HttpResponse>;
}

/** Every unfinished range, opts.segments at once; a Restart from any stops the others. */
async function fetchRanges(job: RangeJob): Promise<'done' | Restart> {
  const queue = job.live.filter((l) => l.pos < l.range.end);
  const checkpoint = checkpointer(job);
  const timer = setInterval(() => void checkpoint().catch(() => {}), CHECKPOINT_MS);
  let failure: unknown;
  const halt = (why: Restart | 'failed') => {
    job.stop ??= why;
    job.round.abort();
    for (const res of job.active) res.body.destroy();
  };
  const worker = async () => {
    while (queue.length > 0 && job.stop === undefined) {
      const l = queue.shift()!;
      try {
        const outcome = await fetchRange(job, l);
        if (outcome instanceof Restart) halt(outcome);
      } catch (err) {
        if (job.stop === undefined) failure = err;
        halt('failed');
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(job.opts.segments, queue.length) }, worker));
  } finally {
    clearInterval(timer);
    await checkpoint().catch(() => {});
  }
  if (job.stop instanceof Restart) return job.stop;
  if (failure !== undefined) throw failure;
  const missing = job.live.filter((l) => l.pos < l.range.end).length;
  if (missing > 0) throw new RftpError('transfer', `${job.display}: ${missing} segment(s) left unfinished; run again to resume`, { retryable: true });
  return 'done';
}

/** One range, retried from where it stands (the client's retry policy), each answer checked against it. */
function fetchRange(job: RangeJob, l: Live): Promise<'done' | 'stopped' | Restart> {
  const { client, url, display, fh, live, length, validator, opts, result, progress } = job;
  const r = l.range;
  return client.run(
    `pget ${display} bytes ${r.start}-${r.end - 1}`,
    () => l.pos,
    async () => {
      if (job.stop) return 'stopped';
      const from = l.pos;
      // As over FTP: a range with little done reaches back into the previous, complete one, so
      // even its first byte is compared with bytes already proven.
      const prev = live.find((o) => o.range.end === r.start);
      const floor = prev && prev.pos >= prev.range.end ? prev.range.start : r.start;
      const verifyFrom = Math.max(floor, from - OVERLAP_BYTES);
      const asked = { from: verifyFrom, to: r.end - 1 };
      const res = await requestVia(client, url, job.state.finalUrl, { range: asked, ifRange: validator, signal: job.round.signal }, job.out);
      if (job.stop) {
        res.body.destroy();
        return 'stopped';
      }
      await failOnStatus(res, `pget ${display}`, client);
      const verdict = judgeRangeResponse(res.status, res.headers, asked, length, validator);
      if (verdict.action !== 'append') {
        res.body.destroy();
        return new Restart(verdict.action === 'unsatisfiable' ? `the server cannot send bytes ${asked.from}-${asked.to} (416): the resource changed` : verdict.reason);
      }
      const writer = new PartialWriter(fh, {
        start: verifyFrom,
        verifyTail: await readRange(fh, verifyFrom, from),
        limit: length,
        stopAt: r.end,
        limiter: opts.limiter,
        syncWrites: res.url.scheme === 'https',
        onBytes: (pos) => {
          l.pos = pos;
          progress.update(doneBytes(live));
        },
      });
      job.active.add(res);
      try {
        await receive(res, writer);
      } catch (err) {
        if (job.stop) return 'stopped';
        res.body.destroy();
        if (err instanceof OverlapMismatch || err instanceof TooMuchData) return new Restart(err.message);
        throw err;
      } finally {
        job.active.delete(res);
        result.bytesTransferred += writer.position - verifyFrom;
      }
      if (l.pos < r.end) {
        if (!writer.overlapChecked) return new Restart('the resource is shorter than the partial data');
        throw new RftpError('transfer', `segment ended early: ${l.pos - r.start} of ${r.end - r.start} bytes`, { retryable: true });
      }
      return 'done';
    },
    job.round.signal,
  );
}

/**
 * A controller aborted with `parent` too (AbortSignal.any needs Node 20.3; any Node 20 is
 * allowed). Its own abort takes the listener off the parent, which lives for the whole command.
 */
function linkedAbort(parent: AbortSignal): AbortController {
  const c = new AbortController();
  const follow = () => c.abort();
  if (parent.aborted) c.abort();
  else {
    parent.addEventListener('abort', follow, { once: true });
    c.signal.addEventListener('abort', () => parent.removeEventListener('abort', follow), { once: true });
  }
  return c;
}
