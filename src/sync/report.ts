import type { FileResult } from '../transfer/download.js';
import { formatBytes, formatDuration } from '../ui/format.js';
import { Output, type OutputMode, type TransferProgress } from '../ui/output.js';
import { escapeControl } from '../ui/redact.js';
import type { ExecResult } from './execute.js';
import type { Plan, Problem } from './plan.js';

/**
 * Output for a sync: on a terminal one overall line (files, bytes, rate) instead of a bar per
 * file, since several transfers run at once; off a terminal one line per finished file (none
 * with --quiet). Everything still goes through Output.
 */
export class SyncOutput extends Output {
  private totalFiles = 0;
  private doneFiles = 0;
  private totalBytes = 0;
  private doneBytes = 0;
  private started = Date.now();
  private lastDraw = 0;
  private drawn = false;
  private phase = '';

  constructor(mode: OutputMode, private readonly err: NodeJS.WriteStream = process.stderr) {
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
    let last = startAt;
    this.doneBytes += startAt;
    return {
      update: (bytes) => {
        this.doneBytes += bytes - last;
        last = bytes;
        this.draw(false);
      },
      done: () => {},
      stop: () => {},
    };
  }

  startFiles(files: number, bytes: number): void {
    this.totalFiles = files;
    this.totalBytes = bytes;
    this.doneFiles = 0;
    this.doneBytes = 0;
    this.started = Date.now();
    this.phase = 'sync';
  }

  fileDone(op: string, path: string, r?: FileResult): void {
    if (op !== 'delete') this.doneFiles++;
    if (op === 'failed') return this.draw(true);
    if (!this.interactive) {
      const what = r ? ` (${formatBytes(r.size)}${r.resumedFrom > 0 ? `, continued at ${formatBytes(r.resumedFrom)}` : ''})` : '';
      this.info(`${pastTense(op)} ${escapeControl(path)}${what}`);
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

const pastTense = (op: string) => ({ send: 'sent', replace: 'replaced', continue: 'continued', delete: 'deleted', mkdir: 'created' })[op] ?? op;

/** The dry-run plan, one line per action (up-to-date files are only counted). */
export function planLines(plan: Plan): string[] {
  const lines: string[] = [];
  const name = (p: string) => escapeControl(p);
  for (const d of plan.replaced) lines.push(`delete   ${name(d.path)}${d.type === 'dir' ? '/' : ''}: in the way of the source's ${d.replacedBy === 'dir' ? 'directory' : 'file'}`);
  for (const m of plan.mkdirs) lines.push(`mkdir    ${name(m.path)}/`);
  for (const t of plan.transfers) lines.push(`${t.op.padEnd(8)} ${name(t.path)}${t.size !== undefined ? ` (${formatBytes(t.size)})` : ''}: ${t.reason}`);
  for (const c of plan.conflicts) lines.push(`conflict ${name(c.path)}: ${c.reason}`);
  for (const d of plan.deletes) lines.push(`${plan.deletesBlocked ? 'keep    ' : 'delete  '} ${name(d.path)}${d.type === 'dir' ? '/' : ''}`);
  return lines;
}

export interface SyncSummary {
  sent: number;
  replaced: number;
  continued: number;
  skipped: number;
  dirsCreated: number;
  deleted: number;
  failed: number;
  conflicts: number;
  problems: number;
  bytesTransferred: number;
  seconds: number;
}

export function summarize(plan: Plan, exec: ExecResult | undefined, problems: Problem[], startedAt: number): SyncSummary {
  const items = exec?.items ?? [];
  const ok = (op: string) => items.filter((i) => i.ok && i.op === op).length;
  return {
    sent: ok('send'),
    replaced: ok('replace'),
    continued: ok('continue'),
    skipped: plan.skips.length,
    dirsCreated: ok('mkdir'),
    deleted: ok('delete'),
    failed: items.filter((i) => !i.ok).length,
    conflicts: plan.conflicts.length,
    problems: problems.length,
    bytesTransferred: items.reduce((n, i) => n + i.bytesTransferred, 0),
    seconds: Math.round((Date.now() - startedAt) / 10) / 100,
  };
}

export function summaryText(s: SyncSummary, dryRun: boolean, plan: Plan): string {
  if (dryRun) {
    const dels = (plan.replaced.length > 0 ? `, remove ${plan.replaced.length} in the way` : '') + (plan.deletes.length > 0 ? `, delete ${plan.deletes.length}${plan.deletesBlocked ? ` (blocked: ${plan.deletesBlocked})` : ''}` : '');
    return `dry run, nothing changed: would send ${plan.transfers.filter((t) => t.op === 'send').length}, replace ${plan.transfers.filter((t) => t.op === 'replace').length}, continue ${plan.transfers.filter((t) => t.op === 'continue').length}, create ${plan.mkdirs.length} directories${dels}; ${s.skipped} up to date`;
  }
  const parts = [`${s.sent} sent`, `${s.replaced} replaced`, `${s.continued} continued`, `${s.skipped} up to date`, `${s.dirsCreated} directories created`, `${s.deleted} deleted`, `${s.failed} failed`];
  if (s.conflicts) parts.push(`${s.conflicts} conflicts`);
  if (s.problems) parts.push(`${s.problems} unreadable or unsafe entries`);
  return `sync: ${parts.join(', ')}; ${formatBytes(s.bytesTransferred)} in ${s.seconds.toFixed(1)} s`;
}

/** Why the run counts as failed, for the one error line; undefined when it succeeded. */
export function failureText(s: SyncSummary, deletesSkipped: string | undefined, wantedDeletes: boolean): string | undefined {
  const why: string[] = [];
  if (s.failed) why.push(`${s.failed} failed`);
  if (s.conflicts) why.push(`${s.conflicts} conflicts`);
  if (s.problems) why.push(`${s.problems} unreadable or unsafe entries`);
  if (deletesSkipped && wantedDeletes) why.push(`deletes skipped: ${deletesSkipped}`);
  return why.length ? `sync incomplete: ${why.join(', ')} (see the warnings above)` : undefined;
}
