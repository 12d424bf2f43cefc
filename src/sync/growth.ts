// sync --parallel auto: over a link with latency each connection moves a file every few round
// trips, so more connections move more files, until the server, the CPU or the bandwidth is
// what limits. Start with the usual 4; each window in which files per second rose by a tenth or
// more doubles the connections (to 16); the first window without that rise, a connection the
// server refuses (421 for too many, 530) or one that had to reconnect ends the growth. On
// loopback a sync ends within a few windows and the rate stays flat, so it costs at most a few
// logins there.
import type { Session } from '../session/session.js';
import type { AddWorker } from './workers.js';

export const AUTO_START = 4;
export const AUTO_MAX = 16;
const WINDOW_MS = 500;
const RISE = 1.1;

export interface Growth<T> {
  /** Counts a file done (only those that arrived: a server failing files fast is no rising rate). */
  fileDone(): void;
  /** Attaches to a running pool: `work(session)` is a new connection's worker. */
  attach(add: AddWorker<T>, work: (session: Session) => (item: T) => Promise<void>): void;
  stop(): void;
  /** The connections it opened, for the caller to use in later steps and close. */
  readonly opened: Session[];
}

export function connectionGrowth<T>(opts: { sessions: Session[]; queue: T[]; newSession: () => Session; debug: (text: string) => void; max?: number }): Growth<T> {
  const max = opts.max ?? AUTO_MAX;
  let done = 0;
  let best = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const opened: Session[] = [];
  const stop = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
  /** Opens `n` connections at once; false when the server refused one. */
  const open = async (n: number, add: AddWorker<T>, work: (session: Session) => (item: T) => Promise<void>): Promise<boolean> => {
    const fresh = Array.from({ length: n }, () => opts.newSession());
    const logins = await Promise.allSettled(fresh.map((s) => s.connected()));
    const before = opts.sessions.length;
    let refused = false;
    logins.forEach((r, i) => {
      if (r.status === 'fulfilled' && !stopped && add(work(fresh[i]))) {
        opts.sessions.push(fresh[i]);
        opened.push(fresh[i]);
      } else {
        refused ||= r.status === 'rejected';
        if (r.status === 'rejected') opts.debug(`--parallel auto: the server refused connection ${before + i + 1} (${(r.reason as Error).message}); staying at ${opts.sessions.length}`);
        fresh[i].close();
      }
    });
    return !refused;
  };
  return {
    opened,
    fileDone: () => {
      done++;
    },
    attach(add, work) {
      // One window at a time; a window starts once the connections opened after the last one
      // are logged in, so their logins do not count against them.
      const window = (from: number) => {
        if (stopped) return;
        timer = setTimeout(() => {
          if (stopped) return;
          const rate = done - from;
          const n = opts.sessions.length;
          // A connection that had to reconnect (vsftpd out of passive ports, a server shedding
          // load) says the server, not the link, limits now: more connections would only add to it.
          if (opts.sessions.some((s) => s.reconnects > 0)) {
            opts.debug(`--parallel auto: a connection had to reconnect; staying at ${n}`);
            stop();
            return;
          }
          // Rising (or the first window): double, as long as the queue has work for them all.
          if (rate > best * RISE && n < max && opts.queue.length > n * 2) {
            best = rate;
            const more = Math.min(n, max - n);
            opts.debug(`--parallel auto: ${rate} files in ${WINDOW_MS} ms on ${n} connections; opening ${more} more`);
            open(more, add, work).then(
              (ok) => (ok ? window(done) : stop()),
              () => stop(),
            );
          } else if (best > 0 || opts.queue.length <= n * 2) {
            opts.debug(`--parallel auto: ${rate} files in ${WINDOW_MS} ms on ${n} connections; staying at ${n}`);
            stop();
          } else window(done);
        }, WINDOW_MS);
        timer.unref();
      };
      window(done);
    },
    stop,
  };
}
