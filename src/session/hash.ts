// Asking a server for a file's hash, where FEAT offers a way: HASH (draft-bryan-ftpext-hash,
// with OPTS HASH to pick the algorithm) or the older XSHA256/XSHA512/XSHA1/XMD5/XCRC commands.
// And setting a file's modification time (MFMT), which uploads use so that a later sync compares
// times that mean something.
import { type Client, FTPError } from 'basic-ftp';
import { commandPath } from './paths.js';
import { loginFacts, pipelined, type Reply, serverOf } from './pipeline.js';

/** The algorithms, strongest first; names as the HASH draft spells them. */
export type HashAlgorithm = 'SHA-256' | 'SHA-512' | 'SHA-1' | 'MD5' | 'CRC32';
const PREFERENCE: HashAlgorithm[] = ['SHA-256', 'SHA-512', 'SHA-1', 'MD5', 'CRC32'];
const X_COMMANDS: Array<[string, HashAlgorithm]> = [
  ['XSHA256', 'SHA-256'],
  ['XSHA512', 'SHA-512'],
  ['XSHA1', 'SHA-1'],
  ['XMD5', 'MD5'],
  ['XCRC', 'CRC32'],
];

export interface RemoteHash {
  algorithm: HashAlgorithm;
  /** Lower-case hex. */
  hex: string;
}

async function features(client: Client): Promise<Map<string, string>> {
  return loginFacts(client)?.features ?? (await client.features());
}

/** How this server hashes, from FEAT: the command and the algorithm, or undefined when it cannot. */
export async function hashMethod(client: Client): Promise<{ command: 'HASH' | string; algorithm: HashAlgorithm; select?: string } | undefined> {
  const feat = await features(client);
  const offered = feat.get('HASH');
  if (offered !== undefined) {
    // "CRC32;MD5;SHA-1*;SHA-256;SHA-512;": * marks the one selected now.
    const names = offered
      .split(';')
      .map((n) => n.trim())
      .filter(Boolean);
    const best = PREFERENCE.find((a) => names.some((n) => n.replace(/\*$/, '').toUpperCase() === a));
    if (best) {
      const selected = names
        .find((n) => n.endsWith('*'))
        ?.replace(/\*$/, '')
        .toUpperCase();
      return { command: 'HASH', algorithm: best, select: selected === best ? undefined : `OPTS HASH ${best}` };
    }
  }
  for (const [command, algorithm] of X_COMMANDS) if (feat.has(command)) return { command, algorithm };
  return undefined;
}

/**
 * The server has a hash command but would not use it on this file: a 500-504 reply (proftpd's
 * XSHA256 takes no name with a space: "501 Invalid number of parameters").
 */
export class HashUnavailable extends Error {}

/**
 * The server's hash of a file; undefined when it has no way to hash. A refusal in words (550, a
 * missing file) is an FTPError; a command it cannot apply to this name is HashUnavailable.
 */
export async function remoteHash(client: Client, path: string): Promise<RemoteHash | undefined> {
  const method = await hashMethod(client);
  if (!method) return undefined;
  const p = commandPath(path);
  if (method.command === 'HASH') {
    // The OPTS reply decides nothing: the HASH reply names the algorithm it used.
    const replies = await pipelined(client, [...(method.select ? [method.select] : []), `HASH ${p}`]);
    return parseHashReply(answered(replies[replies.length - 1]));
  }
  const [reply] = await pipelined(client, [`${method.command} ${p}`]);
  return { algorithm: method.algorithm, hex: parseXReply(answered(reply).message) };
}

function answered(reply: Reply): Reply {
  if (reply.code >= 500 && reply.code <= 504) throw new HashUnavailable(reply.message.trim());
  if (reply.code >= 300) throw new FTPError(reply);
  return reply;
}

/** "213 SHA-256 0-100000 2c4b…791c dir/a.bin" (the last line of a 213- reply). */
export function parseHashReply(reply: Reply): RemoteHash {
  const last = reply.message.trim().split('\n').pop()!.trim();
  const m = /^213 (\S+) \d+-\d* ([0-9a-fA-F]+)(?: |$)/.exec(last);
  const algorithm = m && PREFERENCE.find((a) => a === m[1].toUpperCase());
  if (!m || !algorithm) throw new FTPError({ code: 502, message: `unexpected HASH reply: ${last}` });
  return { algorithm, hex: m[2].toLowerCase() };
}

/** "250 2C4B…791C" (XSHA256 and the like; the last line of a 250- reply). */
export function parseXReply(message: string): string {
  const last = message.trim().split('\n').pop()!.trim();
  const m = /^\d{3}[ -](?:\S+ )?([0-9a-fA-F]{8,128})\s*$/.exec(last);
  if (!m) throw new FTPError({ code: 502, message: `unexpected hash reply: ${last}` });
  return m[1].toLowerCase();
}

/** MFMT's time: YYYYMMDDHHMMSS in UTC. */
export const mfmtTime = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);

/** Servers (host:port) that refused SITE UTIME: uploads there keep the time of their upload. */
const noSiteUtime = new Set<string>();

/**
 * The command that gives a remote file this time: MFMT where FEAT offers it, else SITE UTIME in
 * its two-argument form (pure-ftpd's; FEAT never lists SITE commands, so it is tried, in the
 * rename's write, until the server refuses it once); undefined when neither is to be had. The
 * caller names the temporary file, before the rename (a rename keeps the time): a failed rename
 * then leaves the old file's time alone.
 */
export async function setTimeCommand(client: Client, path: string, mtimeMs: number): Promise<string | undefined> {
  if ((await features(client)).has('MFMT')) return `MFMT ${mfmtTime(mtimeMs)} ${commandPath(path)}`;
  if (noSiteUtime.has(serverOf(client) ?? '')) return undefined;
  return `SITE UTIME ${mfmtTime(mtimeMs)} ${commandPath(path)}`;
}

/** The reply to setTimeCommand's command: a refused SITE UTIME is not tried again on that server. */
export function timeSetReply(client: Client, command: string, reply: Reply | undefined): void {
  if (!reply || reply.code < 300) return;
  if (command.startsWith('SITE UTIME')) {
    const server = serverOf(client) ?? '';
    if (!noSiteUtime.has(server)) client.ftp.log('the server has neither MFMT nor SITE UTIME: uploaded files keep the time of their upload');
    noSiteUtime.add(server);
  } else client.ftp.log(`the server did not set the uploaded file's time: ${reply.message}`);
}
