// A scripted HTTP server for misbehaving-server cases: each request goes to the test's handler
// with its number, so a test can answer the first request one way and the resume another.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  range?: string;
  ifRange?: string;
  authorization?: string;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

export interface FakeHttp {
  url: string;
  requests: SeenRequest[];
  /** Replace the handler (the next request on uses it). */
  handle(h: Handler): void;
  close(): Promise<void>;
}

/** `tls`: serve https with this key and certificate; `host`: the loopback address to listen on. */
export async function startFakeHttp(handler: Handler, opts: { tls?: { key: string; cert: string }; host?: string } = {}): Promise<FakeHttp> {
  let current = handler;
  const requests: SeenRequest[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    requests.push({ method: req.method!, path: req.url!, range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, authorization: req.headers.authorization });
    current(req, res, requests.length);
  };
  const server: Server = opts.tls ? createHttpsServer(opts.tls, onRequest) : createServer(onRequest);
  const host = opts.host ?? '127.0.0.1';
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${port}`,
    requests,
    handle: (h) => {
      current = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const ETAG = '"fake-1"';

/** A 200 with the whole body (headers of a well-kept static file server). */
export function sendWhole(res: ServerResponse, body: Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'Content-Length': String(body.length), ETag: ETAG, 'Accept-Ranges': 'bytes', ...headers });
  res.end(body);
}

/** Headers for the whole body, then only `upTo` bytes of it, then the connection is cut. */
export function sendCut(res: ServerResponse, body: Buffer, upTo: number, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'Content-Length': String(body.length), ETag: ETAG, 'Accept-Ranges': 'bytes', ...headers });
  res.write(body.subarray(0, upTo), () => setTimeout(() => res.socket?.destroy(), 50));
}

/** A correct 206 for `Range: bytes=a-[b]`. */
export function sendRange(res: ServerResponse, req: IncomingMessage, body: Buffer, headers: Record<string, string> = {}): void {
  const m = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')!;
  const first = Number(m[1]);
  const last = m[2] ? Number(m[2]) : body.length - 1;
  res.writeHead(206, { 'Content-Length': String(last - first + 1), 'Content-Range': `bytes ${first}-${last}/${body.length}`, ETag: ETAG, 'Accept-Ranges': 'bytes', ...headers });
  res.end(body.subarray(first, last + 1));
}

export { ETAG };
