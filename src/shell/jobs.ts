// The shell's background jobs (lftp's `cmd &`, jobs, wait, kill): a transfer that runs while the
// prompt stays usable, on connections of its own, stopped only by `kill` (Ctrl-C at the prompt
// belongs to the foreground). Its progress is kept for `jobs` instead of drawn.
import { formatBytes } from '../ui/format.js';
import { Output, type TransferProgress } from '../ui/output.js';
import { quoteName } from '../ui/redact.js';

/** The commands that may run in the background: the transfers. */
export const BACKGROUND = new Set(['get', 'pget', 'put', 'sync', 'mirror', 'mget', 'mput']);

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
}

export class Jobs {
  private next = 1;
  readonly all = new Map<number, Job>();

  constructor(private readonly say: (text: string) => void) {}

  get running(): Job[] {
    return [...this.all.values()].filter((j) => j.code === undefined);
  }

  /** Starts `run` in the background; the job's own abort signal and output go to it. */
  start(line: string, debug: boolean, run: (job: Omit<Job, 'done'>) => Promise<number>): Job {
    const partial = { id: this.next++, line, controller: new AbortController(), out: new JobOutput(debug) };
    const job: Job = {
      ...partial,
      done: run(partial).then(
        (code) => code,
        () => 1,
      ),
    };
    job.done.then((code) => {
      job.code = code;
      this.say(`[${job.id}] ${code === 0 ? 'done' : code === 130 ? 'interrupted (its partial files are kept: run it again to resume)' : `failed (exit ${code})`}: ${line}`);
    });
    this.all.set(job.id, job);
    this.say(`[${job.id}] ${line}`);
    return job;
  }

  /** One line per job: its number, state, command, and how far its transfer is. */
  lines(): string[] {
    return [...this.all.values()].map((j) => {
      const state = j.code === undefined ? 'running' : j.code === 0 ? 'done' : `exit ${j.code}`;
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

  /** Waits for one job (its exit code) or all (the first failure's, else 0); finished ones are forgotten. */
  async wait(id?: number): Promise<number> {
    const jobs = id === undefined ? [...this.all.values()] : [this.find(id)];
    const codes = await Promise.all(jobs.map(async (j) => ((await j.done) !== 0 && !j.killed ? j.done : 0)));
    for (const j of jobs) this.all.delete(j.id);
    return codes.find((c) => c !== 0) ?? 0;
  }

  /** Stops a job as Ctrl-C would (the partial is kept). */
  kill(id: number): void {
    const job = this.find(id);
    job.killed = true;
    job.controller.abort();
  }

  /** Stops every running job and waits until each has kept its partial. */
  async stopAll(): Promise<void> {
    for (const j of this.running) j.controller.abort();
    await Promise.all([...this.all.values()].map((j) => j.done));
  }
}
