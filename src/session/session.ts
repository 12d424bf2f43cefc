import type { Client } from 'basic-ftp';
import { RftpError } from '../errors.js';
import type { Output } from '../ui/output.js';
import { addSecret } from '../ui/redact.js';
import { classify } from './classify.js';
import { NoGreeting, openClient, type TlsSettings } from './connect.js';
import type { Credentials } from './credentials.js';
import { withRetry, type RetryPolicy } from './retry.js';
import { hostPort, type FtpUrl } from './url.js';

export interface SessionConfig {
  url: FtpUrl;
  tls: TlsSettings;
  /** Inactivity limit: a control or data connection silent this long is treated as dropped. */
  timeoutMs: number;
  retry: RetryPolicy;
  /** Connect data connections to the address a PASV reply names (off by default: bounce protection, NAT). */
  trustPasvAddress?: boolean;
  /** false: every command waits for the one before (--no-pipelining). */
  pipelining?: boolean;
  credentials: () => Promise<Credentials>;
}

/**
 * One logical session with a server: a control connection that is reopened whenever it drops,
 * stalls or is left in an unknown state, with the credentials asked for only once.
 */
export class Session {
  private client: Client | undefined;
  private creds: Credentials | undefined;
  private everConnected = false;
  private closed = false;
  /** Aborted by close(): a login under way is cut, not awaited (its socket would keep the process alive). */
  private readonly closing = new AbortController();
  /** Aborted with the run's signal or by close(), for the logins. */
  private readonly loginSignal: AbortSignal;

  constructor(
    readonly config: SessionConfig,
    private readonly out: Output,
    readonly signal: AbortSignal,
  ) {
    // Chained by hand: AbortSignal.any needs Node 20.3, and package.json allows any Node 20.
    const chain = () => {
      this.drop();
      this.closing.abort();
    };
    if (signal.aborted) this.closing.abort();
    else signal.addEventListener('abort', chain, { once: true });
    this.loginSignal = this.closing.signal;
  }

  async connected(): Promise<Client> {
    if (this.signal.aborted) throw new RftpError('interrupted', 'interrupted');
    if (this.closed) throw closedError();
    if (this.client && !this.client.closed) return this.client;
    const { url } = this.config;
    if (!this.creds) {
      this.creds = await this.config.credentials();
      addSecret(this.creds.password);
    }
    await this.out.status(`Connecting to ${hostPort(url)}…`);
    // close() may have come while the credentials or the spinner were loading.
    if (this.closed) {
      this.out.stopStatus();
      throw closedError();
    }
    this.out.debug(
      `connecting to ${hostPort(url)} (${url.security === 'none' && !this.config.tls.requireTls ? 'plain' : `TLS ${url.security === 'implicit' ? 'implicit' : 'explicit'}`}), password from ${this.creds.source}`,
    );
    try {
      this.client = await openClient(
        url,
        this.creds,
        this.config.tls,
        { timeoutMs: this.config.timeoutMs, trustPasvAddress: this.config.trustPasvAddress ?? false, pipelining: this.config.pipelining !== false },
        this.loginSignal,
        this.out.mode.debug ? (m) => this.out.debug(m) : undefined,
      );
    } catch (err) {
      // Closed while the login was under way (a pool's extra connection, the run already over).
      if (this.closed && !this.signal.aborted) throw closedError();
      throw err;
    } finally {
      this.out.stopStatus();
    }
    if (this.closed) {
      // Closed just as the login completed: an open socket left behind would keep the process alive.
      this.drop();
      throw closedError();
    }
    this.everConnected = true;
    return this.client;
  }

  /** How often an operation had to reconnect after a failure (a strained server, a bad link). */
  reconnects = 0;

  /** Closes the control connection; the next call reconnects. Used after any cut-short transfer. */
  drop(): void {
    this.client?.close();
    this.client = undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** For good: a login still under way is closed when it completes. */
  close(): void {
    this.closed = true;
    this.closing.abort();
    this.drop();
  }

  /**
   * Runs op on a live connection, reconnecting with backoff when it fails in a way a new
   * connection could fix. `progress` tells the retry budget when the op moved forward.
   */
  run<T>(what: string, progress: () => number, op: (client: Client) => Promise<T>): Promise<T> {
    const policy = this.config.retry;
    return withRetry(
      policy,
      {
        progress,
        signal: this.signal,
        onRetry: (err, n, delay) => {
          this.reconnects++;
          this.out.warn(`${err.message}; reconnecting in ${(delay / 1000).toFixed(1)} s (retry ${n} of ${policy.retries})`);
        },
      },
      async () => {
        try {
          return await op(await this.connected());
        } catch (raw) {
          if (this.signal.aborted) throw new RftpError('interrupted', 'interrupted');
          // After a failure the control connection may still owe a late 426/451 reply; a new
          // one is the only safe state to continue from.
          this.drop();
          const err = classify(raw, what);
          if (!this.everConnected && err.kind === 'connection' && err.retryable && (/refused/.test(err.message) || raw instanceof NoGreeting)) {
            // Nothing listens there, or something that is no FTP server as asked (an implicit-TLS
            // port): almost always a wrong host, port or scheme, not an outage.
            throw new RftpError('connection', err.message);
          }
          throw err;
        }
      },
    );
  }
}

const closedError = () => new RftpError('interrupted', 'the session was closed');
