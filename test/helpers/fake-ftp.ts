// A small scripted FTP server for tests against hostile or broken servers.
//
// It is deliberately not a real FTP server: passive mode only, binary only, one
// in-memory file map, and every quirk is driven by `behaviour`, which tests may
// change between requests. Commands on one control connection are handled
// strictly one after another (like most real servers), so a stalled RETR also
// leaves later commands on that connection unanswered.
import net from 'node:net';
import { after } from 'node:test';
import tls from 'node:tls';
import path from 'node:path';

export interface FakeFile {
  data: Buffer;
  mtime?: Date;
}
export interface FakeBehaviour {
  authTls?: 'ok' | 'refuse';
  prot?: 'ok' | 'refuse';
  rest?: 'ok' | 'refuse' | 'ignore';
  appe?: 'ok' | 'refuse';
  /** Control connections after this many are greeted with 421 and closed (a per-address cap held by others). */
  acceptConnections?: number;
  /** 'refuse': RETR answers 550 (an upload-only account). */
  retr?: 'ok' | 'refuse';
  size?: 'ok' | 'refuse' | 'junk';
  mdtm?: 'ok' | 'refuse' | 'junk';
  feat?: string[];
  shortRetr?: { afterBytes: number; reply: string };
  stallRetrAfterBytes?: number;
  /** 530 to PASS; 'close': and then hang up, as pure-ftpd does. */
  loginFails?: boolean | 'close';
  /** EPSV answers 229 with a port nothing listens on (a NAT that breaks EPSV); PASV works. */
  epsvUnreachable?: boolean;
  welcome?: string;
  /** The login directory (PWD after login); default "/". */
  home?: string;
  /** A scripted listing of dir; a directory it answers for can also be entered with CWD. Undefined: the default. */
  /** Announce this address in PASV replies (and refuse EPSV), as a server behind NAT does. */
  pasvHost?: string;
  listing?: (dir: string) => { lines: string[]; finalReply?: string } | undefined;
  /** 'drop': of several commands arriving in one packet, only the first is seen (a server or middlebox that cannot take pipelined commands). */
  pipelining?: 'ok' | 'drop';
  /** Each reply is written in pieces of this many bytes, a few ms apart (a slow network splitting replies). */
  replyInPieces?: number;
  /** Ends reply lines with this instead of CRLF (old or broken servers: a bare CR or LF, or LF CR). */
  lineEnd?: string;
  /** MDTM of a path ending in this is answered twice, in one write (a server that miscounts pipelined commands). */
  mdtmTwice?: string;
  /** With mdtmTwice: the second answer goes out just before the reply to the next command. */
  mdtmTwiceLate?: boolean;
  /** Connections after the first `after` wait `ms` before answering PASS (a server slow to log in). */
  slowLogins?: { after: number; ms: number };
  /** Called with each command (and the current directory): true drops that control connection unanswered. */
  dropOn?: (command: string, cwd: string) => boolean;
  /** Called with each command: a reply line given is sent instead of handling the command. */
  replyInstead?: (command: string, cwd: string) => string | undefined;
}
export interface FakeFtpServer {
  port: number;
  host: '127.0.0.1';
  files: Map<string, FakeFile>;
  commands: string[];
  behaviour: FakeBehaviour;
  connections: number;
  /** Slow logins (slowLogins) whose connection the client closed before PASS was answered. */
  loginsCut: number;
  bytesSent: number;
  /** The most commands that arrived in one packet on any control connection. */
  maxCommandsPerPacket: number;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';
const DEFAULT_MTIME = new Date(Date.UTC(2020, 0, 2, 3, 4, 5));
const DEFAULT_FEAT = ['SIZE', 'MDTM', 'REST STREAM', 'UTF8'];
// How long RETR/STOR/LIST wait for the client to open the data connection.
const DATA_CONNECT_TIMEOUT_MS = 5000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function mdtmStamp(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}` + `${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}`;
}
// `ls -l` shows "Mon DD HH:MM" for the last ~6 months and "Mon DD  YYYY" otherwise.
function lsDate(d: Date): string {
  const recent = Math.abs(Date.now() - d.getTime()) < 180 * 24 * 3600 * 1000;
  const tail = recent ? `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}` : ` ${d.getUTCFullYear()}`;
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${tail}`;
}

export async function startFakeFtp(
  files: Record<string, Buffer | string | FakeFile> = {},
  behaviour: FakeBehaviour = {},
  tlsOpts?: { key: string | Buffer; cert: string | Buffer },
): Promise<FakeFtpServer> {
  const fileMap = new Map<string, FakeFile>();
  for (const [p, v] of Object.entries(files)) {
    const file = typeof v === 'string' ? { data: Buffer.from(v) } : Buffer.isBuffer(v) ? { data: v } : v;
    fileMap.set(path.posix.resolve('/', p), file);
  }
  // Directories created with MKD; others exist implicitly as parents of files.
  const madeDirs = new Set<string>();
  const secureContext = tlsOpts ? tls.createSecureContext({ key: tlsOpts.key, cert: tlsOpts.cert }) : undefined;
  const sockets = new Set<net.Socket>(); // every control/data socket, for close()
  const listeners = new Set<net.Server>(); // passive data listeners
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('error', () => {
      /* clients drop connections on purpose in these tests */
    });
    s.on('close', () => sockets.delete(s));
  };

  const dirExists = (dir: string) => {
    if (dir === '/' || madeDirs.has(dir)) return true;
    const prefix = `${dir}/`;
    for (const f of fileMap.keys()) if (f.startsWith(prefix)) return true;
    for (const d of madeDirs) if (d.startsWith(prefix)) return true;
    return false;
  };
  // Direct children of dir: name -> file (or undefined for a subdirectory).
  const children = (dir: string) => {
    const out = new Map<string, FakeFile | undefined>();
    const prefix = dir === '/' ? '/' : `${dir}/`;
    const add = (p: string, file: FakeFile | undefined) => {
      if (!p.startsWith(prefix) || p === prefix) return;
      const [name, ...rest] = p.slice(prefix.length).split('/');
      if (rest.length > 0) out.set(name, undefined);
      else if (!out.has(name)) out.set(name, file);
    };
    for (const [p, f] of fileMap) add(p, f);
    for (const d of madeDirs) add(d, undefined);
    return out;
  };
  const defaultListing = (target: string, kind: 'LIST' | 'NLST' | 'MLSD'): string[] | undefined => {
    const entries = fileMap.has(target) ? new Map([[path.posix.basename(target), fileMap.get(target)]]) : dirExists(target) ? children(target) : undefined;
    if (!entries) return undefined;
    return [...entries].map(([name, f]) => {
      const mtime = f?.mtime ?? DEFAULT_MTIME;
      if (kind === 'NLST') return name;
      if (kind === 'MLSD') return f ? `type=file;size=${f.data.length};modify=${mdtmStamp(mtime)}; ${name}` : `type=dir;modify=${mdtmStamp(mtime)}; ${name}`;
      const size = String(f ? f.data.length : 4096).padStart(8);
      return `${f ? '-rw-r--r--' : 'drwxr-xr-x'} 1 ftp ftp ${size} ${lsDate(mtime)} ${name}`;
    });
  };

  const state: FakeFtpServer = {
    port: 0,
    host: HOST,
    files: fileMap,
    commands: [],
    behaviour,
    connections: 0,
    loginsCut: 0,
    bytesSent: 0,
    maxCommandsPerPacket: 0,
    close: async () => {
      for (const s of sockets) s.destroy();
      for (const l of listeners) l.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = net.createServer((raw) => {
    const index = ++state.connections;
    track(raw);
    let sock: net.Socket = raw; // replaced by the TLS socket after AUTH TLS
    let secure = false;
    let protP = false;
    let cwd = state.behaviour.home ?? '/';
    let restOffset = 0;
    let renameFrom: string | undefined;
    let dataConn: Promise<net.Socket> | undefined; // data connection of the last PASV/EPSV
    let closeDataListener = () => {};
    const dropData = () => {
      dataConn = undefined;
      closeDataListener();
    };
    let buffered = '';
    let queue = Promise.resolve();

    let writing = Promise.resolve();
    let strayReply: string | undefined;
    const reply = (...lines: string[]) => {
      if (strayReply !== undefined) {
        const stray = strayReply;
        strayReply = undefined;
        reply(stray);
      }
      const end = state.behaviour.lineEnd ?? '\r\n';
      const text = lines.join(end) + end;
      const piece = state.behaviour.replyInPieces;
      if (!piece) {
        if (!sock.destroyed) sock.write(text);
        return;
      }
      writing = writing.then(async () => {
        for (let i = 0; i < text.length && !sock.destroyed; i += piece) {
          sock.write(text.slice(i, i + piece));
          await new Promise((r) => setTimeout(r, 2));
        }
      });
    };
    const abs = (arg: string) => path.posix.resolve(cwd, arg || '.');
    const b = () => state.behaviour; // re-read each time: tests mutate it between requests

    // Opens a one-shot passive data listener. With PROT P on a TLS control
    // connection the accepted socket is wrapped server-side, and only handed out
    // once the handshake finished so we never write plaintext into it.
    const openPassive = async (): Promise<number> => {
      closeDataListener();
      const listener = net.createServer();
      listeners.add(listener);
      const wantTls = secure && protP;
      const conn = new Promise<net.Socket>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no data connection')), DATA_CONNECT_TIMEOUT_MS);
        listener.once('connection', (s) => {
          clearTimeout(timer);
          track(s);
          listener.close();
          listeners.delete(listener);
          if (!wantTls) return resolve(s);
          const t = new tls.TLSSocket(s, { isServer: true, secureContext });
          track(t);
          t.once('secure', () => resolve(t));
          t.once('error', reject);
        });
      });
      conn.catch(() => {
        /* reported when a transfer command awaits it */
      });
      dataConn = conn;
      closeDataListener = () => {
        listener.close();
        listeners.delete(listener);
        conn.then(
          (s) => s.destroy(),
          () => {},
        );
      };
      await new Promise<void>((resolve) => listener.listen(0, HOST, resolve));
      return (listener.address() as net.AddressInfo).port;
    };
    const takeData = async (): Promise<net.Socket | undefined> => {
      const conn = dataConn;
      dataConn = undefined;
      if (!conn) {
        reply('425 Use PASV or EPSV first.');
        return undefined;
      }
      try {
        return await conn;
      } catch {
        reply("425 Can't open data connection.");
        return undefined;
      }
    };
    // Reply on the control connection only once the data connection is fully
    // closed, so clients see data-then-reply (with a fallback if they keep it open).
    const endData = (s: net.Socket, chunk: Buffer) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        s.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        s.end(chunk);
      });
    const readAll = (s: net.Socket) =>
      new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.once('end', () => resolve(Buffer.concat(chunks)));
        s.once('close', () => resolve(Buffer.concat(chunks))); // also after a reset
      });
    const sendListing = async (arg: string, kind: 'LIST' | 'NLST' | 'MLSD') => {
      const target = abs(
        arg
          .split(' ')
          .filter((w) => !w.startsWith('-'))
          .join(' '),
      );
      const custom = b().listing?.(target);
      const lines = custom ? custom.lines : defaultListing(target, kind);
      if (!lines) {
        dropData();
        return reply('550 No such file or directory.');
      }
      const s = await takeData();
      if (!s) return;
      reply('150 Here comes the directory listing.');
      await endData(s, Buffer.from(lines.map((l) => `${l}\r\n`).join('')));
      reply(custom?.finalReply ?? '226 Transfer complete.');
    };

    const retr = async (p: string) => {
      const file = fileMap.get(p);
      const offset = restOffset;
      restOffset = 0;
      if (!file) {
        dropData();
        return reply('550 No such file.');
      }
      if (offset > file.data.length) {
        dropData();
        return reply('554 Invalid REST parameter.');
      }
      const s = await takeData();
      if (!s) return;
      reply(`150 Opening BINARY mode data connection for ${path.posix.basename(p)} (${file.data.length} bytes).`);
      let range = file.data.subarray(offset);
      const { stallRetrAfterBytes: stall, shortRetr } = b();
      if (stall !== undefined) {
        // Write part of the range and then simply go quiet, sockets stay open until close().
        const part = range.subarray(0, stall);
        state.bytesSent += part.length;
        s.write(part);
        return new Promise<void>(() => {});
      }
      if (shortRetr) range = range.subarray(0, shortRetr.afterBytes);
      state.bytesSent += range.length;
      await endData(s, range);
      reply(shortRetr ? shortRetr.reply : '226 Transfer complete.');
    };
    const store = async (p: string, append: boolean) => {
      const offset = restOffset;
      restOffset = 0;
      const s = await takeData();
      if (!s) return;
      reply('150 Ok to send data.');
      const incoming = await readAll(s);
      const old = fileMap.get(p)?.data ?? Buffer.alloc(0);
      const base = append ? old : offset > 0 ? old.subarray(0, offset) : Buffer.alloc(0);
      fileMap.set(p, { data: Buffer.concat([base, incoming]), mtime: new Date() });
      reply('226 Transfer complete.');
    };

    const handle = async (line: string) => {
      const sp = line.indexOf(' ');
      const verb = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
      const arg = sp < 0 ? '' : line.slice(sp + 1);
      const beh = b();
      if (beh.dropOn?.(line, cwd)) {
        raw.destroy();
        return;
      }
      const instead = beh.replyInstead?.(line, cwd);
      if (instead !== undefined) return reply(instead);
      switch (verb) {
        case 'USER':
          return reply('331 Please specify the password.');
        case 'PASS': {
          if (beh.slowLogins && index > beh.slowLogins.after) {
            const cut = new Promise<boolean>((resolve) => {
              // Unref'd: a pending answer must not keep the test process alive.
              setTimeout(() => resolve(false), beh.slowLogins!.ms).unref();
              raw.once('close', () => resolve(true));
            });
            if (await cut) return void state.loginsCut++;
          }
          if (beh.loginFails === 'close') {
            reply('530 Login incorrect.');
            raw.end();
            return;
          }
          return reply(beh.loginFails ? '530 Login incorrect.' : '230 Login successful.');
        }
        case 'AUTH': {
          const mode = beh.authTls ?? (secureContext ? 'ok' : 'refuse');
          if (mode !== 'ok' || !secureContext || secure) return reply('502 AUTH not supported.');
          reply('234 Proceed with negotiation.');
          // Stop parsing the raw stream and let TLS take over the same TCP socket.
          raw.removeListener('data', onData);
          const t = new tls.TLSSocket(raw, { isServer: true, secureContext });
          track(t);
          t.on('data', onData);
          sock = t;
          secure = true;
          return;
        }
        case 'PBSZ':
          return reply('200 PBSZ=0');
        case 'PROT': {
          if (arg.toUpperCase() === 'C') {
            protP = false;
            return reply('200 Protection level set to Clear.');
          }
          if (arg.toUpperCase() !== 'P') return reply('504 Unsupported protection level.');
          if ((beh.prot ?? 'ok') === 'refuse') return reply('536 Protection level not supported.');
          protP = true;
          return reply('200 Protection level set to Private.');
        }
        case 'FEAT':
          return reply('211-Features:', ...(beh.feat ?? DEFAULT_FEAT).map((f) => ` ${f}`), '211 End');
        case 'SYST':
          return reply('215 UNIX Type: L8');
        case 'TYPE':
          return /^[AI]\b/i.test(arg) ? reply('200 Type set.') : reply('504 Unsupported type.');
        case 'STRU':
          return arg.toUpperCase() === 'F' ? reply('200 Structure set to F.') : reply('504 Unsupported structure.');
        case 'OPTS': {
          const opt = arg.toUpperCase();
          if (opt === 'UTF8 ON') return reply('200 Always in UTF8 mode.');
          const mlst = (beh.feat ?? DEFAULT_FEAT).some((f) => f.toUpperCase().startsWith('MLST'));
          if (opt.startsWith('MLST') && mlst) return reply('200 MLST OPTS ok.');
          return reply('501 Option not understood.');
        }
        case 'NOOP':
          return reply('200 NOOP ok.');
        case 'PWD':
        case 'XPWD':
          return reply(`257 "${cwd}" is the current directory.`);
        case 'CWD':
        case 'CDUP': {
          const dir = abs(verb === 'CDUP' ? '..' : arg);
          if (!dirExists(dir) && !b().listing?.(dir)) return reply('550 Failed to change directory.');
          cwd = dir;
          return reply('250 Directory successfully changed.');
        }
        case 'MKD': {
          const dir = abs(arg);
          if (dirExists(dir) || fileMap.has(dir)) return reply('550 Create directory operation failed.');
          madeDirs.add(dir);
          return reply(`257 "${dir}" created.`);
        }
        case 'RMD': {
          const dir = abs(arg);
          if (dir === '/' || !dirExists(dir) || children(dir).size > 0) return reply('550 Remove directory operation failed.');
          madeDirs.delete(dir);
          return reply('250 Remove directory operation successful.');
        }
        case 'DELE': {
          const file = abs(arg);
          if (!fileMap.delete(file)) return reply('550 Delete operation failed.');
          // As on a real server, the directories it was in stay, empty or not.
          for (let d = path.posix.dirname(file); d !== '/'; d = path.posix.dirname(d)) madeDirs.add(d);
          return reply('250 Delete operation successful.');
        }
        case 'RNFR': {
          const p = abs(arg);
          if (!fileMap.has(p) && !dirExists(p)) return reply('550 RNFR command failed.');
          renameFrom = p;
          return reply('350 Ready for RNTO.');
        }
        case 'RNTO': {
          const from = renameFrom;
          renameFrom = undefined;
          if (!from) return reply('503 RNFR required first.');
          const to = abs(arg);
          // Move the file itself, or everything below a directory.
          for (const [p, f] of [...fileMap]) {
            if (p === from || p.startsWith(`${from}/`)) {
              fileMap.delete(p);
              fileMap.set(to + p.slice(from.length), f);
            }
          }
          for (const d of [...madeDirs]) {
            if (d === from || d.startsWith(`${from}/`)) {
              madeDirs.delete(d);
              madeDirs.add(to + d.slice(from.length));
            }
          }
          return reply('250 Rename successful.');
        }
        case 'SIZE': {
          const f = fileMap.get(abs(arg));
          if (beh.size === 'refuse') return reply('502 SIZE not implemented.');
          if (beh.size === 'junk') return reply('213 abc');
          return f ? reply(`213 ${f.data.length}`) : reply('550 Could not get file size.');
        }
        case 'MDTM': {
          const f = fileMap.get(abs(arg));
          if (beh.mdtm === 'refuse') return reply('502 MDTM not implemented.');
          if (beh.mdtm === 'junk') return reply('213 99999999999999');
          if (f && beh.mdtmTwice && arg.endsWith(beh.mdtmTwice)) {
            const answer = `213 ${mdtmStamp(f.mtime ?? DEFAULT_MTIME)}`;
            if (!beh.mdtmTwiceLate) return reply(answer, answer); // both in one write
            strayReply = answer;
          }
          return f ? reply(`213 ${mdtmStamp(f.mtime ?? DEFAULT_MTIME)}`) : reply('550 Could not get file modification time.');
        }
        case 'REST': {
          if (beh.rest === 'refuse') return reply('502 REST not implemented.');
          if (!/^\d+$/.test(arg)) return reply('501 Bad REST parameter.');
          restOffset = beh.rest === 'ignore' ? 0 : Number(arg);
          return reply(`350 Restart position accepted (${arg}).`);
        }
        case 'EPSV': {
          if (arg.toUpperCase() === 'ALL') return reply('200 EPSV ALL ok.');
          if (behaviour.pasvHost) return reply('502 EPSV not implemented.');
          if (behaviour.epsvUnreachable) return reply(`229 Entering Extended Passive Mode (|||${await closedPort()}|)`);
          return reply(`229 Entering Extended Passive Mode (|||${await openPassive()}|)`);
        }
        case 'PASV': {
          const port = await openPassive();
          const host = (behaviour.pasvHost ?? '127.0.0.1').split('.').join(',');
          return reply(`227 Entering Passive Mode (${host},${port >> 8},${port & 255}).`);
        }
        case 'RETR':
          if (beh.retr === 'refuse') {
            restOffset = 0;
            dropData();
            return reply('550 Permission denied.');
          }
          return retr(abs(arg));
        case 'STOR':
          return store(abs(arg), false);
        case 'APPE':
          if (beh.appe === 'refuse') {
            restOffset = 0;
            dropData();
            return reply('502 APPE not implemented.');
          }
          return store(abs(arg), true);
        case 'LIST':
        case 'NLST':
        case 'MLSD':
          return sendListing(arg, verb);
        case 'QUIT':
          reply('221 Goodbye.');
          sock.end();
          return;
        default:
          return reply('502 Command not implemented.');
      }
    };

    // Commands may arrive split over packets or several per packet: buffer until
    // a line ending, log each command at arrival, then run them one at a time.
    function onData(chunk: Buffer) {
      buffered += chunk.toString('utf8');
      if (state.behaviour.pipelining === 'drop' && buffered.includes('\n')) buffered = buffered.slice(0, buffered.indexOf('\n') + 1);
      state.maxCommandsPerPacket = Math.max(state.maxCommandsPerPacket, buffered.split('\n').length - 1);
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl).replace(/\r$/, '');
        buffered = buffered.slice(nl + 1);
        if (line === '') continue;
        state.commands.push(/^PASS( |$)/i.test(line) ? 'PASS ***' : line);
        queue = queue.then(() => handle(line)).catch(() => reply('451 Internal fake server error.'));
      }
    }
    const cap = state.behaviour.acceptConnections;
    if (cap !== undefined && state.connections > cap) {
      raw.end('421 There are too many connections from your internet address.\r\n');
      return;
    }
    raw.on('data', onData);
    raw.on('close', () => closeDataListener());
    reply(state.behaviour.welcome ?? '220 fake ftp ready');
  });

  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  state.port = (server.address() as net.AddressInfo).port;
  return state;
}

/** startFakeFtp for one test file: every server it starts is closed when the file's tests end. */
export function fakeServers(): (...args: Parameters<typeof startFakeFtp>) => Promise<FakeFtpServer> {
  const servers: FakeFtpServer[] = [];
  after(() => Promise.all(servers.map((s) => s.close())));
  return async (...args) => {
    const s = await startFakeFtp(...args);
    servers.push(s);
    return s;
  };
}

/** A loopback port nothing listens on (one just freed: a connect to it is refused). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, host: '127.0.0.1' }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
