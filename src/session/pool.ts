import { RftpError } from '../errors.js';
import type { Session } from './session.js';

/**
 * Logs in the connections beyond the first (which has worked already). Servers cap connections per
 * user or address (vsftpd's max_per_ip answers 421): the work goes on with those the server
 * accepted, as pget does, instead of retrying the refused ones until the whole run gives up.
 * The refused sessions are closed; the first one's failure is thrown as it is.
 */
export async function acceptedConnections(first: Session, extra: Session[], warn: (text: string) => void): Promise<Session[]> {
  return openConnections(first, extra, warn).accepted;
}

export interface OpenConnections {
  /** The first session, then the extra ones, in the order given. */
  sessions: Session[];
  /** Per session: true once it is logged in, false when the server refused it (it is closed). */
  ready: Array<Promise<boolean>>;
  /** The sessions the server accepted, once every login has ended (see acceptedConnections). */
  accepted: Promise<Session[]>;
}

/**
 * Starts the extra logins and returns at once, so work can begin on the first connection while
 * the others log in (each login costs the server a process and tens of milliseconds): a walk of
 * a small tree, or a dry run, need not wait for all of them.
 */
export function openConnections(first: Session, extra: Session[], warn: (text: string) => void): OpenConnections {
  const logins = extra.map((s) => s.connected());
  const ready = [
    Promise.resolve(true),
    ...logins.map((p) =>
      p.then(
        () => true,
        () => false,
      ),
    ),
  ];
  const accepted = settle(first, extra, logins, warn);
  // Not awaited when the run fails before it needs the whole pool.
  accepted.catch(() => {});
  return { sessions: [first, ...extra], ready, accepted };
}

async function settle(first: Session, extra: Session[], logins: Array<Promise<unknown>>, warn: (text: string) => void): Promise<Session[]> {
  const settled = await Promise.allSettled(logins);
  if (first.signal.aborted) throw new RftpError('interrupted', 'interrupted');
  const pool = [first];
  let reason: unknown;
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') pool.push(extra[i]);
    else {
      reason ??= r.reason;
      extra[i].close();
    }
  });
  const want = extra.length + 1;
  // The run ended (failed early) while logins were under way: nothing to tell.
  if (reason && !first.isClosed) warn(`the server accepted ${pool.length} of ${want} connections (${(reason as Error).message}); continuing with ${pool.length}`);
  return pool;
}
