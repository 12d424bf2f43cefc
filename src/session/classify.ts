import { FTPError } from 'basic-ftp';
import { RftpError } from '../errors.js';
import { TlsBeforeReply } from './basic-ftp-internals.js';

const tlsCodes = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
]);

/** Errors of the local disk or file system, whatever call raised them. */
const localCodes = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EROFS', 'EACCES', 'EPERM', 'EBADF', 'EISDIR', 'ENOTDIR', 'EMFILE', 'ENFILE']);
const localText: Record<string, string> = { ENOSPC: 'no space left on device', EDQUOT: 'disk quota exceeded', EROFS: 'read-only file system', EACCES: 'permission denied', EPERM: 'permission denied' };

const retryableSocketCodes = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'EAI_AGAIN']);

const missingText = /no such|not found|does ?n[o']?t exist|not exist|cannot find|can'?t find/i;
const refusalText = /permission|denied|not allowed|forbidden|not permitted|read-only|quota|no space|disk full|insufficient/i;

/** A server message on one clean line: its line ends and runs of spaces become one space (the reply code stays). */
function serverText(err: FTPError): string {
  return err.message.replace(/\s+/g, ' ').trim();
}

/**
 * Maps anything thrown below us (basic-ftp, sockets, TLS) to a user-facing error with an exit
 * code and the decision whether a reconnect could help. Auth failures, missing files and
 * certificate problems are final: retrying them only makes a retry storm.
 */
export function classify(err: unknown, context: string): RftpError {
  if (err instanceof RftpError) return err;
  if (err instanceof FTPError) {
    const code = err.code;
    const text = serverText(err);
    if (code === 530) return new RftpError('login', `${context}: server said ${text}`, { cause: err });
    if (code === 421) return new RftpError('connection', `${context}: server closed the session (${text})`, { retryable: true, cause: err });
    // vsftpd's "500 OOPS: …" is an internal failure after which it ends the session (out of
    // passive ports, a failed TLS read): the next connection may well work.
    if (code === 500 && /^(500[ -])?OOPS\b/.test(text)) return new RftpError('connection', `${context}: server closed the session (${text})`, { retryable: true, cause: err });
    // 550 is "not there" and "not allowed" alike: a refusal in words (permission, quota) is exit 8.
    if (code === 550) return new RftpError(refusalText.test(text) && !missingText.test(text) ? 'transfer' : 'notFound', `${context}: ${text}`, { cause: err });
    // "450 x: No such file or directory" (proftpd's LIST of a missing path) is no outage either.
    if (code === 450 && missingText.test(text)) return new RftpError('notFound', `${context}: ${text}`, { cause: err });
    if ([425, 426, 450, 451].includes(code)) return new RftpError('transfer', `${context}: ${text}`, { retryable: true, cause: err });
    return new RftpError('transfer', `${context}: ${text}`, { cause: err });
  }
  if (err instanceof TlsBeforeReply) return new RftpError('connection', `${context}: ${err.message}`, { retryable: true, cause: err });
  const e = err as NodeJS.ErrnoException & { code?: string };
  const message = (e && typeof e.message === 'string' ? e.message : String(err)).split('\n')[0];
  const code = e?.code ?? '';
  if (localCodes.has(code) && e.syscall !== 'connect' && e.syscall !== 'read') {
    return new RftpError('local', `${context}: ${e.path ? `${e.path}: ` : ''}${localText[code] ?? code}`, { cause: err });
  }
  // A handshake cut by a dropped connection is an outage, not a TLS verdict: checked first.
  if (retryableSocketCodes.has(code) || /socket disconnected/i.test(message)) {
    return new RftpError('connection', `${context}: connection lost (${code || message})`, { retryable: true, cause: err });
  }
  if (tlsCodes.has(code) || /certificate|self[- ]signed|altname/i.test(message)) {
    return new RftpError('tls', `${context}: TLS certificate check failed: ${message} (use --ca-file to trust a CA, or --insecure)`, { cause: err });
  }
  if (code.startsWith('ERR_SSL') || code === 'ERR_TLS_HANDSHAKE_TIMEOUT' || /\bSSL\b|TLS/.test(message)) {
    return new RftpError('tls', `${context}: TLS error: ${message}`, { cause: err, retryable: /timeout/i.test(message) });
  }
  if (code === 'ENOTFOUND') return new RftpError('connection', `${context}: host not found`, { cause: err });
  if (code === 'ECONNREFUSED') return new RftpError('connection', `${context}: connection refused`, { cause: err, retryable: true });
  // basic-ftp's (and our line reader's) cap on one reply: the server is broken or hostile.
  if (/control response exceeded maximum allowed size/i.test(message)) return new RftpError('transfer', `${context}: the server sent a reply line over 64 KiB`, { cause: err });
  if (/timeout/i.test(message)) return new RftpError('connection', `${context}: connection stalled (${message})`, { retryable: true, cause: err });
  if (/client is closed|socket closed|connection closed|FIN packet|socket hang up|ended by the other party|None of the available transfer strategies|data connection/i.test(message)) {
    return new RftpError('connection', `${context}: connection lost (${message})`, { retryable: true, cause: err });
  }
  if (e && typeof e.syscall === 'string' && typeof e.path === 'string') {
    return new RftpError('local', `${context}: ${e.path}: ${code || message}`, { cause: err });
  }
  return new RftpError('internal', `${context}: ${message}`, { cause: err });
}
