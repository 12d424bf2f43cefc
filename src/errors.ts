// Every failure a user can meet maps to one of these codes. `--help` lists them from here, and a
// test holds the README's exit-code table to the same list.
export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  connection: 3,
  login: 4,
  tls: 5,
  notFound: 6,
  local: 7,
  transfer: 8,
  exists: 9,
  infected: 10,
  checkFailed: 11,
  differences: 12,
  interrupted: 130,
} as const;
export type ExitCodeName = keyof typeof ExitCode;

/** What each code means, for --help and the README (one line each). */
export const exitCodeMeanings: Record<ExitCodeName, string> = {
  ok: 'success (including "already complete, skipped")',
  internal: 'internal error (a bug: please report it with `--debug` output)',
  usage: 'usage: bad arguments, malformed URL, CR/LF/NUL in a path',
  connection: 'connection: host not found, connection refused, or lost and not recovered',
  login: 'login failed',
  tls: 'TLS: certificate not trusted, AUTH TLS or PROT P refused, a redirect from https to http refused',
  notFound: 'remote file not found (or not accessible)',
  local: 'local file error: cannot read the source or write the destination',
  transfer: 'transfer failed after retries, or the server refused it',
  exists: 'destination exists (use `--force` or `-c`)',
  infected: 'a file was found infected by the virus scan (`--scan`) and quarantined',
  checkFailed: 'a check after a transfer failed: the scanner itself, `--verify-command`, `--on-complete`',
  differences: '`rftp check` found differences',
  interrupted: 'interrupted (Ctrl-C, SIGTERM); run the same command again to resume',
};

/** "0 ok, 1 internal error, …": the short list for --help. */
export function exitCodeSummary(): string {
  const short: Record<ExitCodeName, string> = {
    ok: 'ok',
    internal: 'internal error',
    usage: 'usage',
    connection: 'connection',
    login: 'login',
    tls: 'TLS',
    notFound: 'remote file not found',
    local: 'local file error',
    transfer: 'transfer failed after retries',
    exists: 'destination exists',
    infected: 'infected (quarantined)',
    checkFailed: 'check after transfer failed',
    differences: 'check found differences',
    interrupted: 'interrupted',
  };
  return (Object.keys(ExitCode) as ExitCodeName[]).map((k) => `${ExitCode[k]} ${short[k]}`).join(', ');
}

/** An error meant for the user: one line, no stack, a known exit code. */
export class RftpError extends Error {
  readonly kind: ExitCodeName;
  /** Whether reconnecting and trying again could help. */
  readonly retryable: boolean;
  constructor(kind: ExitCodeName, message: string, opts: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: opts.cause });
    this.kind = kind;
    this.retryable = opts.retryable ?? false;
  }
  get exitCode(): number {
    return ExitCode[this.kind];
  }
}

export const usageError = (message: string) => new RftpError('usage', message);

/** Any thrown value as an RftpError: what is not one already is a bug (exit 1). */
export function asRftpError(raw: unknown): RftpError {
  return raw instanceof RftpError ? raw : new RftpError('internal', `internal error: ${(raw as Error)?.message ?? raw}`, { cause: raw });
}

/**
 * A failure whose errors were already printed (per file): only its exit code is left, and at
 * most a summary line.
 */
export class Reported extends Error {
  constructor(
    readonly code: number,
    readonly summary?: string,
  ) {
    super(summary ?? `exit code ${code}`);
  }
}

/** The shell's `exit`: leaves with this code (it passes through the command runner). */
export class ExitRequest extends Error {
  constructor(readonly code: number) {
    super('exit');
  }
}
