// Pure decisions: what a sync does, given the two walked trees. No I/O here, so every rule is
// unit-tested (test/unit/sync-plan.test.ts).
import { relParent } from './names.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface Entry {
  type: EntryType;
  /** Bytes, when known for sure (junk or huge numbers count as unknown). */
  size?: number;
  /** Modification time in ms (UTC), only when known to the second (MLSD, local stat). */
  mtimeMs?: number;
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
  | { op: 'delete'; path: string; type: EntryType }
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
  /** Why the deletes will not run, when --delete was given but they cannot. */
  deletesBlocked?: string;
}

/** A destination this much older than the source (ms) is out of date; less is clock/rounding noise. */
const MTIME_SLACK_MS = 1000;

function compareFile(path: string, src: Entry, dst: Entry | undefined, partial: number | undefined): Action {
  if (dst && dst.type !== 'file') return { op: 'conflict', path, reason: `the destination is a ${dst.type}, the source a file` };
  const size = src.size;
  if (dst && src.size !== undefined && dst.size === src.size) {
    const older = src.mtimeMs !== undefined && dst.mtimeMs !== undefined && dst.mtimeMs + MTIME_SLACK_MS < src.mtimeMs;
    if (!older) return { op: 'skip', path, size };
  }
  if (partial !== undefined && (src.size === undefined || partial <= src.size)) {
    return { op: 'continue', path, size, reason: `partial of ${partial} bytes from an earlier run` };
  }
  const mtimeMs = src.mtimeMs;
  if (!dst) return { op: 'send', path, size, mtimeMs, reason: 'missing at the destination' };
  const reason = src.size === undefined ? 'source size unknown'
    : dst.size !== src.size ? `size differs (${dst.size ?? '?'} -> ${src.size})`
    : 'the destination is older';
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
  const plan: Plan = { mkdirs: [], transfers: [], skips: [], conflicts: [], deletes: [] };
  const paths = [...src.entries.keys()].sort();
  for (const path of paths) {
    const s = src.entries.get(path)!;
    const d = dst.entries.get(path);
    if (s.type === 'dir') {
      if (!d) plan.mkdirs.push({ op: 'mkdir', path });
      else if (d.type !== 'dir') plan.conflicts.push({ op: 'conflict', path, reason: `the destination is a ${d.type}, the source a directory` });
      continue;
    }
    if (s.type !== 'file') continue; // walkers keep these out of a source tree; never sent
    const a = compareFile(path, s, d, dst.partials.get(path));
    if (a.op === 'skip') plan.skips.push(a);
    else if (a.op === 'conflict') plan.conflicts.push(a);
    else if (a.op !== 'mkdir' && a.op !== 'delete') plan.transfers.push(a);
  }
  // Parents before children.
  plan.mkdirs.sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : 1));

  if (opts.delete) {
    const keep = keptBelow(new Set([...src.kept, ...dst.kept]));
    for (const [path, d] of dst.entries) {
      if (src.entries.has(path) || keep.has(path)) continue;
      plan.deletes.push({ op: 'delete', path, type: d.type });
    }
    plan.deletes.sort((a, b) => depth(b.path) - depth(a.path) || (a.path < b.path ? -1 : 1));
    if (!src.complete || !dst.complete) plan.deletesBlocked = 'a listing was incomplete';
    else if (src.problems.length > 0 || dst.problems.length > 0) plan.deletesBlocked = 'some entries could not be read safely';
    else if (plan.conflicts.length > 0) plan.deletesBlocked = 'some paths are a file on one side and a directory on the other';
    else if (opts.maxDelete !== undefined && plan.deletes.length > opts.maxDelete) {
      plan.deletesBlocked = `${plan.deletes.length} deletions planned, more than --max-delete ${opts.maxDelete}`;
    }
  }
  return plan;
}

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
  const re = new RegExp('^' + globToRegExp(glob.replace(/^\/+/, '').replace(/\/+$/, '')) + '$');
  return (path) => (anchored ? re.test(path) : re.test(path.slice(path.lastIndexOf('/') + 1)));
}

export function globToRegExp(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // "**/" matches zero or more whole segments; a lone "**" anything at all.
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) out += '\\[';
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        out += `[${body}]`;
        i = end;
      }
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return out;
}
