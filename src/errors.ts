// Every failure a user can meet maps to one of these codes. The README's exit-code table is
// generated from the same list by hand: keep them in step.
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
  interrupted: 130,
} as const;
export type ExitCodeName = keyof typeof ExitCode;

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
