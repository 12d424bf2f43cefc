// A real terminal for tests of what differs when stderr is a TTY (Ctrl-C, progress, prompts):
// rftp inside tmux, driven with send-keys and read with capture-pane.
import { execFileSync } from 'node:child_process';
import { RFTP, waitFor } from './cli.js';

/** One tmux server of our own (its own socket), driving rftp in a real pseudo-terminal. */
export class Terminal {
  private readonly socket = `rftp-test-${process.pid}-${Math.random().toString(36).slice(2)}`;
  constructor(private readonly env: NodeJS.ProcessEnv) {}

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** `underShell`: rftp runs below a shell, as from a user's prompt, not as the session's leader. */
  start(cwd: string, args: string[], opts: { underShell?: boolean } = {}): void {
    const envArgs = Object.entries(this.env).map(([k, v]) => `${k}=${shellQuote(String(v))}`);
    // Under a shell, the exit code shows as EXIT=N once rftp has ended. `set -m` gives rftp its
    // own foreground process group, as a user's interactive shell does: Ctrl-C then reaches rftp
    // and its children only, not the shell running the test's command line.
    const after = opts.underShell ? '; echo EXIT=$?' : '';
    const cmd = `${opts.underShell ? 'set -m; ' : ''}cd ${shellQuote(cwd)} && ${opts.underShell ? '' : 'exec '}env -i ${envArgs.join(' ')} ${shellQuote(process.execPath)} ${shellQuote(RFTP)} ${args.map(shellQuote).join(' ')}${after}; sleep 30`;
    this.tmux('new-session', '-d', '-s', 't', '-x', '160', '-y', '50', cmd);
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 't', ...keys);
  }

  type(text: string): void {
    this.tmux('send-keys', '-t', 't', '-l', text);
  }

  screen(): string {
    // Trailing blanks are trimmed: a prompt matches as "…>" at the end of its line.
    return this.tmux('capture-pane', '-p', '-t', 't', '-S', '-500')
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n');
  }

  async waitScreen(re: RegExp, what: string): Promise<void> {
    await waitFor(() => re.test(this.screen()), `${what} (screen:\n${this.screen()})`, 20_000).catch((err) => {
      throw new Error(`${(err as Error).message}\n${this.screen()}`);
    });
  }

  /** Whether the program still runs (the session closes when it exits). */
  running(): boolean {
    try {
      this.tmux('has-session', '-t', 't');
      return true;
    } catch {
      return false;
    }
  }

  stop(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
