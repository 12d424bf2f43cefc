import { RftpError, usageError } from '../errors.js';
import { redactUrlText } from './url.js';

/** An http:// or https:// URL. `target` is what goes on the request line: path and query, encoded as given. */
export interface HttpUrl {
  scheme: 'http' | 'https';
  host: string;
  port: number;
  user?: string;
  password?: string;
  target: string;
}

export function isHttpUrl(text: string): boolean {
  return /^https?:\/\//i.test(text);
}

/** Commands that only make sense over FTP refuse http(s) URLs with this line (exit 2). */
export function refuseHttp(command: string, text: string): void {
  if (isHttpUrl(text)) throw usageError(`${command}: http(s) URLs can only be downloaded (get, pget, cat): ${redactUrlText(text)}`);
}

export function parseHttpUrl(text: string): HttpUrl {
  if (/[\r\n\0]/.test(text)) throw usageError('malformed URL: it contains a control character (CR, LF or NUL)');
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw usageError(`malformed URL: "${redactUrlText(text)}"`);
  }
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  if (!u.hostname) throw usageError('malformed URL: no host');
  const decode = (part: string, what: string) => {
    try {
      const value = decodeURIComponent(part);
      if (/[\r\n\0]/.test(value)) throw usageError(`malformed URL: the ${what} contains CR, LF or NUL`);
      return value;
    } catch (err) {
      if (err instanceof RftpError) throw err;
      throw usageError(`malformed URL: bad percent-encoding in the ${what}`);
    }
  };
  return {
    scheme,
    host: u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname,
    port: u.port ? Number(u.port) : scheme === 'https' ? 443 : 80,
    user: u.username ? decode(u.username, 'user name') : undefined,
    password: u.password ? decode(u.password, 'password') : undefined,
    // The fragment is never sent (RFC 9110); the query is part of the resource.
    target: `${u.pathname}${u.search}`,
  };
}

/** The URL as it may be shown or stored: never with a password. */
export function displayHttpUrl(url: HttpUrl, target = url.target): string {
  const host = url.host.includes(':') ? `[${url.host}]` : url.host;
  const port = url.port === (url.scheme === 'https' ? 443 : 80) ? '' : `:${url.port}`;
  const user = url.user ? `${encodeURIComponent(url.user)}@` : '';
  return `${url.scheme}://${user}${host}${port}${target}`;
}

/** The origin (scheme, host, port): credentials go only to the one the user named. */
export const originOf = (url: HttpUrl) => `${url.scheme}://${url.host.includes(':') ? `[${url.host}]` : url.host}:${url.port}`;

/** The decoded path of the URL, for the local file name (the query is not part of it). */
export function httpPath(url: HttpUrl): string {
  const path = url.target.split('?')[0];
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
