import { FTPError, type Client } from 'basic-ftp';
import { RftpError } from '../errors.js';
import { beforeCommands, openDataConnection } from './basic-ftp-internals.js';

// Over a real link every command that waits for the one before costs a round trip (10-100 ms),
// and there the number of round trips decides how long FTP takes. FTP answers commands in order,
// one final reply each, so commands whose replies do not decide what is sent next can go in one
// write, and each reply is still checked, in order.

export interface Reply {
  code: number;
  message: string;
}

interface Rider {
  command: string;
  /** A failure leaves the connection somewhere unknown (CWD back): it fails the batch. */
  mustSucceed: boolean;
}

/**
 * Per connection: commands that wait to go out with the next batch instead of costing a round
 * trip of their own (OPTS after login, the CWD back home after a listing).
 */
const riders = new WeakMap<Client, Rider[]>();

/** The server (host:port) of each connection, for the marks below. */
const servers = new WeakMap<Client, string>();

/** Servers that lost commands sent together (a batch ran into the timeout): one at a time from then on. */
const oneAtATime = new Set<string>();

/** Connections told to send one command at a time (--no-pipelining). */
const serialClients = new WeakSet<Client>();

/** Where each connection is. Paths are relative to the login directory; no entry = there. */
const places = new WeakMap<Client, string>();

/** Marks a new connection: its server, and that what rides along goes out before any other command. */
export function setServer(client: Client, server: string, pipelining = true): void {
  servers.set(client, server);
  if (!pipelining) serialClients.add(client);
  beforeCommands(client, () => ((riders.get(client) ?? []).length > 0 ? pipelined(client, []) : undefined));
}

/** The directory a connection was left in (see cwdHome), or undefined at the login directory. */
export const cwdOf = (client: Client) => places.get(client);

export function setCwd(client: Client, path: string | undefined): void {
  if (path === undefined) places.delete(client);
  else places.set(client, path);
}

/**
 * Back to the login directory, riding along with whatever the connection sends next (a listing's
 * CWD back costs no round trip of its own). A failure there fails that batch.
 */
export function cwdHome(client: Client, home: string): void {
  if (!places.has(client)) return;
  places.delete(client);
  ride(client, `CWD ${home}`, true);
}

export const serverOf = (client: Client) => servers.get(client);

/** What a connection learnt at login: FEAT's features and the login directory (PWD). */
const logins = new WeakMap<Client, { features: Map<string, string>; home?: string }>();

export function rememberLogin(client: Client, features: Map<string, string>, home: string | undefined): void {
  logins.set(client, { features, home });
}

export const loginFacts = (client: Client) => logins.get(client);

/** Commands for the next batch of this connection (see riders). */
export function ride(client: Client, command: string, mustSucceed: boolean): void {
  riders.set(client, [...(riders.get(client) ?? []), { command, mustSucceed }]);
}

/** Sends what still rides along on its own, for a step that sends no batch of its own. */
export async function flushRiders(client: Client): Promise<void> {
  if ((riders.get(client) ?? []).length > 0) await pipelined(client, []);
}

/**
 * The commands in one write (with what rides along first), and their final replies in order,
 * refusals included. A reply whose code no command of its kind gives is caught by the caller's
 * checks; a batch that runs into the timeout marks the server, whose later connections then send
 * one command at a time (a server or middlebox that loses commands sent together).
 */
export async function pipelined(client: Client, commands: string[], opts: { endsAt?: (reply: Reply) => boolean } = {}): Promise<Reply[]> {
  const ride = riders.get(client) ?? [];
  riders.delete(client);
  const all = [...ride.map((r) => r.command), ...commands];
  const bad = all.find((c) => /[\r\n\0]/.test(c));
  if (bad !== undefined) throw new RftpError('usage', `refusing a command containing CR, LF or NUL: ${JSON.stringify(bad.replace(/^PASS .*/, 'PASS ***'))}`);
  if (all.length === 0) return [];
  const server = servers.get(client);
  let replies: Reply[];
  try {
    // endsAt: a reply only the last command gives ends the batch early (a server that left one
    // command unanswered is caught at once, not at the timeout).
    const endsAt = opts.endsAt && ((r: Reply, n: number) => n > ride.length && opts.endsAt!(r));
    const serial = serialClients.has(client) || (server !== undefined && oneAtATime.has(server));
    replies = serial ? await oneByOne(client, all) : await together(client, all, endsAt);
  } catch (err) {
    if (server === undefined || !/timeout/i.test(String((err as Error)?.message)) || all.length < 2 || oneAtATime.has(server)) throw err;
    oneAtATime.add(server);
    throw new RftpError('connection', `the server left commands sent together unanswered (${(err as Error).message}); sending them one at a time from now on`, { retryable: true, cause: err });
  }
  ride.forEach((r, i) => {
    if (r.mustSucceed && replies[i].code >= 400) throw new FTPError(replies[i]);
  });
  return replies.slice(ride.length);
}

async function together(client: Client, commands: string[], endsAt?: (reply: Reply, count: number) => boolean): Promise<Reply[]> {
  const ftp = client.ftp;
  const replies: Reply[] = [];
  const done = ftp.handle(undefined, (res, task) => {
    // A 4xx/5xx reply arrives as an FTPError; 421 means the server is closing the session.
    if (res instanceof FTPError && res.code !== 421) replies.push({ code: res.code, message: res.message });
    // The replies read before the connection ended go along: a server that answers a wrong
    // password with 530 and hangs up must fail the login, not look like a dropped network.
    else if (res instanceof Error) return task.reject(Object.assign(res, { repliesSoFar: [...replies] }));
    else if (res.code < 200) return;
    else replies.push(res);
    if (replies.length === commands.length || endsAt?.(replies[replies.length - 1], replies.length)) task.resolve(undefined);
  });
  if (!ftp.closed) {
    for (const c of commands) ftp.log(`> ${c.replace(/^PASS .*/, 'PASS ***')}`);
    ftp.socket.write(commands.map((c) => `${c}\r\n`).join(''), ftp.encoding);
  }
  await done;
  return replies;
}

async function oneByOne(client: Client, commands: string[]): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (const c of commands) replies.push(await client.sendIgnoringError(c));
  return replies;
}

/** A data connection opened ahead, in one write with the commands before it (see withPassive). */
const prepared = new WeakMap<Client, { socket: unknown; at: number }>();
/** A data connection opened longer ago than this is not relied on (the server may have given up on it). */
const PREPARED_FRESH_MS = 5000;

/**
 * Commands whose replies do not decide whether a transfer follows (SIZE and MDTM before a RETR),
 * sent in one write with the EPSV of that transfer; its data connection is then opened, and the
 * next retrieve or store uses it. Their replies, in order. A server without EPSV gets basic-ftp's
 * own passive mode (PASV) when the transfer comes.
 */
export async function withPassive(client: Client, before: string[]): Promise<Reply[]> {
  const server = serverOf(client) ?? '';
  if (noEpsv.has(server)) return pipelined(client, before);
  const replies = await pipelined(client, [...before, 'EPSV']);
  const epsv = replies.pop()!;
  if (epsv.code !== 229 && !notImplemented(epsv)) throw new FTPError(epsv);
  try {
    if (await openDataConnection(client, server, epsv)) prepared.set(client, { socket: client.ftp.dataSocket, at: Date.now() });
    else noEpsv.add(server);
  } catch (err) {
    // A 229 whose port cannot be reached (a NAT, a firewall): the commands before it succeeded
    // and stand; from now on the transfers use basic-ftp's own passive mode, which falls back
    // to PASV.
    noEpsv.add(server);
    client.ftp.dataSocket = undefined;
    client.ftp.log(`EPSV's data connection failed (${(err as Error).message}); passive mode without EPSV ahead from now on`);
  }
  return replies;
}

/**
 * EPSV not known to the server (500-504 in words of its own) or not for this network (522): PASV
 * may still work. vsftpd's "500 OOPS: …" is no such answer but a failure that ends the session
 * (out of passive ports, say): it goes to the caller.
 */
const notImplemented = (reply: Reply) => reply.code === 522 || (reply.code >= 500 && reply.code <= 504 && !/^\d{3}[ -]OOPS\b/.test(reply.message));

/**
 * Servers (host:port) whose EPSV was refused or whose EPSV port could not be reached: no EPSV
 * is sent ahead for them; basic-ftp's passive mode (EPSV, else PASV, remembered per connection)
 * opens their data connections.
 */
const noEpsv = new Set<string>();

/** The data connection for the transfer about to start: the one opened ahead if it is fresh, else a new one. */
export async function dataConnection(client: Client): Promise<void> {
  const ahead = prepared.get(client);
  prepared.delete(client);
  const socket = client.ftp.dataSocket;
  if (ahead && socket && ahead.socket === socket && !socket.destroyed && Date.now() - ahead.at < PREPARED_FRESH_MS) return;
  await withPassive(client, []);
  if (prepared.delete(client)) return;
  await client.prepareTransfer(client.ftp);
}

/** FEAT's reply as basic-ftp's features() reads it: name -> parameters. */
export function parseFeatures(reply: Reply): Map<string, string> {
  const features = new Map<string, string>();
  if (reply.code >= 400 || !/\n/.test(reply.message)) return features;
  for (const line of reply.message.split('\n').slice(1, -1)) {
    const entry = line.trim().split(' ');
    if (entry[0]) features.set(entry[0], entry[1] ?? '');
  }
  return features;
}

/** PWD's reply: `257 "/this/that" is the current directory`. */
export function parsePwd(reply: Reply): string | undefined {
  return reply.code === 257 ? /"(.+)"/.exec(reply.message)?.[1] : undefined;
}
