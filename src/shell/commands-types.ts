import type { Shell } from './state.js';

/** What a word of a command is, for Tab completion. */
export type ArgKind = 'remote' | 'remote-dir' | 'local' | 'local-dir' | 'command' | 'bookmark' | 'setting' | 'none';

export interface ShellCommand {
  /** The first name is the one `help` lists; the others are aliases. */
  names: string[];
  usage: string;
  summary: string;
  /** More lines for `help NAME`: options and examples. */
  details?: string[];
  /** Kinds of the positional arguments; the last one repeats. */
  complete: ArgKind[];
  run(sh: Shell, argv: string[]): Promise<void>;
}

/** `exit`: leaves the shell with this code. */
export class ExitRequest extends Error {
  constructor(readonly code: number) {
    super('exit');
  }
}

/**
 * A failure whose errors were already printed (per file, or by a one-shot handler): only its
 * code is left, and at most a summary line.
 */
export class Reported extends Error {
  constructor(
    readonly code: number,
    readonly summary?: string,
  ) {
    super(summary ?? `exit code ${code}`);
  }
}
