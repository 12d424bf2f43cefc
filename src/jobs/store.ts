// The persistent queue: one JSON file per entry in $XDG_STATE_HOME/rftp/queue/, each change
// written durably (temporary file, fsync, rename), and a lock file per running entry holding the
// PID of the `queue run` that runs it. Nothing is silently dropped: a file that cannot be parsed
// is moved aside and named in a warning, the rest of the queue still runs.
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
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

  /**
   * A new entry with the next free id: written whole to a temporary file, then linked to its
   * name, which fails when another process took that id first (no empty or half file is ever
   * seen under an entry's name).
   */
  async add(entry: Omit<QueueEntry, 'id' | 'version'>): Promise<QueueEntry> {
    const tmp = join(this.dir, `.add-${process.pid}-${Date.now()}.tmp`);
    for (let id = Math.max(0, ...this.ids()) + 1; ; id++) {
      const full: QueueEntry = { version: 1, id, ...entry };
      await writeJsonDurably(tmp, full, 'the queue entry');
      try {
        linkSync(tmp, this.path(id));
        return full;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new RftpError('local', `cannot add to the queue in ${this.dir}: ${(err as Error).message}`);
      } finally {
        rmSync(tmp, { force: true });
      }
    }
  }

  /** Ids of the entry files there are. */
  private ids(): number[] {
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

  /** One entry as it is on disk now, or undefined when it is gone. */
  get(id: number): QueueEntry | undefined {
    return this.list().find((e) => e.id === id);
  }

  /** An entry by id or name; an unknown one is a usage error (2). */
  find(key: string): QueueEntry {
    const all = this.list();
    const found = /^\d+$/.test(key) ? all.find((e) => e.id === Number(key)) : all.find((e) => e.name === key);
    if (!found) throw usageError(`queue: no entry ${JSON.stringify(key)} (rftp queue lists them)`);
    return found;
  }

  /**
   * Takes the entry's lock for this process: undefined when a live process holds it. The lock
   * file is linked into place with our PID already in it (never seen empty). One left by a
   * process that is gone is renamed away first (only one taker can do that), then taken.
   */
  lock(id: number): (() => void) | undefined {
    const file = join(this.dir, `${id}.lock`);
    const mine = join(this.dir, `.lock-${process.pid}-${id}.tmp`);
    writeFileSync(mine, `${process.pid} ${startTime(process.pid) ?? ''}\n`, { mode: 0o600 });
    try {
      for (let tries = 0; tries < 5; tries++) {
        try {
          linkSync(mine, file);
          return () => rmSync(file, { force: true });
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new RftpError('local', `cannot lock queue entry ${id}: ${(err as Error).message}`);
        }
        const holder = holderOf(file);
        if (holder === undefined) continue; // released meanwhile: try again
        if (alive(holder)) return undefined;
        const stale = `${file}.stale-${process.pid}`;
        try {
          renameSync(file, stale);
        } catch {
          continue; // another run moved it first
        }
        // What was moved must be the dead process's lock; a live one's (taken meanwhile) goes back.
        const moved = holderOf(stale);
        if (moved !== undefined && moved.pid !== holder.pid && alive(moved)) {
          try {
            linkSync(stale, file);
          } catch {
            // A third run holds it now: it runs the entry.
          }
          rmSync(stale, { force: true });
          return undefined;
        }
        rmSync(stale, { force: true });
        this.warn(`queue: entry ${id} was locked by process ${holder.pid}, which is gone; taking it over`);
      }
      return undefined;
    } finally {
      rmSync(mine, { force: true });
    }
  }
}

/** Who holds a lock file (PID and, on Linux, the process's start time); undefined when it is gone. */
function holderOf(file: string): { pid: number; start?: string } | undefined {
  try {
    const [pid, start] = readFileSync(file, 'utf8').trim().split(' ');
    return { pid: Number(pid) || 0, start: start || undefined };
  } catch {
    return undefined;
  }
}

/**
 * A process's start time in clock ticks since boot (/proc/PID/stat, field 22): with the PID it
 * names one process, even after the PID is reused. undefined where /proc is not there.
 */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count after its end.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Whether the lock's holder still runs: its PID is alive and, where known, started when it did. */
function alive(holder: { pid: number; start?: string }): boolean {
  if (!(holder.pid > 0)) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTime(holder.pid);
  return holder.start === undefined || now === undefined || now === holder.start;
}
