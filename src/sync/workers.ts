// The worker pool every phase of a sync runs on (walk, file times, directories, transfers,
// deletes): one worker per connection, and the bookkeeping of connections the server refuses
// for good in the middle of a run, so a later phase does not try them again.
import type { Session } from '../session/session.js';
import { refusedExtraConnection } from '../session/ops.js';

/** Errors that would hit every remaining file as well: stop instead of failing each one. */
export const FATAL = new Set(['interrupted', 'login', 'tls', 'connection']);

/**
 * Thrown by a worker whose connection the server refuses for good in the middle of a run (a
 * per-address or per-user cap, its slot taken by someone else): the item goes back to the queue
 * and the worker stops, as long as another worker is still at it.
 */
export class RetireWorker extends Error {
  constructor(readonly reason: unknown) {
    super((reason as Error)?.message ?? String(reason));
  }
}

/**
 * Works through a queue with one worker per connection. A worker that throws stops the pool:
 * the others finish what they hold, take nothing new, and the first error is rethrown. A worker
 * that throws RetireWorker leaves instead (its item stays queued), unless it is the last one.
 * With `ready`, a worker starts taking work once its promise gives true (its connection is
 * logged in), and never when it gives false; the pool does not wait for logins still under way
 * once its work is done or has failed (a walk that fails at the root ends the run at once).
 */
export async function runPool<T>(
  queue: T[],
  workers: Array<(item: T) => Promise<void>>,
  take: (q: T[], worker: number) => T | undefined,
  onRetire?: (left: number, reason: unknown, worker: number) => void,
  ready?: Array<Promise<boolean>>,
  grow?: (add: AddWorker<T>) => void,
): Promise<void> {
  let busy = 0;
  let active = workers.length;
  let failure: { err: unknown } | undefined;
  let waiting: Array<() => void> = [];
  const wake = () => {
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  let retired: RetireWorker | undefined;
  let finish!: (ok: false) => void;
  const finished = new Promise<false>((resolve) => (finish = resolve));
  const loop = async (fn: (item: T) => Promise<void>, index: number) => {
    try {
      if (ready?.[index] && !(await Promise.race([ready[index], finished]))) return;
      for (;;) {
        if (failure) return;
        const item = take(queue, index);
        if (item === undefined) {
          if (busy === 0) {
            finish(false);
            return wake();
          }
          // Another worker may still add work (a listing finds subdirectories).
          await new Promise<void>((resolve) => waiting.push(resolve));
          continue;
        }
        busy++;
        try {
          await fn(item);
        } catch (err) {
          if (err instanceof RetireWorker && active > 1) {
            retired = err;
            queue.unshift(item);
            onRetire?.(active - 1, err.reason, index);
            return;
          }
          failure ??= { err: err instanceof RetireWorker ? err.reason : err };
          finish(false);
        } finally {
          busy--;
          wake();
        }
      }
    } finally {
      active--;
    }
  };
  let over = false;
  finished.then(() => (over = true));
  const loops = workers.map((fn, i) => loop(fn, i));
  // A worker joins while work is left (--parallel auto); it takes the next index.
  grow?.((fn) => {
    if (over || failure) return false;
    workers.push(fn);
    active++;
    loops.push(loop(fn, workers.length - 1));
    return true;
  });
  for (let awaited = 0; awaited < loops.length; ) {
    awaited = loops.length;
    await Promise.all(loops);
  }
  if (failure) throw failure.err;
  // Every worker left (the last ones never got their connection): the queue must not pass for done.
  if (queue.length > 0 && retired) throw retired.reason;
}

/** Adds a worker to a running pool; false once the pool has finished or failed. */
export type AddWorker<T> = (worker: (item: T) => Promise<void>) => boolean;

/**
 * Connections retired during a run, across its phases: each retirement is told once and
 * counted (the --json report's `connections.retired`), and later phases leave the connection
 * out instead of having the server refuse it again.
 */
export class Retirements {
  private readonly gone = new Set<Session>();
  count = 0;
  constructor(private readonly warn: (text: string) => void) {}

  /** The given sessions minus the retired ones, in order. */
  active(sessions: Session[]): Session[] {
    return sessions.filter((s) => !this.gone.has(s));
  }

  /** Leaves `session` out from now on, and says so. */
  retire(session: Session, left: number, reason: unknown): void {
    this.gone.add(session);
    this.count++;
    this.warn(`${(reason as Error).message}; continuing with ${left} connection${left === 1 ? '' : 's'}`);
  }

  /** runPool's onRetire for a pool whose worker i works on sessions[i]. */
  of(sessions: Session[]): (left: number, reason: unknown, worker: number) => void {
    return (left, reason, worker) => this.retire(sessions[worker], left, reason);
  }
}

/**
 * For a worker's error that stops it (a FATAL kind): a refusal on a reconnect while other
 * connections work is a cap, not a broken server, so only this worker leaves.
 */
export function stopOrRetire(err: unknown, raw?: unknown): unknown {
  return refusedExtraConnection(raw) || refusedExtraConnection(err) ? new RetireWorker(err) : err;
}
