import { constants, type Stats } from 'node:fs';
import { open, rename, stat, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RftpError } from '../errors.js';
import { syncDir } from './state.js';

export function localError(path: string, err: unknown, doing: string): RftpError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'ENOENT'
        ? 'no such file or directory'
        : code === 'ENOTDIR'
          ? 'a parent is not a directory'
          : code === 'ENOSPC'
            ? 'no space left on device'
            : code === 'EROFS'
              ? 'read-only file system'
              : code === 'EISDIR'
                ? 'is a directory'
                : (code ?? String(err));
  return new RftpError('local', `cannot ${doing} ${path}: ${why}`, { cause: err });
}

/**
 * Opens a local file to read, refusing what is not a regular file (`notRegular` says how).
 * O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, holding a thread that
 * even process.exit waits for (SIGTERM could not end the run); regular files ignore the flag.
 */
export async function openToRead(path: string, notRegular = 'is not a regular file'): Promise<{ fh: FileHandle; st: Stats }> {
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw localError(path, err, 'read');
  }
  const st = await fh.stat();
  if (!st.isFile()) {
    await fh.close();
    throw new RftpError('local', `${path} ${notRegular}`);
  }
  return { fh, st };
}

export async function statOrUndefined(path: string) {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

/** Opens (creating, never truncating) a partial file for positioned reads and writes. */
export async function openPartial(path: string): Promise<{ fh: FileHandle; created: boolean }> {
  const existed = (await statOrUndefined(path)) !== undefined;
  try {
    const fh = await open(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
    return { fh, created: !existed };
  } catch (err) {
    throw localError(path, err, 'write');
  }
}

export async function readRange(fh: FileHandle, from: number, to: number): Promise<Buffer> {
  const buf = Buffer.alloc(to - from);
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, from + off);
    if (bytesRead === 0) break;
    off += bytesRead;
  }
  return buf.subarray(0, off);
}

/**
 * Moves a finished, fsynced partial into place with one rename, so the target path only ever
 * holds a complete file, and makes the rename itself durable.
 */
export async function commitPartial(part: string, target: string, mtimeMs?: number): Promise<void> {
  try {
    if (mtimeMs !== undefined) await utimes(part, new Date(), new Date(mtimeMs));
    await rename(part, target);
  } catch (err) {
    throw localError(target, err, 'move the finished download to');
  }
  await syncDir(dirname(target));
}

export async function removeIfEmpty(path: string): Promise<void> {
  const st = await statOrUndefined(path);
  if (st && st.size === 0) await unlink(path).catch(() => {});
}

/** fsync and close a finished partial, then check its length (when the expected one is known). */
export async function flushAndCheck(fh: FileHandle, part: string, target: string, expected: number | undefined): Promise<void> {
  try {
    await fh.sync();
    await fh.close();
  } catch (err) {
    throw localError(part, err, 'flush');
  }
  const st = await statOrUndefined(part);
  if (!st || (expected !== undefined && st.size !== expected)) {
    throw new RftpError('transfer', `${target}: size check failed after download (${st?.size} of ${expected} bytes)`);
  }
}
