import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { RftpError } from '../errors.js';

/** What a partial download was taken from. Never holds a password (URLs are display URLs). */
export interface DownloadState {
  version: 1;
  kind: 'download';
  url: string;
  remoteSize: number;
  remoteMtimeMs: number | null;
  /** Every byte is here and fsynced, and checks before the rename (scan, verify) are what is left. */
  complete?: boolean;
}

/**
 * A segmented (pget) partial: preallocated to the full size, each range filled from its start.
 * `done` counts the bytes of a range that were fsynced before this state was written.
 */
export interface SegmentedState {
  version: 1;
  kind: 'segmented';
  url: string;
  remoteSize: number;
  remoteMtimeMs: number | null;
  ranges: Array<{ start: number; end: number; done: number }>;
  /** http(s): the strong ETag or Last-Modified each range's If-Range sends (remoteMtimeMs is null). */
  validator?: string;
  /** http(s): where the redirects led, tried first on a resume. */
  finalUrl?: string;
}

/**
 * A partial http(s) download: what the server said about the resource when its first byte was
 * written. A resume sends `validator` as If-Range, so the server itself proves the bytes belong.
 */
export interface HttpState {
  version: 1;
  kind: 'http';
  url: string;
  /** Where the redirects led, tried first on a resume (the original URL if that fails). */
  finalUrl?: string;
  /** The resource's length; -1 when the server did not say (no resume then). */
  length: number;
  /** A strong ETag, else Last-Modified; none means the partial cannot be proven. */
  validator?: string;
  /** Last-Modified, for the finished file's time. */
  lastModified?: string;
  /** The body was content-encoded (saved as sent): never resumed. */
  encoding?: string;
  complete?: boolean;
}

/** What a partial upload was taken from, so one from another local file is never continued. */
export interface UploadState {
  version: 1;
  kind: 'upload';
  url: string;
  tempPath: string;
  localPath: string;
  localSize: number;
  localMtimeMs: number;
  /** Set just before RNFR/RNTO: a later run may then find the final file instead of the partial. */
  phase?: 'renaming';
}

export async function readState<T extends { kind: string }>(path: string, kind: T['kind']): Promise<T | undefined> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8'));
    return value && value.version === 1 && value.kind === kind ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Written to a temporary name, fsynced and renamed, so a crash leaves the old or the new state, never half of one. */
export function writeState(path: string, state: DownloadState | UploadState | SegmentedState | HttpState): Promise<void> {
  return writeJsonDurably(path, state, 'resume state');
}

/** Any JSON record, the same way: temporary name, fsync, rename, fsync of the directory. */
export async function writeJsonDurably(path: string, value: unknown, what: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(value)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    await syncDir(dirname(path));
  } catch (err) {
    throw new RftpError('local', `cannot write ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
}

export async function removeState(path: string): Promise<void> {
  await unlink(path).catch(() => {});
}

export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic there.
  }
}

/** XDG state directory: upload state lives here because the source directory may be read-only. */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'rftp');
}

export function uploadStatePath(displayUrl: string, localPath: string, env: NodeJS.ProcessEnv = process.env): string {
  const id = createHash('sha256').update(displayUrl).update('\0').update(localPath).digest('hex').slice(0, 32);
  const dir = join(stateHome(env), 'uploads');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${id}.json`);
}
