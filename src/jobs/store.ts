// The persistent queue: one JSON file per entry in $XDG_STATE_HOME/rftp/queue/, each change
// written durably (temporary file, fsync, rename), and a lock file per running entry holding the
// PID of the `queue run` that runs it. Nothing is silently dropped: a file that cannot be parsed
// is moved aside and named in a warning, the rest of the queue still runs.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RftpError, usageError } from '../errors.js';
import { stateHome, writeJsonDurably } from '../transfer/state.js';

export type EntryState = 'waiting' | 'running' | 'done' | 'failed' | 'interrupted' | 'paused';

export interface QueueEntry {
  version: 1;
  id: number;
  name?: string;
  /** The command line as words: `get URL -o dir/`. Never a password (queue add refuses those). */
  words: string[];
  /** Where it was added: relative paths in it mean this directory. */
  cwd: string;
  addedAt: number;
  /** When it is due next (ms since the epoch). */
  due: number;
  /** --every: run again this long after each due time. */
  every?: number;
  state: EntryState;
  runs: number;
  last?: { code: number; at: number; message?: string };
}

export const queueDir = (env: NodeJS.ProcessEnv = process.env) => join(stateHome(env), 'queue');

export class QueueStore {
  constructor(
    readonly dir: string,
    private readonly warn: (text: string) => void,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private path(id: number): string {
    return join(this.dir, `${id}.json`);
  }

  /** Every entry, by id. A file that is not a queue entry is moved aside, with a warning. */
  list(): QueueEntry[] {
    const entries: QueueEntry[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^\d+\.json$/.test(name)) continue;
      const file = join(this.dir, name);
      try {
        const e = JSON.parse(readFileSync(file, 'utf8')) as QueueEntry;
        if (e.version !== 1 || `${e.id}.json` !== name || !Array.isArray(e.words) || typeof e.due !== 'number') throw new Error('not a queue entry');
        entries.push(e);
      } catch (err) {
        const aside = `${file}.corrupt-${Date.now()}`;
        try {
          renameSync(file, aside);
          this.warn(`queue: ${name} could not be read (${(err as Error).message}); moved aside as ${aside}`);
        } catch {
          // Another process moved it first.
        }
      }
    }
    return entries.sort((a, b) => a.id - b.id);
  }

  /** A new entry with the next free id (claimed with an exclusive create, so two adds never share one). */
  async add(entry: Omit<QueueEntry, 'id' | 'version'>): Promise<QueueEntry> {
    let id = Math.max(0, ...this.list().map((e) => e.id), ...this.claimed()) + 1;
    for (; ; id++) {
      try {
        closeSync(openSync(this.path(id), 'wx', 0o600));
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new RftpError('local', `cannot add to the queue in ${this.dir}: ${(err as Error).message}`);
      }
    }
    const full: QueueEntry = { version: 1, id, ...entry };
    await this.save(full);
    return full;
  }

  /** Ids of entry files (even empty ones being written). */
  private claimed(): number[] {
    return readdirSync(this.dir)
      .map((n) => /^(\d+)\.json$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number);
  }

  save(entry: QueueEntry): Promise<void> {
    return writeJsonDurably(this.path(entry.id), entry, 'the queue entry');
  }

  remove(id: number): void {
    try {
      unlinkSync(this.path(id));
    } catch {
      // Gone already.
    }
  }

  /** An entry by id or name; an unknown one is a usage error (2). */
  find(key: string): QueueEntry {
    const all = this.list();
    const found = /^\d+$/.test(key) ? all.find((e) => e.id === Number(key)) : all.find((e) => e.name === key);
    if (!found) throw usageError(`queue: no entry ${JSON.stringify(key)} (rftp queue lists them)`);
    return found;
  }

  /**
   * Takes the entry's lock for this process: undefined when a live process holds it. A lock left
   * by a process that is gone is taken over, and says so.
   */
  lock(id: number): (() => void) | undefined {
    const file = join(this.dir, `${id}.lock`);
    for (let tries = 0; tries < 2; tries++) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return () => {
          try {
            unlinkSync(file);
          } catch {
            // Removed already.
          }
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new RftpError('local', `cannot lock queue entry ${id}: ${(err as Error).message}`);
        const pid = Number(readFileSync(file, 'utf8').trim());
        if (pid > 0 && alive(pid)) return undefined;
        this.warn(`queue: entry ${id} was locked by process ${pid || '?'}, which is gone; taking it over`);
        try {
          unlinkSync(file);
        } catch {
          // Another run took it over first; the next try finds its lock.
        }
      }
    }
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
