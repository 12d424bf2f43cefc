import type { FileResult } from '../transfer/download.js';
import { formatBytes, formatDuration } from '../ui/format.js';
import { Output, type OutputMode, type TransferProgress } from '../ui/output.js';
import { quoteName } from '../ui/redact.js';
import type { RftpError } from '../errors.js';
import type { Action, Plan, Problem } from './plan.js';

export type Direction = 'down' | 'up';

export interface ItemResult {
  op: Action['op'];
  path: string;
  ok: boolean;
  size?: number;
  bytesTransferred: number;
  resumedFrom: number;
  error?: string;
  /** The failure's exit-code name, and the check it failed (scan, verify, on-complete). */
  errorKind?: string;
  check?: string;
  /** A delete that cleared the way for the source's file or directory (--delete). */
  replacedBy?: 'file' | 'dir';
}

export interface ExecResult {
  items: ItemResult[];
  /** A failure that stopped the whole run (connection lost for good, login, interrupted). */
  fatal?: RftpError;
  deletesSkipped?: string;
  /** Connections --parallel auto added for the files. */
  connectionsAdded?: number;
}

/**
 * Output for a sync: on a terminal one overall line (files, bytes, rate) instead of a bar per
 * file, since several transfers run at once; off a terminal one line per finished file (none
 * with --quiet). Everything still goes through Output.
 */
export class SyncOutput extends Output {
  private totalFiles = 0;
  private doneFiles = 0;
  private totalBytes = 0;
  /** Bytes of the files finished (small ones are received whole, without per-file progress). */
  private completedBytes = 0;
  /** Where the files under way are. */
  private live = new Set<{ bytes: number }>();
  private started = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private phase = '';
  /** Downloads "got" a file, uploads "sent" it. */
  direction: 'down' | 'up' = 'down';

  constructor(
    mode: OutputMode,
    private readonly err: NodeJS.WriteStream = process.stderr,
  ) {
    super(mode, err);
  }

  /** Connection notes from each Session would fight over one line: the phase line says enough. */
  override async status(_text: string): Promise<void> {}

  override stopStatus(): void {}

  setPhase(text: string): void {
    this.phase = text;
    this.draw(true);
  }

  override info(text: string): void {
    this.clearBar();
    super.info(text);
  }

  override warn(text: string): void {
    this.clearBar();
    super.warn(text);
  }

  override error(text: string): void {
    this.clearBar();
    super.error(text);
  }

  override debug(text: string): void {
    if (this.mode.debug) this.clearBar();
    super.debug(text);
  }

  /** Per-file transfers only feed the overall counters. */
  override transfer(_label: string, _total: number | undefined, startAt: number, _verb: string): TransferProgress {
    const file = { bytes: startAt };
    this.live.add(file);
    return {
      update: (bytes) => {
        file.bytes = bytes;
        this.draw(false);
      },
      done: () => this.live.delete(file),
      stop: () => this.live.delete(file),
    };
  }

  private get doneBytes(): number {
    let bytes = this.completedBytes;
    for (const f of this.live) bytes += f.bytes;
    return bytes;
  }

  startFiles(files: number, bytes: number): void {
    this.totalFiles = files;
    this.totalBytes = bytes;
    this.doneFiles = 0;
    this.completedBytes = 0;
    this.live.clear();
    this.started = Date.now();
    this.phase = 'sync';
  }

  fileDone(op: string, path: string, r?: FileResult): void {
    if (op !== 'delete') this.doneFiles++;
    if (op === 'failed') {
      this.draw(true);
      return;
    }
    if (r) this.completedBytes += r.size;
    if (!this.interactive) {
      const what = r ? ` (${formatBytes(r.size)}${r.resumedFrom > 0 ? `, continued at ${formatBytes(r.resumedFrom)}` : ''})` : '';
      this.info(`${pastTense(op, this.direction)} ${quoteName(path)}${what}`);
    } else this.draw(false);
  }

  stopBar(): void {
    this.clearBar();
    this.phase = '';
  }

  private clearBar(): void {
    if (!this.drawn) return;
    this.err.write('\r\x1b[K');
    this.drawn = false;
  }

  private draw(force: boolean): void {
    if (!this.interactive || this.phase === '') return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    let line = this.phase;
    if (this.totalFiles > 0) {
      const secs = (now - this.started) / 1000;
      const rate = secs > 0 ? this.doneBytes / secs : 0;
      const frac = this.totalBytes > 0 ? Math.min(1, this.doneBytes / this.totalBytes) : this.doneFiles / this.totalFiles;
      const width = 20;
      const filled = Math.round(frac * width);
      const eta = rate > 0 && this.totalBytes > 0 ? ` ETA ${formatDuration((this.totalBytes - this.doneBytes) / rate)}` : '';
      line = `${this.phase} ${this.doneFiles}/${this.totalFiles} files [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${formatBytes(this.doneBytes)}/${formatBytes(this.totalBytes)} ${formatBytes(rate)}/s${eta}`;
    }
    this.err.write(`\r${line.slice(0, Math.max(20, (this.err.columns || 80) - 1))}\x1b[K`);
    this.drawn = true;
  }
}

const pastTense = (op: string, direction: 'down' | 'up') =>
  ({ send: direction === 'down' ? 'got' : 'sent', replace: 'replaced', continue: 'continued', delete: 'deleted', mkdir: 'created' })[op] ?? op;

/** The dry-run plan, one line per action (up-to-date files are only counted). */
export function planLines(plan: Plan): string[] {
  const lines: string[] = [];
  const name = (p: string) => quoteName(p);
  for (const d of plan.replaced) lines.push(`delete   ${name(d.path)}${d.type === 'dir' ? '/' : ''}: in the way of the source's ${d.replacedBy === 'dir' ? 'directory' : 'file'}`);
  for (const m of plan.mkdirs) lines.push(`mkdir    ${name(m.path)}/`);
  for (const t of plan.transfers) lines.push(`${t.op.padEnd(8)} ${name(t.path)}${t.size !== undefined ? ` (${formatBytes(t.size)})` : ''}: ${t.reason}`);
  for (const c of plan.conflicts) lines.push(`conflict ${name(c.path)}: ${c.reason}`);
  for (const d of plan.deletes) lines.push(`${plan.deletesBlocked ? 'keep    ' : 'delete  '} ${name(d.path)}${d.type === 'dir' ? '/' : ''}`);
  return lines;
}

export interface SyncSummary {
  /** New files downloaded (a sync down) … */
  received: number;
  /** … or uploaded (a sync up); the other is 0. */
  sent: number;
  replaced: number;
  continued: number;
  skipped: number;
  dirsCreated: number;
  deleted: number;
  failed: number;
  /** Of the failed: found infected by --scan (quarantined), the scan itself failed, any check before the rename failed. */
  infected: number;
  scanFailed: number;
  checkFailed: number;
  /** Files in place whose --on-complete command failed (not counted as failed). */
  hookFailed: number;
  conflicts: number;
  problems: number;
  bytesTransferred: number;
  seconds: number;
}

export function summarize(plan: Plan, exec: ExecResult | undefined, problems: Problem[], startedAt: number, direction: 'down' | 'up'): SyncSummary {
  const items = exec?.items ?? [];
  const ok = (op: string) => items.filter((i) => i.ok && i.op === op).length;
  return {
    received: direction === 'down' ? ok('send') : 0,
    sent: direction === 'up' ? ok('send') : 0,
    replaced: ok('replace'),
    continued: ok('continue'),
    skipped: plan.skips.length,
    dirsCreated: ok('mkdir'),
    deleted: ok('delete'),
    failed: items.filter((i) => !i.ok).length,
    infected: items.filter((i) => i.errorKind === 'infected').length,
    scanFailed: items.filter((i) => i.check === 'scan' && i.errorKind === 'checkFailed').length,
    checkFailed: items.filter((i) => !i.ok && i.errorKind === 'checkFailed').length,
    hookFailed: items.filter((i) => i.ok && i.check === 'on-complete').length,
    conflicts: plan.conflicts.length,
    problems: problems.length,
    bytesTransferred: items.reduce((n, i) => n + i.bytesTransferred, 0),
    seconds: Math.round((Date.now() - startedAt) / 10) / 100,
  };
}

export function summaryText(s: SyncSummary, dryRun: boolean, plan: Plan, direction: 'down' | 'up'): string {
  if (dryRun) {
    const dels =
      (plan.replaced.length > 0 ? `, remove ${plan.replaced.length} in the way` : '') +
      (plan.deletes.length > 0 ? `, delete ${plan.deletes.length}${plan.deletesBlocked ? ` (blocked: ${plan.deletesBlocked})` : ''}` : '');
    return `dry run, nothing changed: would send ${plan.transfers.filter((t) => t.op === 'send').length}, replace ${plan.transfers.filter((t) => t.op === 'replace').length}, continue ${plan.transfers.filter((t) => t.op === 'continue').length}, create ${plan.mkdirs.length} directories${dels}; ${s.skipped} up to date`;
  }
  const parts = [
    direction === 'down' ? `${s.received} received` : `${s.sent} sent`,
    `${s.replaced} replaced`,
    `${s.continued} continued`,
    `${s.skipped} up to date`,
    `${s.dirsCreated} directories created`,
    `${s.deleted} deleted`,
    `${s.failed} failed`,
  ];
  if (s.infected) parts.push(`${s.infected} infected (quarantined)`);
  if (s.checkFailed) parts.push(`${s.checkFailed} failed a check`);
  if (s.hookFailed) parts.push(`${s.hookFailed} on-complete commands failed`);
  if (s.conflicts) parts.push(`${s.conflicts} conflicts`);
  if (s.problems) parts.push(`${s.problems} unreadable or unsafe entries`);
  return `sync: ${parts.join(', ')}; ${formatBytes(s.bytesTransferred)} in ${s.seconds.toFixed(1)} s`;
}

/** Why the run counts as failed, for the one error line; undefined when it succeeded. */
export function failureText(s: SyncSummary, deletesSkipped: string | undefined, wantedDeletes: boolean): string | undefined {
  const why: string[] = [];
  if (s.failed) why.push(`${s.failed} failed`);
  if (s.hookFailed) why.push(`${s.hookFailed} on-complete commands failed`);
  if (s.conflicts) why.push(`${s.conflicts} conflicts`);
  if (s.problems) why.push(`${s.problems} unreadable or unsafe entries`);
  if (deletesSkipped && wantedDeletes) why.push(`deletes skipped: ${deletesSkipped}`);
  return why.length ? `sync incomplete: ${why.join(', ')} (see the warnings above)` : undefined;
}
