// Pure decisions: what a sync does, given the two walked trees. No I/O here, so every rule is
// unit-tested (test/unit/sync-plan.test.ts).
import { ancestorWhere, relParent } from './names.js';
import { globRegExp } from './glob.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface Entry {
  type: EntryType;
  /** Bytes, when known for sure (junk or huge numbers count as unknown). */
  size?: number;
  /** Modification time in ms (UTC), only when known to the second (MLSD, local stat). */
  mtimeMs?: number;
  /** A remote file's time from a LIST line (start and length of the minute or day shown), where nothing better exists. */
  listed?: { ms: number; precisionMs: number };
}

export interface Problem {
  path: string;
  message: string;
}

/** One side of a sync, as walked. Paths are relative to the root, "/"-separated, root excluded. */
export interface Tree {
  entries: Map<string, Entry>;
  /** Final path -> size of rftp's partial for it (`x.rftp-part`) found on this side. */
  partials: Map<string, number>;
  /** rftp's own partial/state files found on this side (relative paths). */
  reserved: string[];
  /** Paths that exist but are not synced (filtered out, symlinks, reserved names): never deleted, nor their parents. */
  kept: Set<string>;
  /** Entries left out with a warning that does not fail the run (e.g. symlinks at the source). */
  skipped: Problem[];
  /** Names skipped as unsafe, duplicates, cut-off or unparsable listings, limits: each one fails the run. */
  problems: Problem[];
  /** False when any listing failed, was cut short or dropped lines: such a tree never drives a delete. */
  complete: boolean;
}

export function emptyTree(): Tree {
  return { entries: new Map(), partials: new Map(), reserved: [], kept: new Set(), skipped: [], problems: [], complete: true };
}

export type Action =
  | { op: 'mkdir'; path: string }
  | { op: 'send' | 'replace' | 'continue'; path: string; size?: number; mtimeMs?: number; reason: string }
  | { op: 'skip'; path: string; size?: number }
  | { op: 'delete'; path: string; type: EntryType; replacedBy?: 'file' | 'dir' }
  | { op: 'conflict'; path: string; reason: string };

export interface PlanOptions {
  delete: boolean;
  maxDelete?: number;
}

export interface Plan {
  mkdirs: Array<Extract<Action, { op: 'mkdir' }>>;
  transfers: Array<Extract<Action, { op: 'send' | 'replace' | 'continue' }>>;
  skips: Array<Extract<Action, { op: 'skip' }>>;
  conflicts: Array<Extract<Action, { op: 'conflict' }>>;
  /** Deepest first, so a directory is empty by the time it is removed. */
  deletes: Array<Extract<Action, { op: 'delete' }>>;
  /**
   * With --delete: destination entries of the wrong type (a directory where the source has a
   * file, a file or symlink where it has a directory), with everything under them, deepest first.
   * They are removed before anything is written, so the source's entry can take their place.
   */
  replaced: Array<Extract<Action, { op: 'delete' }>>;
  /** Why the deletes will not run, when --delete was given but they cannot. */
  deletesBlocked?: string;
}

/** A destination this much older than the source (ms) is out of date; less is clock/rounding noise. */
const MTIME_SLACK_MS = 1000;

/**
 * Whether the destination is older than the source. Exact times when both sides have them; a
 * listing's time (a server without MLSD and MDTM) only when even its whole minute or day lies
 * on the older side; no time at all: not older (the size decides).
 */
function isOlder(src: Entry, dst: Entry): boolean {
  if (src.mtimeMs !== undefined && dst.mtimeMs !== undefined) return dst.mtimeMs + MTIME_SLACK_MS < src.mtimeMs;
  if (src.listed && dst.mtimeMs !== undefined) return dst.mtimeMs + MTIME_SLACK_MS < src.listed.ms;
  if (dst.listed && src.mtimeMs !== undefined) return dst.listed.ms + dst.listed.precisionMs + MTIME_SLACK_MS < src.mtimeMs;
  return false;
}

function compareFile(path: string, src: Entry, dst: Entry | undefined, partial: number | undefined): Action {
  const size = src.size;
  if (dst && src.size !== undefined && dst.size === src.size && !isOlder(src, dst)) return { op: 'skip', path, size };
  if (partial !== undefined && (src.size === undefined || partial <= src.size)) {
    return { op: 'continue', path, size, reason: `partial of ${partial} bytes from an earlier run` };
  }
  const mtimeMs = src.mtimeMs ?? src.listed?.ms;
  if (!dst) return { op: 'send', path, size, mtimeMs, reason: 'missing at the destination' };
  const reason = src.size === undefined ? 'source size unknown' : dst.size !== src.size ? `size differs (${dst.size ?? '?'} -> ${src.size})` : 'the destination is older';
  return { op: 'replace', path, size, mtimeMs, reason };
}

/** True when `path` is `kept` itself or one of its ancestors. */
function keptBelow(kept: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const k of kept) {
    for (let p = k; p !== ''; p = relParent(p)) {
      if (out.has(p)) break;
      out.add(p);
    }
  }
  return out;
}

export function makePlan(src: Tree, dst: Tree, opts: PlanOptions): Plan {
  const kept = new Set([...src.kept, ...dst.kept]);
  // Why no delete may run, whatever the plan: a tree not fully or not safely read.
  const unsafe = !opts.delete
    ? undefined
    : !src.complete || !dst.complete
      ? 'a listing was incomplete'
      : src.problems.length > 0 || dst.problems.length > 0
        ? 'some entries could not be read safely'
        : undefined;
  const plan = planWith(src, dst, opts, kept, !opts.delete ? '--delete replaces it' : unsafe && `not replaced: ${unsafe}`);
  const removals = plan.deletes.length + plan.replaced.length;
  const overCap =
    opts.maxDelete !== undefined && removals > opts.maxDelete
      ? `${removals} deletions planned${plan.replaced.length > 0 ? ` (${plan.replaced.length} of them in the way of the source)` : ''}, more than --max-delete ${opts.maxDelete}`
      : undefined;
  if (plan.replaced.length > 0 && overCap) {
    // Over the cap: nothing is removed, so the entries in the way stay conflicts.
    const capped = planWith(src, dst, opts, kept, `not replaced: ${overCap}`);
    capped.deletesBlocked = overCap;
    return capped;
  }
  if (opts.delete) plan.deletesBlocked = unsafe ?? (plan.conflicts.length > 0 ? 'some paths are a file on one side and a directory on the other' : overCap);
  return plan;
}

/**
 * The plan. Destination entries of the wrong type are replaced, unless `noReplace` says why
 * not: then they are conflicts, and nothing below them is planned.
 */
function planWith(src: Tree, dst: Tree, opts: PlanOptions, kept: Set<string>, noReplace: string | undefined): Plan {
  const plan: Plan = { mkdirs: [], transfers: [], skips: [], conflicts: [], deletes: [], replaced: [] };
  /** Kept paths and their ancestors: a directory holding something not synced is never removed. */
  const keep = keptBelow(kept);
  const dstKeep = keptBelow(dst.kept);
  /** Below a kept path (a source symlink where the destination has a directory, say): never deleted. */
  const belowKept = (path: string) => ancestorWhere(path, (p) => kept.has(p)) !== undefined;
  /** Destination paths removed to make way (with everything under them) -> the type removed. */
  const cleared = new Map<string, EntryType>();
  const conflicts = new Set<string>();
  const belowConflict = (path: string) => ancestorWhere(path, (p) => conflicts.has(p)) !== undefined;
  const paths = [...src.entries.keys()].sort();
  for (const path of paths) {
    const s = src.entries.get(path)!;
    if (s.type !== 'dir' && s.type !== 'file') continue; // walkers keep these out of a source tree; never sent
    if (belowConflict(path)) continue; // its directory is a conflict: the run fails on that
    let d = dst.entries.get(path);
    if (d && d.type !== s.type) {
      // Entries under it that are not synced (excluded, rftp's partials) would be lost with it.
      const held = dstKeep.has(path);
      if (noReplace || held) {
        const reason = `the destination is a ${typeName(d.type)}${held ? ' holding entries that are not synced' : ''}, the source a ${typeName(s.type)}${noReplace && !held ? ` (${noReplace})` : ''}`;
        plan.conflicts.push({ op: 'conflict', path, reason });
        conflicts.add(path);
        continue;
      }
      const inside = [...dst.entries.keys()].filter((p) => p.startsWith(`${path}/`));
      for (const p of [path, ...inside]) {
        const type = dst.entries.get(p)!.type;
        plan.replaced.push({ op: 'delete', path: p, type, replacedBy: s.type });
        cleared.set(p, type);
      }
      d = undefined;
    }
    if (s.type === 'dir') {
      if (!d) plan.mkdirs.push({ op: 'mkdir', path });
      continue;
    }
    const gone = cleared.get(path);
    const a = gone ? { op: 'replace' as const, path, size: s.size, mtimeMs: s.mtimeMs, reason: `replaces a ${typeName(gone)} at the destination` } : compareFile(path, s, d, dst.partials.get(path));
    if (a.op === 'skip') plan.skips.push(a);
    else if (a.op !== 'mkdir' && a.op !== 'delete' && a.op !== 'conflict') plan.transfers.push(a);
  }
  // Parents before children.
  plan.mkdirs.sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : 1));
  plan.replaced.sort(deepestFirst);

  if (opts.delete) {
    for (const [path, d] of dst.entries) {
      if (src.entries.has(path) || keep.has(path) || belowKept(path) || cleared.has(path) || belowConflict(path)) continue;
      plan.deletes.push({ op: 'delete', path, type: d.type });
    }
    plan.deletes.sort(deepestFirst);
  }
  return plan;
}

const typeName = (t: EntryType) => ({ dir: 'directory', file: 'file', symlink: 'symlink', other: 'special file' })[t];

const deepestFirst = (a: { path: string }, b: { path: string }) => depth(b.path) - depth(a.path) || (a.path < b.path ? -1 : 1);

const depth = (p: string) => p.split('/').length;

/**
 * --include/--exclude globs, matched against the path relative to the root. A glob without "/"
 * matches the name at any depth; one with "/" matches the whole relative path (a leading "/" is
 * allowed). `*` and `?` stay within one path segment, `**` crosses segments. Excludes apply to
 * files and directories (an excluded directory is not walked); includes apply to files only.
 * Filtered-out paths are neither transferred nor deleted.
 */
export interface Filter {
  /** True when this path takes part in the sync. */
  accepts(path: string, isDir: boolean): boolean;
}

export function makeFilter(include: string[], exclude: string[]): Filter {
  const inc = include.map(globMatcher);
  const exc = exclude.map(globMatcher);
  return {
    accepts(path, isDir) {
      if (exc.some((m) => m(path))) return false;
      if (isDir || inc.length === 0) return true;
      return inc.some((m) => m(path));
    },
  };
}

export function globMatcher(glob: string): (path: string) => boolean {
  const anchored = glob.includes('/');
  const re = globRegExp(glob.replace(/^\/+/, '').replace(/\/+$/, ''), { dot: true, what: 'glob' });
  return (path) => (anchored ? re.test(path) : re.test(path.slice(path.lastIndexOf('/') + 1)));
}

/**
 * Files of one size on both sides, which the plan took as up to date or replaced for their time:
 * what a comparison by content (sync --checksum, check) decides instead.
 */
export function sameSizePairs(plan: Plan, src: Tree, dst: Tree): string[] {
  const sameSize = (path: string) => {
    const s = src.entries.get(path);
    const d = dst.entries.get(path);
    return s?.type === 'file' && d?.type === 'file' && s.size !== undefined && s.size === d.size;
  };
  return [...plan.skips.map((s) => s.path), ...plan.transfers.filter((t) => t.op === 'replace').map((t) => t.path)].filter(sameSize);
}

/** The plan once contents are known (path -> differs): equal files are up to date, different ones replaced. */
export function withContentVerdicts(plan: Plan, src: Tree, differs: Map<string, boolean>, algorithm: string): Plan {
  const equal = (path: string) => differs.get(path) === false;
  const different = (path: string) => differs.get(path) === true;
  const replaced = plan.skips
    .filter((s) => different(s.path))
    .map((s) => ({ op: 'replace' as const, path: s.path, size: s.size, mtimeMs: src.entries.get(s.path)?.mtimeMs, reason: `content differs (${algorithm})` }));
  const nowEqual = plan.transfers.filter((t) => t.op === 'replace' && equal(t.path)).map((t) => ({ op: 'skip' as const, path: t.path, size: t.size }));
  return {
    ...plan,
    skips: [...plan.skips.filter((s) => !different(s.path)), ...nowEqual],
    transfers: [...plan.transfers.filter((t) => !(t.op === 'replace' && equal(t.path))), ...replaced],
  };
}
