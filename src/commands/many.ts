import { Reported, RftpError } from '../errors.js';
import { formatBytes } from '../ui/format.js';
import { acceptedConnections } from '../session/pool.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import { partialResultOf, type FileResult } from '../transfer/download.js';
import { displayHttpUrl, originOf, type HttpUrl } from '../session/http-url.js';
import type { HttpClient } from '../session/http.js';
import { httpClientFor, serverKey } from './context.js';
import { MAX_CONNECTIONS } from './options.js';
import type { RunContext, SessionArgs } from './spec.js';

export interface Job<T> {
  url: FtpUrl | HttpUrl;
  item: T;
}

export const isHttp = (url: FtpUrl | HttpUrl): url is HttpUrl => 'scheme' in url;
const shown = (url: FtpUrl | HttpUrl) => (isHttp(url) ? displayHttpUrl(url) : displayUrl(url));

/**
 * Failures that would hit every other file of the server as well (a wrong password, an
 * untrusted certificate, a server gone for good): they stop the run, as in a sync.
 */
const STOPS_ALL = new Set(['interrupted', 'login', 'tls', 'connection']);

/**
 * Runs one job per item, `parallel` at once, each on a logged-in connection to the item's server
 * that the next item reuses. The first connection logs in before any other is opened: a refusal
 * (a wrong password) is then one login, not one per connection, and a server that accepts fewer
 * connections (421) gets fewer. A failed item is reported and the others go on; the exit code is
 * the first failed item's, in input order. One item fails as itself. Ctrl-C stops all.
 * The files' results go to ctx.results in input order, failed ones with their error.
 */
export async function eachOnConnections<T>(
  ctx: RunContext,
  name: string,
  jobs: Array<Job<T>>,
  args: SessionArgs,
  parallel: number,
  run: (session: Session, job: Job<T> & { url: FtpUrl }) => Promise<FileResult>,
  opts: { login?: boolean; http?: (client: HttpClient, job: Job<T> & { url: HttpUrl }) => Promise<FileResult> } = {},
): Promise<void> {
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_CONNECTIONS) throw new RftpError('usage', `--parallel must be a whole number from 1 to ${MAX_CONNECTIONS}`);
  const results: Array<FileResult | undefined> = [];
  const failures: Array<{ index: number; err: RftpError }> = [];
  try {
    const one = async (index: number, job: Job<T>, work: () => Promise<FileResult>) => {
      try {
        results[index] = await work();
      } catch (err) {
        if (ctx.signal.aborted || !(err instanceof RftpError) || jobs.length === 1 || STOPS_ALL.has(err.kind)) throw err;
        ctx.out.error(err.message);
        failures.push({ index, err });
        results[index] = { ...failed(job.url), ...partialResultOf(err), error: err.message };
      }
    };
    for (const group of byServer(jobs)) {
      const url = group[0].job.url;
      if (isHttp(url)) {
        // http: one client per server, whose keep-alive agent holds up to `parallel` connections.
        const http = opts.http;
        if (!http) throw new RftpError('usage', `${name}: http(s) URLs can only be downloaded (get, pget, cat)`);
        const client = httpClientFor(url, args, ctx);
        let next = 0;
        try {
          await Promise.all(
            Array.from({ length: Math.min(parallel, group.length) }, async () => {
              while (next < group.length && !ctx.signal.aborted) {
                const { index, job } = group[next++];
                await one(index, job, () => http(client, job as Job<T> & { url: HttpUrl }));
              }
            }),
          );
        } finally {
          client.close();
        }
        continue;
      }
      const { session: first, release } = ctx.remote.session(url, args);
      const workers = Math.min(parallel, group.length);
      const extra: Session[] = [];
      let next = 0;
      try {
        let pool = [first];
        if (opts.login === false) {
          // pget opens each file's connections itself: its workers only take turns.
          pool = Array<Session>(workers).fill(first);
        } else if (workers > 1) {
          await first.run(
            `login ${displayUrl({ ...url, path: '' })}`,
            () => 0,
            async () => undefined,
          );
          const make = ctx.remote.sessions(url, args);
          extra.push(...Array.from({ length: workers - 1 }, () => make(ctx.signal)));
          pool = await acceptedConnections(first, extra, (text) => ctx.out.warn(text));
        }
        await Promise.all(
          pool.map(async (session) => {
            while (next < group.length && !ctx.signal.aborted) {
              const { index, job } = group[next++];
              await one(index, job, () => run(session, job as Job<T> & { url: FtpUrl }));
            }
          }),
        );
      } finally {
        for (const s of extra) s.close();
        release();
      }
    }
  } finally {
    ctx.results.push(...results.filter((r): r is FileResult => r !== undefined));
  }
  if (jobs.length > 1) ctx.out.info(summaryLine(name, jobs.length, results, failures.length));
  if (failures.length === 0) return;
  failures.sort((a, b) => a.index - b.index);
  throw new Reported(failures[0].err.exitCode, `${name}: ${failures.length} of ${jobs.length} files failed`);
}

const failed = (url: FtpUrl | HttpUrl): FileResult => ({ remote: shown(url), local: '', size: 0, bytesTransferred: 0, resumedFrom: 0, restarted: false, skipped: false });

/** The jobs per server, in the order each server first appears, keeping their input positions. */
function byServer<T>(jobs: Array<Job<T>>): Array<Array<{ index: number; job: Job<T> }>> {
  const groups = new Map<string, Array<{ index: number; job: Job<T> }>>();
  jobs.forEach((job, index) => {
    const key = isHttp(job.url) ? `${originOf(job.url)} ${job.url.user ?? ''}` : serverKey(job.url);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push({ index, job });
  });
  return [...groups.values()];
}

/**
 * Runs `fn` for each remote argument in turn, on one connection per server (the shell's own for
 * its site): ls, cat, mkdir, rm, rmdir. `undefined` is the shell's remote directory.
 */
export async function forEachRemote(ctx: RunContext, texts: Array<string | undefined>, args: SessionArgs, fn: (session: Session, url: FtpUrl) => Promise<void>): Promise<void> {
  for (const text of texts) {
    const url = ctx.remote.url(text, 'URL');
    const { session, release } = ctx.remote.session(url, args);
    try {
      await fn(session, url);
    } finally {
      release();
    }
  }
}

/** "get: 20 files: 17 done, 2 resumed, 1 skipped, 0 failed; 31.0 MiB": the end of a run of several. */
function summaryLine(name: string, total: number, results: Array<FileResult | undefined>, failed: number): string {
  const ok = results.filter((r): r is FileResult => r !== undefined && r.error === undefined);
  const skipped = ok.filter((r) => r.skipped).length;
  const resumed = ok.filter((r) => !r.skipped && r.resumedFrom > 0).length;
  const done = ok.length - skipped - resumed;
  const bytes = ok.reduce((n, r) => n + r.bytesTransferred, 0);
  return `${name}: ${total} files: ${done} done, ${resumed} resumed, ${skipped} skipped, ${failed} failed; ${formatBytes(bytes)} transferred`;
}
