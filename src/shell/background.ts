import { basename, resolve } from 'node:path';
import { cliHint, parseCommand, shellHint } from '../commands/parse.js';
import { runCommand } from '../commands/runner.js';
import { camel, type CommandSpec, type ParsedCommand } from '../commands/spec.js';
import { queueDir, QueueStore } from '../jobs/store.js';
import { remoteBasename } from '../session/paths.js';
import { displayUrl } from '../session/url.js';
import { displayHttpUrl, isHttpUrl, parseHttpUrl } from '../session/http-url.js';
import { usageError } from '../errors.js';
import { BACKGROUND, type Job } from './jobs.js';
import { stripPasswords } from './parse.js';
import type { Shell, Site } from './state.js';

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
  origins.set(job, { spec, args: command.args, site });
  sh.exitWarned = false;
  return job;
}

/** What a job runs, for `exit bg`: the command, its arguments, the site it was given in. */
interface Origin {
  spec: CommandSpec;
  args: ParsedCommand['args'];
  site: Site | undefined;
}
const origins = new WeakMap<Job, Origin>();

/**
 * `exit bg`: each job that has not ended becomes an entry of the persistent queue (rftp queue),
 * its remote paths as URLs of the server it was given for, its local ones meaning the current
 * directory; then it is stopped, its partial kept for the entry to continue. A job whose password
 * was typed (at the prompt, in the URL, with -u) stays out: the queue never stores a password.
 */
export async function moveJobsToQueue(sh: Shell, cliSpecs: Array<CommandSpec>): Promise<void> {
  const store = new QueueStore(queueDir(sh.env), (t) => sh.out.warn(t));
  for (const job of sh.jobs.running) {
    const origin = origins.get(job);
    const typed = origin?.site?.passwordSource !== undefined && ['prompt', 'url', 'option'].includes(origin.site.passwordSource);
    if (!origin || typed) {
      sh.out.warn(`[${job.id}] not queued: its password was typed, and the queue never stores one; stopped, its partial files kept for a rerun`);
    } else {
      const words = cliWords(sh, origin);
      const cli = cliSpecs.find((c) => c.name === words[0])!;
      parseCommand(cli, words.slice(1), cliHint);
      const e = await store.add({ words, cwd: process.cwd(), addedAt: Date.now(), due: Date.now(), state: 'waiting', runs: 0 });
      sh.out.info(`[${job.id}] moved to the queue as entry ${e.id} (rftp queue run continues it): ${words.join(' ')}`);
    }
    if (job.code === undefined) {
      job.killed = true;
      job.controller.abort();
    }
  }
  await sh.jobs.stopAll();
}

/** A job's command as a command line of the CLI: remote paths as URLs (no password), options as given. */
function cliWords(sh: Shell, origin: Origin): string[] {
  const { spec, args, site } = origin;
  const naming = sh.naming(sh.ctx(), new Set(), { signal: new AbortController().signal, site });
  const dir = (path: string | undefined) => `${displayUrl(naming.url(path, 'URL')).replace(/\/+$/, '')}/`;
  // A trailing / (a directory, as the user wrote it) is kept.
  // An absolute http(s) URL stays, without its password (never stored: ~/.netrc or the keychain give it).
  const url = (path: string | undefined) => (path !== undefined && isHttpUrl(path) ? displayHttpUrl(parseHttpUrl(path)) : path?.endsWith('/') ? dir(path) : displayUrl(naming.url(path, 'URL')));
  const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);
  let positionals: string[];
  const handled = new Set(spec.positionals.map((p) => p.name));
  if (spec.name === 'put') {
    positionals = [...list(args.local), args.output !== undefined ? url(String(args.output)) : dir(undefined)];
    handled.add('output');
  } else if (spec.name === 'sync') {
    const source = String(args.source);
    const destination = args.destination as string | undefined;
    positionals = args.reverse ? [source, dir(destination ?? basename(resolve(source)))] : [dir(source), destination ?? (remoteBasename(naming.url(source, 'SOURCE').path) || '.')];
  } else positionals = list(args.url).map((p) => url(p));
  const options = Object.entries(args).flatMap(([key, value]) => {
    const o = spec.options.find((x) => camel(x.name) === key);
    if (!o || handled.has(key)) return [];
    if (o.type === 'boolean') return [value ? `--${o.name}` : `--no-${o.name}`];
    return list(value).map((v) => `--${o.name}=${o.completes === 'remote' ? url(v) : v}`);
  });
  return [spec.name, ...options, '--', ...positionals];
}
