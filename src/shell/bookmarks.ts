import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { RftpError, usageError } from '../errors.js';

/** Connection options a bookmark may carry besides its URL (never a password). */
export interface BookmarkOptions {
  tls?: boolean;
  insecure?: boolean;
  caFile?: string;
}

export interface Bookmark {
  url: string;
  options?: BookmarkOptions;
}

/** $XDG_CONFIG_HOME/rftp/bookmarks.json (default ~/.config/rftp/bookmarks.json). */
export function bookmarksPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return join(base, 'rftp', 'bookmarks.json');
}

export function checkBookmarkName(name: string): void {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name) || name === '__proto__') {
    throw usageError(`bad bookmark name "${name}": use letters, digits, "_", "." and "-"`);
  }
}

export function loadBookmarks(path: string): Record<string, Bookmark> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Object.create(null);
    throw new RftpError('local', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new RftpError('local', `${path} is not valid JSON; fix or remove it`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new RftpError('local', `${path} must hold an object of name: {"url": ...}`);
  // No prototype: a name such as "constructor" or "toString" is only ever a bookmark of that name.
  const out: Record<string, Bookmark> = Object.create(null);
  for (const [name, value] of Object.entries(data as Record<string, unknown>)) {
    const b = value as Bookmark;
    if (b && typeof b.url === 'string' && name !== '__proto__') out[name] = { url: b.url, ...(b.options ? { options: b.options } : {}) };
  }
  return out;
}

/** Written to a temporary file and renamed: a crash never leaves half a bookmarks file. */
export function saveBookmarks(path: string, bookmarks: Record<string, Bookmark>): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(bookmarks, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (err) {
    throw new RftpError('local', `cannot write ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}
