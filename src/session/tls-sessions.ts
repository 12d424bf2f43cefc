// TLS sessions shared by the connections of a run, and a count of the handshakes they cost.
// A full handshake costs the server's key exchange (and on TLS 1.2 a round trip more); a resumed
// one skips both. Data connections resume their control connection's session (basic-ftp; vsftpd's
// require_ssl_reuse insists on it). Control connections after the first resume its session too:
// sync -P 16 would otherwise do 16 full handshakes.
import type { TLSSocket } from 'node:tls';

/** Handshakes since the process started (a run reports the difference). */
export const handshakes = { full: 0, resumed: 0 };

/** Counts one finished handshake, and says which kind it was when debugging. */
export function countHandshake(socket: TLSSocket, what: 'control' | 'data', log?: (msg: string) => void): void {
  const resumed = socket.isSessionReused();
  if (resumed) handshakes.resumed++;
  else handshakes.full++;
  log?.(`TLS ${what} connection: ${resumed ? 'session resumed' : 'full handshake'} (${socket.getProtocol() ?? 'TLS'})`);
}

/** The latest session of a control connection, per server (host:port) and trust settings. */
const sessions = new Map<string, Buffer>();

export const sessionFor = (key: string): Buffer | undefined => sessions.get(key);

/**
 * Keeps the session of a control connection whose handshake just ended, and the tickets that
 * come later (TLS 1.3 sends them after the handshake), for the next control connection.
 */
export function keepSession(socket: TLSSocket, key: string): void {
  const now = socket.getSession();
  if (now) sessions.set(key, now);
  socket.on('session', (session: Buffer) => sessions.set(key, session));
}
