import { usageError } from '../errors.js';

/**
 * FTP is a line protocol: a CR or LF in a path would end the command early and let the rest be
 * read as a second command; NUL is cut by many servers. Refuse before anything is sent.
 */
export function checkRemotePath(path: string): void {
  if (/[\r\n\0]/.test(path)) throw usageError('refusing a remote path containing CR, LF or NUL');
}

export function checkLocalPath(path: string): void {
  if (/[\r\n\0]/.test(path)) throw usageError('refusing a local path containing CR, LF or NUL');
  // '' resolves to the current directory: an empty variable in a script must not sync (or
  // --delete) the directory the script happens to run in.
  if (path === '') throw usageError('an empty local path (write . for the current directory)');
}

export function remoteBasename(path: string): string {
  const parts = path.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? '';
}

/** "" for a name in the login directory, "/" for one in the root. */
export function remoteDirname(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  if (i < 0) return '';
  return i === 0 ? '/' : trimmed.slice(0, i);
}

export function remoteJoin(dir: string, name: string): string {
  if (dir === '') return name;
  return (dir.endsWith('/') ? dir : `${dir}/`) + name;
}

/**
 * A path as a command argument: a leading space would be eaten by many servers, and a leading
 * "-" taken for an option of LIST (vsftpd's `LIST -a -x` lists the current directory).
 */
export function commandPath(path: string): string {
  return path.startsWith(' ') || path.startsWith('-') ? `./${path}` : path;
}
