// get over http(s): the same partial and state files, overlap check, size check, checks before the
// rename and retries as an FTP get (download.ts); the resume is proven by the server (If-Range
// with the recorded validator) and by the response (http-resume.ts).
import { pipeline } from 'node:stream/promises';
import { RftpError } from '../errors.js';
import { header, statusError, type HttpClient, type HttpRequest, type HttpResponse } from '../session/http.js';
import { displayHttpUrl, parseHttpUrl, type HttpUrl } from '../session/http-url.js';
import { formatBytes } from '../ui/format.js';
import type { Output, TransferProgress } from '../ui/output.js';
import type { CheckedFile } from './checks.js';
import { commitDownload, isComplete, keepPartial, OVERLAP_BYTES, prepareDownload, withPartialResult, type DownloadOptions, type FileResult } from './download.js';
import { decideHttpResume, encodingOf, judgeRangeResponse, lengthOf, validatorOf, type HttpResumeDecision } from './http-resume.js';
import { flushAndCheck, readRange, removeIfEmpty } from './local-file.js';
import { OverlapMismatch, PartialWriter, RunningSha256, TooMuchData } from './partial-writer.js';
import { MAX_RESTARTS } from './resume.js';
import { readState, writeState, type HttpState } from './state.js';

/** What the first answer said about the resource: the identity a later resume is checked against. */
export interface HttpIdentity {
  length: number | undefined;
  validator: string | undefined;
  lastModified: string | undefined;
  encoding: string | undefined;
}

export function identityOf(res: HttpResponse): HttpIdentity {
  const encoding = encodingOf(res.headers);
  return { length: lengthOf(res.headers), validator: validatorOf(res.headers), lastModified: header(res.headers, 'last-modified'), encoding };
}

/** An HTTP date as milliseconds, when it is one. */
export const dateMs = (text: string | undefined) => {
  const ms = text ? Date.parse(text) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
};

/**
 * A request to the URL a state file recorded after redirects, else the one given. When the
 * recorded one fails (gone, refused, unreachable), the original is asked instead.
 */
export async function requestVia(client: HttpClient, url: HttpUrl, finalUrl: string | undefined, req: Omit<HttpRequest, 'url'>, out: Output): Promise<HttpResponse> {
  // A recorded plain-http end of an https URL is followed only as its redirect was: when allowed.
  const downgrade = url.scheme === 'https' && finalUrl?.startsWith('http:') && !client.config.allowInsecureRedirect;
  if (finalUrl && finalUrl !== displayHttpUrl(url) && !downgrade) {
    try {
      const res = await client.request({ ...req, url: parseHttpUrl(finalUrl) });
      if (res.status < 400) return res;
      res.body.resume();
      out.debug(`${finalUrl} answered ${res.status}; asking ${displayHttpUrl(url)}`);
    } catch (err) {
      if (client.signal.aborted || req.signal?.aborted) throw err;
      out.debug(`${finalUrl} failed (${(err as Error).message}); asking ${displayHttpUrl(url)}`);
    }
  }
  return client.request({ ...req, url });
}

/** A status that is no answer to a download: the server's own words, and whether to try again. */
export async function failOnStatus(res: HttpResponse, what: string, client: HttpClient): Promise<void> {
  if (res.status < 400 || res.status === 416) return;
  res.body.resume();
  throw statusError(res.body, what, await client.hasCredentials());
}

/** --verify-required cannot be met over http(s): said before anything is fetched. */
export function refuseVerifyRequired(opts: Pick<DownloadOptions, 'verify'>, display: string): void {
  if (opts.verify === 'required') throw new RftpError('checkFailed', `${display}: --verify-required: an http(s) server offers no hash of the file`);
}

/** The body into the partial; failures of the network are retryable, those of the data are not. */
export async function receive(res: HttpResponse, writer: PartialWriter): Promise<void> {
  try {
    await pipeline(res.body, writer);
  } finally {
    await writer.settled();
  }
}

// Long on purpose, as download(): each attempt's phases (request, proof of the answer, overlap
// check, length check) share the partial's handle; the rules are http-resume.ts's, unit-tested.
export async function httpDownload(client: HttpClient, url: HttpUrl, target: string, opts: DownloadOptions, out: Output): Promise<FileResult> {
  const display = displayHttpUrl(url);
  refuseVerifyRequired(opts, display);
  const { part, stateFile, name, existing, result, fh, created } = await prepareDownload(display, target, opts);
  let progress: TransferProgress | undefined;
  let restarts = 0;
  let announced = false;
  let done = false;
  let furthest = 0;
  let skipped = false;
  let skipChecked = false;
  const digest = opts.checks?.scan || opts.checks?.onComplete ? new RunningSha256() : undefined;

  const restart = async (reason: string) => {
    if (++restarts > MAX_RESTARTS) throw new RftpError('transfer', `${display}: gave up restarting: ${reason}`);
    out.info(`${name}: restarting from zero: ${reason}`);
    result.restarted = true;
    await fh.truncate(0);
    digest?.reset();
  };

  const attempt = async (): Promise<'done' | 'again'> => {
    // -c with the target there: HEAD says whether it is complete, without a byte of the body.
    if (existing && opts.continue && !opts.force && !skipChecked) {
      const head = await requestVia(client, url, undefined, { method: 'HEAD' }, out);
      head.body.resume();
      // A server that does not answer HEAD: the download itself goes ahead.
      if (head.status !== 405 && head.status !== 501) await failOnStatus(head, `get ${display}`, client);
      skipChecked = true;
      const id = identityOf(head);
      if (head.status === 200 && id.length !== undefined && isComplete(existing, { size: id.length, mtimeMs: dateMs(id.lastModified) })) {
        skipped = true;
        return 'done';
      }
    }
    const partialSize = (await fh.stat()).size;
    const state = await readState<HttpState>(stateFile, 'http');
    const decision = decideHttpResume(partialSize, state, display);
    if (decision.action === 'restart') await restart(decision.reason);
    const offset = decision.action === 'resume' ? decision.offset : 0;
    const verifyFrom = Math.max(0, offset - OVERLAP_BYTES);
    const resuming = decision.action === 'resume';
    const res = await requestVia(client, url, resuming ? state?.finalUrl : undefined, resuming ? { range: { from: verifyFrom }, ifRange: decision.validator } : {}, out);
    try {
      return await useResponse(res, { partialSize, state, decision, offset, verifyFrom });
    } finally {
      // Whatever went wrong before the body was read to its end, its socket is not left open.
      res.body.destroy();
    }
  };

  /** The answer to what was asked: proven and appended, taken as the fresh start, or refused (attempt() closes its body). */
  const useResponse = async (res: HttpResponse, asked: Asked): Promise<'done' | 'again'> => {
    const { partialSize, state, decision } = asked;
    let { offset, verifyFrom } = asked;
    await failOnStatus(res, `get ${display}`, client);
    if (decision.action === 'resume') {
      const verdict = judgeRangeResponse(res.status, res.headers, { from: verifyFrom }, state!.length, decision.validator);
      if (verdict.action === 'unsatisfiable') {
        if (await unchanged(client, url, state!, partialSize, out)) {
          out.info(`${name}: the partial data is complete (the server has no more: 416, same resource)`);
          result.size = partialSize;
          result.resumedFrom = partialSize;
          return 'done';
        }
        await restart('the server cannot send the rest (416), and the resource is not the one the partial data came from');
        return 'again';
      }
      if (verdict.action === 'restart') {
        await restart(verdict.reason);
        if (!verdict.wholeBody) return 'again';
        offset = 0;
        verifyFrom = 0;
      }
    } else if (res.status !== 200) {
      throw new RftpError('transfer', `get ${display}: unexpected answer ${res.status} to a plain request`);
    }
    const id = offset === 0 ? identityOf(res) : { length: state!.length, validator: state!.validator, lastModified: state!.lastModified, encoding: undefined };
    if (offset === 0) {
      if (id.encoding) out.warn(`${name}: the server sent it ${id.encoding}-encoded although the file as stored was asked for; saved as sent (no resume)`);
      else if (!id.validator) out.info(`${name}: the server gives no ETag or Last-Modified: an interrupted download will start again from zero`);
      // Without a length or chunked framing, a cut connection looks like the end of the body.
      if (!id.encoding && id.length === undefined && !/chunked/i.test(header(res.headers, 'transfer-encoding') ?? '')) {
        out.warn(`${name}: the server gives no length: the end of the connection is taken as the end of the file`);
      }
      const finalUrl = displayHttpUrl(res.url);
      await writeState(stateFile, {
        version: 1,
        kind: 'http',
        url: display,
        finalUrl: finalUrl !== display ? finalUrl : undefined,
        length: id.length ?? -1,
        validator: id.validator,
        lastModified: id.lastModified,
        encoding: id.encoding,
      });
    }
    result.size = id.length ?? 0;
    if (!announced) {
      announced = true;
      result.resumedFrom = offset;
      if (offset > 0) out.info(`${name}: resuming at ${formatBytes(offset)} of ${formatBytes(id.length ?? 0)}`);
    }
    const writer = new PartialWriter(fh, {
      start: verifyFrom,
      verifyTail: await readRange(fh, verifyFrom, offset),
      limit: id.length,
      limiter: opts.limiter,
      syncWrites: res.url.scheme === 'https',
      onBytes: (pos) => progress?.update(pos),
      digest,
    });
    progress ??= out.transfer(name, id.length, offset, 'got');
    const before = result.bytesTransferred;
    try {
      await receive(res, writer);
    } catch (err) {
      if (err instanceof OverlapMismatch || err instanceof TooMuchData) {
        await restart(err.message);
        return 'again';
      }
      throw err;
    } finally {
      result.bytesTransferred = before + (writer.position - verifyFrom);
      furthest = Math.max(furthest, writer.position);
    }
    if (!writer.overlapChecked) {
      await restart('the resource is shorter than the partial data');
      return 'again';
    }
    if (id.length !== undefined && writer.position < id.length) {
      throw new RftpError('transfer', `transfer ended early: ${writer.position} of ${id.length} bytes`, { retryable: true });
    }
    if (id.length === undefined) result.size = writer.position;
    return 'done';
  };

  try {
    while ((await client.run(`get ${display}`, () => furthest, attempt)) === 'again');
    if (skipped) {
      result.skipped = true;
      result.size = existing!.size;
      await fh.close();
      if (created) await removeIfEmpty(part);
      out.info(`${name}: already complete, skipped`);
      return result;
    }
    const state = await readState<HttpState>(stateFile, 'http');
    await flushAndCheck(fh, part, target, state && state.length >= 0 ? state.length : undefined);
    done = true;
    if (opts.verify === 'on') out.info(`${name}: --verify: an http(s) server offers no hash; the size check alone`);
    const sha256 = digest?.result(result.size);
    const file: CheckedFile = { part, target, url: display, size: result.size, direction: 'down', sha256 };
    await commitDownload(opts.checks, { state, stateFile, file, mtimeMs: dateMs(state?.lastModified), progress }, client.signal);
    return result;
  } catch (err) {
    progress?.stop();
    if (!done) await keepPartial(fh, part, created, out, client.signal.aborted);
    throw withPartialResult(err, result);
  }
}

/** What an attempt asked for, and from what partial. */
interface Asked {
  partialSize: number;
  state: HttpState | undefined;
  decision: HttpResumeDecision;
  offset: number;
  verifyFrom: number;
}

/**
 * A 416 to a resume: the partial is finished as it is only when the resource still has the
 * recorded length and validator (HEAD) and the partial holds every byte of it.
 */
async function unchanged(client: HttpClient, url: HttpUrl, state: HttpState, partialSize: number, out: Output): Promise<boolean> {
  const head = await requestVia(client, url, state.finalUrl, { method: 'HEAD' }, out);
  head.body.resume();
  if (head.status !== 200) return false;
  const id = identityOf(head);
  return id.length === state.length && id.validator === state.validator && partialSize === state.length;
}

/**
 * cat over http(s): the body to `write` as it comes. After a dropped connection it continues with
 * a range from the bytes already written, only when the server proves the same resource (If-Range,
 * a 206 from that offset): bytes already printed cannot be taken back.
 */
export async function httpCat(client: HttpClient, url: HttpUrl, write: (chunk: Buffer) => Promise<void>, out: Output): Promise<number> {
  const display = displayHttpUrl(url);
  let printed = 0;
  let first: HttpIdentity | undefined;
  let finalUrl: string | undefined;
  await client.run(
    `cat ${display}`,
    () => printed,
    async () => {
      const from = printed;
      // Nothing printed yet: a fresh start, whatever the first answer said.
      if (from === 0) first = undefined;
      const res = await requestVia(client, url, from > 0 ? finalUrl : undefined, from > 0 && first?.validator ? { range: { from }, ifRange: first.validator } : {}, out);
      try {
        await printBody(res, from);
      } finally {
        res.body.destroy();
      }
    },
  );
  return printed;

  async function printBody(res: HttpResponse, from: number): Promise<void> {
    await failOnStatus(res, `cat ${display}`, client);
    if (!first) {
      if (res.status !== 200) throw new RftpError('transfer', `cat ${display}: unexpected answer ${res.status}`);
      first = identityOf(res);
      finalUrl = displayHttpUrl(res.url);
    } else {
      const verdict =
        !first.validator || first.length === undefined
          ? { action: 'restart' as const, reason: 'the server gives no validator or length to continue from' }
          : judgeRangeResponse(res.status, res.headers, { from }, first.length, first.validator);
      if (verdict.action !== 'append') {
        res.body.destroy();
        const reason = verdict.action === 'restart' ? verdict.reason : 'the server cannot send the rest (416)';
        throw new RftpError('transfer', `cat ${display}: cannot continue after ${formatBytes(from)} already printed: ${reason}`);
      }
    }
    for await (const chunk of res.body) {
      await write(chunk as Buffer);
      printed += (chunk as Buffer).length;
    }
    if (first.length !== undefined && printed < first.length) throw new RftpError('transfer', `transfer ended early: ${printed} of ${first.length} bytes`, { retryable: true });
  }
}
