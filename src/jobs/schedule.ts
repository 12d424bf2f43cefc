// When a queue entry is due: --at (the next 02:00 local time, "2026-12-24 18:30", ISO 8601 with a
// zone, now+90m) and --every (30m, 6h, 1d). Pure functions of a clock the tests replace.
import { usageError } from '../errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30m", "6h", "1d", "90s" (also "1h30m") as milliseconds. */
export function parseInterval(text: string, option = '--every'): number {
  const parts = [...text.trim().matchAll(/(\d+)\s*([smhd])/gi)];
  const joined = parts.map((p) => p[0]).join('');
  if (parts.length === 0 || joined.replace(/\s/g, '') !== text.trim().replace(/\s/g, '')) throw usageError(`${option} ${JSON.stringify(text)}: expected a duration such as 30m, 6h, 1d or 1h30m`);
  const ms = parts.reduce((n, p) => n + Number(p[1]) * UNIT_MS[p[2].toLowerCase()], 0);
  if (ms < 1000) throw usageError(`${option} ${JSON.stringify(text)}: at least one second`);
  return ms;
}

/**
 * The time --at names, as ms since the epoch: HH:MM (the next one, local time), YYYY-MM-DD HH:MM
 * (local), an ISO 8601 time with its zone, or now+DURATION.
 */
export function parseAt(text: string, now: number): number {
  const t = text.trim();
  const example = 'for example 02:00, "2026-12-24 18:30", 2026-12-24T18:30:00Z or now+90m';
  const rel = /^now\s*\+\s*(.+)$/i.exec(t);
  if (rel) return now + parseInterval(rel[1], '--at now+');
  if (/^now$/i.test(t)) return now;
  const clock = /^(\d{1,2}):(\d{2})$/.exec(t);
  if (clock) {
    const [h, m] = [Number(clock[1]), Number(clock[2])];
    if (h > 23 || m > 59) throw usageError(`--at ${JSON.stringify(text)}: not a time of day; ${example}`);
    const at = new Date(now);
    at.setHours(h, m, 0, 0);
    if (at.getTime() <= now) at.setDate(at.getDate() + 1);
    return at.getTime();
  }
  const local = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (local) {
    const [y, mo, d, h, mi, s] = local.slice(1).map((v) => Number(v ?? 0));
    const at = new Date(y, mo - 1, d, h, mi, s);
    if (at.getMonth() !== mo - 1 || at.getDate() !== d || h > 23 || mi > 59) throw usageError(`--at ${JSON.stringify(text)}: no such date; ${example}`);
    return at.getTime();
  }
  // ISO 8601 with a zone (Z or ±HH:MM): Date parses those exactly.
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(t)) {
    const ms = Date.parse(t);
    if (Number.isFinite(ms)) return ms;
  }
  throw usageError(`--at ${JSON.stringify(text)}: not a time rftp understands; ${example}`);
}

/** An --every entry's next run after one that started at `ranAt`: the next step of its grid after now. */
export function nextDue(due: number, every: number, now: number): number {
  const steps = Math.max(1, Math.floor((now - due) / every) + 1);
  return due + steps * every;
}

/** Node's timers take at most about 24.8 days: a later time is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolves at `at` (or when the signal aborts). */
export async function sleepUntil(at: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted && Date.now() < at) {
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.min(MAX_TIMER_MS, Math.max(0, at - Date.now())));
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
