// The HTTP side of a download: one request at a time (or a few, for pget) with Node's own client,
// redirects followed by hand (so that the https -> http rule and the credentials' origin are
// ours to decide), a stall limit on every socket, and the retry policy the FTP session uses.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { RftpError } from '../errors.js';
import type { Output } from '../ui/output.js';
import { addSecret } from '../ui/redact.js';
import { classify } from './classify.js';
import { tlsOptions } from './connect.js';
import type { Credentials } from './credentials.js';
import { displayHttpUrl, originOf, parseHttpUrl, type HttpUrl } from './http-url.js';
import { withRetry, type RetryPolicy } from './retry.js';

export const MAX_REDIRECTS = 10;

export interface HttpConfig {
  url: HttpUrl;
  caFile?: string;
  insecure: boolean;
  /** --allow-insecure-redirect: follow a redirect from https to http. */
  allowInsecureRedirect: boolean;
  /** No byte this long on a connection: it counts as stalled, and the attempt is retried. */
  timeoutMs: number;
  retry: RetryPolicy;
  /** undefined: no user given, no Authorization header. */
  credentials: () => Promise<Credentials | undefined>;
}

export interface HttpRequest {
  method?: 'GET' | 'HEAD';
  /** Where to send it (the original URL, or the final one a state file recorded). */
  url: HttpUrl;
  /** Stops this request (default: the client's signal). */
  signal?: AbortSignal;
  /** bytes=from-to (to inclusive; open-ended when undefined). */
  range?: { from: number; to?: number };
  /** If-Range: the recorded validator (a strong ETag or a Last-Modified date). */
  ifRange?: string;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: IncomingMessage;
  /** The URL that answered, after redirects. */
  url: HttpUrl;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);

/** The server's answer as one line: "404 Not Found". */
const statusText = (res: IncomingMessage) => `${res.statusCode} ${(res.statusMessage ?? '').replace(/\s+/g, ' ').trim()}`.trim();

/**
 * A status that ends the attempt: 401 is a failed login (exit 4), 403 a refusal (exit 8), 404/410
 * not found (exit 6), none of them retried; 5xx, 408 and 429 are worth another try.
 */
export function statusError(res: IncomingMessage, what: string, hadCredentials: boolean): RftpError {
  const status = res.statusCode ?? 0;
  const said = `${what}: server said ${statusText(res)}`;
  if (status === 401) return new RftpError('login', hadCredentials ? said : `${said} (give a user: -u USER, or USER@ in the URL)`);
  if (status === 404 || status === 410) return new RftpError('notFound', said);
  if (status === 403) return new RftpError('transfer', said);
  return new RftpError('transfer', said, { retryable: RETRYABLE_STATUS.has(status) });
}

/** A connection quiet for longer than --timeout. */
class Stalled extends Error {
  constructor(seconds: number) {
    super(`connection stalled (no data for ${seconds} s)`);
  }
}

/**
 * Requests to one server for one command: a keep-alive agent (pget's ranges reuse connections),
 * the credentials looked up once, and every failure turned into one line with an exit code.
 */
export class HttpClient {
  private readonly agent: HttpAgent;
  private creds: Promise<Credentials | undefined> | undefined;
  private warnedPlain = false;
  private everConnected = false;

  constructor(
    readonly config: HttpConfig,
    private readonly out: Output,
    readonly signal: AbortSignal,
  ) {
    const options = { keepAlive: true, maxSockets: 16 };
    // Only the trust settings: an agent's options override each request's, so a host or
    // servername here would send a redirect to another host back to this one.
    const { host: _host, servername: _name, ...trust } = tlsOptions(config.url, config);
    this.agent = config.url.scheme === 'https' ? new HttpsAgent({ ...options, ...trust }) : new HttpAgent(options);
  }

  close(): void {
    this.agent.destroy();
  }

  /** Looked up once per client (a prompt asks once), the password registered for redaction. */
  private credentials(): Promise<Credentials | undefined> {
    this.creds ??= this.config.credentials().then((c) => {
      addSecret(c?.password);
      return c;
    });
    return this.creds;
  }

  /** Whether a user name and password are sent (a 401 then means they are wrong). */
  async hasCredentials(): Promise<boolean> {
    return (await this.credentials()) !== undefined;
  }

  /** Sends the request, following redirects; returns the first answer that is not one. Any status is returned. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    const creds = await this.credentials();
    for (let hops = 0; ; hops++) {
      const res = await this.once(req, url, creds);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode ?? 0) || !location) return { status: res.statusCode ?? 0, headers: res.headers, body: res, url };
      res.resume();
      if (hops >= MAX_REDIRECTS) throw new RftpError('transfer', `${displayHttpUrl(req.url)}: more than ${MAX_REDIRECTS} redirects`);
      url = this.redirectTarget(url, location);
    }
  }

  /** Where a Location header leads, refused when it leaves https for http (unless allowed) or HTTP altogether. */
  private redirectTarget(from: HttpUrl, location: string): HttpUrl {
    let next: URL;
    try {
      next = new URL(location, `${originOf(from)}${from.target}`);
    } catch {
      throw new RftpError('transfer', `${displayHttpUrl(from)}: the server redirected to a malformed URL`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      throw new RftpError('transfer', `${displayHttpUrl(from)}: the server redirected to a ${next.protocol} URL, which rftp does not follow`);
    // Credentials in the Location itself are not taken: they would be the server's, not the user's.
    next.username = '';
    next.password = '';
    const to = parseHttpUrl(next.href);
    if (from.scheme === 'https' && to.scheme === 'http' && !this.config.allowInsecureRedirect) {
      throw new RftpError('tls', `${displayHttpUrl(from)}: refusing the redirect from https to ${displayHttpUrl(to)} (the rest would be unencrypted); --allow-insecure-redirect follows it`);
    }
    this.out.debug(`redirected to ${displayHttpUrl(to)}`);
    return to;
  }

  private once(req: HttpRequest, url: HttpUrl, creds: Credentials | undefined): Promise<IncomingMessage> {
    const headers: Record<string, string> = {
      'User-Agent': 'rftp',
      // Bytes mean bytes: the file as stored, so offsets and lengths are the file's own.
      'Accept-Encoding': 'identity',
    };
    if (req.range) headers.Range = `bytes=${req.range.from}-${req.range.to ?? ''}`;
    if (req.range && req.ifRange) headers['If-Range'] = req.ifRange;
    // The password goes only to the origin the user named (not to wherever a redirect leads, not to
    // another port of the same host), or to that origin upgraded from http:80 to https:443.
    const base = this.config.url;
    const upgraded = base.scheme === 'http' && base.port === 80 && url.scheme === 'https' && url.port === 443 && url.host === base.host;
    if (creds && (originOf(url) === originOf(base) || upgraded)) {
      if (url.scheme === 'http' && !this.warnedPlain) {
        this.warnedPlain = true;
        this.out.warn(`sending the password for ${creds.user} unencrypted over http://`);
      }
      headers.Authorization = `Basic ${Buffer.from(`${creds.user}:${creds.password}`).toString('base64')}`;
    }
    const secure = url.scheme === 'https';
    const send = secure ? httpsRequest : httpRequest;
    const agent = secure === (this.config.url.scheme === 'https') ? this.agent : undefined;
    const options = {
      host: url.host,
      port: url.port,
      path: url.target,
      method: req.method ?? 'GET',
      headers,
      agent,
      signal: req.signal ?? this.signal,
      ...(secure ? tlsOptions(url, this.config) : {}),
    };
    this.out.debug(`${options.method} ${displayHttpUrl(url)}${headers.Range ? ` ${headers.Range}` : ''}${headers['If-Range'] ? ` If-Range: ${headers['If-Range']}` : ''}`);
    return new Promise((resolve, reject) => {
      let response: IncomingMessage | undefined;
      const r = send(options, (res) => {
        response = res;
        this.everConnected = true;
        this.out.debug(`${statusText(res)}${res.headers['content-range'] ? ` ${res.headers['content-range']}` : ''}${res.headers['content-length'] ? ` length ${res.headers['content-length']}` : ''}`);
        resolve(res);
      });
      const seconds = this.config.timeoutMs / 1000;
      // The socket's idle limit holds for the body too: a response that stops mid-way fails.
      r.setTimeout(this.config.timeoutMs, () => {
        // The body's reader must see why: destroyed first, it fails with this error, not a reset.
        response?.destroy(new Stalled(seconds));
        r.destroy(new Stalled(seconds));
      });
      r.on('error', reject);
      r.end();
    });
  }

  /**
   * Runs op, retrying with backoff when it fails in a way another attempt could fix; progress()
   * tells the retry budget when the op moved forward (as Session.run does for FTP).
   */
  run<T>(what: string, progress: () => number, op: () => Promise<T>, signal = this.signal): Promise<T> {
    const policy = this.config.retry;
    return withRetry(
      policy,
      {
        progress,
        signal,
        onRetry: (err, n, delay) => {
          this.out.warn(`${err.message}; retrying in ${(delay / 1000).toFixed(1)} s (retry ${n} of ${policy.retries})`);
        },
      },
      async () => {
        try {
          return await op();
        } catch (raw) {
          if (this.signal.aborted) throw new RftpError('interrupted', 'interrupted');
          const err = classifyHttp(raw, what);
          // Nothing listens there at all: a wrong host or port, not an outage.
          if (!this.everConnected && err.kind === 'connection' && /refused/.test(err.message)) throw new RftpError('connection', err.message);
          throw err;
        }
      },
    );
  }
}

/** Socket and stream failures as FTP's are classified, with the stream errors of a cut-off body. */
export function classifyHttp(raw: unknown, what: string): RftpError {
  if (raw instanceof RftpError) return raw;
  if (raw instanceof Stalled) return new RftpError('connection', `${what}: ${raw.message}`, { retryable: true, cause: raw });
  const e = raw as NodeJS.ErrnoException;
  if (e?.code === 'ERR_STREAM_PREMATURE_CLOSE' || e?.code === 'ECONNRESET' || e?.message === 'aborted') {
    return new RftpError('connection', `${what}: connection lost (${e.code ?? e.message})`, { retryable: true, cause: raw });
  }
  if (e?.code === 'HPE_INVALID_CONSTANT' || e?.code?.startsWith('HPE_'))
    return new RftpError('transfer', `${what}: the server's answer is not valid HTTP (${e.code})`, { retryable: true, cause: raw });
  return classify(raw, what);
}

/** A header's one value (Node joins some repeated headers; others come as lists). */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
