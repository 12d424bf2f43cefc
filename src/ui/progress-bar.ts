import { formatBytes, formatDuration } from './format.js';

/**
 * A one-line progress bar for a terminal. Redraws at most every 100 ms so that rendering never
 * costs throughput; the rate is a moving average over the last few seconds.
 */
export class ProgressBar {
  private samples: Array<{ t: number; bytes: number }> = [];
  private lastDraw = 0;
  private current = 0;
  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
    private readonly total: number | undefined,
    /** Where the transfer starts (a resumed offset): the bar counts from there. */
    startAt: number,
  ) {
    this.current = startAt;
  }

  update(bytes: number, force = false): void {
    this.current = bytes;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    this.samples.push({ t: now, bytes });
    while (this.samples.length > 2 && now - this.samples[0].t > 5000) this.samples.shift();
    this.stream.write(`\r${this.render(now)}\x1b[K`);
  }

  private render(now: number): string {
    const first = this.samples[0];
    const dt = (now - first.t) / 1000;
    const rate = dt > 0 ? (this.current - first.bytes) / dt : 0;
    const width = Math.max(10, Math.min(30, (this.stream.columns ?? 80) - 60));
    let bar = '';
    let pct = '';
    let eta = '';
    if (this.total && this.total > 0) {
      const frac = Math.min(1, this.current / this.total);
      const filled = Math.round(frac * width);
      bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] `;
      pct = `${(frac * 100).toFixed(0).padStart(3)}% `;
      eta = rate > 0 ? ` ETA ${formatDuration((this.total - this.current) / rate)}` : ' ETA --:--';
    }
    const name = this.label.length > 24 ? `…${this.label.slice(-23)}` : this.label;
    const of = this.total !== undefined ? `/${formatBytes(this.total)}` : '';
    return `${name} ${bar}${pct}${formatBytes(this.current)}${of} ${formatBytes(rate)}/s${eta}`;
  }

  finish(): void {
    this.update(this.current, true);
    this.stream.write('\n');
  }

  clear(): void {
    this.stream.write('\r\x1b[K');
  }
}
