import { parseCommand, shellHint } from '../commands/parse.js';
import { runCommand } from '../commands/runner.js';
import type { CommandSpec } from '../commands/spec.js';
import { usageError } from '../errors.js';
import { BACKGROUND, type Job } from './jobs.js';
import { stripPasswords } from './parse.js';
import type { Shell } from './state.js';

/**
 * A transfer line as a background job: `get big.iso &`, `at 02:00 -- get big.iso`, `queue get
 * big.iso`. The line is checked now (a mistake is a usage error at once, not a failed job later),
 * and its remote paths mean the site and directory of now, whatever cd or open come later.
 */
export function startJob(sh: Shell, words: string[], overview: (specs: Array<CommandSpec>) => Promise<string>, opts: { at?: number; queued?: boolean } = {}): Job {
  const [name, ...rest] = words;
  const spec = sh.commands.find((c) => c.name === name || c.aliases?.includes(name));
  if (!spec || !BACKGROUND.has(spec.name)) throw usageError(`${name ?? '(nothing)'}: only transfers run in the background (${[...BACKGROUND].join(', ')})`);
  const command = parseCommand(spec, rest, shellHint);
  // A password prompt would fight the shell's own for the terminal; a JSON report would land on the prompt.
  if (command.args.user !== undefined) throw usageError(`${name}: -u belongs to open, not to a background job`);
  if (command.args.json !== undefined) throw usageError(`${name}: --json is for a command in the foreground`);
  const site = sh.site ? { ...sh.site } : undefined;
  const after = opts.queued ? sh.jobs.lastQueued() : undefined;
  const job = sh.jobs.start(stripPasswords(words).join(' '), sh.out.mode.debug, (j) => runCommand(spec, command, sh.jobHost(overview, j, site)), { at: opts.at, after });
  job.queued = opts.queued;
  sh.exitWarned = false;
  return job;
}
