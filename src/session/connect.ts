import { Client, FTPError } from 'basic-ftp';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext, rootCertificates, type ConnectionOptions, type SecureContext, type TLSSocket } from 'node:tls';
import { RftpError } from '../errors.js';
import type { Credentials } from './credentials.js';
import { hostPort, type FtpUrl } from './url.js';
import { adaptClient } from './basic-ftp-internals.js';
import { parseFeatures, parsePwd, pipelined, type Reply, rememberLogin, ride, setServer } from './pipeline.js';
import { classify } from './classify.js';
import { countHandshake, keepSession, sessionFor } from './tls-sessions.js';

export interface TlsSettings {
  /** Require explicit TLS on an ftp:// URL (--tls). */
  requireTls: boolean;
  caFile?: string;
  insecure: boolean;
}

export function tlsOptions(url: Pick<FtpUrl, 'host'>, tls: Pick<TlsSettings, 'caFile' | 'insecure'>): ConnectionOptions {
  const options: ConnectionOptions = {
    host: url.host,
    // Data connections get these options too, so the certificate is checked against the
    // host the user named on every channel (basic-ftp does not set them for implicit TLS).
    servername: isIP(url.host) ? undefined : url.host,
    rejectUnauthorized: !tls.insecure,
    minVersion: 'TLSv1.2',
  };
  if (tls.caFile) {
    let pem: string;
    try {
      // Only a regular file: reading a FIFO would block for ever (and hold up the exit).
      if (!statSync(tls.caFile).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'not a regular file' });
      pem = readFileSync(tls.caFile, 'utf8');
    } catch (err) {
      throw new RftpError('usage', `cannot read --ca-file ${tls.caFile}: ${(err as NodeJS.ErrnoException).code ?? err}`);
    }
    if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new RftpError('usage', `--ca-file ${tls.caFile} holds no PEM certificate`);
    options.secureContext = contextWith(pem);
  }
  return options;
}

const contexts = new Map<string, SecureContext>();

/** The trust store's identity: one context per CA file contents (see contextWith), or the system's. */
const trustIds = new WeakMap<SecureContext, number>();
let lastTrustId = 0;
function trustId(context: SecureContext | undefined): string {
  if (!context) return 'system';
  if (!trustIds.has(context)) trustIds.set(context, ++lastTrustId);
  return `ca-${trustIds.get(context)}`;
}

/**
 * The system's CAs plus the user's, built once per run (every file of a sync opens a data
 * connection). The user's certificate is added to a copy of Node's own root store, which Node
 * parsed once for the process: 1-3 ms. Passing the roots as `ca` makes Node parse all ~140 of
 * them again (25-90 ms measured), so that stays only as the fallback for a Node without the
 * (long-standing, undocumented) addCACert on the context handle. "System" is Node's bundled
 * roots, or OpenSSL's store under --use-openssl-ca. Certificates from NODE_EXTRA_CA_CERTS are not
 * in the copy (Node adds them to its shared store only), as they never were with `ca` either;
 * adding them here would parse that whole file again on every run.
 */
function contextWith(pem: string): SecureContext {
  let context = contexts.get(pem);
  if (!context) {
    context = createSecureContext({ minVersion: 'TLSv1.2' });
    const handle = (context as unknown as { context?: { addCACert?: (pem: string) => void } }).context;
    if (typeof handle?.addCACert === 'function') handle.addCACert(pem);
    else context = createSecureContext({ ca: [...rootCertificates, pem], minVersion: 'TLSv1.2' });
    contexts.set(pem, context);
  }
  return context;
}

export function usesTls(url: FtpUrl, tls: TlsSettings): boolean {
  return url.security !== 'none' || tls.requireTls;
}

/**
 * Opens one control connection and logs in. With TLS asked for, nothing goes out in clear:
 * AUTH TLS must succeed before USER, and PROT P must succeed before any data connection.
 */
export async function openClient(
  url: FtpUrl,
  creds: Credentials,
  tls: TlsSettings,
  conn: { timeoutMs: number; trustPasvAddress: boolean; pipelining?: boolean },
  signal: AbortSignal,
  log?: (msg: string) => void,
): Promise<Client> {
  // By default basic-ftp connects data connections to the control connection's address whatever
  // a PASV reply says (no FTP bounce, works behind NAT); trusting the reply is the user's choice.
  // An abort before the listener below exists would go unnoticed until the login ended.
  if (signal.aborted) throw new RftpError('interrupted', 'interrupted');
  const client = new Client(conn.timeoutMs, { allowSeparateTransferHost: conn.trustPasvAddress });
  adaptClient(client, hostPort(url));
  setServer(client, hostPort(url), conn.pipelining !== false);
  // Ctrl-C while connecting or logging in must stop here, not after the transfer.
  const onAbort = () => client.close();
  signal.addEventListener('abort', onAbort, { once: true });
  if (log) {
    client.ftp.verbose = true;
    client.ftp.log = (msg: string) => log(msg);
  }
  const where = hostPort(url);
  try {
    const secure = usesTls(url, tls);
    const base = secure ? tlsOptions(url, tls) : undefined;
    // A session is only resumed under the trust it was verified with: the same CA contents.
    const sessionKey = `${where} ${tls.insecure ? 'insecure' : trustId(base?.secureContext)}`;
    const options = base ? { ...base, session: sessionFor(sessionKey) } : undefined;
    await greeted(client, url, options, conn.timeoutMs);
    if (url.security !== 'implicit' && secure) {
      try {
        await client.useTLS(options);
      } catch (err) {
        if (err instanceof FTPError) throw new RftpError('tls', `${where}: server refused AUTH TLS (${err.message.trim()}); not continuing in clear`);
        throw err;
      }
    }
    if (secure) {
      const socket = client.ftp.socket as TLSSocket;
      countHandshake(socket, 'control', log);
      keepSession(socket, sessionKey);
    }
    await logIn(client, creds, secure ? where : undefined);
    if (signal.aborted) throw new RftpError('interrupted', 'interrupted');
    return client;
  } catch (err) {
    client.close();
    throw signal.aborted ? new RftpError('interrupted', 'interrupted') : classify(err, where);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * A connection whose TCP handshake worked but whose greeting never came within the timeout.
 * The first time, that is a wrong port or scheme (a plain client at an implicit-TLS port: the
 * server waits for a TLS hello in silence), not a dropped network: Session fails at once.
 */
export class NoGreeting extends RftpError {}

/** Connects (implicit TLS: with the handshake) and reads the greeting, telling apart what went wrong. */
async function greeted(client: Client, url: FtpUrl, options: ConnectionOptions | undefined, timeoutMs: number): Promise<void> {
  const where = hostPort(url);
  const implicit = url.security === 'implicit';
  const welcome = implicit ? client.connectImplicitTLS(url.host, url.port, options) : client.connect(url.host, url.port);
  let connected = false;
  client.ftp.socket.once(implicit ? 'secureConnect' : 'connect', () => (connected = true));
  try {
    await welcome;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // A TLS hello answered by a plain FTP greeting ("220 …" is no TLS record).
    if (implicit && (e?.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(String(e?.message)))) {
      throw new RftpError('tls', `${where}: the server did not answer in TLS (try ftp:// or ftpes://)`);
    }
    if (connected && !(err instanceof FTPError) && /timeout/i.test(String(e?.message))) {
      const hint = implicit ? '' : ' (a server that waits for TLS first needs ftps://)';
      throw new NoGreeting('connection', `${where}: connected, but the server sent no FTP greeting within ${timeoutMs / 1000} s${hint}`, { retryable: true, cause: err });
    }
    throw err;
  }
}

/**
 * USER, then PASS with what the session needs once logged in, in one write: over TLS, PBSZ 0 and
 * PROT P (after login, where every server takes them: RFC 4217 allows them before USER, some
 * servers answer 503/530 there), FEAT, TYPE I (resume
 * offsets only mean something in binary), STRU F and PWD (the login directory listings come back
 * to). A refused PASS makes the others fail too, harmlessly; its reply is read first. What FEAT
 * decides (UTF-8, MLSD's facts) rides along with the next batch instead of costing a round trip.
 * basic-ftp's login() and useDefaultSettings() send these one by one, OPTS UTF8 ON whatever FEAT
 * says (pyftpdlib answers it before login with 530), and PBSZ/PROT a second time.
 */
async function logIn(client: Client, creds: Credentials, tlsWhere: string | undefined): Promise<void> {
  const refused = (reply: { code: number; message: string }) => {
    const hint = creds.source === 'none' ? ' (no password was found: use RFTP_PASSWORD, ~/.netrc or the URL)' : '';
    return new RftpError('login', `login as ${creds.user} failed: ${reply.message.trim()}${hint}`);
  };
  const user = await client.sendIgnoringError(`USER ${creds.user}`);
  if (user.code !== 230 && user.code !== 331) throw refused(user);
  const protect = tlsWhere === undefined ? [] : ['PBSZ 0', 'PROT P'];
  const after = [...protect, 'FEAT', 'TYPE I', 'STRU F', 'PWD'];
  const replies = await pipelined(client, user.code === 331 ? [`PASS ${creds.password}`, ...after] : after).catch((err) => {
    const first = (err as { repliesSoFar?: Reply[] }).repliesSoFar?.[0];
    throw user.code === 331 && first && first.code >= 400 ? refused(first) : err;
  });
  if (user.code === 331 && (replies[0].code < 200 || replies[0].code >= 300)) throw refused(replies[0]);
  const rest = replies.slice(user.code === 331 ? 1 : 0);
  if (tlsWhere !== undefined) checkProt(rest.splice(0, 2)[1], tlsWhere);
  const [feat, type, , pwd] = rest;
  if (type.code >= 400) throw new RftpError('transfer', `the server refused binary mode (TYPE I: ${type.message.trim()})`);
  const features = parseFeatures(feat);
  rememberLogin(client, features, parsePwd(pwd));
  client.availableListCommands = features.has('MLST') ? ['MLSD', 'LIST -a', 'LIST'] : ['LIST -a', 'LIST'];
  if (features.has('UTF8')) ride(client, 'OPTS UTF8 ON', false);
  if (features.has('MLST')) ride(client, 'OPTS MLST type;size;modify;unique;unix.mode;unix.owner;unix.group;unix.ownername;unix.groupname;', false);
}

/** PROT P must hold before any data connection: refused, the data would travel in clear. */
function checkProt(prot: Reply, where: string): void {
  if (prot.code >= 400) throw new RftpError('tls', `${where}: server refused PROT P (${prot.message.trim()}); data would travel in clear, not continuing`);
}
