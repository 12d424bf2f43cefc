// A WAN in a box: this kernel has no netem, so a proxy in user space delays every chunk, both
// ways, by D. vsftpd listens on 127.0.0.2 (PASV replies name 127.0.0.1, its passive ports lie
// below the ephemeral range); the proxy listens on 127.0.0.1 on the control port and on every
// passive port and forwards each to the same port on 127.0.0.2. It never reads the bytes, so
// explicit and implicit TLS pass through it and certificates for 127.0.0.1 stay valid.
//
// It counts the client's round trips per connection: a write of the client that follows one of
// the server's (the first after the greeting is round trip 1). Tests assert those counts; the
// bench measures times. Passive ports are chosen per server among free ones, so two suites could
// only clash if they ran at once, which run-tests.mjs never does (one test file at a time).
import * as net from 'node:net';
import { startVsftpd, type VsftpdOptions, type VsftpdServer } from './vsftpd.js';

export interface ConnectionCount {
  port: number;
  /**
   * What the client sent, one entry per round trip: the commands of all its writes between two
   * of the server's (control connections; a data connection's first entry is its connect, the
   * others stay empty).
   */
  turns: string[][];
}

/** The round trips of a connection. */
export const roundTrips = (c: ConnectionCount): number => c.turns.length;

/**
 * The round trips the client waited for. A last turn that is only QUIT is not one: basic-ftp
 * sends it with the FIN and never reads the reply.
 */
export function waits(c: ConnectionCount): number {
  const last = c.turns.at(-1);
  return last?.length === 1 && last[0] === 'QUIT' ? c.turns.length - 1 : c.turns.length;
}

/**
 * What a run waited for, over all its connections: the control connections' waits and each data
 * connection's (its connect, and a TLS handshake's turns).
 */
export const allWaits = (connections: ConnectionCount[]): number => connections.reduce((n, c) => n + waits(c), 0);

/** The turns as one line each, for an assertion's message. */
export const conversation = (c: ConnectionCount): string => c.turns.map((t, i) => `${i + 1}: ${t.join(' | ')}`).join('\n');

export interface LatencyProxy {
  /** Every connection made through the proxy since the last reset(), in the order they opened. */
  connections(): ConnectionCount[];
  /** Control connections only (to the server's control port). */
  controls(): ConnectionCount[];
  reset(): void;
  stop(): Promise<void>;
}

interface Timed {
  data: Buffer;
  at: number;
}

/** Writes each chunk `delayMs` after it arrived, in order. */
function delayedPipe(from: net.Socket, to: net.Socket, delayMs: number, onChunk: (data: Buffer) => void): void {
  const queue: Timed[] = [];
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const flush = () => {
    timer = undefined;
    const now = Date.now();
    while (queue.length > 0 && queue[0].at <= now) to.write(queue.shift()!.data);
    if (queue.length > 0) timer = setTimeout(flush, queue[0].at - now);
    else if (ended) to.end();
  };
  from.on('data', (data: Buffer) => {
    onChunk(data);
    queue.push({ data, at: Date.now() + delayMs });
    if (timer === undefined) timer = setTimeout(flush, delayMs);
  });
  from.on('end', () => {
    ended = true;
    if (timer === undefined) timer = setTimeout(flush, delayMs);
  });
}

/** The commands in a control write, the password masked (an assertion message prints them). */
function commandsIn(data: Buffer): string[] {
  // TLS records (types 20-23) carry no readable command.
  if (data[0] >= 20 && data[0] <= 23) return ['(tls)'];
  return data
    .toString('latin1')
    .split('\r\n')
    .filter(Boolean)
    .map((c) => (/^PASS /i.test(c) ? 'PASS ****' : c));
}

export async function startLatencyProxy(ports: number[], controlPort: number, delayMs: number, target = '127.0.0.2'): Promise<LatencyProxy> {
  let counts: ConnectionCount[] = [];
  const sockets = new Set<net.Socket>();
  const servers = await Promise.all(
    ports.map(
      (port) =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer({ allowHalfOpen: true }, (client) => {
            // Opening a data connection is a wait too (the client's connect waits for the
            // SYN-ACK over a real link; here the kernel answers at once, so it is counted).
            const count: ConnectionCount = { port, turns: port === controlPort ? [] : [['(connect)']] };
            counts.push(count);
            // After a data connection's connect, what the client sends at once (an upload's
            // bytes, a TLS ClientHello) waits for nothing more on this connection.
            let last: 'client' | 'server' | undefined = port === controlPort ? undefined : 'client';
            sockets.add(client);
            client.pause();
            // The TCP handshake to the far side costs one delay too.
            setTimeout(() => {
              // No Nagle in the middle: a wire adds latency, it does not hold back small writes
              // until an ACK (that cost 40 ms per reply that followed another one).
              const upstream = net.connect({ host: target, port, allowHalfOpen: true, noDelay: true });
              client.setNoDelay(true);
              sockets.add(upstream);
              // A FIN travels as data does, delayed and after it (the pipes end the far side);
              // only a reset cuts both at once. Closing a side on 'close' could cut the last
              // chunks still queued for it: an upload's TLS close_notify, and vsftpd says 426.
              const reset = () => {
                client.destroy();
                upstream.destroy();
              };
              client.on('error', reset);
              upstream.on('error', reset);
              delayedPipe(client, upstream, delayMs, (data) => {
                // A client that speaks first (a TLS ClientHello) starts a round trip as well.
                if (last !== 'client') count.turns.push([]);
                last = 'client';
                if (port === controlPort) count.turns.at(-1)?.push(...commandsIn(data));
              });
              delayedPipe(upstream, client, delayMs, () => {
                last = 'server';
              });
              client.resume();
            }, delayMs);
          });
          server.once('error', reject);
          server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(server));
        }),
    ),
  );
  return {
    connections: () => counts,
    controls: () => counts.filter((c) => c.port === controlPort),
    reset: () => {
      counts = [];
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}

export interface WanServer extends VsftpdServer {
  proxy: LatencyProxy;
}

/** vsftpd on 127.0.0.2 behind a latency proxy on 127.0.0.1: URLs name the proxy. */
export async function startWanVsftpd(delayMs: number, opts: VsftpdOptions = {}): Promise<WanServer> {
  const server = await startVsftpd({ pasvPorts: 40, ...opts, listenAddress: '127.0.0.2' });
  const [min, max] = server.pasvPorts;
  const ports = [server.port, ...Array.from({ length: max - min + 1 }, (_, i) => min + i)];
  let proxy: LatencyProxy;
  try {
    proxy = await startLatencyProxy(ports, server.port, delayMs);
  } catch (err) {
    await server.stop();
    throw err;
  }
  const stop = server.stop.bind(server);
  return Object.assign(server, {
    proxy,
    async stop() {
      await proxy.stop();
      await stop();
    },
  });
}
