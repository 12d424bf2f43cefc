import type { Session } from '../session/session.js';
import type { FtpUrl } from '../session/url.js';
import type { FileResult } from '../transfer/download.js';
import type { SessionMaker } from '../transfer/segmented.js';
import type { Output } from '../ui/output.js';

/**
 * One definition per command: the one-shot CLI, the shell, help, completion and the README's
 * tables all come from it (as npm's lib/commands and lftp's one command table).
 */

/** What a word stands for, for completion (in the shell and in the user's own shell). */
export type Completes = 'remote' | 'remote-dir' | 'local' | 'local-dir' | 'bookmark' | 'setting' | 'command' | 'none';

export interface OptionSpec {
  /** The long name, dashed: `limit-rate` (args.limitRate). */
  name: string;
  short?: string;
  type: 'boolean' | 'string' | 'number';
  /** Written once, here. A shell setting (below) overrides it in the shell. */
  default?: boolean | number | string;
  describe: string;
  /** The value's name in help and the README: RATE, N, PATH. */
  value?: string;
  completes?: Completes;
  /** May be given more than once (sync's --include/--exclude); the value is then a list. */
  repeatable?: boolean;
  /** The shell's `set NAME` that gives this option its default there. */
  setting?: string;
  /** lftp's spelling of the same option, for the README. */
  lftp?: string;
}

export interface PositionalSpec {
  name: string;
  describe: string;
  completes: Completes;
  /** one (default), optional, or many (one or more; only the last positional). */
  arity?: 'one' | 'optional' | 'many' | 'any';
}

/** A parsed command line: plain data (no functions), so it can be stored and run later. */
export interface ParsedCommand {
  command: string;
  /** Only what was given; defaults are applied when it runs (the shell's settings among them). */
  args: Record<string, ArgValue>;
}
export type ArgValue = string | number | boolean | string[];
export type Args = Record<string, ArgValue | undefined>;

/** How remote files are named: a URL on the command line, a path of the open site in the shell. */
export interface RemoteNaming {
  kind: 'url' | 'site';
  /**
   * A remote argument as a URL. On the command line it must be one; in the shell a path is
   * relative to the remote directory, and `undefined` means the remote directory itself.
   */
  url(arg: string | undefined, what: string): FtpUrl;
  /** A remote path in the second place of a command (mv's target) as a path on the same server. */
  path(arg: string): string;
  /**
   * Connections to the URL's server with these options (the shell's share its credentials);
   * `ctx` when their messages must go through another output (sync's, which draws a bar).
   */
  sessions(url: FtpUrl, args: SessionArgs, ctx?: CommandContext): SessionMaker;
  /** One connection to run a command on; release() when done (the shell keeps its own open). */
  session(url: FtpUrl, args: SessionArgs): { session: Session; release(): void };
}

/** The options every command that talks to a server takes (sessionOptions). */
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
  /** Commands sent together where their replies decide nothing (the default); false: one at a time. */
  pipelining?: boolean;
  /** http(s): follow a redirect from https to http (--allow-insecure-redirect). */
  allowInsecureRedirect?: boolean;
}

/** The shell's own hooks for the commands that change where it is (open). */
export interface SiteHost {
  // biome-ignore lint/suspicious/noConfusingVoidType: an exit code, or nothing for success (an async body that returns nothing)
  open(target: string, args: SessionArgs, ctx: RunContext): Promise<number | void>;
}

/** What the core of a command needs: where to print, and when to stop. */
export interface CommandContext {
  out: Output;
  signal: AbortSignal;
  env: NodeJS.ProcessEnv;
}

export interface RunContext extends CommandContext {
  /** The options given on the command line (the others have their defaults). */
  given: ReadonlySet<string>;
  remote: RemoteNaming;
  /** Files finished so far, for the --json report (also of a run that fails later). */
  results: FileResult[];
  /** false in a shell script read from stdin: a command must not read the script as its input. */
  stdinFree: boolean;
  site?: SiteHost;
  /** How to name the command's own help in an error: `rftp get --help` or `help get`. */
  helpHint: string;
  /** The commands where this runs (for help): the command line's, or the shell's. */
  commands(): Promise<Array<CommandSpec>>;
  /** The list `help` prints without a name. */
  overview(specs: Array<CommandSpec>): Promise<string>;
}

export interface CommandSpec<C extends RunContext = RunContext> {
  name: string;
  aliases?: string[];
  summary: string;
  positionals: PositionalSpec[];
  options: OptionSpec[];
  /** The arguments as help shows them, where the positionals alone do not say it (put). */
  usage?: string;
  /** Command lines (without the leading `rftp`) and what each does. */
  examples?: Array<[string, string]>;
  /** More lines for help: how the arguments are named in the shell, notes. */
  details?: string[];
  /** Where it runs: both by default; the shell's own commands (cd, set…) only there. */
  modes?: Array<'cli' | 'shell'>;
  /**
   * What --json prints: the transfer report of the files (the default), or nothing because the
   * command prints its own (sync's plan, ls's entries).
   */
  ownJson?: boolean;
  /**
   * What Ctrl-C and SIGTERM do while it runs: stop it (the default); nothing but count, for a
   * child that gets the signal itself (the shell's `!`); or nothing at all, for a command that
   * handles them on its own (`open` on the command line: the shell, per command).
   */
  signals?: 'abort' | 'ignore' | 'none';
  /** Its URLs must be FTP ones: an http(s) URL anywhere in its arguments is refused (exit 2). */
  ftpOnly?: boolean;
  /** Runs the command; a thrown RftpError becomes one line and its exit code. Returns the exit code. */
  // biome-ignore lint/suspicious/noConfusingVoidType: an exit code, or nothing for success (an async body that returns nothing)
  run(ctx: C, args: Args): Promise<number | void>;
}

/** The option names a spec accepts, with their short forms: `--limit-rate`, `-o`. */
export function optionLabel(o: OptionSpec): string {
  return `${o.short ? `-${o.short}, ` : ''}--${o.name}${o.type === 'boolean' ? '' : ` ${o.value ?? (o.type === 'number' ? 'N' : 'VALUE')}`}`;
}

export const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
