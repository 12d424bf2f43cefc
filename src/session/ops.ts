import { Client, FTPError } from 'basic-ftp';
import { ProgressTracker } from 'basic-ftp/dist/ProgressTracker.js';
import { uploadFrom } from 'basic-ftp/dist/transfer.js';
import type { Readable, Writable } from 'node:stream';
import { commandPath } from './paths.js';
import { parseSize } from './remote.js';

export type { Client };

/** Replies meaning "this command is not available here", as opposed to a failure of the file. */
const notImplemented = (err: unknown) => err instanceof FTPError && [500, 501, 502, 504].includes(err.code);

export class CommandRefused extends Error {
  constructor(readonly command: string, readonly reply: string) {
    super(`the server refused ${command} (${reply.trim()})`);
  }
}

/** RETR from startAt (REST first when startAt > 0) into dest. */
export async function retrieve(client: Client, dest: Writable, path: string, startAt: number): Promise<void> {
  try {
    await client.downloadTo(dest, path, startAt);
  } catch (err) {
    // With startAt > 0 the first command is REST; RETR itself answers 4xx/550 for file problems.
    if (startAt > 0 && notImplemented(err)) throw new CommandRefused('REST', (err as FTPError).message);
    throw err;
  }
}

export type StoreMode = { mode: 'stor' } | { mode: 'appe' } | { mode: 'rest-stor'; offset: number };

/** STOR, APPE, or REST + STOR (basic-ftp has no REST before STOR: its transfer routine is driven here). */
export async function store(client: Client, source: Readable, path: string, how: StoreMode): Promise<void> {
  try {
    if (how.mode === 'stor') await client.uploadFrom(source, path);
    else if (how.mode === 'appe') await client.appendFrom(source, path);
    else await restStor(client, source, commandPath(path), how.offset);
  } catch (err) {
    if (how.mode === 'appe' && notImplemented(err)) throw new CommandRefused('APPE', (err as FTPError).message);
    if (how.mode === 'rest-stor' && notImplemented(err)) throw new CommandRefused('REST', (err as FTPError).message);
    throw err;
  }
}

async function restStor(client: Client, source: Readable, path: string, offset: number): Promise<void> {
  const onError = (err: Error) => client.ftp.closeWithError(err);
  source.once('error', onError);
  try {
    await client.prepareTransfer(client.ftp);
    await client.send(`REST ${offset}`);
    await uploadFrom(source, { ftp: client.ftp, tracker: new ProgressTracker(), command: 'STOR', remotePath: path, type: 'upload' });
  } finally {
    source.removeListener('error', onError);
  }
}

/** SIZE of a remote file, or undefined when it does not exist (or SIZE is not answered). */
export async function sizeOf(client: Client, path: string): Promise<number | undefined> {
  const res = await client.sendIgnoringError(`SIZE ${commandPath(path)}`);
  return res.code === 213 ? parseSize(res.message) : undefined;
}

export async function renameRemote(client: Client, from: string, to: string): Promise<void> {
  await client.rename(from, to);
}

export async function removeRemote(client: Client, path: string): Promise<void> {
  await client.remove(path, true);
}

export function closeConnection(client: Client): void {
  client.close();
}
