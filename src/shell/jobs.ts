// The shell's background jobs (lftp's `cmd &`, jobs, wait, kill): a transfer that runs while the
// prompt stays usable, on connections of its own, stopped only by `kill` (Ctrl-C at the prompt
// belongs to the foreground). Its progress is kept for `jobs` instead of drawn.
import { formatBytes } from '../ui/format.js';
import { Output, type TransferProgress } from '../ui/output.js';
import { quoteName } from '../ui/redact.js';
import { sleepUntil } from '../jobs/schedule.js';

/** The commands that may run in the background: the transfers. */
// (mget and mput expand their patterns on the foreground's connection: not in the background.)
export const BACKGROUND = new Set(['get', 'pget', 'put', 'sync', 'mirror']);

/** A job's output: warnings and errors as usual, progress remembered for `jobs`, nothing drawn. */
class JobOutput extends Output {
  current: { label: string; bytes: number; total?: number } | undefined;
  constructor(debug: boolean) {
    super({ quiet: true, json: false, debug });
  }
  override transfer(label: string, total: number | undefined, startAt: number): TransferProgress {
    const current = { label, bytes: startAt, total };
    this.current = current;
    return {
      update: (bytes) => {
        current.bytes = bytes;
      },
      done: () => {
        current.bytes = current.total ?? current.bytes;
      },
      stop: () => {},
    };
  }
}

export interface Job {
  id: number;
  line: string;
  controller: AbortController;
  out: JobOutput;
  done: Promise<number>;
  code?: number;
  /** Stopped by `kill`: its 130 is what was asked for, no failure of the script. */
  killed?: boolean;
  /** Added by the shell's `queue`: runs after the one queued before it. */
  queued?: boolean;

  /** Waiting for its time (at) or for the job before it (queue). */
  readonly startsAt?: number;
  readonly after?: Job;
}

export class Jobs {
  private next = 1;
  readonly all = new Map<number, Job>();

  constructor(private readonly say: (text: string) => void) {}

  get running(): Job[] {
    return [...this.all.values()].filter((j) => j.code === undefined);
  }

  /** The last job of the shell's queue that has not ended: the next queued one runs after it. */
  lastQueued(): Job | undefined {
    return [...this.all.values()].reverse().find((j) => j.code === undefined && j.queued);
  }

  /**
   * Starts `run` in the background; the job's own abort signal and output go to it. `at`: not
   * before then (lftp's `at`); `after`: once that job has ended (the shell's `queue`). A job
   * killed while it waits never runs.
   */
  start(line: string, debug: boolean, run: (job: Omit<Job, 'done'>) => Promise<number>, opts: { at?: number; after?: Job } = {}): Job {
    const partial = { id: this.next++, line, controller: new AbortController(), out: new JobOutput(debug), startsAt: opts.at, after: opts.after };
    let dropped = false;
    const begin = async () => {
      if (opts.after) await opts.after.done;
      if (opts.at !== undefined) await sleepUntil(opts.at, partial.controller.signal);
      if (partial.controller.signal.aborted) {
        dropped = true;
        return 130;
      }
      partial.startsAt = undefined;
      partial.after = undefined;
      return run(partial);
    };
    const job: Job = {
      ...partial,
      get startsAt() {
        return partial.startsAt;
      },
      get after() {
        return partial.after;
      },
      done: begin().then(
        (code) => code,
        () => 1,
      ),
    };
    job.done.then((code) => {
      job.code = code;
      const how = dropped ? 'dropped before it started' : code === 0 ? 'done' : code === 130 ? 'interrupted (its partial files are kept: run it again to resume)' : `failed (exit ${code})`;
      this.say(`[${job.id}] ${how}: ${line}`);
    });
    this.all.set(job.id, job);
    this.say(`[${job.id}] ${line}`);
    return job;
  }

  /** One line per job: its number, state, command, and how far its transfer is. */
  lines(): string[] {
    return [...this.all.values()].map((j) => {
      const waiting = j.after?.code === undefined && j.after ? `after [${j.after.id}]` : j.startsAt !== undefined ? `at ${new Date(j.startsAt).toTimeString().slice(0, 5)}` : undefined;
      const state = j.code === undefined ? (waiting ?? 'running') : j.code === 0 ? 'done' : `exit ${j.code}`;
      const c = j.out.current;
      const progress = c && j.code === undefined ? ` — ${quoteName(c.label)} ${formatBytes(c.bytes)}${c.total ? ` of ${formatBytes(c.total)} (${Math.floor((c.bytes / c.total) * 100)}%)` : ''}` : '';
      return `[${j.id}] ${state.padEnd(8)} ${j.line}${progress}`;
    });
  }

  find(id: number): Job {
    const job = this.all.get(id);
    if (!job) throw new Error(`no job ${id} (jobs lists them)`);
    return job;
  }

  /**
   * Waits for one job (its exit code) or all (the first failure's, else 0); finished ones are
   * forgotten. Ctrl-C stops the waiting (130), not the jobs.
   */
  async wait(id?: number, signal?: AbortSignal): Promise<number> {
    const jobs = id === undefined ? [...this.all.values()] : [this.find(id)];
    const all = Promise.all(jobs.map(async (j) => ((await j.done) !== 0 && !j.killed ? j.done : 0)));
    const stopped = new Promise<'stopped'>((resolve) => signal?.addEventListener('abort', () => resolve('stopped'), { once: true }));
    const codes = await Promise.race([all, stopped]);
    if (codes === 'stopped') return 130;
    for (const j of jobs) this.all.delete(j.id);
    return codes.find((c) => c !== 0) ?? 0;
  }

  /** Stops a job as Ctrl-C would (the partial is kept); one that has ended is a usage error. */
  kill(id: number): void {
    const job = this.find(id);
    if (job.code !== undefined) throw new Error(`job ${id} has already ended (exit ${job.code})`);
    job.killed = true;
    job.controller.abort();
  }

  /** Stops every running job and waits until each has kept its partial. */
  async stopAll(): Promise<void> {
    for (const j of this.running) j.controller.abort();
    await Promise.all([...this.all.values()].map((j) => j.done));
  }
}
