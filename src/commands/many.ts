import { Reported, RftpError } from '../errors.js';
import { acceptedConnections } from '../session/pool.js';
import type { Session } from '../session/session.js';
import type { FtpUrl } from '../session/url.js';
import { serverKey } from './context.js';
import { MAX_CONNECTIONS } from './options.js';
import type { RunContext, SessionArgs } from './spec.js';

export interface Job<T> {
  url: FtpUrl;
  item: T;
}

/**
 * Runs one job per item, `parallel` at once, each on a logged-in connection to the item's server
 * that the next item reuses; a server that accepts fewer connections gets fewer (421). A failed
 * item is reported and the others go on; the exit code is the first failed item's, in input
 * order. One item fails as itself. Ctrl-C stops all.
 */
export async function eachOnConnections<T>(
  ctx: RunContext,
  name: string,
  jobs: Array<Job<T>>,
  args: SessionArgs,
  parallel: number,
  run: (session: Session, job: Job<T>) => Promise<void>,
  opts: { login?: boolean } = {},
): Promise<void> {
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_CONNECTIONS) throw new RftpError('usage', `--parallel must be a whole number from 1 to ${MAX_CONNECTIONS}`);
  const failures: Array<{ index: number; err: RftpError }> = [];
  for (const group of byServer(jobs)) {
    const { session: first, release } = ctx.remote.session(group[0].job.url, args);
    const make = ctx.remote.sessions(group[0].job.url, args);
    const workers = Math.min(parallel, group.length);
    // pget opens each file's connections itself: its workers only take turns, without a login.
    const extra = opts.login === false ? [] : Array.from({ length: workers - 1 }, () => make(ctx.signal));
    let next = 0;
    try {
      let pool = extra.length > 0 ? await acceptedConnections(first, extra, (text) => ctx.out.warn(text)) : [first];
      if (opts.login === false) pool = Array<Session>(workers).fill(first);
      await Promise.all(
        pool.map(async (session) => {
          while (next < group.length && !ctx.signal.aborted) {
            const { index, job } = group[next++];
            try {
              await run(session, job);
            } catch (err) {
              if (ctx.signal.aborted || !(err instanceof RftpError) || jobs.length === 1) throw err;
              ctx.out.error(err.message);
              failures.push({ index, err });
            }
          }
        }),
      );
    } finally {
      for (const s of extra) s.close();
      release();
    }
  }
  if (failures.length === 0) return;
  failures.sort((a, b) => a.index - b.index);
  throw new Reported(failures[0].err.exitCode, `${name}: ${failures.length} of ${jobs.length} files failed`);
}

/** The jobs per server, in the order each server first appears, keeping their input positions. */
function byServer<T>(jobs: Array<Job<T>>): Array<Array<{ index: number; job: Job<T> }>> {
  const groups = new Map<string, Array<{ index: number; job: Job<T> }>>();
  jobs.forEach((job, index) => {
    const key = serverKey(job.url);
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
