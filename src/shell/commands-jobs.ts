import { Reported, usageError } from '../errors.js';
import { parseAt } from '../jobs/schedule.js';
import { startJob } from './background.js';
import type { ShellSpec } from './commands-types.js';

// The shell's background work: jobs started with a trailing &, lftp's `at` and `queue`.

export const jobCommands: ShellSpec[] = [
  {
    name: 'jobs',
    summary: 'the background jobs (started with a trailing &), with how far each transfer is',
    positionals: [],
    options: [],
    async run({ sh }) {
      if (sh.jobs.all.size === 0) sh.out.info('no jobs');
      for (const line of sh.jobs.lines()) sh.out.print(line);
    },
  },
  {
    name: 'wait',
    summary: 'wait for a background job (none: all) and take its exit code',
    positionals: [{ name: 'job', arity: 'optional', completes: 'none', describe: 'the job number jobs shows' }],
    options: [],
    async run(ctx, args) {
      const { sh } = ctx;
      const code = await sh.jobs.wait(jobNumber(sh, args.job as string | undefined), ctx.signal);
      if (code !== 0) throw new Reported(code);
    },
  },
  {
    name: 'kill',
    summary: 'stop a background job as Ctrl-C would (its partial files are kept)',
    positionals: [{ name: 'job', completes: 'none', describe: 'the job number jobs shows' }],
    options: [],
    async run({ sh }, args) {
      const id = jobNumber(sh, args.job as string)!;
      try {
        sh.jobs.kill(id);
      } catch (err) {
        throw usageError(`kill: ${(err as Error).message}`);
      }
      await sh.jobs.find(id).done;
    },
  },
  {
    name: 'at',
    summary: "run a transfer in the background at a time: at 02:00 -- get big.iso (lftp's at)",
    usage: '<time> -- <command>',
    positionals: [
      { name: 'time', completes: 'none', describe: '02:00 (the next one), "2026-12-24 18:30", an ISO 8601 time with zone, or now+90m' },
      { name: 'command', arity: 'many', completes: 'command', describe: 'the transfer, after --' },
    ],
    options: [],
    async run(ctx, args) {
      const now = Date.now();
      const at = parseAt(args.time as string, now);
      if (at < now - 1000) throw usageError(`at: ${args.time} is in the past`);
      startJob(ctx.sh, args.command as string[], ctx.overview, { at });
    },
  },
  {
    name: 'queue',
    summary: "transfers run one after another in the background (lftp's queue); alone: list them; -d N: drop one",
    usage: '[-d N] [<command>...]',
    positionals: [{ name: 'command', arity: 'any', completes: 'command', describe: 'the transfer to add (after -- when it has options)' }],
    options: [{ name: 'delete', short: 'd', type: 'string', value: 'N', describe: 'drop the queued job N before it starts (a running one: kill N)' }],
    async run(ctx, args) {
      const { sh } = ctx;
      if (args.delete !== undefined) {
        const id = jobNumber(sh, args.delete as string)!;
        const job = sh.jobs.find(id);
        if (!job.queued || job.code !== undefined || (job.after === undefined && job.startsAt === undefined))
          throw usageError(`queue -d ${id}: not waiting in the queue (kill ${id} stops a running job)`);
        sh.jobs.kill(id);
        return;
      }
      const words = (args.command as string[] | undefined) ?? [];
      if (words.length === 0) {
        const queued = sh.jobs.lines().filter((_, i) => [...sh.jobs.all.values()][i].queued);
        if (queued.length === 0) sh.out.info('queue: empty');
        for (const line of queued) sh.out.print(line);
        return;
      }
      startJob(sh, words, ctx.overview, { queued: true });
    },
  },
];

/** A job number as given (undefined: none given); an unknown one is a usage error. */
function jobNumber(sh: { jobs: { all: Map<number, unknown> } }, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const id = Number(text.replace(/^%/, ''));
  if (!Number.isInteger(id) || !sh.jobs.all.has(id)) throw usageError(`no job ${text} (jobs lists them)`);
  return id;
}
