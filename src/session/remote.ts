import type { Client } from 'basic-ftp';
import { RftpError } from '../errors.js';
import { quoteName } from '../ui/redact.js';
import { commandPath } from './paths.js';
import { pipelined, withPassive } from './pipeline.js';

export interface RemoteInfo {
  size?: number;
  /** Modification time in ms since the epoch (UTC), from MDTM or MLST. */
  mtimeMs?: number;
}

/**
 * SIZE and MDTM, parsed strictly: junk, or numbers beyond 2^53, count as unknown, never as a value
 * that could make a changed file look unchanged.
 */
export async function statRemote(client: Client, path: string, opts: { thenTransfer?: boolean } = {}): Promise<RemoteInfo> {
  const arg = commandPath(path);
  // SIZE and MDTM decide whether (and from where) a transfer follows, not how its data connection
  // is opened: with thenTransfer its EPSV goes in the same write (see withPassive).
  const commands = [`SIZE ${arg}`, `MDTM ${arg}`];
  const [sizeRes, mdtm] = opts.thenTransfer ? await withPassive(client, commands) : await pipelined(client, commands);
  if (sizeRes.code === 550) {
    // Named without a trailing slash, a directory answers SIZE as a missing file would.
    if (await isDirectory(client, path)) throw new RftpError('notFound', `${quoteName(path)} is a directory, not a file (rftp sync copies a directory)`);
    throw new RftpError('notFound', `remote file not found: ${quoteName(path)} (${sizeRes.message.trim()})`);
  }
  const size = sizeRes.code === 213 ? parseSize(sizeRes.message) : undefined;
  let mtimeMs = mdtm.code === 213 ? parseFtpTime(mdtm.message.slice(4).trim()) : undefined;
  if (mtimeMs === undefined) mtimeMs = await mlstTime(client, arg);
  return { size, mtimeMs };
}

/** Whether CWD into path works; the working directory is restored. */
export async function isDirectory(client: Client, path: string): Promise<boolean> {
  if (path === '') return true;
  const back = await client.pwd();
  const res = await client.sendIgnoringError(`CWD ${commandPath(path)}`);
  if (res.code >= 400) return false;
  await client.cd(back);
  return true;
}

/**
 * MDTM alone (no SIZE, no MLST fallback), for many files in a row: `unsupported` when the server
 * has no such command, so a caller can stop asking.
 */
export async function modifiedTime(client: Client, path: string): Promise<{ mtimeMs?: number; unsupported?: true }> {
  const res = await client.sendIgnoringError(`MDTM ${commandPath(path)}`);
  return timeAnswer(res.code, res.message);
}

export type TimeAnswer = { mtimeMs?: number; unsupported?: true };

function timeAnswer(code: number, message: string): TimeAnswer {
  if ([500, 502, 504].includes(code)) return { unsupported: true };
  return { mtimeMs: code === 213 ? parseFtpTime(message.slice(4).trim()) : undefined };
}

/** The replies did not match the commands one to one: a server that answers some twice or not at all. */
export class PipelineMismatch extends RftpError {
  constructor(detail: string) {
    super('transfer', `the server's replies are out of step with its commands (${detail})`);
  }
}

/** NOOP's reply: a 2xx that no MDTM gives (MDTM's success is 213). */
const isNoopReply = (code: number) => code >= 200 && code < 300 && code !== 213;

/**
 * MDTM for many files in one write, the replies read as they come (pipelining). A sync of a tree
 * on a LIST-only server asks for one time per file; asked one at a time, each costs a round trip
 * and a wake-up of both processes, which made an up-to-date sync of 1000 files spend most of its
 * time waiting. FTP answers commands in order, one final reply each, so the n-th reply is the
 * n-th path's; a NOOP at the end proves the count (its 2xx is never an MDTM answer), so a server
 * that answers one command twice, or drops one, is caught instead of shifting every time after it.
 * Any failure leaves the connection in an unknown state: the caller drops it (Session.run does).
 */
export async function modifiedTimes(client: Client, paths: string[]): Promise<TimeAnswer[]> {
  const commands = paths.map((p) => `MDTM ${commandPath(p)}`);
  const bad = commands.find((c) => /[\r\n\0]/.test(c));
  if (bad !== undefined) throw new RftpError('usage', `invalid remote path: ${JSON.stringify(bad.slice(5))}`);
  if (commands.length === 0) return [];
  const replies = await pipelined(client, [...commands, 'NOOP'], { endsAt: (r) => isNoopReply(r.code) });
  const end = replies[replies.length - 1];
  if (replies.length !== commands.length + 1 || !isNoopReply(end.code)) {
    throw new PipelineMismatch(`${replies.length} replies to ${commands.length} MDTM commands and a NOOP sent together, the last one ${end.code}`);
  }
  return replies.slice(0, -1).map((r) => timeAnswer(r.code, r.message));
}

/**
 * MDTM, then NOOP to prove that its reply was the MDTM's own: for a server already caught
 * answering a command twice, whose stray reply could otherwise pass for the next file's time.
 * (A count cannot see one command answered twice and another not at all; none of that is
 * possible here, one command being in flight at a time.)
 */
export async function modifiedTimeChecked(client: Client, path: string): Promise<TimeAnswer> {
  const answer = await modifiedTime(client, path);
  const res = await client.sendIgnoringError('NOOP');
  if (!isNoopReply(res.code)) throw new PipelineMismatch(`NOOP after MDTM ${path} answered ${res.code}`);
  return answer;
}

export function parseSize(message: string): number | undefined {
  const m = /^213 (\d{1,16})\s*$/.exec(message.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** YYYYMMDDHHMMSS[.sss] in UTC, validated field by field. */
export function parseFtpTime(text: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?$/.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  const t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  const back = new Date(t);
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1) return undefined;
  return t;
}

async function mlstTime(client: Client, arg: string): Promise<number | undefined> {
  const res = await client.sendIgnoringError(`MLST ${arg}`);
  if (res.code !== 250) return undefined;
  const m = /(?:^|;)\s*modify=([0-9.]+);/im.exec(res.message);
  return m ? parseFtpTime(m[1]) : undefined;
}
