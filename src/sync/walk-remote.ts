import { RftpError } from '../errors.js';
import { classify } from '../session/classify.js';
import { listStrict, type Client, type ListedEntry } from '../session/ops.js';
import { modifiedTime, modifiedTimeChecked, modifiedTimes, PipelineMismatch, type TimeAnswer } from '../session/remote.js';
import { WHOLE_FILE_BYTES } from '../transfer/whole-file.js';
import type { Session } from '../session/session.js';
import { escapeControl, quoteName } from '../ui/redact.js';
import { isReserved, partialOf, relJoin, remotePathOf, RESERVED_SKIPPED, unsafeName } from './names.js';
import { emptyTree, type Filter, type Tree } from './plan.js';
import { FATAL, runPool, stopOrRetire, type Retirements } from './workers.js';

export interface WalkLimits {
  /** Directories deeper than this are not entered (an endless tree must end). */
  maxDepth: number;
  /** Directories listed in all: a tree that branches without end must end too, and soon. */
  maxDirs: number;
  /** Entries in all, files and directories. */
  maxEntries: number;
}

export const DEFAULT_LIMITS: WalkLimits = { maxDepth: 64, maxDirs: 20_000, maxEntries: 500_000 };

/** Shown with a limit problem: what to do about a tree that is really this big. */
export const limitHint = (option: string) => `the rest is not synced (raise ${option} if the tree is really this big)`;

export interface WalkSide {
  /** 'source' or 'destination': partials only count on the destination. */
  role: 'source' | 'destination';
  filter: Filter;
  limits: WalkLimits;
  onDir?: (dirs: number, files: number) => void;
}

const shownRel = (rel: string) => quoteName(rel);

/**
 * Walks a remote tree breadth first over the given sessions (one listing per connection at a
 * time), iteratively: depth, directories, entries and repeated directories (MLSD "unique") are
 * bounded, so a server presenting an endless tree, deep or wide, ends the walk with a problem,
 * not a hang.
 */
// Long on purpose: one breadth-first loop whose bounds (depth, directories, entries, loops) and
// counters every branch updates; split, they would travel between functions in a bag of state.
export async function walkRemote(
  sessions: Session[],
  root: string,
  side: WalkSide,
  ready?: Array<Promise<boolean>>,
  retirements?: Retirements,
  /** The root's listing, when the caller has it already (sync's check that the root exists). */
  rootListing?: { entries: ListedEntry[]; dropped: string[] },
): Promise<Tree> {
  const tree = emptyTree();
  const queue: Array<{ rel: string; depth: number }> = [{ rel: '', depth: 0 }];
  const seenUnique = new Set<string>();
  let dirs = 0;
  let files = 0;
  /** Directories found (the root included), listed or still queued. */
  let found = 1;
  let stopped = false;

  // One listing's entries checked against every rule of a hostile listing, in one place (long on purpose).
  const handle = (dir: string, depth: number, listed: ListedEntry[]) => {
    const names = new Set<string>();
    for (const e of listed) {
      const shown = quoteName(e.name);
      const why = unsafeName(e.name);
      if (why) {
        tree.problems.push({ path: relJoin(dir, shown), message: `unsafe name skipped: ${why}` });
        continue;
      }
      const rel = relJoin(dir, e.name);
      if (names.has(e.name)) {
        tree.problems.push({ path: shownRel(rel), message: 'listed twice: only the first entry is used' });
        continue;
      }
      names.add(e.name);
      if (isReserved(e.name)) {
        // Another rftp's upload in progress, or ours from an interrupted run.
        const of = partialOf(e.name);
        if (side.role === 'destination' && of !== undefined && e.size !== undefined) tree.partials.set(relJoin(dir, of), e.size);
        else if (side.role === 'source') tree.skipped.push({ path: shownRel(rel), message: RESERVED_SKIPPED });
        tree.kept.add(rel);
        continue;
      }
      if (!side.filter.accepts(rel, e.type === 'dir')) {
        tree.kept.add(rel);
        continue;
      }
      if (e.type === 'symlink' || e.type === 'other') {
        // Never recreated on this side; at the destination they are entries a source file conflicts with.
        if (side.role === 'destination') tree.entries.set(rel, { type: e.type });
        else {
          tree.kept.add(rel);
          tree.skipped.push({ path: relJoin(dir, shown), message: e.type === 'symlink' ? 'symlink on the server: not followed, not recreated' : 'not a regular file or directory' });
        }
        continue;
      }
      if (tree.entries.size >= side.limits.maxEntries) {
        if (!stopped) tree.problems.push({ path: shownRel(rel), message: `more than ${side.limits.maxEntries} entries: ${limitHint('--max-entries')}` });
        tree.complete = false;
        stopped = true;
        return;
      }
      if (e.type === 'dir') {
        if (e.unique !== undefined) {
          if (seenUnique.has(e.unique)) {
            tree.problems.push({ path: shownRel(rel), message: 'directory loop (same unique id as a directory already seen): not entered' });
            tree.kept.add(rel);
            continue;
          }
          seenUnique.add(e.unique);
        }
        if (depth + 1 > side.limits.maxDepth) {
          tree.problems.push({ path: shownRel(rel), message: `deeper than ${side.limits.maxDepth} levels: not synced` });
          tree.complete = false;
          tree.kept.add(rel);
          continue;
        }
        if (found >= side.limits.maxDirs) {
          if (!stopped) tree.problems.push({ path: shownRel(rel), message: `more than ${side.limits.maxDirs} directories: ${limitHint('--max-dirs')}` });
          tree.complete = false;
          stopped = true;
          return;
        }
        found++;
        tree.entries.set(rel, { type: 'dir' });
        queue.push({ rel, depth: depth + 1 });
      } else {
        files++;
        tree.entries.set(rel, { type: 'file', size: e.size, mtimeMs: e.mtimeMs, ...(e.listed && { listed: e.listed }) });
      }
    }
  };

  const workers = sessions.map((session) => async (item: { rel: string; depth: number }) => {
    if (stopped) {
      // Never listed: not made at the destination either (it would look complete, empty).
      tree.entries.delete(item.rel);
      tree.kept.add(item.rel);
      return;
    }
    const path = remotePathOf(root, item.rel);
    try {
      const listing =
        item.rel === '' && rootListing
          ? rootListing
          : await session.run(
              `list ${quoteName(path) || '.'}`,
              () => 0,
              (client) => listStrict(client, path),
            );
      dirs++;
      for (const line of listing.dropped) {
        tree.problems.push({ path: shownRel(item.rel) || '.', message: `unreadable listing line: ${escapeControl(line).slice(0, 200)}` });
        tree.complete = false;
      }
      handle(item.rel, item.depth, listing.entries);
      side.onDir?.(dirs, files);
    } catch (err) {
      if (err instanceof RftpError && FATAL.has(err.kind)) {
        // Refused on a reconnect while other connections work (a cap): another one lists it.
        throw stopOrRetire(err);
      }
      tree.complete = false;
      tree.problems.push({ path: shownRel(item.rel) || '.', message: `listing failed: ${(err as Error).message}` });
      // Whatever the reply code, an unreadable root is a failed sync (8), not a missing file.
      if (item.rel === '') throw new RftpError('transfer', `listing failed: ${(err as Error).message}`);
    }
  });
  await runPool(queue, workers, (q) => q.shift(), retirements?.of(sessions), ready);
  return tree;
}

/**
 * LIST gives no exact times (only MLSD does), so a file changed without changing its size (a
 * deploy's version.txt, "1.2.3" -> "1.2.4") would look up to date for ever. For each file of the
 * same size on both sides whose remote time is unknown, MDTM asks for it, and the plan then
 * applies "the destination is not older". With `forDownload`, every other small remote file
 * without a time is asked too (larger ones are checked again by the resumable download): the
 * local copy gets the server's time, and asking here, many files per write, saves a round trip
 * per file later. A time asked before the transfer is not newer than the content then received,
 * unless the file is replaced in between by one with an older time (a rollback that keeps times,
 * of a file of the same size), which the minutes of a sync make unlikely, not impossible.
 * Returns how many times were asked for.
 */
// Long on purpose: the pipelined batches, their fallback to one at a time and the retirements
// share one queue and its counters.
export async function addRemoteTimes(
  sessions: Session[],
  root: string,
  remote: Tree,
  local: Tree,
  opts: { forDownload?: boolean; warn?: (m: string) => void; retirements?: Retirements; pipelining?: boolean } = {},
): Promise<number> {
  const paths: string[] = [];
  for (const [path, r] of remote.entries) {
    if (r.type !== 'file' || r.mtimeMs !== undefined) continue;
    const l = local.entries.get(path);
    const same = r.size !== undefined && l?.type === 'file' && l.size === r.size;
    if (same || (opts.forDownload && r.size !== undefined && r.size <= WHOLE_FILE_BYTES)) paths.push(path);
  }
  // One batch per connection (round trips are what a real link costs), at most MDTM_BATCH each.
  const size = Math.max(1, Math.min(MDTM_BATCH, Math.ceil(paths.length / sessions.length)));
  const batches: string[][] = [];
  for (let i = 0; i < paths.length; i += size) batches.push(paths.slice(i, i + size));
  let unsupported = false;
  let pipelined = opts.pipelining !== false;
  /** The server was caught answering out of step: each MDTM is followed by a NOOP to prove it. */
  let checked = false;
  const oneByOne = async (client: Client, full: string[]) => {
    const answers: TimeAnswer[] = [];
    for (const p of full) {
      const a = checked ? await modifiedTimeChecked(client, p) : await modifiedTime(client, p);
      answers.push(a);
      if (a.unsupported) break;
    }
    return answers;
  };
  await runPool(
    batches,
    sessions.map((session) => async (batch: string[]) => {
      if (unsupported) return;
      const what = `mdtm ${quoteName(batch[0])}${batch.length > 1 ? ` and ${batch.length - 1} more` : ''}`;
      const full = batch.map((p) => remotePathOf(root, p));
      let answers: TimeAnswer[];
      try {
        if (!pipelined || full.length === 1)
          answers = await session.run(
            what,
            () => 0,
            (client) => oneByOne(client, full),
          );
        else {
          let failure = 'lost' as 'mismatch' | 'stalled' | 'lost';
          try {
            answers = await session.run(
              what,
              () => 0,
              (client) =>
                modifiedTimes(client, full).catch((raw) => {
                  if (session.signal.aborted) throw raw;
                  const err = classify(raw, what);
                  failure = raw instanceof PipelineMismatch ? 'mismatch' : /stalled|time(d )?out/i.test(err.message) ? 'stalled' : 'lost';
                  throw new PipelineFailed(err);
                }),
            );
          } catch (err) {
            if (!(err instanceof PipelineFailed)) throw err;
            // The batch is asked again one at a time, on a new connection, without using up a
            // retry. A server (or middlebox) that loses or miscounts commands sent together gets
            // them one at a time from now on; a connection that was merely lost does not.
            if (failure !== 'lost' && pipelined) {
              pipelined = false;
              opts.warn?.(`${err.message}; asking for file times one at a time`);
            }
            if (failure === 'mismatch') checked = true;
            answers = await session.run(
              what,
              () => 0,
              (client) => oneByOne(client, full),
            );
          }
        }
      } catch (err) {
        throw stopOrRetire(err);
      }
      answers.forEach((a, i) => {
        if (a.unsupported) unsupported = true;
        else if (a.mtimeMs !== undefined) remote.entries.get(batch[i])!.mtimeMs = a.mtimeMs;
      });
    }),
    (q) => q.shift(),
    opts.retirements?.of(sessions),
  );
  return paths.length;
}

/** A batch of pipelined commands failed: not retried as it is (see addRemoteTimes). */
class PipelineFailed extends RftpError {
  constructor(cause: RftpError) {
    super(cause.kind, `commands sent together failed (${cause.message})`, { retryable: false, cause });
  }
}

/** At most this many MDTM commands go out in one write. */
const MDTM_BATCH = 100;
