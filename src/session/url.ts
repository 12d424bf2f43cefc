import { RftpError, usageError } from '../errors.js';
import { checkRemotePath } from './paths.js';

export type Security = 'none' | 'explicit' | 'implicit';

export interface FtpUrl {
  security: Security;
  host: string;
  port: number;
  user?: string;
  password?: string;
  /**
   * Decoded remote path. As in RFC 1738 and curl, it is relative to the login directory
   * ("" is the login directory itself); a first segment of %2F makes it absolute.
   */
  path: string;
}

const schemes: Record<string, { security: Security; port: number }> = {
  'ftp:': { security: 'none', port: 21 },
  'ftpes:': { security: 'explicit', port: 21 },
  'ftps:': { security: 'implicit', port: 990 },
};

export function isFtpUrl(text: string): boolean {
  return /^(ftp|ftps|ftpes):\/\//i.test(text);
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw usageError(`malformed URL: bad percent-encoding in the ${what}`);
  }
}

/** Parses ftp://, ftpes:// (explicit TLS) and ftps:// (implicit TLS) URLs. */
export function parseFtpUrl(text: string): FtpUrl {
  if (/[\r\n\0]/.test(text)) throw usageError('malformed URL: it contains a control character (CR, LF or NUL)');
  const match = /^([a-z]+:)\/\//i.exec(text);
  if (!match) throw usageError(`malformed URL: expected ftp://, ftpes:// or ftps://, got "${redactUrlText(text)}"`);
  const scheme = schemes[match[1].toLowerCase()];
  if (!scheme) throw usageError(`unsupported URL scheme "${match[1]}" (use ftp://, ftpes:// or ftps://)`);
  // Host and port from the text itself: parsed as http, an empty host takes the first path
  // segment's place, and port 80 (http's default) would vanish.
  const authority = text.slice(match[0].length).split(/[/?#]/)[0];
  // WHATWG URL reads "\\" as "/" in http URLs, so the host would differ from the text.
  if (authority.includes('\\')) throw usageError('malformed URL: a backslash before the path must be percent-encoded (%5C)');
  const hostPort = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(authority.slice(authority.lastIndexOf('@') + 1))!;
  if (hostPort[1] === '') throw usageError('malformed URL: no host');
  // An empty port ("host:") is the default one, as RFC 3986 has it.
  const portText = hostPort[2] || undefined;
  if (portText !== undefined && (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535)) {
    // Not digits: more likely a password with a "/" in it than a port, so it is not echoed.
    throw usageError(/^\d*$/.test(portText) ? `malformed URL: bad port "${portText}" (1-65535)` : `malformed URL: "${redactUrlText(text)}" (percent-encode "/" in a password as %2F)`);
  }
  let parsed: URL;
  try {
    // WHATWG URL only knows "special" schemes; parse as http to get host handling, keep our scheme.
    parsed = new URL(`http://${text.slice(match[0].length)}`);
  } catch {
    throw usageError(`malformed URL: "${redactUrlText(text)}"`);
  }
  if (!parsed.hostname) throw usageError('malformed URL: no host');
  if (parsed.search || parsed.hash) {
    // "?" and "#" are legal in file names; the user must percent-encode them (%3F, %23).
    throw usageError('malformed URL: "?" and "#" must be percent-encoded in FTP paths (%3F, %23)');
  }
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const port = portText ? Number(portText) : scheme.port;
  const rawPath = text.slice(match[0].length).replace(/^[^/]*\/?/, '');
  const path = decode(rawPath, 'path');
  checkRemotePath(path);
  const user = parsed.username ? decode(parsed.username, 'user name') : undefined;
  const password = parsed.password ? decode(parsed.password, 'password') : undefined;
  for (const [value, what] of [
    [user, 'user name'],
    [password, 'password'],
  ] as const) {
    if (value !== undefined && /[\r\n\0]/.test(value)) throw usageError(`malformed URL: the ${what} contains CR, LF or NUL`);
  }
  return { security: scheme.security, host, port, user, password, path };
}

/** The URL as it may be shown or stored: never with a password. */
export function displayUrl(url: FtpUrl, path = url.path): string {
  const scheme = url.security === 'none' ? 'ftp' : url.security === 'explicit' ? 'ftpes' : 'ftps';
  const host = url.host.includes(':') ? `[${url.host}]` : url.host;
  const defaultPort = url.security === 'implicit' ? 990 : 21;
  const port = url.port === defaultPort ? '' : `:${url.port}`;
  const user = url.user ? `${encodeURIComponent(url.user)}@` : '';
  const encodedPath = path.startsWith('/') ? `%2F${encodePath(path.slice(1))}` : encodePath(path);
  return `${scheme}://${user}${host}${port}/${encodedPath}`;
}

function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/** Masks a password in text that looks like a URL, for error messages about unparsable URLs. */
export function redactUrlText(text: string): string {
  // Whatever the typo (ftp:/u:pw@h, ftp:u:pw@h, a "/" in the password): everything between the
  // user name and the last "@" goes.
  const at = text.lastIndexOf('@');
  if (at < 0) return text;
  const scheme = /^([a-z][a-z0-9+.-]*:\/+|(ftp|ftps|ftpes):)/i.exec(text)?.[0] ?? '';
  const head = text.slice(scheme.length, at);
  const colon = head.indexOf(':');
  if (colon < 0 || head.slice(0, colon).includes('/')) return text;
  return `${scheme}${head.slice(0, colon)}:***${text.slice(at)}`;
}

export function requireFile(url: FtpUrl): void {
  const last = url.path.split('/').pop();
  if (url.path === '' || url.path.endsWith('/') || last === '.' || last === '..') {
    throw new RftpError('usage', `the URL names a directory, not a file: ${displayUrl(url)}`);
  }
}

/** host:port as people write it: an IPv6 address in brackets ([::1]:21, not ::1:21). */
export function hostPort(url: Pick<FtpUrl, 'host' | 'port'>): string {
  return `${url.host.includes(':') ? `[${url.host}]` : url.host}:${url.port}`;
}
