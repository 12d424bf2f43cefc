import { lstatSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { remoteJoin } from '../session/paths.js';

/**
 * Why a name from a listing (or a local directory) cannot become a path on the other side, or
 * undefined when it can. Servers choose these names: a name that climbs out of the target
 * (`..`, `a/b`, `/x`, `C:x`), hides a second command (CR, LF) or an escape sequence, or that the
 * OS would cut short (NUL), is skipped rather than repaired.
 */
export function unsafeName(name: string): string | undefined {
  if (name === '') return 'empty name';
  if (name === '.' || name === '..') return 'a "." or ".." entry';
  if (name.includes('/')) return 'contains "/"';
  if (name.includes('\\')) return 'contains "\\"';
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) return 'contains a control character (CR, LF, NUL, ESC, ...)';
  if (/^[A-Za-z]:/.test(name)) return 'looks like a drive letter path';
  return undefined;
}

/** rftp's own partial and state files: never synced, never deleted by --delete. */
const RESERVED = /\.rftp-(part|state)$|\.rftp-state\.tmp-\d+$/;

export function isReserved(name: string): boolean {
  return RESERVED.test(name);
}

/** The warning for a source file with such a name: skipped on purpose, but never silently. */
export const RESERVED_SKIPPED = "not synced: names ending in .rftp-part or .rftp-state are rftp's own partial and state files";

/** For `x.rftp-part`, the name of the file it is a partial of (`x`); otherwise undefined. */
export function partialOf(name: string): string | undefined {
  return name.endsWith('.rftp-part') && name.length > '.rftp-part'.length ? name.slice(0, -'.rftp-part'.length) : undefined;
}

/** Relative sync paths always use "/"; this joins one more (already checked) name. */
export function relJoin(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export function relParent(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** The nearest directory above `rel` (the root excluded) that `has` accepts. */
export function ancestorWhere(rel: string, has: (dir: string) => boolean): string | undefined {
  for (let p = relParent(rel); p !== ''; p = relParent(p)) if (has(p)) return p;
  return undefined;
}

/**
 * The local path for a relative sync path, proven to lie inside root. Every segment is checked
 * again here, so a path that did not come through a walker still cannot escape.
 */
export function localPathInside(root: string, rel: string): string {
  const segments = rel === '' ? [] : rel.split('/');
  for (const s of segments) {
    const why = unsafeName(s);
    if (why) throw new UnsafePath(`${rel}: ${why}`);
  }
  const path = resolve(root, ...segments);
  const back = relative(root, path);
  if (back.startsWith('..') || back.split(sep).includes('..') || (rel !== '' && back === '')) throw new UnsafePath(`${rel}: resolves outside ${root}`);
  return path;
}

export class UnsafePath extends Error {}

/**
 * Refuses to write through a symlink: every directory between root and the target must be a real
 * directory (lstat, not stat), and the target itself, when present, a regular file or directory
 * as wanted ('any': whatever it is, for a delete). Returns the checked local path.
 */
export async function checkNoSymlinks(root: string, rel: string, target: 'file' | 'dir' | 'any', checked?: Set<string>): Promise<string> {
  const path = localPathInside(root, rel);
  const segments = rel.split('/');
  let cur = root;
  for (let i = 0; i < segments.length; i++) {
    cur = join(cur, segments[i]);
    const last = i === segments.length - 1;
    // A directory proven real earlier in this run (sync never makes symlinks) need not be
    // checked again for each file in it: one lstat per file instead of one per path segment.
    if (!last && checked?.has(cur)) continue;
    const st = lstatSync(cur, { throwIfNoEntry: false });
    if (!st) return path; // nothing further down exists yet, so nothing to follow
    // 'any' is for removing an entry: the entry itself may be a symlink (unlink removes the link).
    if (st.isSymbolicLink() && !(last && target === 'any')) throw new UnsafePath(`${rel}: refusing to write through the local symlink ${cur}`);
    if (!last && !st.isDirectory()) throw new UnsafePath(`${rel}: ${cur} is not a directory`);
    if (last && target === 'file' && !st.isFile()) throw new UnsafePath(`${rel}: a local ${st.isDirectory() ? 'directory' : 'non-regular file'} is in the way`);
    if (last && target === 'dir' && !st.isDirectory()) throw new UnsafePath(`${rel}: a local file is in the way of the directory`);
    if (st.isDirectory()) checked?.add(cur);
  }
  return path;
}

/** Absolute or login-relative remote path of a relative sync path. */
export function remotePathOf(root: string, rel: string): string {
  return rel === '' ? root : remoteJoin(root, rel);
}
