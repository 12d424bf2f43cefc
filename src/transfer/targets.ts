import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RftpError } from '../errors.js';
import { checkLocalPath, remoteBasename } from '../session/paths.js';

/** More connections than this mostly annoys servers; lftp and aria2 cap theirs similarly. */
export const MAX_SEGMENTS = 16;

/** Where a download lands: -o as a file, or into -o as a directory, or the remote name here. */
export async function localTarget(remotePath: string, output: string | undefined): Promise<string> {
  const name = remoteBasename(remotePath);
  if (output === undefined) return resolve(name);
  checkLocalPath(output);
  if (output.endsWith('/')) return resolve(join(output, name));
  const st = await stat(output).catch(() => undefined);
  return st?.isDirectory() ? resolve(join(output, name)) : resolve(output);
}

/** A number of segments (pget -n, get --segments, sync --use-pget-n), or a usage error naming the option. */
export function checkSegments(n: number, option: string): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SEGMENTS) throw new RftpError('usage', `${option} must be a whole number from 1 to ${MAX_SEGMENTS}`);
  return n;
}
