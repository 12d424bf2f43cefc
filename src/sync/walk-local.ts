import { RftpError } from '../errors.js';
import { lstatSync, type Stats } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteName } from '../ui/redact.js';
import { isReserved, partialOf, relJoin, RESERVED_SKIPPED, unsafeName } from './names.js';
import { emptyTree, type Tree } from './plan.js';
import { limitHint, type WalkSide } from './walk-remote.js';

/**
 * Walks a local tree without following symlinks (lstat only), iteratively and within the same
 * limits as the remote walk. A missing root is an empty tree (a destination not made yet).
 */
// Long on purpose: the same one loop and bounds as walkRemote, for the local side.
export async function walkLocal(root: string, side: WalkSide): Promise<Tree> {
  const tree = emptyTree();
  const seen = new Set<string>();
  const queue: Array<{ rel: string; depth: number }> = [{ rel: '', depth: 0 }];
  let dirs = 0;
  let files = 0;
  /** Directories found (the root included), read or still queued. */
  let found = 1;
  while (queue.length > 0) {
    const { rel: dir, depth } = queue.shift()!;
    const abs = join(root, ...(dir === '' ? [] : dir.split('/')));
    let names: string[];
    try {
      const st = lstatSync(abs);
      const id = `${st.dev}:${st.ino}`;
      if (seen.has(id)) {
        tree.problems.push({ path: dir, message: 'directory loop: not entered again' });
        continue;
      }
      seen.add(id);
      names = (await readdir(abs)).sort();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (dir === '' && code === 'ENOENT') return tree;
      // The root itself: nothing can be synced (exit 7, a local root problem, as documented).
      if (dir === '') throw new RftpError('local', `${root}: cannot read the directory: ${code ?? err}`);
      tree.complete = false;
      tree.problems.push({ path: dir || '.', message: `cannot read the directory: ${code ?? err}` });
      continue;
    }
    dirs++;
    for (const name of names) {
      const rel = relJoin(dir, name);
      const shown = quoteName(rel);
      if (isReserved(name)) {
        const of = partialOf(name);
        if (side.role === 'destination' && of !== undefined) {
          const st = lstatQuiet(join(abs, name));
          if (st && st !== 'unreadable' && st.isFile()) tree.partials.set(relJoin(dir, of), st.size);
        } else if (side.role === 'source') tree.skipped.push({ path: shown, message: RESERVED_SKIPPED });
        tree.kept.add(rel);
        tree.reserved.push(rel);
        continue;
      }
      const why = unsafeName(name);
      if (why) {
        // A local name the server side cannot take (or that we would not write): left alone.
        tree.kept.add(rel);
        if (side.role === 'source') tree.problems.push({ path: shown, message: `name not synced: ${why}` });
        else tree.skipped.push({ path: shown, message: `left alone: ${why}` });
        continue;
      }
      const st = lstatQuiet(join(abs, name));
      if (!st) continue; // vanished between readdir and lstat
      if (st === 'unreadable') {
        // Not known, so not complete: an entry left out here must never look deletable.
        tree.kept.add(rel);
        tree.complete = false;
        tree.problems.push({ path: shown, message: 'cannot read its type and size (lstat failed)' });
        continue;
      }
      const isDir = st.isDirectory();
      if (!side.filter.accepts(rel, isDir)) {
        tree.kept.add(rel);
        continue;
      }
      if (!isDir && !st.isFile()) {
        const type = st.isSymbolicLink() ? 'symlink' : 'other';
        if (side.role === 'destination') tree.entries.set(rel, { type });
        else {
          tree.kept.add(rel);
          tree.skipped.push({ path: shown, message: type === 'symlink' ? 'symlink: not followed, not uploaded' : 'not a regular file or directory' });
        }
        continue;
      }
      if (tree.entries.size >= side.limits.maxEntries) {
        tree.problems.push({ path: shown, message: `more than ${side.limits.maxEntries} entries: ${limitHint('--max-entries')}` });
        tree.complete = false;
        return dropUnread(tree, queue);
      }
      if (isDir) {
        if (depth + 1 > side.limits.maxDepth) {
          tree.problems.push({ path: shown, message: `deeper than ${side.limits.maxDepth} levels: not synced` });
          tree.complete = false;
          tree.kept.add(rel);
        } else if (found >= side.limits.maxDirs) {
          tree.problems.push({ path: shown, message: `more than ${side.limits.maxDirs} directories: ${limitHint('--max-dirs')}` });
          tree.complete = false;
          return dropUnread(tree, queue);
        } else {
          found++;
          tree.entries.set(rel, { type: 'dir' });
          queue.push({ rel, depth: depth + 1 });
        }
      } else {
        files++;
        tree.entries.set(rel, { type: 'file', size: st.size, mtimeMs: Math.trunc(st.mtimeMs) });
      }
    }
    side.onDir?.(dirs, files);
  }
  return tree;
}

/** Directories found but never read are left out (and kept): made at the destination they would look complete. */
function dropUnread(tree: Tree, queue: Array<{ rel: string }>): Tree {
  for (const { rel } of queue) {
    tree.entries.delete(rel);
    tree.kept.add(rel);
  }
  return tree;
}

/**
 * lstat, synchronously: cheaper than a thread-pool round trip, and the walk still yields at each
 * directory's readdir. undefined when the entry is gone, 'unreadable' for any other failure.
 */
function lstatQuiet(path: string): Stats | undefined | 'unreadable' {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return 'unreadable';
  }
}
