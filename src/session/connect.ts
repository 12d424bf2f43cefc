import { Client, FTPError } from 'basic-ftp';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext, rootCertificates, type ConnectionOptions, type SecureContext } from 'node:tls';
import { RftpError } from '../errors.js';
import type { Credentials } from './credentials.js';
import { hostPort, type FtpUrl } from './url.js';
import { adaptClient } from './basic-ftp-internals.js';
import { classify } from './classify.js';

export interface TlsSettings {
  /** Require explicit TLS on an ftp:// URL (--tls). */
  requireTls: boolean;
  caFile?: string;
  insecure: boolean;
}

export function tlsOptions(url: FtpUrl, tls: TlsSettings): ConnectionOptions {
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

/** True when the reply means "log in first": PROT before USER is allowed by RFC 4217 but not by every server. */
const needsLogin = (code: number) => code === 503 || code === 530;

/**
 * Opens one control connection and logs in. With TLS asked for, nothing goes out in clear:
 * AUTH TLS must succeed before USER, and PROT P must succeed before any data connection.
 */
export async function openClient(
  url: FtpUrl,
  creds: Credentials,
  tls: TlsSettings,
  conn: { timeoutMs: number; trustPasvAddress: boolean },
  signal: AbortSignal,
  log?: (msg: string) => void,
): Promise<Client> {
  // By default basic-ftp connects data connections to the control connection's address whatever
  // a PASV reply says (no FTP bounce, works behind NAT); trusting the reply is the user's choice.
  // An abort before the listener below exists would go unnoticed until the login ended.
  if (signal.aborted) throw new RftpError('interrupted', 'interrupted');
  const client = new Client(conn.timeoutMs, { allowSeparateTransferHost: conn.trustPasvAddress });
  adaptClient(client, hostPort(url));
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
    const options = secure ? tlsOptions(url, tls) : undefined;
    await greeted(client, url, options, conn.timeoutMs);
    let protDone = false;
    if (url.security !== 'implicit' && secure) {
      try {
        await client.useTLS(options);
      } catch (err) {
        if (err instanceof FTPError) throw new RftpError('tls', `${where}: server refused AUTH TLS (${err.message.trim()}); not continuing in clear`);
        throw err;
      }
    }
    if (secure) protDone = await protectData(client, where, false);
    try {
      await client.login(creds.user, creds.password);
    } catch (err) {
      if (err instanceof FTPError && err.code >= 400) {
        const hint = creds.source === 'none' ? ' (no password was found: use RFTP_PASSWORD, ~/.netrc or the URL)' : '';
        throw new RftpError('login', `login as ${creds.user} failed: ${err.message.trim()}${hint}`);
      }
      throw err;
    }
    if (secure && !protDone) await protectData(client, where, true);
    await sessionSettings(client);
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
 * After login: FEAT, TYPE I (resume offsets only mean something in binary), STRU F, UTF-8 where
 * FEAT offers it, and MLSD's facts. basic-ftp's useDefaultSettings() sends OPTS UTF8 ON whatever
 * FEAT says (pyftpdlib answers it before login with 530, which is why it is not sent then either)
 * and PBSZ/PROT a second time: each command is a round trip.
 */
async function sessionSettings(client: Client): Promise<void> {
  const features = await client.features();
  client.availableListCommands = features.has('MLST') ? ['MLSD', 'LIST -a', 'LIST'] : ['LIST -a', 'LIST'];
  await client.send('TYPE I');
  await client.sendIgnoringError('STRU F');
  if (features.has('UTF8')) await client.sendIgnoringError('OPTS UTF8 ON');
  if (features.has('MLST')) await client.sendIgnoringError('OPTS MLST type;size;modify;unique;unix.mode;unix.owner;unix.group;unix.ownername;unix.groupname;');
}

async function protectData(client: Client, where: string, afterLogin: boolean): Promise<boolean> {
  await client.sendIgnoringError('PBSZ 0');
  const res = await client.sendIgnoringError('PROT P');
  if (res.code < 400) return true;
  if (!afterLogin && needsLogin(res.code)) return false;
  throw new RftpError('tls', `${where}: server refused PROT P (${res.message.trim()}); data would travel in clear, not continuing`);
}
