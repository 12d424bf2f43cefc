import { parseCommand, shellHint } from '../commands/parse.js';
import { runCommand } from '../commands/runner.js';
import type { CommandSpec } from '../commands/spec.js';
import { usageError } from '../errors.js';
import { BACKGROUND, type Job } from './jobs.js';
import type { Shell } from './state.js';

/**
 * A transfer line as a background job: `get big.iso &`, `at 02:00 -- get big.iso`, `queue get
 * big.iso`. The line is checked now (a mistake is a usage error at once, not a failed job later).
 */
export function startJob(sh: Shell, words: string[], overview: (specs: Array<CommandSpec>) => Promise<string>, opts: { at?: number; queued?: boolean } = {}): Job {
  const [name, ...rest] = words;
  const spec = sh.commands.find((c) => c.name === name || c.aliases?.includes(name));
  if (!spec || !BACKGROUND.has(spec.name)) throw usageError(`${name ?? '(nothing)'}: only transfers run in the background (${[...BACKGROUND].join(', ')})`);
  const command = parseCommand(spec, rest, shellHint);
  const after = opts.queued ? sh.jobs.lastQueued() : undefined;
  const job = sh.jobs.start(words.join(' '), sh.out.mode.debug, (j) => runCommand(spec, command, sh.jobHost(overview, j)), { at: opts.at, after });
  job.queued = opts.queued;
  return job;
}
