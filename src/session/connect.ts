import { Client, FTPError } from 'basic-ftp';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { createSecureContext, rootCertificates, type ConnectionOptions, type SecureContext } from 'node:tls';
import { RftpError } from '../errors.js';
import type { Credentials } from './credentials.js';
import { hostPort, type FtpUrl } from './url.js';
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
  wholeLinesOnly(client);
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
    if (url.security === 'implicit') await client.connectImplicitTLS(url.host, url.port, options);
    else await client.connect(url.host, url.port);
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
    await client.sendIgnoringError('OPTS UTF8 ON');
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
    // TYPE I (binary: resume offsets are only meaningful in binary), FEAT, MLST facts.
    await client.useDefaultSettings();
    if (signal.aborted) throw new RftpError('interrupted', 'interrupted');
    return client;
  } catch (err) {
    client.close();
    throw signal.aborted ? new RftpError('interrupted', 'interrupted') : classify(err, where);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

async function protectData(client: Client, where: string, afterLogin: boolean): Promise<boolean> {
  await client.sendIgnoringError('PBSZ 0');
  const res = await client.sendIgnoringError('PROT P');
  if (res.code < 400) return true;
  if (!afterLogin && needsLogin(res.code)) return false;
  throw new RftpError('tls', `${where}: server refused PROT P (${res.message.trim()}); data would travel in clear, not continuing`);
}

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
    // basic-ftp splits lines on LF only: two replies ending in bare CRs, arriving in one read,
    // would be taken for one (the second lost, the command waiting for it until the timeout).
    if (end >= 0) handOn(text.slice(0, end + 1).replace(/\r(?!\n)/g, '\n'));
  };
}
