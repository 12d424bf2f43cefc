import { RftpError } from '../errors.js';
import type { Session } from './session.js';

/**
 * Logs in the connections beyond the first (which has worked already). Servers cap connections per
 * user or address (vsftpd's max_per_ip answers 421): the work goes on with those the server
 * accepted, as pget does, instead of retrying the refused ones until the whole run gives up.
 * The refused sessions are closed; the first one's failure is thrown as it is.
 */
export async function acceptedConnections(first: Session, extra: Session[], warn: (text: string) => void): Promise<Session[]> {
  const settled = await Promise.allSettled(extra.map((s) => s.connected()));
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
  if (reason) warn(`the server accepted ${pool.length} of ${want} connections (${(reason as Error).message}); continuing with ${pool.length}`);
  return pool;
}
