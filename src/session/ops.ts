import { type Client, FTPError, type FileInfo } from 'basic-ftp';
import { once } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { RftpError } from '../errors.js';
import { timeSetReply } from './hash.js';
import { type ListedTime, parseListedTime } from './list-time.js';
import { commandPath, remoteBasename } from './paths.js';
import { handshakeDone, listingBuffer, REFUSAL_GRACE_MS, TlsBeforeReply, transferCommand } from './basic-ftp-internals.js';
import { cwdHome, cwdOf, dataConnection, loginFacts, pipelined, type Reply, setCwd, withPassive } from './pipeline.js';
import { isDirectory, parseSize } from './remote.js';

export type { Client, FileInfo };

/** Replies meaning "this command is not available here", as opposed to a failure of the file. */
const notImplemented = (err: unknown) => err instanceof FTPError && [500, 501, 502, 504].includes(err.code);

/** A permanent refusal (5xx) from the server, as opposed to a dropped or timed-out connection. */
export const refusedByServer = (err: unknown) => err instanceof FTPError && err.code >= 500;

/** The FTP reply code behind an error (itself, or the cause of a classified one), if any. */
export function replyCode(err: unknown): number | undefined {
  const e = err instanceof FTPError ? err : (err as { cause?: unknown })?.cause;
  return e instanceof FTPError ? e.code : undefined;
}

export class CommandRefused extends Error {
  constructor(
    readonly command: string,
    readonly reply: string,
  ) {
    super(`the server refused ${command} (${reply.trim()})`);
  }
}

/** Whether data connections are TLS (openClient insists on PROT P whenever the control connection is). */
export const dataIsEncrypted = (client: Client) => client.ftp.socket instanceof TLSSocket;

/** RETR from startAt (REST first when startAt > 0) into dest, which is ended afterwards. */
export async function retrieve(client: Client, dest: Writable, path: string, startAt: number): Promise<void> {
  const onError = (err: Error) => client.ftp.closeWithError(err);
  dest.once('error', onError);
  try {
    await dataConnection(client);
    const target = commandPath(path);
    // basic-ftp's transfer sends RETR itself once REST is answered 350.
    await transferCommand(client, { command: startAt > 0 ? `REST ${startAt}` : `RETR ${target}`, path: target, type: 'download', dest });
  } catch (err) {
    // With startAt > 0 the first command is REST; RETR itself answers 4xx/550 for file problems.
    if (startAt > 0 && notImplemented(err)) throw new CommandRefused('REST', (err as FTPError).message);
    throw err;
  } finally {
    dest.removeListener('error', onError);
    dest.end();
  }
}

export type StoreMode = { mode: 'stor' } | { mode: 'appe' } | { mode: 'rest-stor'; offset: number };

/** STOR, APPE, or REST + STOR, on the data connection opened ahead if there is one. */
export async function store(client: Client, source: Readable, path: string, how: StoreMode): Promise<void> {
  if (dataIsEncrypted(client)) source = endOnceSecure(client, source);
  try {
    await upload(client, source, commandPath(path), how);
  } catch (raw) {
    const err = await refusalAfter(client, raw);
    if (how.mode === 'appe' && notImplemented(err)) throw new CommandRefused('APPE', (err as FTPError).message);
    if (how.mode === 'rest-stor' && notImplemented(err)) throw new CommandRefused('REST', (err as FTPError).message);
    throw err;
  }
}

/**
 * A server that refuses an upload (proftpd: "550 …: No such file or directory", "Permission
 * denied") answers on the control connection and resets the data connection; the reset can come
 * first and look like a dropped network, retried for minutes. So after a data connection fails,
 * a reply that arrives within REFUSAL_GRACE_MS decides: a refusal (4xx/5xx) is thrown instead,
 * anything else leaves the data error as it was (connect.ts holds the reset back that long, so
 * the control connection is still open to read it). The connection is dropped after any failure.
 */
async function refusalAfter(client: Client, err: unknown): Promise<unknown> {
  if (err instanceof FTPError || err instanceof TlsBeforeReply || client.closed) return err;
  let timer: NodeJS.Timeout | undefined;
  const reply = client.ftp.handle(undefined, (res, task) => (res instanceof Error ? task.reject(res) : task.resolve(res)));
  const late = await Promise.race([
    reply.then(
      () => undefined,
      (e: unknown) => e,
    ),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), REFUSAL_GRACE_MS))),
  ]);
  clearTimeout(timer);
  return late instanceof FTPError && late.code >= 400 ? late : err;
}

/**
 * Two races on a TLS data connection that only an empty upload loses:
 * - basic-ftp starts sending once the data connection reports a cipher, which after a TLS 1.3
 *   HelloRetryRequest (vsftpd sends one) is before the handshake has ended;
 * - under TLS 1.3 the server sends its session tickets just after the handshake, and a
 *   close_notify that crosses them makes vsftpd fail the transfer (alert 50, "decode error").
 * Either way vsftpd drops the session and the empty file is not stored. So the end of the data
 * waits for the handshake and, when nothing was sent, until no ticket has come for 50 ms.
 * Measured against vsftpd: waiting for the handshake alone still lost 2 of 100 empty uploads;
 * ending right after the first ticket lost most; with the quiet period none of 200 failed.
 */
function endOnceSecure(client: Client, source: Readable): Readable {
  async function* held(): AsyncGenerator<Buffer> {
    let sent = 0;
    for await (const chunk of source) {
      sent += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    const socket = client.ftp.dataSocket;
    if (!(socket instanceof TLSSocket) || socket.destroyed) return;
    const ended = once(socket, 'close');
    ended.catch(() => {});
    // A connection that fails instead ends the transfer through basic-ftp's own error handling.
    if (!handshakeDone(socket)) await Promise.race([once(socket, 'secureConnect'), ended]).catch(() => {});
    if (sent === 0 && socket.getProtocol() === 'TLSv1.3' && !socket.destroyed) await ticketsQuiet(socket, ended);
  }
  return Readable.from(held(), { objectMode: false });
}

/** Resolves once no session ticket has arrived for TICKET_QUIET_MS (at most TICKET_WAIT_MS in all). */
function ticketsQuiet(socket: TLSSocket, ended: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    let quiet: NodeJS.Timeout;
    const done = () => {
      clearTimeout(quiet);
      clearTimeout(limit);
      socket.removeListener('session', again);
      resolve();
    };
    const again = () => {
      clearTimeout(quiet);
      quiet = setTimeout(done, TICKET_QUIET_MS);
    };
    const limit = setTimeout(done, TICKET_WAIT_MS);
    socket.on('session', again);
    again();
    ended.then(done, done);
  });
}

const TICKET_QUIET_MS = 50;
const TICKET_WAIT_MS = 500;

/** STOR, APPE, or REST + STOR (basic-ftp has no REST before STOR: its transfer routine is driven here). */
async function upload(client: Client, source: Readable, path: string, how: StoreMode): Promise<void> {
  const onError = (err: Error) => client.ftp.closeWithError(err);
  source.once('error', onError);
  try {
    await dataConnection(client);
    if (how.mode === 'rest-stor') await client.send(`REST ${how.offset}`);
    await transferCommand(client, { command: how.mode === 'appe' ? 'APPE' : 'STOR', path, type: 'upload', source });
  } finally {
    source.removeListener('error', onError);
  }
}

/** Whether FEAT lists a feature (e.g. SIZE, MDTM, REST STREAM). */
export async function hasFeature(client: Client, name: string): Promise<boolean> {
  return (loginFacts(client)?.features ?? (await client.features())).has(name);
}

/** SIZE of a remote file, or undefined when it does not exist (or SIZE is not answered). */
export async function sizeOf(client: Client, path: string): Promise<number | undefined> {
  const res = await client.sendIgnoringError(`SIZE ${commandPath(path)}`);
  return res.code === 213 ? parseSize(res.message) : undefined;
}

/**
 * `thenPassive`: the next transfer's EPSV rides in the same write and its data connection is
 * opened ahead (sync's uploads: one round trip less per file; unused, it closes with the session).
 */
export async function renameRemote(client: Client, from: string, to: string, opts: { thenPassive?: boolean; setTime?: string } = {}): Promise<void> {
  const commands = [...(opts.setTime ? [opts.setTime] : []), `RNFR ${commandPath(from)}`, `RNTO ${commandPath(to)}`];
  const replies = opts.thenPassive ? await withPassive(client, commands) : await pipelined(client, commands);
  if (opts.setTime) timeSetReply(client, opts.setTime, replies.shift());
  checkRename(replies);
}

/**
 * RNFR and RNTO in one write (RNFR's 350 decides nothing but that RNTO may follow: a refused one
 * fails RNTO too, and its reply is read first), with the new name's SIZE when asked: the size
 * after the rename, or undefined when the server does not tell.
 */
export async function renameThenSize(client: Client, from: string, to: string, size = true, setTime?: string): Promise<number | undefined> {
  const commands = [...(setTime ? [setTime] : []), `RNFR ${commandPath(from)}`, `RNTO ${commandPath(to)}`, ...(size ? [`SIZE ${commandPath(to)}`] : [])];
  const replies = await pipelined(client, commands);
  if (setTime) timeSetReply(client, setTime, replies.shift());
  checkRename(replies);
  const sized = size ? replies[2] : undefined;
  return sized?.code === 213 ? parseSize(sized.message) : undefined;
}

function checkRename([rnfr, rnto]: Reply[]): void {
  if (rnfr.code !== 350) throw new FTPError(rnfr);
  if (rnto.code >= 300) throw new FTPError(rnto);
}

export async function removeRemote(client: Client, path: string): Promise<void> {
  await client.remove(path, true);
}

/**
 * Whether a failed connect looks like a per-user or per-address connection cap: 421 at the
 * greeting (vsftpd's max_per_ip, max_clients), or a login refused on an extra connection while
 * the same credentials work on another one (the caller knows that part).
 */
export function refusedExtraConnection(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  // The 421 may sit a few causes down (classified, then wrapped by the retry loop's "gave up").
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = (e as Error & { cause?: unknown }).cause, depth++) {
    if (e instanceof FTPError && e.code === 421) return true;
  }
  return (err as { kind?: string }).kind === 'login';
}

// File commands (ls, cd, mkdir, rm, rmdir; the shell). They leave the connection's working
// directory as they found it: a reconnect would reset it anyway, so callers never rely on it.

/**
 * Entries of a remote directory (MLSD or LIST, parsed by basic-ftp), or the one entry of a file;
 * "" is the login directory. As for sync (listStrict), the directory is entered and listed
 * without a path: a server lists a missing or unreadable path as nothing, with a reply that
 * admits it (vsftpd: "226 Transfer done (but failed to open directory)"), and that is not an
 * empty directory.
 */
export async function listEntries(client: Client, path: string): Promise<FileInfo[]> {
  const parse = (text: string) => parseLines(client, text).parsed.map((p) => p.info);
  if (path === '') return parse((await listChecked(client)).text);
  const home = await loginDir(client);
  const entered = await enterDirectory(client, path, true).catch((err: unknown) => {
    if (err instanceof CwdRefused) return false;
    throw err;
  });
  if (!entered) {
    if ((await sizeOf(client, path)) !== undefined) return client.list(commandPath(path));
    throw new RftpError('notFound', 'remote directory not found');
  }
  try {
    return parse((await listChecked(client)).text);
  } finally {
    cwdHome(client, commandPath(home));
  }
}

/** listHere, with a final reply that admits a failure taken as one. */
async function listChecked(client: Client): Promise<{ text: string; reply: string }> {
  const listed = await listHere(client);
  if (failedReply(listed.reply)) throw new RftpError('transfer', `the server could not read the directory (${oneLine(listed.reply)})`);
  return listed;
}

/** The absolute path of `path` ("" = the login directory) as the server resolves it; fails if it is no directory. */
export async function resolveDir(client: Client, path: string): Promise<string> {
  const back = await client.pwd();
  if (path === '') return back;
  await client.cd(path);
  try {
    return await client.pwd();
  } finally {
    await client.cd(back);
  }
}

export async function makeDir(client: Client, path: string, parents: boolean): Promise<void> {
  if (!parents) {
    await client.send(`MKD ${commandPath(path)}`);
    return;
  }
  const back = await client.pwd();
  try {
    // MKD each missing level; ensureDir fails (CWD) only where a level cannot be made or entered.
    await client.ensureDir(path);
  } finally {
    await client.cd(back);
  }
}

/** DELE: unlike removeRemote, a missing file is an error. */
export async function deleteFile(client: Client, path: string): Promise<void> {
  await client.remove(path);
}

/** RMD of an empty directory, or the whole tree with recursive. */
export async function removeDirectory(client: Client, path: string, recursive: boolean): Promise<void> {
  if (recursive) await client.removeDir(path);
  else await client.send(`RMD ${commandPath(path)}`);
}

export interface ListedEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  /** Only when the listing states it plainly (digits, below 2^53). */
  size?: number;
  /** Only from MLSD, which gives UTC to the second; LIST dates are too vague to compare. */
  mtimeMs?: number;
  /** MLSD "unique" fact, for loop detection. */
  unique?: string;
  /** A LIST line's time (to the minute or the day): a last resort, where MDTM gives nothing better. */
  listed?: ListedTime;
}

/**
 * A listing that admits what it could not read. basic-ftp's list() drops unparsable lines (and
 * MLSD names containing "/") without a word, so each line is parsed on its own here and every
 * line that yields nothing (other than "." and "..") comes back in `dropped`. Errors, including
 * a transfer cut off with 426, are thrown: a caller must never take a failed listing as empty.
 *
 * The directory is entered with CWD and listed without a path argument: given `LIST -a dir` for
 * a directory it cannot open, vsftpd lists the parent filtered by the name (one entry, the
 * directory itself) or sends nothing with "226 Transfer done (but failed to open directory).",
 * and both would pass for a complete listing. So a CWD that fails, a final reply that says
 * something failed, or a listing of only the directory's own name that cannot be entered, all
 * count as a failed listing. The working directory is back at the login directory afterwards.
 */
export async function listStrict(client: Client, path: string): Promise<{ entries: ListedEntry[]; dropped: string[] }> {
  const home = await loginDir(client);
  let result: { entries: ListedEntry[]; dropped: string[] };
  try {
    if (path !== '') await enterDirectory(client, path, true);
    result = parseStrict(client, (await listChecked(client)).text);
    const own = remoteBasename(path === '' ? home : path);
    const only = result.entries.length === 1 && result.dropped.length === 0 ? result.entries[0] : undefined;
    if (only?.type === 'dir' && own !== '' && only.name === own) {
      // A directory holding only a subdirectory of its own name is possible: that one can be entered.
      setCwd(client, path === '' ? only.name : `${path}/${only.name}`);
      const res = await client.sendIgnoringError(`CWD ${commandPath(only.name)}`);
      if (res.code >= 400) {
        throw new RftpError('transfer', 'the listing shows only the directory itself, as a server does for a directory it cannot read');
      }
    }
  } catch (err) {
    // The original error counts; Session.run drops the connection after it anyway.
    if (cwdOf(client) !== undefined) {
      setCwd(client, undefined);
      await client.sendIgnoringError(`CWD ${commandPath(home)}`).catch(() => undefined);
    }
    throw err;
  }
  // Back home with whatever this connection sends next (the next listing, the file times).
  cwdHome(client, commandPath(home));
  return result;
}

/**
 * CWD into a directory (relative to the login directory), in one write with the EPSV of the
 * listing that follows when `thenList`; the connection stays there (cwdOf) until cwdHome. A
 * connection already there (sync's check of its root) goes straight on.
 */
export async function enterDirectory(client: Client, path: string, thenList: boolean): Promise<boolean> {
  if (cwdOf(client) === path) return true;
  const command = `CWD ${commandPath(path)}`;
  const [res] = thenList ? await withPassive(client, [command]) : await pipelined(client, [command]);
  if (res.code >= 400) {
    if (thenList) throw new CwdRefused(res);
    return false;
  }
  setCwd(client, path);
  return true;
}

/** A directory that cannot be entered (missing, or not allowed): the server's refusal of CWD. */
export class CwdRefused extends FTPError {}

/** Where each connection was after login (PWD once): listings CWD away and come back here. */
const loginDirs = new WeakMap<Client, string>();

async function loginDir(client: Client): Promise<string> {
  let dir = loginDirs.get(client) ?? loginFacts(client)?.home;
  if (dir === undefined) {
    dir = await client.pwd();
    loginDirs.set(client, dir);
  }
  return dir;
}

/** basic-ftp's own default bound for a listing held in memory. */
const MAX_LISTING_BYTES = 40 * 1024 * 1024;

/** basic-ftp's list() without a path, keeping the final reply, which it throws away. */
async function listHere(client: Client): Promise<{ text: string; reply: string }> {
  let lastError: unknown;
  for (const candidate of client.availableListCommands) {
    await dataConnection(client);
    try {
      const buffer = listingBuffer(MAX_LISTING_BYTES);
      const res = await transferCommand(client, { command: candidate, path: '', type: 'list', dest: buffer });
      const text = buffer.getText(client.ftp.encoding);
      client.ftp.log(text);
      client.availableListCommands = [candidate];
      return { text, reply: res.message };
    } catch (err) {
      if (!(err instanceof FTPError)) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

/** A 2xx reply after a listing whose text admits a failure (vsftpd: "226 Transfer done (but failed to open directory)."). */
export function failedReply(message: string): boolean {
  const text = message.replace(/\b(no|0|without) errors?\b/gi, '');
  return /\b(fail(s|ed|ure)?|den(y|ied)|cannot|can'?t|unable|not permitted|errors?)\b/i.test(text);
}

const oneLine = (text: string) =>
  text
    .replace(/[\x00-\x1f\x7f-\x9f]+/g, ' ')
    .trim()
    .slice(0, 200);

/** Each line parsed on its own (see listStrict): the entries with their lines, and what yielded none. */
function parseLines(client: Client, text: string): { parsed: Array<{ info: FileInfo; line: string }>; dropped: string[] } {
  const parsed: Array<{ info: FileInfo; line: string }> = [];
  const dropped: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || /^total\s+\d+\s*$/i.test(line)) continue;
    let infos: FileInfo[];
    try {
      infos = client.parseList(line);
    } catch {
      dropped.push(line);
      continue;
    }
    if (infos.length !== 1) {
      if (!/(^|\s)\.\.?$/.test(line) && !/(^|;)type=[cp]dir;/i.test(line)) dropped.push(line);
      continue;
    }
    const info = infos[0];
    info.name = dosName(line) ?? info.name;
    // The Unix parser's name is "the rest of the line" up to a CR: a name that is not the
    // whole rest (CR inside) would be a different, made-up name.
    if (!line.endsWith(info.isSymbolicLink && info.link !== undefined ? `${info.name} -> ${info.link}` : info.name)) {
      dropped.push(line);
      continue;
    }
    parsed.push({ info, line });
  }
  return { parsed, dropped };
}

function parseStrict(client: Client, text: string): { entries: ListedEntry[]; dropped: string[] } {
  const { parsed, dropped } = parseLines(client, text);
  return { entries: parsed.map(({ info, line }) => toEntry(info, line)), dropped };
}

/**
 * The name in an IIS-style (MS-DOS) listing line, which has fixed columns: the date, the time,
 * then 22 characters holding <DIR> or the size and a space, then the name, all of it. basic-ftp
 * trims the spaces a name starts with, and that name is not on the server.
 *   `12-01-26  02:15PM       <DIR>          name` / `12-01-26  02:15PM                 1234 name`
 */
function dosName(line: string): string | undefined {
  const m = /^\d{2}-\d{2}-\d{2,4} +\d{1,2}:\d{2}(?:[AP]M)?/i.exec(line);
  if (!m) return undefined;
  // Exactly IIS's layout (<DIR> at the 8th place, a size ending at the 21st): another server's
  // padding would otherwise put a space of its own into the name.
  const block = line.slice(m[0].length, m[0].length + 22);
  const iis = /^ {7}<DIR> {10}$/.test(block) || (/^ *\d+ $/.test(block) && block[20] !== ' ');
  return iis && line.length > m[0].length + 22 ? line.slice(m[0].length + 22) : undefined;
}

function toEntry(info: FileInfo, line: string): ListedEntry {
  const type = info.isDirectory ? 'dir' : info.isSymbolicLink ? 'symlink' : info.isFile ? 'file' : 'other';
  const mlsd = /^[^\s=]+=\S*;/.test(line);
  const sizeText = mlsd ? /(?:^|;)size=([^;]*);/i.exec(line)?.[1] : String(info.size);
  const size = sizeText !== undefined && /^\d{1,16}$/.test(sizeText) && Number.isSafeInteger(Number(sizeText)) ? Number(sizeText) : undefined;
  const t = info.modifiedAt?.getTime();
  const listed = mlsd ? undefined : parseListedTime(info.rawModifiedAt);
  return { name: info.name, type, size, mtimeMs: t !== undefined && Number.isFinite(t) ? t : undefined, unique: info.uniqueID, ...(listed && { listed }) };
}

/** MKD; a directory that is already there (another worker, an earlier run) is fine. */
export async function makeDirIfMissing(client: Client, path: string): Promise<void> {
  const res = await client.sendIgnoringError(`MKD ${commandPath(path)}`);
  if (res.code < 400) return;
  if (await isDirectory(client, path)) return;
  throw new FTPError(res);
}

export { isDirectory };

export function closeConnection(client: Client): void {
  client.close();
}
