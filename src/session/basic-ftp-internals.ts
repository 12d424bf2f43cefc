// Every use of basic-ftp's internals lives here: its transfer routines and helpers from
// basic-ftp/dist/*, and the places where its FTPContext is adapted (the control connection's line
// handling, the data connection's setter, passive mode). package.json pins the exact version these
// were written against; test/unit/basic-ftp-internals.test.ts fails with a clear message when
// they change shape.
import type { Client, FTPContext, FTPResponse } from 'basic-ftp';
import { ProgressTracker } from 'basic-ftp/dist/ProgressTracker.js';
import { StringWriter } from 'basic-ftp/dist/StringWriter.js';
import { connectForPassiveTransfer, downloadTo, parseEpsvResponse, parsePasvResponse, uploadFrom } from 'basic-ftp/dist/transfer.js';
import { connect as netConnect, type Socket } from 'node:net';
import { Duplex, type Readable, type Writable } from 'node:stream';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { countHandshake } from './tls-sessions.js';

/**
 * Runs `before` ahead of every command basic-ftp (or rftp) sends on this connection, when it has
 * something to do: what pipeline.ts lets ride along with the next batch (a CWD back home) must go
 * out before any command that is not part of a batch, or that command would run in the wrong
 * directory. Batches themselves send no command through here (handle(undefined, …)).
 */
export function beforeCommands(client: Client, before: () => Promise<unknown> | undefined): void {
  const ftp = client.ftp as unknown as { handle(command: string | undefined, handler: unknown): Promise<unknown> };
  const handle = ftp.handle.bind(ftp);
  ftp.handle = (command, handler) => {
    const pending = command === undefined ? undefined : before();
    return pending ? pending.then(() => handle(command, handler)) : handle(command, handler);
  };
}

/** Adapts a new Client to what rftp needs of its connections (see the functions below). */
export function adaptClient(client: Client, server: string): void {
  wholeLinesOnly(client);
  refusalsBeforeResets(client, server);
  // basic-ftp replaces prepareTransfer with the strategy that worked: kept, unless the server
  // turned out to want the data connection's TLS after the reply, from then on.
  let strategy = client.prepareTransfer;
  Object.defineProperty(client, 'prepareTransfer', {
    configurable: true,
    get: () => (tlsAfterReply.has(server) && client.ftp.socket instanceof TLSSocket ? passiveWithTlsAfterReply : strategy),
    set: (next: typeof strategy) => (strategy = next),
  });
}

/**
 * A transfer on the data connection already prepared, as basic-ftp's own: an upload sends
 * `command path` (STOR, APPE); a download sends `command` as it is (`RETR path`, `LIST`, or
 * `REST n`, after whose 350 it sends `RETR path`).
 */
export function transferCommand(client: Client, how: { command: string; path: string; type: 'upload' | 'download' | 'list'; source?: Readable; dest?: Writable }): Promise<FTPResponse> {
  const config = { ftp: client.ftp, tracker: new ProgressTracker(), command: how.command, remotePath: how.path, type: how.type };
  return how.source ? uploadFrom(how.source, config) : downloadTo(how.dest!, config);
}

/** A listing held in memory, at most maxBytes. */
export function listingBuffer(maxBytes: number): Writable & { getText(encoding: BufferEncoding | undefined): string } {
  return new StringWriter(maxBytes) as unknown as Writable & { getText(encoding: BufferEncoding | undefined): string };
}

/** Whether a TLS data connection finished its handshake (basic-ftp waits on this too). */
export const handshakeDone = (socket: TLSSocket) => (socket as unknown as { _secureEstablished?: boolean })._secureEstablished === true;

/** More than this without a line end on the control connection is not an FTP reply. */
const MAX_LINE_CHARS = 64 * 1024;

/**
 * basic-ftp takes a single-line reply cut off at the end of one read ("213 20200102030") for a
 * whole one, and the rest ("405") for another: the code and time are wrong, and every later reply
 * shifts by one. On loopback a reply never splits; over a real network, with many replies in
 * flight (pipelined MDTM), one will. So only whole lines are handed on; the rest waits for the
 * next read.
 */
function wholeLinesOnly(client: Client): void {
  const ftp = client.ftp as unknown as { _onControlSocketData(chunk: string): void; closeWithError(err: Error): void };
  const handOn = ftp._onControlSocketData.bind(ftp);
  let held = '';
  ftp._onControlSocketData = (chunk: string) => {
    const text = held + chunk;
    // A CR ends a line too: some servers end replies with a bare CR, or with LF CR.
    const end = Math.max(text.lastIndexOf('\n'), text.lastIndexOf('\r'));
    held = text.slice(end + 1);
    if (held.length > MAX_LINE_CHARS) {
      held = '';
      ftp.closeWithError(new Error('FTP control response exceeded maximum allowed size'));
      return;
    }
    if (end < 0) return;
    // basic-ftp splits lines on LF only: two replies ending in bare CRs, arriving in one read,
    // would be taken for one (the second lost, the command waiting for it until the timeout).
    const lines = text.slice(0, end + 1).replace(/\r(?!\n)/g, '\n');
    // "150 Opening data connection": a data connection waiting for it may start its TLS now.
    if (/^1(25|50)[ -]/m.test(lines)) heldHellos.get(client.ftp)?.release();
    handOn(lines);
  };
}

/** How long a reset data connection leaves the control connection open for the server's word. */
export const REFUSAL_GRACE_MS = 1000;

const resetCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** What a transfer fails with when the server reset its TLS data connection mid-handshake. */
export class TlsBeforeReply extends Error {
  constructor() {
    super('the server reset a data connection whose TLS started before its reply; the next connection starts TLS after the reply (as lftp)');
  }
}

/**
 * A server that refuses an upload (proftpd: "550 …: No such file or directory") answers on the
 * control connection and resets the data connection. basic-ftp closes the whole client on the
 * reset, so when it comes first the refusal is never read and the failure looks like a dropped
 * network, retried for minutes. Here a data connection's reset (its error and its close) reaches
 * basic-ftp only after REFUSAL_GRACE_MS: a reply arriving meanwhile settles the transfer as the
 * refusal it is (see refusalAfter in ops.ts). Every data connection passes basic-ftp's
 * dataSocket setter, which is where the hold is put on.
 *
 * A TLS data connection reset before its handshake ended is the other case: see tlsAfterReply.
 */
function refusalsBeforeResets(client: Client, server: string): void {
  const ftp = client.ftp;
  const accessor = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(ftp), 'dataSocket');
  if (!accessor?.get || !accessor.set) throw new Error("basic-ftp's FTPContext has no dataSocket accessor any more: see refusalsBeforeResets");
  Object.defineProperty(ftp, 'dataSocket', {
    configurable: true,
    get: () => accessor.get!.call(ftp),
    set: (socket: Socket | TLSSocket | undefined) => {
      if (socket) holdResets(client, socket, server);
      accessor.set!.call(ftp, socket);
    },
  });
}

function holdResets(client: Client, socket: Socket, server: string): void {
  const emit = socket.emit as (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;
  let secured = false;
  let dropped = false;
  socket.once('secureConnect', () => {
    secured = true;
    countHandshake(socket as TLSSocket, 'data', client.ftp.verbose ? (m) => client.ftp.log(m) : undefined);
  });
  socket.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    const reset = (event === 'error' && resetCodes.has((args[0] as NodeJS.ErrnoException)?.code ?? '')) || (event === 'close' && args[0] === true);
    if (!reset) return emit.call(this, event, ...args);
    if (dropped) return true;
    if (socket instanceof TLSSocket && !secured && event === 'error') {
      // Reset in the middle of its TLS handshake: a server that wants the command answered
      // first. The transfer fails at once as TlsBeforeReply; the next connection waits.
      dropped = true;
      tlsAfterReply.add(server);
      const ftp = client.ftp as unknown as { _passToHandler(e: Error): void };
      ftp._passToHandler(new TlsBeforeReply());
      return true;
    }
    setTimeout(() => emit.call(socket, event, ...args), REFUSAL_GRACE_MS);
    return true;
  } as typeof socket.emit;
}

/**
 * Servers (host:port) that reset a TLS data connection whose handshake began before they
 * answered the command: Debian's pyftpdlib 1.5.7 (its issue 604). curl fails against them the
 * same way; lftp works because it starts the data connection's TLS after the 150 reply. Once a
 * server did so, its connections do as lftp does for the rest of the run; others pay nothing.
 *
 * The connection that met the reset is not used again: pyftpdlib keeps the refused RETR queued
 * (ABOR answers "225 No transfer to abort") and serves it on the next data connection, ending
 * that transfer with 426; only a new control connection starts clean. So it costs one reconnect
 * per run (Session's retry), never a wrong byte.
 */
const tlsAfterReply = new Set<string>();

/** The data connections waiting for their 150, per control connection (one at a time). */
const heldHellos = new WeakMap<object, HeldWrites>();

/**
 * Passive mode whose TLS handshake waits: EPSV (else PASV, at the control connection's address),
 * a TCP connection, and TLS over it whose first bytes are held until the control connection
 * says 150 (see wholeLinesOnly). Otherwise as basic-ftp's: the control connection's TLS options
 * (so the certificate is checked the same way) and its session resumed.
 */
async function passiveWithTlsAfterReply(ftp: FTPContext): Promise<FTPResponse> {
  let res = (await ftp.handle('EPSV', (r, task) => task.resolve(r))) as FTPResponse | Error;
  let port: number;
  if (res instanceof Error) {
    res = await ftp.request('PASV');
    port = parsePasvResponse(res.message).port;
  } else {
    port = parseEpsvResponse(res.message);
  }
  await connectHeldTls(ftp, port);
  return res;
}

async function connectHeldTls(ftp: FTPContext, port: number): Promise<void> {
  const host = ftp.socket.remoteAddress;
  if (host === undefined) throw new Error("Control socket is disconnected, can't get remote address.");
  const gate = new HeldWrites(await tcpConnect(host, port, ftp.timeout));
  const store = ftp as unknown as { tlsSessionStore?: Buffer };
  const tls = tlsConnect({ ...ftp.tlsOptions, socket: gate, session: store.tlsSessionStore ?? (ftp.socket as TLSSocket).getSession() });
  tls.on('session', (session: Buffer) => (store.tlsSessionStore = session));
  heldHellos.set(ftp, gate);
  ftp.dataSocket = tls;
}

/**
 * The data connection for an EPSV reply already read (sent in a batch with other commands), to
 * the control connection's address, as basic-ftp's own passive mode connects it (TLS resuming
 * the control connection's session), or with its TLS held until the reply for servers that want
 * that (see tlsAfterReply). Undefined when the reply is no EPSV answer: then the caller falls back
 * to basic-ftp's own strategy (PASV).
 */
export async function openDataConnection(client: Client, server: string, epsvReply: { code: number; message: string }): Promise<boolean> {
  if (epsvReply.code !== 229) return false;
  const ftp = client.ftp;
  const port = parseEpsvResponse(epsvReply.message);
  if (tlsAfterReply.has(server) && ftp.socket instanceof TLSSocket) await connectHeldTls(ftp, port);
  else {
    const host = ftp.socket.remoteAddress;
    if (host === undefined) throw new Error("Control socket is disconnected, can't get remote address.");
    await connectForPassiveTransfer(host, port, ftp);
  }
  return true;
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`Timeout when trying to open data connection to ${host}:${port}`)));
    socket.once('error', (err) => reject(Object.assign(err, { message: `Can't open data connection in passive mode: ${err.message}` })));
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/** A TCP connection whose writes wait for release(); reads pass at once. TLS runs over it. */
class HeldWrites extends Duplex {
  private held: Array<{ chunk: Buffer; done: (err?: Error | null) => void }> = [];
  private open = false;

  constructor(private readonly socket: Socket) {
    super();
    socket.on('data', (data: Buffer) => {
      if (!this.push(data)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  release(): void {
    if (this.open) return;
    this.open = true;
    for (const { chunk, done } of this.held.splice(0)) this.socket.write(chunk, done);
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.open) this.socket.write(chunk, done);
    else this.held.push({ chunk, done });
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.end(done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.socket.destroy(err ?? undefined);
    done(err);
  }
}
