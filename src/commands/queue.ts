import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, Reported, usageError } from '../errors.js';
import { nextDue, parseAt, parseInterval, sleepUntil } from '../jobs/schedule.js';
import { type EntryState, type QueueEntry, QueueStore, queueDir } from '../jobs/store.js';
import { hookEnv, splitCommand } from '../transfer/checks.js';
import { parseRate, parseTimetable } from '../transfer/rate-limit.js';
import { formatBytes } from '../ui/format.js';
import { quoteName } from '../ui/redact.js';
import type { EntryProgress } from './queue-progress.js';
import { readInput } from './input-file.js';
import { outputOptions } from './options.js';
import { cliHint, parseCommand, passwordsIn } from './parse.js';
import type { Args, CommandSpec, RunContext } from './spec.js';

// rftp queue: transfers stored to run later, by themselves. An entry is a command line (words),
// checked against its command's spec when added and run through the same runner as the command
// line; what a run did is in the entry's partial files, so an entry cut short is continued by
// running it again, with the same proofs as a rerun of the command.

/** The commands an entry may hold: the transfers. */
const QUEUEABLE = new Set(['get', 'pget', 'put', 'sync', 'mirror']);
/** How often `queue run --wait` looks at the queue while nothing is due (entries added meanwhile). */
const WAIT_POLL_MS = 1000;

export const spec: CommandSpec = {
  name: 'queue',
  summary: 'transfers stored to run later or on a schedule: add, list, rm, clear, retry, pause, resume, run',
  usage: '[add|list|rm|clear|retry|pause|resume|run] [...]',
  positionals: [
    { name: 'action', arity: 'optional', completes: 'none', describe: 'add, list (the default), rm, clear, retry, pause, resume or run' },
    { name: 'args', arity: 'any', completes: 'none', describe: 'add: -- COMMAND LINE; rm, retry, pause, resume: ID or NAME' },
  ],
  options: [
    { name: 'at', type: 'string', value: 'WHEN', describe: 'add: first run at 02:00 (the next one), "2026-12-24 18:30", an ISO 8601 time with zone, or now+90m' },
    { name: 'every', type: 'string', value: 'INTERVAL', describe: 'add: run again every 30m, 6h, 1d… after each due time' },
    { name: 'name', type: 'string', value: 'NAME', describe: 'add: a name to use instead of the id' },
    { name: 'input-file', short: 'i', type: 'string', value: 'FILE', completes: 'local', describe: 'add: one entry per line of FILE (a command line each, # comments); - reads standard input' },
    { name: 'parallel', short: 'P', type: 'number', default: 1, describe: 'run: entries at once (1-16)' },
    { name: 'wait', type: 'boolean', default: false, describe: 'run: stay until no entry is left waiting, sleeping until the next due time (a scheduler with --every entries)' },
    { name: 'on-finish', type: 'string', value: 'CMD', describe: 'run: a command run once at the end, with RFTP_QUEUE_DONE, RFTP_QUEUE_FAILED, RFTP_QUEUE_EXIT in its environment' },
    { name: 'done', type: 'boolean', default: false, describe: 'clear: only the entries that are done' },
    {
      name: 'limit-rate',
      type: 'string',
      value: 'RATE',
      describe: 'run: a cap for the entries together (a rate or a timetable, as for any transfer): each of --parallel N entries gets 1/N of it, unless it has its own',
    },
    ...outputOptions,
  ],
  examples: [
    ['queue add --at 02:00 -- get ftp://alice@host/iso/big.iso -o ~/Downloads/', 'tonight at two; the password from the keychain or ~/.netrc'],
    ['queue add --every 6h --name mirror -- sync ftp://host/pub/ ./pub', 'a mirror every six hours'],
    ['queue run --wait', 'run what is due, then wait for the next (a systemd user service or cron can start it)'],
    ['queue', 'id, name, next run, state, last result'],
  ],
  details: [
    'Entries live in $XDG_STATE_HOME/rftp/queue/, one file each; a password is never stored (queue add refuses one: keep it in the keychain, ~/.netrc or RFTP_PASSWORD).',
    'An entry cut short (Ctrl-C, SIGKILL, a reboot) is continued by the next queue run from its partial files.',
  ],
  ownJson: true,
  // The shell's lftp-style queue (in-process jobs) is another thing, not built yet.
  modes: ['cli'],
  async run(ctx, args) {
    const store = new QueueStore(queueDir(ctx.env), (t) => ctx.out.warn(t));
    const words = (args.args as string[] | undefined) ?? [];
    const action = (args.action as string | undefined) ?? 'list';
    switch (action) {
      case 'add':
        return add(ctx, store, args, words);
      case 'list':
      case 'ls':
        return list(ctx, store, args);
      case 'rm':
        return change(store, words, (e) => store.remove(e.id));
      case 'clear':
        for (const e of store.list()) if (!args.done || e.state === 'done') store.remove(e.id);
        return ExitCode.ok;
      case 'retry':
        return change(store, words, (e) => store.save({ ...e, state: 'waiting', due: Date.now() }));
      case 'pause':
        return change(store, words, (e) => store.save({ ...e, state: 'paused' }));
      case 'resume':
        return change(store, words, (e) => store.save({ ...e, state: 'waiting' }));
      case 'run':
        return runQueue(ctx, store, args);
      default:
        throw usageError(`queue: unknown action ${action} (add, list, rm, clear, retry, pause, resume, run)`);
    }
  },
};

/** queue add: the command line checked as its command would check it, and no password kept. */
async function add(ctx: RunContext, store: QueueStore, args: Args, words: string[]): Promise<number> {
  const lines = args.inputFile !== undefined ? await listed(ctx, args.inputFile as string) : [{ where: '', words }];
  if (lines.length === 0 || lines.some((l) => l.words.length === 0)) throw usageError(`queue add: give the command after --: queue add [--at WHEN] -- get URL (see ${ctx.helpHint})`);
  const now = Date.now();
  const due = args.at !== undefined ? parseAt(args.at as string, now) : now;
  const every = args.every !== undefined ? parseInterval(args.every as string) : undefined;
  if (args.name !== undefined) {
    if (lines.length > 1) throw usageError('queue add: --name names one entry; -i adds several');
    if (/^\d+$/.test(args.name as string)) throw usageError('queue add: a name must not be all digits (those are ids)');
    if (store.list().some((e) => e.name === args.name)) throw usageError(`queue add: an entry is named ${args.name} already`);
  }
  const specs = await ctx.commands();
  // Every line is checked before one is stored.
  for (const { where, words: line } of lines) {
    const spec = specs.find((s) => s.name === line[0] || s.aliases?.includes(line[0]));
    if (!spec || !QUEUEABLE.has(spec.name)) throw usageError(`queue add: ${where}${line[0]} cannot be queued (get, pget, put, sync)`);
    let parsed: ReturnType<typeof parseCommand>;
    try {
      parsed = parseCommand(spec, line.slice(1), cliHint);
    } catch (err) {
      throw usageError(`queue add: ${where}${(err as Error).message}`);
    }
    if (parsed.args.inputFile === '-') throw usageError(`queue add: ${where}-i - reads standard input, which a queue run does not have; give a file`);
    const secrets = passwordsIn(parsed);
    if (secrets.length > 0) {
      throw usageError(`queue add: ${where}refusing to store ${secrets.join(', ')}: keep the password in the keychain (rftp login), ~/.netrc or RFTP_PASSWORD; it is looked up when the entry runs`);
    }
  }
  for (const { words } of lines) {
    const e = await store.add({ name: args.name as string | undefined, words, cwd: process.cwd(), addedAt: now, due, every, state: 'waiting', runs: 0 });
    ctx.out.info(`queue: added ${e.id}${e.name ? ` (${e.name})` : ''}, due ${when(e.due)}: ${e.words.join(' ')}`);
  }
  return ExitCode.ok;
}

/** queue add -i: the command lines of a file, each with its line number for messages. */
async function listed(ctx: RunContext, file: string): Promise<Array<{ where: string; words: string[] }>> {
  const text = await readInput(ctx, file);
  const lines: Array<{ where: string; words: string[] }> = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file === '-' ? 'standard input' : file}, line ${i + 1}: `;
    try {
      lines.push({ where, words: splitCommand(line) });
    } catch (err) {
      throw usageError(`queue add: ${where}${(err as Error).message}`);
    }
  });
  return lines;
}

function list(ctx: RunContext, store: QueueStore, args: Args): number {
  const entries = store.list();
  const progressOf = (e: QueueEntry) => (e.state === 'running' ? readProgress(join(store.dir, `${e.id}.progress`)) : undefined);
  if (args.json) {
    ctx.out.json(
      entries.map((e) => ({
        id: e.id,
        name: e.name,
        command: e.words.join(' '),
        due: new Date(e.due).toISOString(),
        every: e.every,
        state: e.state,
        runs: e.runs,
        last: e.last,
        progress: progressOf(e),
      })),
    );
    return ExitCode.ok;
  }
  if (entries.length === 0) ctx.out.info('queue: empty');
  for (const e of entries) {
    const last = e.last ? `, last: exit ${e.last.code}${e.last.message ? ` (${e.last.message})` : ''}` : '';
    const p = progressOf(e);
    const at = p ? ` — ${quoteName(p.label)} ${formatBytes(p.bytes)}${p.total ? ` of ${formatBytes(p.total)} (${Math.floor((p.bytes / p.total) * 100)}%)` : ''}` : '';
    ctx.out.print(`${String(e.id).padStart(3)}  ${(e.name ?? '').padEnd(10)} ${e.state.padEnd(11)} ${e.state === 'waiting' ? when(e.due) : ''.padEnd(16)}  ${e.words.join(' ')}${last}${at}`);
  }
  return ExitCode.ok;
}

/** A running entry's progress file (queue-progress.ts); undefined when there is none yet. */
function readProgress(file: string): EntryProgress | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as EntryProgress;
  } catch {
    return undefined;
  }
}

async function change(store: QueueStore, words: string[], act: (e: QueueEntry) => unknown): Promise<number> {
  if (words.length === 0) throw usageError('queue: which entry? give its id or name');
  // All found first: an unknown one among them changes nothing.
  const entries = words.map((key) => store.find(key));
  for (const e of entries) await act(e);
  return ExitCode.ok;
}

const when = (ms: number) => {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
};

/** Entries to run now: waiting and due, or left running by a run that is gone (continued). */
const runnable = (e: QueueEntry, now: number) => (e.state === 'waiting' && e.due <= now) || e.state === 'running' || e.state === 'interrupted';

/**
 * queue run: every due entry, --parallel at once, each under its lock; with --wait, again
 * whenever the next one is due, until none is left waiting. The exit code: 0 when every entry
 * run succeeded, 130 when interrupted, else the first failed entry's (by id).
 */
async function runQueue(ctx: RunContext, store: QueueStore, args: Args): Promise<number> {
  const parallel = args.parallel as number;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 16) throw usageError('--parallel must be a whole number from 1 to 16');
  const results = new Map<number, number>();
  const share = args.limitRate !== undefined ? shareOf(args.limitRate as string, parallel) : undefined;
  for (;;) {
    const due = store.list().filter((e) => runnable(e, Date.now()));
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(parallel, due.length) }, async () => {
        while (next < due.length && !ctx.signal.aborted) {
          const entry = due[next++];
          const code = await runEntry(ctx, store, entry.id, { quiet: parallel > 1 || args.json === true, json: args.json === true, limitRate: share });
          if (code !== undefined) results.set(entry.id, code);
        }
      }),
    );
    if (ctx.signal.aborted || !args.wait) break;
    const waiting = store.list().filter((e) => e.state === 'waiting');
    if (waiting.length === 0) break;
    const soonest = Math.min(...waiting.map((e) => e.due));
    await sleepUntil(Math.min(soonest, Date.now() + WAIT_POLL_MS), ctx.signal);
  }
  const failed = [...results].filter(([, c]) => c !== ExitCode.ok).sort((a, b) => a[0] - b[0]);
  const code = ctx.signal.aborted ? ExitCode.interrupted : (failed[0]?.[1] ?? ExitCode.ok);
  ctx.out.info(`queue: ${results.size} entries run: ${results.size - failed.length} done, ${failed.length} failed`);
  if (args.json) ctx.out.json({ entries: [...results].map(([id, exitCode]) => ({ id, exitCode })), done: results.size - failed.length, failed: failed.length, exitCode: code });
  if (args.onFinish) await onFinish(ctx, args.onFinish as string, { done: results.size - failed.length, failed: failed.length, code });
  if (code !== ExitCode.ok) throw new Reported(code, ctx.signal.aborted ? undefined : `queue: ${failed.length} of ${results.size} entries failed`);
  return code;
}

/** One entry, under its lock; undefined when another run has it (or finished it meanwhile). */
async function runEntry(ctx: RunContext, store: QueueStore, id: number, opts: { quiet: boolean; json: boolean; limitRate?: string }): Promise<number | undefined> {
  const release = store.lock(id);
  if (!release) return undefined;
  try {
    // Read again under the lock: another run may have finished it since the list was read.
    const entry = store.get(id);
    if (!entry || !runnable(entry, Date.now())) return undefined;
    await store.save({ ...entry, state: 'running' });
    ctx.out.info(`queue: running ${entry.id}${entry.name ? ` (${entry.name})` : ''}: ${entry.words.join(' ')}`);
    // Cut short before (a run that is gone, Ctrl-C): what it completed counts as done (-c).
    const continuing = entry.state === 'running' || entry.state === 'interrupted';
    const progress = join(store.dir, `${entry.id}.progress`);
    const code = await runWords(ctx, entry, { ...opts, progress, continuing: continuing && (await takesContinue(ctx, entry)) }).finally(() => rmSync(progress, { force: true }));
    const interrupted = code === ExitCode.interrupted;
    const now = Date.now();
    // Changed while it ran (queue rm, pause): that stands; only the outcome is added.
    const current = store.get(id);
    if (current) {
      const state: EntryState = current.state === 'paused' ? 'paused' : interrupted ? 'interrupted' : entry.every ? 'waiting' : code === ExitCode.ok ? 'done' : 'failed';
      const due = entry.every && !interrupted ? nextDue(entry.due, entry.every, now) : current.due;
      await store.save({ ...current, state, runs: current.runs + 1, due, last: { code, at: now } });
    }
    ctx.out.info(`queue: ${entry.id} ${interrupted ? 'interrupted' : code === ExitCode.ok ? 'done' : `failed (exit ${code})`}`);
    return code;
  } finally {
    release();
  }
}

/**
 * An entry's command line, run as `rftp WORDS` in the directory it was added in: the same parser
 * and runner as the command line, its relative paths meaning what they meant, its output its
 * own, and a crash of one entry no harm to the others. Ctrl-C reaches it through the queue run.
 */
function runWords(ctx: RunContext, entry: QueueEntry, opts: { quiet: boolean; json: boolean; continuing: boolean; progress: string; limitRate?: string }): Promise<number> {
  const has = (...forms: string[]) => entry.words.some((w) => forms.includes(w) || forms.some((f) => w.startsWith(`${f}=`)));
  const extra = [
    ...(opts.quiet && !has('-q', '--quiet') ? ['--quiet'] : []),
    ...(opts.continuing ? ['--continue'] : []),
    ...(opts.limitRate !== undefined && !has('--limit-rate') ? ['--limit-rate', opts.limitRate] : []),
  ];
  // Right after the command's name: before a `--` that may end its options.
  const child = spawn(process.execPath, [process.argv[1], entry.words[0], ...extra, ...entry.words.slice(1)], {
    cwd: entry.cwd,
    env: { ...ctx.env, RFTP_QUEUE_PARENT: String(process.pid), RFTP_QUEUE_PROGRESS: opts.progress },
    // One JSON object from `queue run --json`: the entries' own stdout is not part of it.
    stdio: ['ignore', opts.json ? 'ignore' : 'inherit', 'inherit'],
  });
  const stop = () => child.kill('SIGINT');
  ctx.signal.addEventListener('abort', stop, { once: true });
  return new Promise((resolve) => {
    child.on('error', (err) => {
      ctx.out.error(`queue: ${entry.id}: ${err.message}`);
      resolve(ExitCode.internal);
    });
    child.on('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', stop);
      resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? ExitCode.interrupted : ExitCode.internal));
    });
  });
}

/** One entry's share of queue run's --limit-rate: the rate (or each rate of a timetable) over N. */
export function shareOf(text: string, parallel: number): string {
  if (!text.includes(',')) return String(Math.max(1, Math.floor(parseRate(text) / parallel)));
  return parseTimetable(text)
    .map((e) => `${String(Math.floor(e.at / 60)).padStart(2, '0')}:${String(e.at % 60).padStart(2, '0')},${e.rate === Number.POSITIVE_INFINITY ? 'off' : Math.max(1, Math.floor(e.rate / parallel))}`)
    .join(' ');
}

/** Whether --continue may be added to the entry's command: it has the option, and neither -c nor -f is given. */
async function takesContinue(ctx: RunContext, entry: QueueEntry): Promise<boolean> {
  const spec = (await ctx.commands()).find((s) => s.name === entry.words[0] || s.aliases?.includes(entry.words[0]));
  if (!spec?.options.some((o) => o.name === 'continue')) return false;
  return !entry.words.some((w) => ['-c', '--continue', '-f', '--force'].includes(w) || /^-[a-zA-Z]*[cf][a-zA-Z]*$/.test(w));
}

/** --on-finish: the old managers' "when done"; waited for, its failure a warning. */
function onFinish(ctx: RunContext, command: string, summary: { done: number; failed: number; code: number }): Promise<void> {
  const [program, ...rest] = splitCommand(command);
  const env = hookEnv({ RFTP_QUEUE_DONE: String(summary.done), RFTP_QUEUE_FAILED: String(summary.failed), RFTP_QUEUE_EXIT: String(summary.code) }, ctx.env);
  return new Promise((resolve) => {
    const child = spawn(program, rest, { env, stdio: 'ignore' });
    child.on('error', (err) => {
      ctx.out.warn(`queue: --on-finish ${program}: ${err.message}`);
      resolve();
    });
    child.on('close', (code) => {
      if (code !== 0) ctx.out.warn(`queue: --on-finish exited with ${code}`);
      resolve();
    });
  });
}
