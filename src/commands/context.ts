import { RftpError } from '../errors.js';
import { resolveCredentials } from '../session/credentials.js';
import { keychainLookup } from '../session/keychain.js';
import { promptHidden } from '../session/prompt.js';
import { Session } from '../session/session.js';
import type { FtpUrl } from '../session/url.js';
import { Output } from '../ui/output.js';
import { addSecret } from '../ui/redact.js';

/** Options every command that talks to a server takes (see sessionOptions in options.ts). */
export interface SessionArgs {
  user?: string;
  tls: boolean;
  caFile?: string;
  insecure: boolean;
  timeout: number;
  retries: number;
  retryDelay: number;
  /** Ignore the address in PASV replies (the default); false trusts it. */
  fixPasvAddress?: boolean;
}

export interface OutputArgs {
  quiet: boolean;
  json: boolean;
  debug: boolean;
}

/** What a command's run gets: where to print, and when to stop. */
export interface CommandContext {
  out: Output;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

export function makeOutput(args: OutputArgs): Output {
  return new Output({ quiet: args.quiet || args.json, json: args.json, debug: args.debug });
}

export function openSession(url: FtpUrl, args: SessionArgs, ctx: CommandContext): Session {
  return sessionFactory(url, args, ctx)();
}

/**
 * For commands that work over several connections (sync, pget): every Session it makes shares
 * one credential lookup, so a password is asked for (or read from the keychain) once.
 */
export function sessionFactory(url: FtpUrl, args: SessionArgs, ctx: CommandContext): (signal?: AbortSignal) => Session {
  // Node's timers overflow past about 24 days; a day is more than any wait here needs.
  if (!Number.isFinite(args.timeout) || args.timeout <= 0 || args.timeout > 86_400) throw new RftpError('usage', '--timeout must be a positive number of seconds, at most 86400');
  if (!Number.isInteger(args.retries) || args.retries < 0) throw new RftpError('usage', '--retries must be a whole number, 0 or more');
  if (!Number.isFinite(args.retryDelay) || args.retryDelay < 0 || args.retryDelay > 86_400) throw new RftpError('usage', '--retry-delay must be 0 to 86400 seconds');
  if (args.insecure && (url.security !== 'none' || args.tls)) ctx.out.warn('certificate checks are off (--insecure): the server is not authenticated');
  addSecret(url.password);
  let credentials: ReturnType<typeof resolveCredentials> | undefined;
  const config = {
    url,
    tls: { requireTls: args.tls, caFile: args.caFile, insecure: args.insecure },
    trustPasvAddress: args.fixPasvAddress === false,
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
