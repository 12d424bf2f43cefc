import { lstat, mkdir, readFile, rmdir, unlink } from 'node:fs/promises';
import { RftpError } from '../errors.js';
import { classify } from '../session/classify.js';
import { deleteFile, makeDirIfMissing, refusedExtraConnection, removeDirectory } from '../session/ops.js';
import { remoteBasename } from '../session/paths.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import { afterCommit, checkOf, type Checks } from '../transfer/checks.js';
import { download, type FileResult } from '../transfer/download.js';
import type { VerifyMode } from '../transfer/verify.js';
import type { TokenBucket } from '../transfer/rate-limit.js';
import { syncDir } from '../transfer/state.js';
import { downloadWhole, uploadWhole, WHOLE_FILE_BYTES } from '../transfer/whole-file.js';
import { nameAtRisk, storedNames } from '../transfer/stored-names.js';
import { upload } from '../transfer/upload.js';
import { segmentedDownload, type SessionMaker } from '../transfer/segmented.js';
import { quoteName } from '../ui/redact.js';
import { ancestorWhere, checkNoSymlinks, localPathInside, remotePathOf, UnsafePath } from './names.js';
import type { Plan } from './plan.js';
import type { Direction, ExecResult, ItemResult, SyncOutput } from './report.js';
import { connectionGrowth } from './growth.js';
import { FATAL, RetireWorker, runPool, stopOrRetire, type Retirements } from './workers.js';

export type { Direction, ExecResult, ItemResult } from './report.js';

export interface ExecSetup {
  direction: Direction;
  /** Absolute local root. */
  localRoot: string;
  remoteRoot: string;
  /** The URL the user gave; file URLs are made from it with another path. */
  url: FtpUrl;
  /** The connections the server accepted; those retired during the run are left out of later steps. */
  sessions: Session[];
  retirements: Retirements;
  out: SyncOutput;
  settleMs: number;
  /** --limit-rate, shared by every connection: the cap is for the whole sync. */
  limiter?: TokenBucket;
  /** The destination root does not exist yet. */
  createRoot: boolean;
  /** rftp's own files found at a local destination, for cleaning up after crashed runs. */
  reserved: string[];
  /** --use-pget-n: large downloads in up to this many segments, on connections from newSession. */
  segments?: number;
  newSession?: SessionMaker;
  /** --parallel auto: more connections for the files while that raises the files per second. */
  autoParallel?: boolean;
  /** Scan, verify command, on-complete hook: each file passes them (transfer/checks.ts). */
  checks?: Checks;
  /** --verify / --verify-required (transfer/verify.ts). */
  verify?: VerifyMode;
}

/** No segment smaller than this (as lftp's pget:min-chunk-size): a smaller file is not split. */
const MIN_SEGMENT_BYTES = 1024 * 1024;

function asError(err: unknown, what: string): RftpError {
  if (err instanceof UnsafePath) return new RftpError('local', err.message);
  return classify(err, what);
}

export function execute(plan: Plan, setup: ExecSetup): Promise<ExecResult> {
  return new SyncRun(plan, setup).run();
}

type Transfer = Plan['transfers'][number];

/**
 * A sync's plan carried out, one method per step in order: the destination root, the entries
 * in the way (--delete), the directories, the files, the deletes. What a step learnt (paths
 * blocked below a failure, directories proven real, renames awaiting an fsync) is kept here.
 */
class SyncRun {
  private readonly result: ExecResult = { items: [] };
  /** Paths whose directory could not be made, or whose way could not be cleared -> why; nothing is written at or below them. */
  private readonly blocked = new Map<string, string>();
  /** Local directories proven real (no symlinks) in this run. */
  private readonly realDirs = new Set<string>();
  /** Local directories whose renames await an fsync. */
  private readonly renamedIn = new Set<string>();
  /** Connections --parallel auto opened here (the caller closes the ones it gave). */
  private readonly grown: Session[] = [];

  constructor(
    private readonly plan: Plan,
    private readonly setup: ExecSetup,
  ) {}

  async run(): Promise<ExecResult> {
    const { plan, setup } = this;
    try {
      if (setup.createRoot) await this.createRoot();
      if (plan.replaced.length > 0) await this.clearTheWay();
      await this.makeDirectories();
      await this.transferFiles();
      setup.out.stopBar();
      if (setup.direction === 'down') await removeLeftovers(plan, setup);
      else await checkStored(this.result, setup, this.crew()[0]);
      if (plan.deletes.length > 0) await this.deleteLast();
    } catch (raw) {
      setup.out.stopBar();
      this.result.fatal = asError(raw, 'sync');
      if (plan.deletes.length > 0) this.result.deletesSkipped = 'the run did not finish';
    }
    for (const s of this.grown) s.close();
    await this.syncRenamedDirs();
    return this.result;
  }

  /** The connections not retired so far, for the next step. */
  private crew(): Session[] {
    return this.setup.retirements.active(this.setup.sessions);
  }

  private record(item: ItemResult): void {
    this.result.items.push(item);
    if (!item.ok) this.setup.out.warn(`${item.op} ${quoteName(item.path)} failed: ${item.error}`);
  }

  private blockedBy(path: string): string | undefined {
    const at = this.blocked.has(path) ? path : ancestorWhere(path, (p) => this.blocked.has(p));
    return at === undefined ? undefined : this.blocked.get(at);
  }

  /** 1. The destination root. */
  private async createRoot(): Promise<void> {
    const { setup } = this;
    if (setup.direction === 'down') {
      await mkdir(setup.localRoot, { recursive: true });
      return;
    }
    await this.crew()[0].run(
      'mkdir',
      () => 0,
      async (client) => {
        const parts = setup.remoteRoot.split('/');
        for (let i = 1; i <= parts.length; i++) {
          const p = parts.slice(0, i).join('/');
          if (p !== '' && p !== '/') await makeDirIfMissing(client, p);
        }
      },
    );
  }

  /**
   * 2. With --delete, destination entries of the wrong type go first, so the source's can take
   * their place (a directory where the source now has a file, or the other way round).
   */
  private async clearTheWay(): Promise<void> {
    const replaced = this.plan.replaced;
    await runDeletes(
      replaced,
      this.setup,
      () => this.crew(),
      (item) => {
        this.record(item);
        if (item.ok) return;
        // The entry that was in the way: the shallowest replaced path holding this one.
        const root = replaced.filter((r) => item.path === r.path || item.path.startsWith(`${r.path}/`)).sort((a, b) => a.path.length - b.path.length)[0];
        this.blocked.set(root.path, 'the entry in its way could not be removed');
      },
    );
  }

  /** 3. Directories, parents first; below a blocked path nothing is made. */
  private async makeDirectories(): Promise<void> {
    const levels = new Map<number, string[]>();
    for (const m of this.plan.mkdirs) {
      const d = m.path.split('/').length;
      levels.set(d, [...(levels.get(d) ?? []), m.path]);
    }
    for (const depth of [...levels.keys()].sort((a, b) => a - b)) {
      const queue = levels.get(depth)!.filter((path) => !this.blockedBy(path));
      const sessions = this.crew();
      await runPool(
        queue,
        sessions.map((session) => (path: string) => this.makeDirectory(session, path)),
        (q) => q.shift(),
        this.setup.retirements.of(sessions),
      );
    }
  }

  private async makeDirectory(session: Session, path: string): Promise<void> {
    const { setup } = this;
    try {
      if (setup.direction === 'down') await makeLocalDir(setup.localRoot, path, this.realDirs);
      else
        await session.run(
          `mkdir ${quoteName(path)}`,
          () => 0,
          (client) => makeDirIfMissing(client, remotePathOf(setup.remoteRoot, path)),
        );
      this.record({ op: 'mkdir', path, ok: true, bytesTransferred: 0, resumedFrom: 0 });
    } catch (raw) {
      const err = asError(raw, `mkdir ${quoteName(path)}`);
      if (FATAL.has(err.kind)) throw stopOrRetire(err, raw);
      this.blocked.set(path, 'its directory could not be created');
      this.record({ op: 'mkdir', path, ok: false, bytesTransferred: 0, resumedFrom: 0, error: err.message });
    }
  }

  /**
   * 4. Files: small ones first on every connection but one, which takes the largest first, so
   * neither kind waits behind the other.
   */
  private async transferFiles(): Promise<void> {
    const queue = this.plan.transfers.filter((t) => {
      const why = this.blockedBy(t.path);
      if (why) this.record({ op: t.op, path: t.path, ok: false, size: t.size, bytesTransferred: 0, resumedFrom: 0, error: why });
      return !why;
    });
    queue.sort((a, b) => (a.size ?? Infinity) - (b.size ?? Infinity));
    this.setup.out.startFiles(
      queue.length,
      queue.reduce((n, t) => n + (t.size ?? 0), 0),
    );
    const sessions = this.crew();
    const { newSession, autoParallel } = this.setup;
    const growth = autoParallel && newSession ? connectionGrowth<Transfer>({ sessions, queue, newSession, debug: (text) => this.setup.out.debug(text) }) : undefined;
    const work = (session: Session) => async (t: Transfer) => {
      if (await this.transferFile(session, t)) growth?.fileDone();
      // A failed file may be the server running short (of passive ports, of processes):
      // no more connections then.
      else growth?.stop();
    };
    try {
      await runPool(
        queue,
        sessions.map(work),
        (q, worker) => (worker === 0 && sessions.length > 1 ? q.pop() : q.shift()),
        this.setup.retirements.of(sessions),
        undefined,
        growth && ((add) => growth.attach(add, work)),
      );
    } finally {
      growth?.stop();
      // The later steps (the stored-name check, deletes) use them too; run() closes them.
      this.grown.push(...(growth?.opened ?? []));
      if (growth) this.result.connectionsAdded = this.grown.length;
      this.setup.sessions.push(...this.grown);
    }
  }

  /** One file; true when it arrived. */
  private async transferFile(session: Session, t: Transfer): Promise<boolean> {
    const { out } = this.setup;
    try {
      const r = this.setup.direction === 'down' ? await this.downloadFile(session, t) : await this.uploadFile(session, t);
      const op = r.resumedFrom > 0 ? 'continue' : t.op === 'continue' ? (r.restarted ? 'replace' : 'send') : t.op;
      const hookError = await this.onComplete(session, t, r);
      this.record({ op, path: t.path, ok: true, size: r.size, bytesTransferred: r.bytesTransferred, resumedFrom: r.resumedFrom, ...hookError });
      out.fileDone(op, t.path, r);
      return true;
    } catch (raw) {
      const err = asError(raw, t.path);
      // Refused on a reconnect while the other connections work: a cap, not a broken server.
      if (FATAL.has(err.kind)) throw stopOrRetire(err, raw);
      this.record({ op: t.op, path: t.path, ok: false, size: t.size, bytesTransferred: 0, resumedFrom: 0, error: err.message, errorKind: err.kind, check: checkOf(err) });
      out.fileDone('failed', t.path);
      return false;
    }
  }

  /**
   * --on-complete for a file in place. Its failure is counted (exit 11) but the file arrived:
   * the item stays a success, so it neither blocks --delete nor is sent again.
   */
  private async onComplete(session: Session, t: Transfer, r: FileResult): Promise<Pick<ItemResult, 'error' | 'errorKind' | 'check'>> {
    const { setup } = this;
    if (!setup.checks?.onComplete) return {};
    const remote = displayUrl({ ...setup.url, path: remotePathOf(setup.remoteRoot, t.path) });
    const local = localPathInside(setup.localRoot, t.path);
    try {
      await afterCommit(setup.checks, { part: local, target: local, url: remote, size: r.size, direction: setup.direction }, session.signal);
      return {};
    } catch (err) {
      if (!(err instanceof RftpError) || checkOf(err) !== 'on-complete') throw err;
      setup.out.warn(err.message);
      return { error: err.message, errorKind: err.kind, check: 'on-complete' };
    }
  }

  private async downloadFile(session: Session, t: Transfer): Promise<FileResult> {
    const { setup } = this;
    const remoteUrl = { ...setup.url, path: remotePathOf(setup.remoteRoot, t.path) };
    const local = await checkNoSymlinks(setup.localRoot, t.path, 'file', this.realDirs);
    // The on-complete hook runs in transferFile, for both directions.
    const checks = setup.checks && { ...setup.checks, onComplete: undefined };
    if (isWhole(t)) return downloadWhole(session, remoteUrl, local, t.size!, t.mtimeMs, { limiter: setup.limiter, dirs: this.renamedIn, checks, verify: setup.verify, out: setup.out });
    const segments = Math.min(setup.segments ?? 1, Math.floor((t.size ?? 0) / MIN_SEGMENT_BYTES));
    const opts = { force: true, continue: false, limiter: setup.limiter, checks, verify: setup.verify };
    if (segments <= 1 || !setup.newSession) return download(session, remoteUrl, local, opts, setup.out);
    return segmentedDownload(setup.newSession, session.signal, remoteUrl, local, { ...opts, segments }, setup.out).catch((err) => {
      // A server at its connection cap refuses the segments' own connections: this
      // worker's connection works, so the file comes over it (not a retirement).
      if (!refusedExtraConnection(err)) throw err;
      setup.out.debug(`${quoteName(t.path)}: no connection for segments (${(err as Error).message}); one stream instead`);
      return download(session, remoteUrl, local, opts, setup.out);
    });
  }

  private async uploadFile(session: Session, t: Transfer): Promise<FileResult> {
    const { setup } = this;
    const remoteUrl = { ...setup.url, path: remotePathOf(setup.remoteRoot, t.path) };
    const local = localPathInside(setup.localRoot, t.path);
    if (isWhole(t)) return uploadWhole(session, local, remoteUrl, { limiter: setup.limiter, verify: setup.verify, out: setup.out });
    return upload(session, local, remoteUrl, { force: true, continue: false, settleMs: setup.settleMs, limiter: setup.limiter, verify: setup.verify }, setup.out);
  }

  /** 5. Deletes, last, and only after a clean run. */
  private async deleteLast(): Promise<void> {
    const { plan, result } = this;
    const failed = result.items.some((i) => !i.ok) || plan.conflicts.length > 0;
    result.deletesSkipped = plan.deletesBlocked ?? (failed ? 'not every transfer succeeded' : undefined);
    if (!result.deletesSkipped)
      await runDeletes(
        plan.deletes,
        this.setup,
        () => this.crew(),
        (item) => this.record(item),
      );
  }

  /**
   * One fsync per directory for all the renames into it, instead of one per file (a few at a
   * time: thousands of directories open at once could run out of file descriptors).
   */
  private async syncRenamedDirs(): Promise<void> {
    const dirs = [...this.renamedIn];
    await runPool(
      dirs,
      Array.from({ length: Math.min(16, dirs.length) }, () => syncDir),
      (q) => q.shift(),
    );
  }
}

/** Small files are sent whole, in memory, without resume state (a new file or a replacement only). */
const isWhole = (t: Transfer) => t.op !== 'continue' && t.size !== undefined && t.size <= WHOLE_FILE_BYTES;

/**
 * After the uploads: the names at risk (see nameAtRisk) of the directories and files written,
 * checked against one listing per directory. One the server stored otherwise is a failed item:
 * the run exits 8 and says what the server did, instead of sending it again on every run.
 */
async function checkStored(result: ExecResult, setup: ExecSetup, session: Session | undefined): Promise<void> {
  const written = result.items.filter((i) => i.ok && i.op !== 'delete' && nameAtRisk(remoteBasename(i.path)));
  if (written.length === 0 || !session) return;
  const paths = new Map(written.map((i) => [remotePathOf(setup.remoteRoot, i.path), i]));
  for (const [path, why] of await storedNames(session, [...paths.keys()])) {
    const item = paths.get(path)!;
    if (!why) continue;
    item.ok = false;
    item.error = why;
    setup.out.warn(`${item.op} ${quoteName(item.path)} failed: ${why}`);
  }
}

async function makeLocalDir(root: string, rel: string, realDirs: Set<string>): Promise<void> {
  const path = await checkNoSymlinks(root, rel, 'dir', realDirs);
  try {
    await mkdir(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !(await lstat(path)).isDirectory()) throw err;
  }
  realDirs.add(path);
}

/** Removes destination entries, given deepest first: files over every connection, then directories one at a time. */
async function runDeletes(list: Plan['deletes'], setup: ExecSetup, crew: () => Session[], record: (i: ItemResult) => void): Promise<void> {
  const files = list.filter((d) => d.type !== 'dir');
  const dirs = list.filter((d) => d.type === 'dir');
  const del = async (session: Session, d: (typeof list)[number]) => {
    try {
      if (setup.direction === 'down') {
        const path = await checkNoSymlinks(setup.localRoot, d.path, 'any');
        // unlink/rmdir act on the entry itself: a symlink is removed, never followed.
        await (d.type === 'dir' ? rmdir(path) : unlink(path));
      } else {
        const path = remotePathOf(setup.remoteRoot, d.path);
        await session.run(
          `delete ${quoteName(d.path)}`,
          () => 0,
          (client) => (d.type === 'dir' ? removeDirectory(client, path, false) : deleteFile(client, path)),
        );
      }
      record({ op: 'delete', path: d.path, ok: true, bytesTransferred: 0, resumedFrom: 0, replacedBy: d.replacedBy });
      setup.out.fileDone('delete', d.path);
    } catch (raw) {
      const err = asError(raw, `delete ${quoteName(d.path)}`);
      if (FATAL.has(err.kind)) throw stopOrRetire(err, raw);
      record({ op: 'delete', path: d.path, ok: false, bytesTransferred: 0, resumedFrom: 0, error: err.message, replacedBy: d.replacedBy });
    }
  };
  const sessions = crew();
  await runPool(
    files,
    sessions.map((s) => (d: (typeof files)[number]) => del(s, d)),
    (q) => q.shift(),
    setup.retirements.of(sessions),
  );
  // One at a time, deepest first: a directory is empty once the ones below it are gone. A
  // connection refused for good is retired and the next one goes on.
  for (const d of dirs) {
    for (;;) {
      const [session, ...others] = crew();
      try {
        await del(session, d);
        break;
      } catch (err) {
        if (!(err instanceof RetireWorker)) throw err;
        if (others.length === 0) throw err.reason;
        setup.retirements.retire(session, others.length, err.reason);
      }
    }
  }
}

/**
 * A run killed between two steps of a download can leave `x.rftp-state` (after the rename, before
 * the state was removed) or an empty `x.rftp-state.tmp-PID` (during a state write). Once x is up
 * to date they are garbage; a tmp file of a process that is still alive is left alone. Only files
 * that are rftp's own by their content (empty tmp files, or state JSON rftp writes) are removed:
 * a user's file that merely has such a name stays.
 */
async function removeLeftovers(plan: Plan, setup: ExecSetup): Promise<void> {
  const upToDate = new Set(plan.skips.map((s) => s.path));
  const present = new Set(setup.reserved);
  for (const rel of setup.reserved) {
    const tmp = /^(.*)\.rftp-state\.tmp-(\d+)$/.exec(rel);
    const state = /^(.*)\.rftp-state$/.exec(rel);
    const stale = tmp ? !alive(Number(tmp[2])) : state ? upToDate.has(state[1]) && !present.has(`${state[1]}.rftp-part`) : false;
    if (!stale) continue;
    try {
      const path = await checkNoSymlinks(setup.localRoot, rel, 'file');
      if (!(await isOwnState(path, tmp !== null))) continue;
      await unlink(path);
      setup.out.debug(`removed ${quoteName(rel)}, left over from an interrupted run`);
    } catch {
      // Not ours to insist on: it stays, and is never synced.
    }
  }
}

/** Whether a file holds what rftp writes as resume state (or nothing at all, for a tmp file cut short). */
async function isOwnState(path: string, tmp: boolean): Promise<boolean> {
  const st = await lstat(path);
  if (!st.isFile() || st.size > 64 * 1024) return false;
  const text = await readFile(path, 'utf8');
  if (tmp && text === '') return true;
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === 'object' && v.version === 1 && ['download', 'upload', 'segmented'].includes(v.kind) && typeof v.url === 'string';
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
