import type { RemoteInfo } from '../session/remote.js';
import { decideDownloadResume } from './resume.js';
import type { DownloadState, SegmentedState } from './state.js';

export interface Range {
  start: number;
  end: number;
  /** Bytes from start that are on disk. */
  done: number;
}

/** Segments smaller than this are not worth a connection of their own. */
export const MIN_RANGE = 1024 * 1024;

/** n contiguous ranges covering [0, size), as equal as whole bytes allow; fewer when the file is small. */
export function splitRanges(size: number, n: number, minRange = MIN_RANGE): Range[] {
  if (size <= 0) return [];
  const count = Math.max(1, Math.min(n, Math.floor(size / minRange) || 1));
  const ranges: Range[] = [];
  for (let i = 0; i < count; i++) {
    ranges.push({ start: Math.floor((size * i) / count), end: Math.floor((size * (i + 1)) / count), done: 0 });
  }
  return ranges;
}

/** Whether recorded ranges still describe a file of `size` bytes: contiguous, in order, progress in bounds. */
export function validRanges(ranges: unknown, size: number): ranges is Range[] {
  if (!Array.isArray(ranges) || ranges.length === 0) return false;
  let at = 0;
  for (const r of ranges as Range[]) {
    if (!r || ![r.start, r.end, r.done].every(Number.isSafeInteger)) return false;
    if (r.start !== at || r.end <= r.start || r.done < 0 || r.done > r.end - r.start) return false;
    at = r.end;
  }
  return at === size;
}

export type SegmentedDecision =
  | { action: 'fresh'; ranges: Range[] }
  | { action: 'resume'; ranges: Range[] }
  /** A plain `get` partial of the same remote file, taken over as the first bytes of the ranges. */
  | { action: 'convert'; ranges: Range[]; offset: number }
  | { action: 'restart'; ranges: Range[]; reason: string };

/**
 * Whether a segmented record still describes the partial: the identity checks of a plain get (URL,
 * size, modification time), and ranges that make sense for the remote size. A partial of the full
 * size is required, unless `shorter` (the single-stream takeover truncates to its proven prefix
 * before it records the plain state: a crash in between leaves a shorter partial, still proven
 * below its length).
 */
function checkSegmentedRecord(partialSize: number, segmented: SegmentedState, url: string, remote: RemoteInfo, shorter: boolean): { ranges: Range[] } | { reason: string } {
  const asPlain: DownloadState = { version: 1, kind: 'download', url: segmented.url, remoteSize: segmented.remoteSize, remoteMtimeMs: segmented.remoteMtimeMs };
  const d = decideDownloadResume(partialSize, asPlain, url, remote);
  if (d.action === 'restart') return { reason: d.reason };
  const size = remote.size!;
  if ((shorter ? partialSize > size : partialSize !== size) || !validRanges(segmented.ranges, size)) {
    return { reason: 'the segmented partial does not match its record' };
  }
  return { ranges: segmented.ranges.map((r) => ({ start: r.start, end: r.end, done: r.done })) };
}

/**
 * Whether a partial may be continued by a segmented download. The identity checks are those of a
 * plain get (URL, size, modification time); a segmented partial must also be preallocated to the
 * full size with ranges that still make sense. A plain get's partial of the same file is a prefix,
 * so it is converted rather than thrown away.
 */
export function decideSegmentedResume(
  partialSize: number | undefined,
  segmented: SegmentedState | undefined,
  plain: DownloadState | undefined,
  url: string,
  remote: RemoteInfo & { size: number },
  n: number,
): SegmentedDecision {
  const fresh = splitRanges(remote.size, n);
  if (partialSize === undefined || partialSize === 0) return { action: 'fresh', ranges: fresh };
  if (segmented) {
    const checked = checkSegmentedRecord(partialSize, segmented, url, remote, false);
    if ('reason' in checked) return { action: 'restart', ranges: fresh, reason: checked.reason };
    return { action: 'resume', ranges: checked.ranges };
  }
  const d = decideDownloadResume(partialSize, plain, url, remote);
  if (d.action === 'restart') return { action: 'restart', ranges: fresh, reason: d.reason };
  if (d.action === 'fresh') return { action: 'fresh', ranges: fresh };
  // A complete plain partial still gets its last byte fetched, so its tail is compared once.
  return { action: 'convert', ranges: markPrefixDone(fresh, Math.min(d.offset, remote.size - 1)), offset: d.offset };
}

/**
 * The end of the contiguous proven prefix of recorded ranges: the highest offset such that every
 * byte before it was recorded as written. Range 0's progress; when range 0 is complete, range 1's,
 * and so on. Bytes a later range wrote past a gap do not count. Ranges must be valid (validRanges).
 */
export function provenPrefix(ranges: Range[]): number {
  let at = 0;
  for (const r of ranges) {
    if (r.start !== at) break;
    at = r.start + r.done;
    if (r.done < r.end - r.start) break;
  }
  return at;
}

export type SingleStreamDecision =
  | { action: 'fresh' }
  /** Continue from offset; `refetched` bytes recorded past it (after a gap) are fetched again. */
  | { action: 'convert'; offset: number; refetched: number }
  | { action: 'restart'; reason: string };

/**
 * Whether a segmented (pget) partial may be continued by one stream (get --segments 1, sync): after
 * the same checks as a segmented resume, from the end of its proven prefix, never beyond the
 * partial's length. Nothing proven at offset 0 means a restart, with the reason.
 */
export function decideSingleStreamResume(partialSize: number | undefined, segmented: SegmentedState, url: string, remote: RemoteInfo): SingleStreamDecision {
  if (partialSize === undefined || partialSize === 0) return { action: 'fresh' };
  const checked = checkSegmentedRecord(partialSize, segmented, url, remote, true);
  if ('reason' in checked) return { action: 'restart', reason: checked.reason };
  const offset = Math.min(provenPrefix(checked.ranges), partialSize);
  if (offset === 0) return { action: 'restart', reason: 'the earlier segmented download has no complete data at the start of the file' };
  const recorded = checked.ranges.reduce((n, r) => n + r.done, 0);
  return { action: 'convert', offset, refetched: Math.max(0, recorded - offset) };
}

/** Ranges with everything below offset counted as done. */
export function markPrefixDone(ranges: Range[], offset: number): Range[] {
  return ranges.map((r) => ({ ...r, done: Math.max(0, Math.min(r.end, offset) - r.start) }));
}

/** Whether recorded ranges cover [0, size) with every byte done: a preallocated partial has the full size either way. */
export function rangesComplete(ranges: unknown, size: number): boolean {
  if (size === 0) return Array.isArray(ranges) && ranges.length === 0;
  return validRanges(ranges, size) && ranges.every((r) => r.done === r.end - r.start);
}
