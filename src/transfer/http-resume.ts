// The resume rules of an http(s) download, as pure functions (unit-tested): which partial may be
// continued, and whether a response proves that its bytes continue it. The server proves the
// identity (If-Range with the recorded validator); these check that it said so.
import type { IncomingHttpHeaders } from 'node:http';
import { markPrefixDone, splitRanges, validRanges, type Range } from './ranges.js';
import type { HttpState, SegmentedState } from './state.js';

export type HttpResumeDecision = { action: 'fresh' } | { action: 'resume'; offset: number; validator: string } | { action: 'restart'; reason: string };

export function decideHttpResume(partialSize: number | undefined, state: HttpState | undefined, url: string): HttpResumeDecision {
  if (partialSize === undefined || partialSize === 0) return { action: 'fresh' };
  if (!state) return { action: 'restart', reason: 'no record of which resource the partial data came from' };
  if (state.url !== url) return { action: 'restart', reason: 'the partial data came from another URL' };
  if (state.encoding) return { action: 'restart', reason: `the partial data was sent ${state.encoding}-encoded, which cannot be resumed` };
  if (!state.validator) return { action: 'restart', reason: 'the server gave no ETag or Last-Modified for it, so the partial data cannot be proven to belong' };
  if (state.length < 0) return { action: 'restart', reason: 'the server did not say the length, so the partial data cannot be proven complete' };
  if (partialSize > state.length) return { action: 'restart', reason: 'the partial file is larger than the resource' };
  return { action: 'resume', offset: partialSize, validator: state.validator };
}

/** A strong ETag, else Last-Modified: what If-Range may carry. A weak ETag proves nothing byte-wise. */
export function validatorOf(headers: IncomingHttpHeaders): string | undefined {
  const etag = one(headers.etag);
  if (etag && !etag.startsWith('W/')) return etag;
  return one(headers['last-modified']) || undefined;
}

/** The body's content coding when it is not the identity: such bytes are not the file's bytes. */
export function encodingOf(headers: IncomingHttpHeaders): string | undefined {
  const coding = one(headers['content-encoding'])?.trim().toLowerCase();
  return coding && coding !== 'identity' ? coding : undefined;
}

/** Content-Length of a 200, when it is a plain count. */
export function lengthOf(headers: IncomingHttpHeaders): number | undefined {
  const text = one(headers['content-length']);
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

export interface ContentRange {
  first: number;
  last: number;
  total: number | undefined;
}

export function parseContentRange(text: string | undefined): ContentRange | undefined {
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(text ?? '');
  if (!m) return undefined;
  const r = { first: Number(m[1]), last: Number(m[2]), total: m[3] === '*' ? undefined : Number(m[3]) };
  return r.last < r.first ? undefined : r;
}

export type RangeVerdict = { action: 'append' } | { action: 'restart'; reason: string; wholeBody: boolean } | { action: 'unsatisfiable' };

/**
 * Whether a response to `Range: bytes=from-[to]` with If-Range continues the partial: only a 206
 * whose Content-Range starts at `from`, ends where asked, and has the recorded total. A 200 is the
 * whole resource (changed, or ranges ignored): its body can be the fresh start (wholeBody).
 */
export function judgeRangeResponse(status: number, headers: IncomingHttpHeaders, asked: { from: number; to?: number }, length: number, validator: string): RangeVerdict {
  const coding = encodingOf(headers);
  if (coding) return { action: 'restart', reason: `the server sent the data ${coding}-encoded, which cannot be appended`, wholeBody: false };
  if (status === 416) return { action: 'unsatisfiable' };
  if (status === 200) {
    const now = validatorOf(headers);
    const why =
      now !== undefined && now !== validator
        ? 'the resource changed since the partial download (the server sent it whole, with a new validator)'
        : 'the server sent the whole file instead of the range asked for';
    return { action: 'restart', reason: why, wholeBody: true };
  }
  if (status !== 206) return { action: 'restart', reason: `unexpected answer ${status} to a range request`, wholeBody: false };
  const range = parseContentRange(one(headers['content-range']));
  const last = asked.to ?? length - 1;
  if (!range || range.first !== asked.from || range.last !== last || range.total !== length) {
    return {
      action: 'restart',
      reason: `the server answered with the wrong range (Content-Range: ${one(headers['content-range']) ?? 'none'}; asked for ${asked.from}-${last}/${length})`,
      wholeBody: false,
    };
  }
  return { action: 'append' };
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

export type HttpSegmentsDecision =
  | { action: 'fresh'; ranges: Range[] }
  | { action: 'resume'; ranges: Range[] }
  | { action: 'convert'; ranges: Range[]; offset: number }
  | { action: 'restart'; ranges: Range[]; reason: string };

/**
 * Whether pget over http(s) may continue a partial: a segmented one recorded for the same URL,
 * length and validator (the server's answer to HEAD now), preallocated, with ranges that fit; or
 * a plain get's partial of the same resource, taken over as the first bytes of the ranges.
 * Each range's request then carries If-Range too, for a change between HEAD and GET.
 */
export function decideHttpSegments(
  partialSize: number | undefined,
  segmented: SegmentedState | undefined,
  plain: HttpState | undefined,
  url: string,
  now: { length: number; validator: string },
  n: number,
): HttpSegmentsDecision {
  const fresh = splitRanges(now.length, n);
  if (partialSize === undefined || partialSize === 0) return { action: 'fresh', ranges: fresh };
  const record = segmented ?? plain;
  if (!record) return { action: 'restart', ranges: fresh, reason: 'no record of which resource the partial data came from' };
  if (record.url !== url) return { action: 'restart', ranges: fresh, reason: 'the partial data came from another URL' };
  const recorded = segmented ? { length: segmented.remoteSize, validator: segmented.validator } : { length: plain!.length, validator: plain!.encoding ? undefined : plain!.validator };
  if (!recorded.validator) return { action: 'restart', ranges: fresh, reason: 'the partial data cannot be proven to belong (no validator recorded)' };
  if (recorded.validator !== now.validator || recorded.length !== now.length) return { action: 'restart', ranges: fresh, reason: 'the resource changed since the partial download' };
  if (segmented) {
    if (partialSize !== now.length || !validRanges(segmented.ranges, now.length)) return { action: 'restart', ranges: fresh, reason: 'the segmented partial does not match its record' };
    return { action: 'resume', ranges: segmented.ranges.map((r) => ({ start: r.start, end: r.end, done: r.done })) };
  }
  if (partialSize > now.length) return { action: 'restart', ranges: fresh, reason: 'the partial file is larger than the resource' };
  // A complete plain partial still gets its last byte fetched, so its tail is compared once.
  return { action: 'convert', ranges: markPrefixDone(fresh, Math.min(partialSize, now.length - 1)), offset: partialSize };
}
