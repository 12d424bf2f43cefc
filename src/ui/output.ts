import { ProgressBar } from './progress-bar.js';
import { formatBytes } from './format.js';
import { escapeControl, quoteName, redact } from './redact.js';

export interface OutputMode {
  json: boolean;
  quiet: boolean;
  debug: boolean;
}

export interface TransferProgress {
  update(bytes: number): void;
  done(): void;
  /** Stops drawing without a final line (errors, interruption). */
  stop(): void;
}

interface Spinner {
  text: string;
  stop(): void;
}

/**
 * The only place that prints (with the password prompt, ui/prompt.ts; the lint check holds every
 * other module to it). Terminal niceties (spinner, progress bar) appear only when stderr is
 * a terminal and neither --quiet nor --json was given; off a terminal (CI) a transfer gets one line.
 * Everything goes through the redactor.
 */
export class Output {
  private spinner: Spinner | undefined;
  private statusText: string | undefined;
  private oraLoading: Promise<typeof import('ora')> | undefined;
  private bar: ProgressBar | undefined;
  readonly interactive: boolean;

  constructor(
    readonly mode: OutputMode,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
  ) {
    // A terminal that reports no width (some pseudo-terminals under `script`) would make ora
    // divide by zero and redraw for ever: treated as not interactive.
    this.interactive = Boolean(stderr.isTTY) && (stderr.columns ?? 0) > 0 && !mode.quiet && !mode.json && !process.env.CI;
  }

  /** The same streams in another mode (a command's own --quiet, --json or --debug). */
  withMode(mode: OutputMode): Output {
    const same = mode.quiet === this.mode.quiet && mode.json === this.mode.json && mode.debug === this.mode.debug;
    return same ? this : new Output(mode, this.stderr, this.stdout);
  }

  private line(text: string): void {
    this.clearTransient();
    // Server replies and names can carry terminal escape sequences: never let them through.
    this.stderr.write(`${escapeControl(redact(text))}\n`);
  }

  /** Progress notes (resuming, retrying): shown unless --quiet. */
  info(text: string): void {
    if (!this.mode.quiet) this.line(`rftp: ${text}`);
  }

  warn(text: string): void {
    this.line(`rftp: warning: ${text}`);
  }

  error(text: string): void {
    this.line(`rftp: error: ${text}`);
  }

  debug(text: string): void {
    if (this.mode.debug) this.line(`rftp: debug: ${text}`);
  }

  /** Machine-readable result on stdout (--json), or plain text results (e.g. a listing). */
  json(value: unknown): void {
    this.stdout.write(`${redact(JSON.stringify(value))}\n`);
  }

  /** A plain result line on stdout (listings, pwd, the shell's help), redacted. */
  print(text: string): void {
    this.clearTransient();
    this.stdout.write(`${redact(text)}\n`);
  }

  /** The stack of an internal error, with --debug only (for a bug report), redacted. */
  debugStack(raw: unknown): void {
    if (this.mode.debug) this.stderr.write(`${redact(String((raw as Error)?.stack ?? raw))}\n`);
  }

  /** The shell's own echo at its prompt (a new line after Ctrl-D, "^C"), as it is. */
  echo(text: string): void {
    this.stdout.write(text);
  }

  /** File contents for `cat`, byte for byte; the callback runs once stdout took them (backpressure). */
  writeRaw(chunk: Buffer, done: (err?: Error | null) => void): void {
    this.stdout.write(chunk, done);
  }

  async status(text: string): Promise<void> {
    if (!this.interactive) return;
    this.statusText = text;
    if (this.spinner) {
      this.spinner.text = text;
      return;
    }
    // ora is loaded only when a terminal will show it: start-up stays quick in CI and scripts.
    // Several connections ask at once (pget -n 3): one spinner, whoever asked last names it.
    this.oraLoading ??= import('ora');
    const { default: ora } = await this.oraLoading;
    if (this.spinner || this.statusText === undefined) return;
    // discardStdin would put the terminal in raw mode while it spins, where Ctrl-C is only a
    // byte: with several spinners started and stopped at once it stayed so, and Ctrl-C was lost.
    this.spinner = ora({ text: this.statusText, stream: this.stderr, discardStdin: false }).start();
  }

  stopStatus(): void {
    this.statusText = undefined;
    this.spinner?.stop();
    this.spinner = undefined;
  }

  private clearTransient(): void {
    this.stopStatus();
    this.bar?.clear();
  }

  transfer(label: string, total: number | undefined, startAt: number, verb: string): TransferProgress {
    this.stopStatus();
    const started = Date.now();
    if (this.interactive) {
      const bar = new ProgressBar(this.stderr, quoteName(label), total, startAt);
      this.bar = bar;
      return {
        update: (bytes) => bar.update(bytes),
        done: () => {
          bar.finish();
          this.bar = undefined;
        },
        stop: () => {
          bar.clear();
          this.bar = undefined;
        },
      };
    }
    let last = startAt;
    return {
      update: (bytes) => {
        last = bytes;
      },
      done: () => {
        const secs = (Date.now() - started) / 1000;
        const resumed = startAt > 0 ? ` (resumed at ${formatBytes(startAt)})` : '';
        this.info(`${verb} ${quoteName(label)}: ${formatBytes(last)} in ${secs.toFixed(1)} s${resumed}`);
      },
      stop: () => {},
    };
  }
}

/** Calls `done` once what was printed on stdout has been handed to the system (before exiting). */
export function afterStdout(done: () => void): void {
  process.stdout.write('', done);
}
