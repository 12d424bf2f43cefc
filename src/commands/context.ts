import { RftpError } from '../errors.js';
import { resolveCredentials } from '../session/credentials.js';
import { keychainLookup } from '../session/keychain.js';
import { promptHidden } from '../ui/prompt.js';
import { Session } from '../session/session.js';
import { parseFtpUrl, type FtpUrl } from '../session/url.js';
import { HttpClient } from '../session/http.js';
import type { HttpUrl } from '../session/http-url.js';
import type { SessionMaker } from '../transfer/segmented.js';
import { addSecret } from '../ui/redact.js';
import type { Args, CommandContext, RemoteNaming, SessionArgs } from './spec.js';

export type { CommandContext, SessionArgs };

/** The server a URL names, with the user: connections to the same one share a credential lookup. */
export const serverKey = (url: FtpUrl) => `${url.security}://${url.user ?? ''}@${url.host}:${url.port}`;

/**
 * Remote files named by URL, as on the command line. Connections to one server with the same
 * options share one credential lookup for the whole command.
 */
export function urlNaming(ctx: CommandContext, command: string): RemoteNaming {
  const factories = new Map<string, { args: SessionArgs; make: SessionMaker }>();
  const sessions = (url: FtpUrl, args: SessionArgs, other?: CommandContext): SessionMaker => {
    if (other) return sessionFactory(url, args, other);
    const key = serverKey(url);
    const known = factories.get(key);
    if (known && known.args === args) return known.make;
    const make = sessionFactory(url, args, ctx);
    factories.set(key, { args, make });
    return make;
  };
  return {
    kind: 'url',
    url(arg, what) {
      if (arg === undefined) throw new RftpError('usage', `${command}: missing argument ${what} (see rftp ${command} --help)`);
      return parseFtpUrl(arg);
    },
    path: (arg) => arg,
    sessions,
    session(url, args) {
      const session = sessions(url, args)();
      return { session, release: () => session.close() };
    },
  };
}

/**
 * For commands that work over several connections (sync, pget): every Session it makes shares
 * one credential lookup, so a password is asked for (or read from the keychain) once.
 */
export function sessionFactory(url: FtpUrl, args: SessionArgs, ctx: CommandContext): (signal?: AbortSignal) => Session {
  checkSessionArgs(args);
  if (args.insecure && (url.security !== 'none' || args.tls)) ctx.out.warn('certificate checks are off (--insecure): the server is not authenticated');
  addSecret(url.password);
  let credentials: ReturnType<typeof resolveCredentials> | undefined;
  const config = {
    url,
    tls: { requireTls: args.tls, caFile: args.caFile, insecure: args.insecure },
    trustPasvAddress: args.fixPasvAddress === false,
    pipelining: args.pipelining !== false,
    // At least 1 ms: 0 would turn stall detection off.
    timeoutMs: Math.max(1, Math.round(args.timeout * 1000)),
    retry: { retries: args.retries, baseDelayMs: Math.round(args.retryDelay * 1000), maxDelayMs: 30_000 },
    credentials: () =>
      (credentials ??= resolveCredentials(url, args.user, {
        env: ctx.env,
        warn: (m) => ctx.out.warn(m),
        keychain: ctx.env.RFTP_NO_KEYCHAIN ? undefined : keychainLookup,
        prompt: process.stdin.isTTY ? promptHidden : undefined,
      })),
  };
  // A caller may pass its own signal (derived from ctx.signal) to stop some connections early.
  return (signal = ctx.signal) => new Session(config, ctx.out, signal);
}

/** The limits every connection's options must keep, FTP or HTTP. */
function checkSessionArgs(args: SessionArgs): void {
  // Node's timers overflow past about 24 days; a day is more than any wait here needs.
  if (!Number.isFinite(args.timeout) || args.timeout <= 0 || args.timeout > 86_400) throw new RftpError('usage', '--timeout must be a positive number of seconds, at most 86400');
  if (!Number.isInteger(args.retries) || args.retries < 0) throw new RftpError('usage', '--retries must be a whole number, 0 or more');
  if (!Number.isFinite(args.retryDelay) || args.retryDelay < 0 || args.retryDelay > 86_400) throw new RftpError('usage', '--retry-delay must be 0 to 86400 seconds');
}

/**
 * An http(s) client for one server: the same limits, retry policy and credential sources as an
 * FTP session (URL, -u, RFTP_PASSWORD, ~/.netrc, keychain, a prompt on a terminal). Without a user
 * from any of them no Authorization header is sent at all.
 */
export function httpClientFor(url: HttpUrl, args: SessionArgs & { allowInsecureRedirect?: boolean }, ctx: CommandContext): HttpClient {
  checkSessionArgs(args);
  if (args.insecure && url.scheme === 'https') ctx.out.warn('certificate checks are off (--insecure): the server is not authenticated');
  addSecret(url.password);

  return new HttpClient(
    {
      url,
      caFile: args.caFile,
      insecure: args.insecure,
      allowInsecureRedirect: args.allowInsecureRedirect === true,
      timeoutMs: Math.max(1, Math.round(args.timeout * 1000)),
      retry: { retries: args.retries, baseDelayMs: Math.round(args.retryDelay * 1000), maxDelayMs: 30_000 },
      credentials: async () => {
        const found = await resolveCredentials(url, args.user, {
          http: true,
          env: ctx.env,
          warn: (m) => ctx.out.warn(m),
          keychain: ctx.env.RFTP_NO_KEYCHAIN ? undefined : keychainLookup,
          prompt: process.stdin.isTTY ? promptHidden : undefined,
        });
        return found.source === 'anonymous' ? undefined : found;
      },
    },
    ctx.out,
    ctx.signal,
  );
}

/** The connection options out of a command's arguments (sessionOptions in options.ts). */
export function sessionArgsOf(args: Args): SessionArgs {
  return {
    user: args.user as string | undefined,
    tls: args.tls === true,
    caFile: args.caFile as string | undefined,
    insecure: args.insecure === true,
    timeout: args.timeout as number,
    retries: args.retries as number,
    retryDelay: args.retryDelay as number,
    fixPasvAddress: args.fixPasvAddress !== false,
    pipelining: args.pipelining !== false,
    allowInsecureRedirect: args.allowInsecureRedirect === true,
  };
}
