import { realpath, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { limiterFor } from '../transfer/rate-limit.js';
import { asRftpError, ExitCode, Reported, RftpError, usageError } from '../errors.js';
import { CwdRefused, listStrict } from '../session/ops.js';
import { checkLocalPath, remoteBasename } from '../session/paths.js';
import type { HashAlgorithm } from '../session/hash.js';
import type { Session } from '../session/session.js';
import { displayUrl, isFtpUrl, parseFtpUrl, redactUrlText, type FtpUrl } from '../session/url.js';
import type { FileResult } from '../transfer/download.js';
import type { SessionMaker } from '../transfer/segmented.js';
import { escapeControl, quoteName } from '../ui/redact.js';
import { execute, type Direction, type ExecResult } from '../sync/execute.js';
import { compareContents, serverHashAlgorithm } from '../sync/content.js';
import { AUTO_MAX, AUTO_START } from '../sync/growth.js';
import { FATAL, Retirements } from '../sync/workers.js';
import { emptyTree, makeFilter, makePlan, sameSizePairs, withContentVerdicts, type Filter, type Plan, type Problem, type Tree } from '../sync/plan.js';
import { failureText, planLines, summarize, summaryText, SyncOutput, type SyncSummary } from '../sync/report.js';
import { walkLocal } from '../sync/walk-local.js';
import { openConnections, type OpenConnections } from '../session/pool.js';
import { addRemoteTimes, DEFAULT_LIMITS, walkRemote, type WalkLimits, type WalkSide } from '../sync/walk-remote.js';
import { checkSegments } from '../transfer/targets.js';
import { settleMs } from '../transfer/upload.js';
import { sessionArgsOf, type CommandContext, type SessionArgs } from './context.js';
import type { Checks } from '../transfer/checks.js';
import { checkOptions, checksOf, verifyOf } from './checks.js';
import { outputOptions, rateOption, sessionOptions } from './options.js';
import type { Args, CommandSpec, OptionSpec, PositionalSpec, RunContext } from './spec.js';

export type SyncArgs = SessionArgs & {
  json: boolean;
  /** --limit-rate: one cap for all connections together. */
  limitRate?: string;
  source: string;
  destination: string;
  delete: boolean;
  maxDelete?: number;
  dryRun: boolean;
  /** N (1-16), or auto; the shell's `set parallel` gives a number. */
  parallel: string | number;
  maxDirs?: number;
  maxEntries?: number;
  /** One string or several (repeated option); none from the shell's mirror when not given. */
  include?: string | string[];
  exclude?: string | string[];
  reverse: boolean;
  /** false (--no-pipelining, a connection option): MDTM one at a time from the start, as every command. */
  pipelining?: boolean;
  /** --use-pget-n N: large downloads in up to N segments each (as pget). */
  usePgetN?: number;
  /** The checks after each file (commands/checks.ts): --scan and --verify-command for downloads. */
  scan?: string;
  verifyCommand?: string;
  onComplete?: string;
  verify?: boolean;
  verifyRequired?: boolean;
  /** --checksum: same-size files are up to date only when their contents match (server hashes). */
  checksum?: boolean;
  /** `rftp check`: print what differs, change nothing (exit 12 when something does). */
  compare?: boolean;
};

/** What the core of sync needs: the options without the connection ones (a session maker has those). */
export type SyncOptions = Omit<SyncArgs, Exclude<keyof SessionArgs, 'pipelining'>>;

/** What sync and check share: the source, and the filters. */
const sourcePositional: PositionalSpec = {
  name: 'source',
  completes: 'remote',
  describe: 'URL of a remote directory, or a local directory (in the shell: a remote path, or a local one with -R)',
};
const filterOptions: OptionSpec[] = [
  { name: 'include', short: 'I', lftp: '-I', type: 'string', value: 'GLOB', repeatable: true, describe: 'only files matching GLOB (repeatable)' },
  { name: 'exclude', short: 'X', lftp: '-X', type: 'string', value: 'GLOB', repeatable: true, describe: 'leave out files and directories matching GLOB (repeatable)' },
];

export const spec: CommandSpec = {
  name: 'sync',
  ftpOnly: true,
  aliases: ['mirror'],
  summary: 'mirror a remote directory tree down (URL LOCALDIR) or a local one up (LOCALDIR URL); rerun to continue',
  positionals: [
    sourcePositional,
    { name: 'destination', arity: 'optional', completes: 'local', describe: "local directory, or URL of a remote directory (in the shell it may be left out: the source's name, here or there)" },
  ],
  options: [
    { name: 'delete', short: 'e', lftp: '-e', type: 'boolean', default: false, describe: 'remove what the source lacks: last, and only after a clean run' },
    { name: 'max-delete', type: 'number', describe: 'more than N deletions planned: none at all, exit 8' },
    { name: 'dry-run', type: 'boolean', default: false, describe: 'print the plan (one line per action) and change nothing' },
    {
      name: 'parallel',
      short: 'P',
      lftp: '-P N',
      type: 'string',
      value: 'N|auto',
      default: '4',
      setting: 'parallel',
      describe:
        'connections at once (1-16; a server that accepts fewer gets fewer, with a warning); auto starts with 4 and doubles them for the files, up to 16, while the files per second rise and the server accepts more',
    },
    ...filterOptions,
    { name: 'reverse', short: 'R', lftp: '-R', type: 'boolean', default: false, describe: 'upload (lftp mirror -R): LOCALDIR URL' },
    { name: 'continue', short: 'c', lftp: '-c', type: 'boolean', default: false, describe: 'accepted for lftp users: sync always continues partial files' },
    rateOption,
    { name: 'max-dirs', type: 'number', default: DEFAULT_LIMITS.maxDirs, describe: 'directories one side may have; beyond, the walk stops and the run fails (an endless tree ends)' },
    { name: 'max-entries', type: 'number', default: DEFAULT_LIMITS.maxEntries, describe: 'files and directories one side may have, in all' },
    { name: 'use-pget-n', lftp: '--use-pget-n=N', type: 'number', describe: 'downloads: each file of 2 MiB or more in up to N segments over N connections of its own (as pget -n N)' },
    {
      name: 'checksum',
      type: 'boolean',
      default: false,
      describe: "files of the same size are up to date only when the server's hash matches the local file's (not size and time); refused (exit 2) by a server without hashes",
    },
    ...checkOptions,
    ...sessionOptions,
    ...outputOptions,
  ],
  examples: [
    ['sync ftp://alice@host/pub/site/ ./site', 'mirror a remote tree down'],
    ['sync ./build ftpes://deploy@host/www/ --delete', 'deploy a build directory, removing stale files'],
    ['mirror -R -e ./build ftp://deploy@host/www/', 'the same with lftp-style options'],
    ["sync --scan 'clamscan --no-summary' ftp://host/pub/ ./pub", 'each file scanned before it appears; infected ones quarantined, the rest go on'],
  ],
  usage: '<source> <destination>',
  details: ["in the shell: mirror [-R] SOURCE [TARGET], the remote side a path relative to the remote directory (as lftp), TARGET by default the source's name"],
  // The JSON report of a sync is its own (plan, per-file results), printed by syncDirs.
  ownJson: true,
  async run(ctx, args) {
    const conn = sessionArgsOf(args);
    const ends = syncEnds(ctx, args);
    if (!isFtpUrl(ends.source) && (ctx.given.has('scan') || ctx.given.has('verifyCommand'))) throw usageError('--scan and --verify-command check downloads; a sync up takes --on-complete');
    await syncDirs(ctx, (url, c) => ctx.remote.sessions(url, conn, c), { ...(args as unknown as SyncOptions), ...ends });
  },
};

/** Whether some same-size pair can only be judged by the minute a listing shows. */
function listingTimesDecide(remote: Tree, local: Tree): boolean {
  for (const [path, r] of remote.entries) {
    if (r.type !== 'file' || r.mtimeMs !== undefined || !r.listed) continue;
    const l = local.entries.get(path);
    if (l?.type === 'file' && l.size === r.size) return true;
  }
  return false;
}

/** `rftp check`: the trees compared as a sync would, nothing changed (exit 12 when they differ). */
export const checkSpec: CommandSpec = {
  name: 'check',
  ftpOnly: true,
  summary: 'compare a remote tree with a local one (either order, as sync) and print what differs; change nothing',
  positionals: [sourcePositional, { name: 'destination', arity: 'optional', completes: 'local', describe: 'local directory, or URL of a remote directory' }],
  options: [...filterOptions, { name: 'reverse', short: 'R', type: 'boolean', default: false, describe: 'the local directory is the source: LOCALDIR URL' }, ...sessionOptions, ...outputOptions],
  examples: [
    ['check ftp://alice@host/pub/site/ ./site', 'missing, extra, different size, and different content where the server can hash'],
    ['check ./build ftpes://deploy@host/www/ --json', 'after a deploy: is the server what the build says?'],
  ],
  usage: '<source> <destination>',
  details: ['exit 0 when the trees match, 12 when they differ; contents are compared where the server offers hashes (HASH, XSHA256, …), else sizes only (said once)'],
  ownJson: true,
  async run(ctx, args) {
    const conn = sessionArgsOf(args);
    const ends = syncEnds(ctx, args, 'check');
    const options = { ...(args as unknown as SyncOptions), ...ends, compare: true, dryRun: true, delete: false, parallel: '4' };
    await syncDirs(ctx, (url, c) => ctx.remote.sessions(url, conn, c), options);
  },
};

/**
 * Which side is remote: on the command line the one that is a URL; in the shell the source,
 * or with -R the target (as lftp's mirror). A missing target is the source's name here (or there).
 */
function syncEnds(ctx: RunContext, args: Args, command = 'sync'): { source: string; destination: string } {
  const source = args.source as string;
  let destination = args.destination as string | undefined;
  // On the command line both are given: a mirror into "." by default, with --delete, would
  // remove what the current directory holds.
  if (ctx.remote.kind === 'url') {
    if (destination === undefined) throw usageError(`${command}: missing argument DESTINATION (see ${ctx.helpHint})`);
    return { source, destination };
  }
  // A full URL keeps its password (displayUrl would drop it; the report shows it without).
  const remoteText = (text: string | undefined) => {
    if (text !== undefined && isFtpUrl(text)) return text;
    const url = ctx.remote.url(text, 'SOURCE');
    if (url.path !== '' && !url.path.endsWith('/')) url.path += '/';
    return displayUrl(url);
  };
  if (args.reverse) return { source, destination: remoteText(destination ?? basename(resolve(source))) };
  const remote = remoteText(source);
  if (destination === undefined) {
    destination = remoteBasename(parseFtpUrl(remote).path);
    if (destination === '') throw usageError(`mirror: the remote directory has no name to mirror into: give a local TARGET (see ${ctx.helpHint})`);
  }
  return { source: remote, destination };
}

/** What syncDirs works with once the arguments are checked (before anything connects). */
interface Given {
  down: boolean;
  direction: Direction;
  segments: number;
  limiter: ReturnType<typeof limiterFor>;
  limits: WalkLimits;
  filter: Filter;
  url: FtpUrl;
  remoteRoot: string;
  shownUrl: string;
  localText: string;
  parallel: { start: number; auto: boolean };
  checks: Checks | undefined;
}

/**
 * The core of `sync`/`mirror`: `makeSessions` gives the connections to the URL's server (the
 * shell's carry the credentials found at `open`). Check, connect, walk both sides, plan, carry
 * the plan out (or print it), then sum up: each a function below.
 */
export async function syncDirs(ctx: CommandContext, makeSessions: (url: FtpUrl, ctx: CommandContext) => SessionMaker, args: SyncOptions): Promise<FileResult[]> {
  const startedAt = Date.now();
  const out = new SyncOutput(ctx.out.mode);
  let given: Given;
  try {
    given = checkArgs(ctx, args);
  } catch (err) {
    // With --json a refusal of the arguments is a report too.
    const direction = isFtpUrl(args.source) ? 'down' : 'up';
    if (args.json) out.json(new ReportBuilder(direction, redactUrlText(args.source), redactUrlText(args.destination), args, startedAt).build(asRftpError(err)));
    throw err;
  }
  const { down, direction, url, remoteRoot, shownUrl, localText } = given;
  out.direction = direction;
  const report = new ReportBuilder(direction, down ? shownUrl : localText, down ? localText : shownUrl, args, startedAt);
  const retirements = new Retirements((text) => out.warn(text));
  report.retirements = retirements;
  let sessions: Session[] = [];
  try {
    // Inside the try: the session options (--timeout, …) are checked here, and --json reports that too.
    const factory = makeSessions(url, { ...ctx, out });
    sessions = Array.from({ length: given.parallel.start }, () => factory());
    const local = await localRootOf(localText, down);
    // The first connection logs in on its own (a server that caps connections must not refuse
    // it for the others); the others log in while it lists the root (each login costs round trips).
    await sessions[0].run(
      `login ${escapeControl(shownUrl)}`,
      () => 0,
      async () => undefined,
    );
    // --checksum on a server that cannot hash is refused before anything is walked or sent.
    const algorithm = args.checksum || args.compare ? await serverHashAlgorithm(sessions[0]) : undefined;
    if (args.checksum && !algorithm) throw usageError('--checksum: the server offers no hash (HASH, XSHA256, XSHA1, XMD5, XCRC); without --checksum sync compares size and time');
    const connections = openConnections(sessions[0], sessions.slice(1), (text) => out.warn(text));
    const rootListing = await listRoot(sessions[0], given);
    const remoteExists = rootListing !== undefined;
    if (down && !remoteExists) throw new RftpError('notFound', `remote directory not found: ${shownUrl}`);
    const { src, dst, pool } = await walkBoth(connections, given, local.root, rootListing, args, out, report);
    let plan = makePlan(src, dst, { delete: args.delete || args.compare === true, maxDelete: args.maxDelete });
    if (algorithm) {
      out.setPhase('comparing contents');
      const sides = { session: pool()[0], direction, localRoot: local.root, remoteRoot, onFile: (n: number, of: number) => out.setPhase(`comparing contents: ${n} of ${of}`) };
      const compared = await compareContents(plan, src, dst, sides);
      plan = compared.plan;
      out.stopBar();
      if (compared.unhashed > 0) out.warn(`the server would not hash ${compared.unhashed} files (a name with a space, for XSHA256 and the like): their size and time decide`);
    }
    if (args.compare) return reportDifferences(plan, [src, dst], algorithm, out, args.json);
    report.plan = plan;
    report.trees = [src, dst];
    warnAboutPlan(plan, [src, dst], report, out);
    if (args.dryRun) {
      if (!args.json) for (const line of planLines(plan)) out.print(line);
    } else {
      report.exec = await execute(plan, {
        direction,
        localRoot: local.root,
        remoteRoot,
        url,
        sessions: pool(),
        retirements,
        out,
        settleMs: settleMs(ctx.env),
        limiter: given.limiter,
        createRoot: down ? !local.exists : !remoteExists,
        segments: down ? given.segments : 1,
        newSession: factory,
        autoParallel: given.parallel.auto,
        reserved: down ? dst.reserved : [],
        checks: given.checks,
        verify: verifyOf(args as unknown as Args),
      });
    }
    sumUp(report, plan, args, out, direction);
    return [];
  } catch (err) {
    // check's own report went out already; its differences (exit 12) are no failed sync.
    if (args.json && !(args.compare && err instanceof Reported))
      out.json(report.build(ctx.signal.aborted ? new RftpError('interrupted', 'interrupted; run the same command again to continue') : asRftpError(err)));
    throw err;
  } finally {
    out.stopBar();
    for (const s of sessions) s.close();
  }
}

/** The arguments checked before anything connects: a mistake is a usage error (2), also in a dry run. */
function checkArgs(ctx: CommandContext, args: SyncOptions): Given {
  const down = isFtpUrl(args.source);
  if (down === isFtpUrl(args.destination)) throw new RftpError('usage', 'give one URL and one local directory: sync URL LOCALDIR downloads, sync LOCALDIR URL uploads');
  if (args.reverse && down) throw new RftpError('usage', '-R/--reverse uploads: give LOCALDIR URL');
  const parallel = parallelOf(args.parallel);
  if (args.maxDelete !== undefined && (!Number.isInteger(args.maxDelete) || args.maxDelete < 0)) throw new RftpError('usage', '--max-delete must be a whole number, 0 or more');
  const segments = args.usePgetN === undefined ? 1 : checkSegments(args.usePgetN, '--use-pget-n');
  const limiter = limiterFor(args.limitRate, ctx.signal);
  const limits: WalkLimits = { ...DEFAULT_LIMITS, maxDirs: args.maxDirs ?? DEFAULT_LIMITS.maxDirs, maxEntries: args.maxEntries ?? DEFAULT_LIMITS.maxEntries };
  for (const [name, v] of [
    ['--max-dirs', limits.maxDirs],
    ['--max-entries', limits.maxEntries],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RftpError('usage', `${name} must be a whole number, 1 or more`);
  }
  const filter = makeFilter(asList(args.include), asList(args.exclude));
  const url = parseFtpUrl(down ? args.source : args.destination);
  const remoteRoot = url.path === '' ? '' : url.path.replace(/\/+$/, '') || '/';
  const localText = down ? args.destination : args.source;
  checkLocalPath(localText);
  // A scan and a verify command check downloads: a sync up leaves them out (RFTP_SCAN and the
  // shell's settings included; given on its command line, run() refuses them).
  const checks = checksOf(down ? (args as unknown as Args) : { ...(args as unknown as Args), scan: undefined, verifyCommand: undefined }, down ? ctx.env : {});
  return { down, direction: down ? 'down' : 'up', segments, limiter, limits, filter, url, remoteRoot, shownUrl: displayUrl(url, remoteRoot), localText, parallel, checks };
}

/** --parallel N or auto: the connections to start with, and whether more may join. */
function parallelOf(value: string | number): { start: number; auto: boolean } {
  if (value === 'auto') return { start: AUTO_START, auto: true };
  const n = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > AUTO_MAX) throw new RftpError('usage', `--parallel must be a whole number from 1 to ${AUTO_MAX}, or auto`);
  return { start: n, auto: false };
}

type RootListing = Awaited<ReturnType<typeof listStrict>>;

/**
 * The remote root's listing, which also says whether it exists (undefined: it cannot be entered):
 * one CWD with the listing's EPSV, the LIST, and the way back riding along with what comes next.
 * An unreadable root is a failed sync (8), whatever the reply code.
 */
async function listRoot(session: Session, given: Given): Promise<RootListing | undefined> {
  try {
    return await session.run(
      `list ${escapeControl(given.shownUrl)}`,
      () => 0,
      // A refused CWD is an answer, not a failure: the connection stays (a first deploy's
      // missing root would otherwise cost a new login).
      (client) => listStrict(client, given.remoteRoot).catch((err) => (err instanceof CwdRefused ? undefined : Promise.reject(err))),
    );
  } catch (err) {
    if (err instanceof RftpError && FATAL.has(err.kind)) throw err;
    throw new RftpError('transfer', `listing failed: ${(err as Error).message}`);
  }
}

/** The local root, resolved: the user's choice (it may be a symlink); below it, nothing is followed. */
async function localRootOf(localText: string, down: boolean): Promise<{ root: string; exists: boolean }> {
  const root = resolve(localText);
  const st = await stat(root).catch(() => undefined);
  if (st && !st.isDirectory()) throw new RftpError('local', `${localText} is not a directory`);
  if (!down && !st) throw new RftpError('local', `${localText}: no such directory`);
  return { root: st ? await realpath(root) : root, exists: st !== undefined };
}

/**
 * Both trees, with the remote one's file times where its listing has none. The remote walk starts
 * on the first connection while the others log in; `pool` is then the connections the server
 * accepted and the walk did not retire, for the next steps.
 */
async function walkBoth(connections: OpenConnections, given: Given, localRoot: string, rootListing: RootListing | undefined, args: SyncOptions, out: SyncOutput, report: ReportBuilder) {
  const remoteExists = rootListing !== undefined;
  const { down, limits, remoteRoot, filter } = given;
  const retirements = report.retirements!;
  const side = (role: WalkSide['role']): WalkSide => ({ role, filter, limits, onDir: (dirs, files) => out.setPhase(`scanning ${role}: ${dirs} directories, ${files} files`) });
  const remoteWalk = () =>
    remoteExists ? walkRemote(connections.sessions, remoteRoot, side(down ? 'source' : 'destination'), connections.ready, retirements, rootListing) : Promise.resolve(emptyTree());
  const localWalk = () => walkLocal(localRoot, side(down ? 'destination' : 'source'));
  const [src, dst] = down ? await Promise.all([remoteWalk(), localWalk()]) : await Promise.all([localWalk(), remoteWalk()]);
  const accepted = await connections.accepted;
  report.accepted = accepted.length;
  const pool = () => retirements.active(accepted);
  if (remoteExists) {
    out.setPhase('asking the server for file times');
    const asked = await addRemoteTimes(pool(), remoteRoot, down ? src : dst, down ? dst : src, {
      forDownload: down && !args.dryRun,
      warn: (m) => out.warn(m),
      retirements,
      pipelining: args.pipelining !== false,
    });
    if (asked > 0) out.debug(`asked the server for the times of ${asked} files`);
    if (listingTimesDecide(down ? src : dst, down ? dst : src)) {
      out.warn(
        'the server gives no exact file times (no MLSD, no MDTM): the time its listing shows decides, to the minute, so a change of a file within the same minute and size is not seen (--checksum would see it where the server offers hashes)',
      );
    }
  }
  out.stopBar();
  return { src, dst, pool };
}

function warnAboutPlan(plan: Plan, trees: Tree[], report: ReportBuilder, out: SyncOutput): void {
  for (const p of trees.flatMap((t) => t.skipped)) out.warn(`${p.path}: ${p.message}`);
  for (const p of report.problems) out.warn(`${p.path}: ${p.message}`);
  for (const c of plan.conflicts) out.warn(`${quoteName(c.path)}: conflict: ${c.reason}`);
}

/** The summary line, and the run's failure if it was one (the JSON report otherwise). */
function sumUp(report: ReportBuilder, plan: Plan, args: SyncOptions, out: SyncOutput, direction: Direction): void {
  const summary = report.summary();
  out.info(summaryText(summary, args.dryRun, plan, direction));
  const deletesSkipped = args.dryRun ? plan.deletesBlocked : report.exec?.deletesSkipped;
  if (deletesSkipped && plan.deletes.length > 0) out.warn(`${plan.deletes.length} deletions not made: ${deletesSkipped}`);
  if (report.exec?.fatal) throw report.exec.fatal;
  const failed = failureText(summary, deletesSkipped, args.delete && plan.deletes.length > 0);
  if (failed) throw new RftpError(failureKind(summary), failed);
  if (args.json) out.json(report.build());
}

/**
 * `rftp check`: one line per difference, from the plan of a sync with --delete (what it would
 * create, send, replace, continue or delete), times left aside; exit 12 when there is any. A tree
 * not fully read proves nothing: that is a failed check (8), with the warnings of a sync.
 */
function reportDifferences(plan: Plan, trees: [Tree, Tree], algorithm: HashAlgorithm | undefined, out: SyncOutput, json: boolean): FileResult[] {
  for (const t of trees) for (const p of t.problems) out.warn(`${quoteName(p.path)}: ${p.message}`);
  const unread = trees.reduce((n, t) => n + t.problems.length, 0);
  if (unread > 0 || trees.some((t) => !t.complete)) throw new RftpError('transfer', `check incomplete: ${unread || 'some'} entries could not be read (see the warnings above); nothing compared`);
  // Without hashes, a time says nothing about the content: same-size files count as the same.
  if (!algorithm) plan = withContentVerdicts(plan, trees[0], new Map(sameSizePairs(plan, trees[0], trees[1]).map((p) => [p, false])), 'size');
  const inTheWay = new Map(plan.replaced.map((d) => [d.path, d.type]));
  const kind = (path: string) => (inTheWay.has(path) ? { what: 'differs', detail: `a ${inTheWay.get(path) === 'dir' ? 'directory' : 'file'} at the destination` } : undefined);
  const differences = [
    ...plan.mkdirs.map((m) => ({ path: `${m.path}/`, ...(kind(m.path) ?? { what: 'missing', detail: 'only in the source' }) })),
    ...plan.transfers.map((t) => ({ path: t.path, ...(kind(t.path) ?? { what: t.op === 'send' ? 'missing' : t.op === 'continue' ? 'partial' : 'differs', detail: t.reason }) })),
    ...plan.conflicts.map((c) => ({ path: c.path, what: 'differs', detail: c.reason })),
    ...[...plan.replaced, ...plan.deletes]
      .filter((d) => !plan.transfers.some((t) => t.path === d.path) && !plan.mkdirs.some((m) => m.path === d.path))
      .map((d) => ({ path: `${d.path}${d.type === 'dir' ? '/' : ''}`, what: 'extra', detail: 'only at the destination' })),
  ];
  if (json) out.json({ differences, compared: algorithm ? `size and content (${algorithm})` : 'size', matching: plan.skips.length });
  else {
    if (!algorithm) out.info('check: the server offers no hash: files of the same size count as the same');
    for (const d of differences) out.print(`${d.what.padEnd(8)} ${quoteName(d.path)}${d.what === 'differs' || d.what === 'partial' ? `: ${d.detail}` : ''}`);
  }
  if (differences.length > 0) throw new Reported(ExitCode.differences, `check: ${differences.length} differences, ${plan.skips.length} files the same`);
  out.info(`check: no differences; ${plan.skips.length} files the same${algorithm ? ` (${algorithm})` : ' (by size)'}`);
  return [];
}

/** An infected file decides the exit code (10); failed checks and hooks alone give 11; anything else 8. */
function failureKind(s: SyncSummary): 'infected' | 'checkFailed' | 'transfer' {
  if (s.infected > 0) return 'infected';
  return s.checkFailed + s.hookFailed > 0 && s.checkFailed === s.failed && !s.conflicts && !s.problems ? 'checkFailed' : 'transfer';
}

/** --include/--exclude as a list: none, one or repeated; an empty value ("-I" alone) is none. */
const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter((g) => g !== '');

/** The --json report: the plan (dry run) or what was done, with the same summary as the text line. */
class ReportBuilder {
  plan: Plan | undefined;
  exec: ExecResult | undefined;
  trees: Tree[] = [];
  /** Connections the server accepted (of --parallel), once the logins have ended. */
  accepted: number | undefined;
  /** Connections refused for good in the middle of the run, whose work the others took over. */
  retirements: Retirements | undefined;
  constructor(
    private readonly direction: Direction,
    private readonly source: string,
    private readonly destination: string,
    private readonly args: SyncOptions,
    private readonly startedAt: number,
  ) {}

  get problems(): Problem[] {
    return this.trees.flatMap((t) => t.problems);
  }

  summary(): SyncSummary {
    return summarize(this.plan ?? makePlan(emptyTree(), emptyTree(), { delete: false }), this.exec, this.problems, this.startedAt, this.direction);
  }

  build(err?: RftpError) {
    const plan = this.plan;
    const actions: unknown[] = [];
    if (plan && (this.args.dryRun || !this.exec)) {
      actions.push(...plan.replaced, ...plan.mkdirs, ...plan.transfers, ...plan.conflicts, ...plan.deletes.map((d) => ({ ...d, blocked: plan.deletesBlocked !== undefined })));
    } else if (plan && this.exec) {
      actions.push(...this.exec.items, ...plan.conflicts);
    }
    if (plan) actions.push(...plan.skips);
    const summary = this.summary();
    const exitCode = err ? err.exitCode : ExitCode.ok;
    const allSkipped = plan !== undefined && actions.every((a) => (a as { op: string }).op === 'skip');
    return {
      command: 'sync',
      direction: this.direction,
      source: this.source,
      destination: this.destination,
      dryRun: this.args.dryRun,
      result: err ? (err.kind === 'interrupted' ? 'interrupted' : 'error') : allSkipped ? 'skipped' : 'ok',
      exitCode,
      summary,
      connections: {
        requested: this.args.parallel === 'auto' ? 'auto' : Number(this.args.parallel),
        accepted: this.accepted === undefined ? undefined : this.accepted + (this.exec?.connectionsAdded ?? 0),
        retired: this.retirements?.count ?? 0,
      },
      actions,
      problems: this.problems,
      skipped: this.trees.flatMap((t) => t.skipped),
      ...(this.args.dryRun ? { deletesBlocked: plan?.deletesBlocked } : { deletesSkipped: this.exec?.deletesSkipped }),
      ...(err ? { error: err.message } : {}),
    };
  }
}
