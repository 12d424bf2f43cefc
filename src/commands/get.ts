import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { checkLocalPath } from '../session/paths.js';
import { RftpError, usageError } from '../errors.js';
import type { Session } from '../session/session.js';
import { requireFile, type FtpUrl } from '../session/url.js';
import { displayHttpUrl, httpPath, isHttpUrl, parseHttpUrl, type HttpUrl } from '../session/http-url.js';
import { remoteBasename } from '../session/paths.js';
import { httpDownload } from '../transfer/http-download.js';
import { httpSegmentedDownload } from '../transfer/http-segmented.js';
import type { Checks } from '../transfer/checks.js';
import type { VerifyMode } from '../transfer/verify.js';
import { download, statePath, type FileResult } from '../transfer/download.js';
import { limiterFor, type TokenBucket } from '../transfer/rate-limit.js';
import { segmentedDownload, type SessionMaker } from '../transfer/segmented.js';
import { readState, type SegmentedState } from '../transfer/state.js';
import { checkSegments, localTarget } from '../transfer/targets.js';
import { sessionArgsOf, type CommandContext } from './context.js';
import { eachOnConnections, isHttp } from './many.js';
import { checkOptions, checksOf, verifyOf } from './checks.js';
import { forEntry, inputFileOption, transferEntries } from './input-file.js';
import { createDirsOption, httpOptions, remoteFilesPositional, transferOptions } from './options.js';
import type { Args, CommandSpec, RunContext } from './spec.js';

export interface GetFileArgs {
  url: FtpUrl;
  output?: string;
  force: boolean;
  continue: boolean;
  limiter?: TokenBucket;
  /** --segments N: fetch over N connections (as pget -n N). */
  segments?: number;
  /** More connections to the same server, for a segmented download. */
  sessions: SessionMaker;
  checks?: Checks;
  verify?: VerifyMode;
}

/**
 * One file of `get`. A partial left by pget is continued in segments, so every range keeps its
 * bytes. With `--segments 1` the single stream continues from the pget partial's proven prefix
 * instead (download() works that out from the segmented state).
 */
export async function getFile(ctx: CommandContext, session: Session, args: GetFileArgs): Promise<FileResult> {
  requireFile(args.url);
  if (args.force && args.continue) throw new RftpError('usage', '--force and --continue exclude each other');
  const target = await localTarget(args.url.path, args.output);
  const pgetPartial = args.segments === undefined ? await readState<SegmentedState>(statePath(target), 'segmented') : undefined;
  const segments = args.segments !== undefined ? checkSegments(args.segments, '--segments') : Math.max(1, pgetPartial?.ranges?.length ?? 1);
  const opts = { force: args.force, continue: args.continue, limiter: args.limiter, checks: args.checks, verify: args.verify };
  if (segments > 1 || pgetPartial) return segmentedDownload(args.sessions, ctx.signal, args.url, target, { ...opts, segments }, ctx.out);
  return download(session, args.url, target, opts, ctx.out);
}

/**
 * The remote files of get/pget/mget as URLs, checked before anything connects: each must name a
 * file, and two may not land on one local path.
 */
export async function downloadJobs(ctx: RunContext, remotes: string[], output: string | undefined, createDirs = false): Promise<Array<{ url: FtpUrl | HttpUrl; item: string }>> {
  // An absolute http(s) URL is taken as it is, on the command line and in the shell alike.
  const jobs = remotes.map((r) => ({ url: isHttpUrl(r) ? parseHttpUrl(r) : ctx.remote.url(r, 'URL'), item: r }));
  for (const j of jobs) if (!isHttp(j.url)) requireFile(j.url);
  // `-o dir/` asks for a directory: make it (and its parents), as the slash says; --create-dirs
  // makes the directory of `-o dir/file`.
  const dir = output?.endsWith('/') ? output : createDirs && output !== undefined ? dirname(output) : undefined;
  if (dir !== undefined) {
    checkLocalPath(dir);
    await mkdir(dir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
      throw new RftpError('local', `cannot make the directory ${dir}: ${err.code ?? err.message}`);
    });
  }
  if (jobs.length > 1) {
    if (output !== undefined && !output.endsWith('/') && !(await stat(output).catch(() => undefined))?.isDirectory()) {
      throw usageError('with several files, -o must name a directory (an existing one, or one ending in /)');
    }
    const seen = new Map<string, string>();
    for (const j of jobs) {
      const target = await targetOf(j.url, output);
      const other = seen.get(target);
      if (other !== undefined) throw usageError(`${other} and ${j.item} would both be written to ${target}`);
      seen.set(target, j.item);
    }
  }
  return jobs;
}

/**
 * Where a download lands: the URL's last path segment (an http URL's decoded, without its query),
 * or -o. An http URL that ends in "/" names no file: -o must give one.
 */
export async function targetOf(url: FtpUrl | HttpUrl, output: string | undefined): Promise<string> {
  if (!isHttp(url)) return localTarget(url.path, output);
  const path = httpPath(url);
  if (remoteBasename(path) === '' || path.endsWith('/')) {
    const st = output === undefined || output.endsWith('/') ? undefined : await stat(output).catch(() => undefined);
    if (output === undefined || output.endsWith('/') || st?.isDirectory()) throw usageError(`the URL names no file (it ends in /): give -o FILE: ${displayHttpUrl(url)}`);
  }
  return localTarget(path.endsWith('/') ? 'index' : path, output);
}

/** Two sources that would land on one local path: refused before anything starts (exit 2). */
export function refuseSameTarget(jobs: Array<{ item: string; target: string }>): void {
  const seen = new Map<string, string>();
  for (const j of jobs) {
    const other = seen.get(j.target);
    if (other !== undefined) throw usageError(`${other} and ${j.item} would both be written to ${j.target}`);
    seen.set(j.target, j.item);
  }
}

export const spec: CommandSpec = {
  name: 'get',
  summary: 'download files, resuming partial downloads from an earlier run',
  usage: '<url>...',
  positionals: [remoteFilesPositional],
  options: [
    inputFileOption,
    {
      name: 'output',
      short: 'o',
      type: 'string',
      value: 'PATH',
      completes: 'local',
      describe: 'local file, or directory (a trailing / or an existing one); default: the remote name in the current directory',
    },
    createDirsOption('make the local directory of -o PATH when it is missing'),
    { name: 'segments', type: 'number', describe: 'fetch each file in N segments over N connections (as pget -n N)' },
    ...checkOptions,
    ...httpOptions,
    ...transferOptions,
  ],
  examples: [
    ['get ftps://alice@files.example.com/pub/big.iso -o ~/Downloads/', 'implicit TLS, into a directory'],
    ['get --tls ftp://alice@host/data.tar', 'explicit TLS required on ftp:// (password from RFTP_PASSWORD, ~/.netrc or the keychain)'],
    ['get -o logs/ ftp://host/a.log ftp://host/b.log', 'several files, up to --parallel at once'],
    ["get --scan 'clamscan --no-summary' ftp://host/pub/setup.exe", 'scanned before it appears; infected: quarantined, exit 10'],
    ['get -i urls.txt -P 8', 'one transfer per line (URL [-o PATH] [options]); - reads standard input'],
    ['get https://downloads.example.com/debian.iso', 'http(s) too: resumed with Range and If-Range'],
  ],
  async run(ctx, args: Args) {
    // The command line's URLs and each line of -i, with their own options; one check for
    // targets that would meet, across all of them, before anything starts.
    const entries = await transferEntries(ctx, spec, args, 'url');
    const jobs: Array<{ url: FtpUrl | HttpUrl; item: { name: string; opts: Args; checks?: Checks; verify: VerifyMode }; target: string }> = [];
    for (const entry of entries) {
      const e = entry.args;
      await forEntry(entry, async () => {
        if (e.force && e.continue) throw new RftpError('usage', '--force and --continue exclude each other');
        if (e.segments !== undefined) checkSegments(e.segments as number, '--segments');
        const checks = checksOf(e, ctx.env);
        const verify = verifyOf(e);
        for (const j of await downloadJobs(ctx, e.url as string[], e.output as string | undefined, e.createDirs === true)) {
          jobs.push({ url: j.url, item: { name: j.item, opts: e, checks, verify }, target: await targetOf(j.url, e.output as string | undefined) });
        }
      });
    }
    refuseSameTarget(jobs.map((j) => ({ item: j.item.name, target: j.target })));
    const conn = sessionArgsOf(args);
    const limiter = limiterFor(args.limitRate as string | undefined, ctx.signal);
    await eachOnConnections(
      ctx,
      'get',
      jobs,
      conn,
      args.parallel as number,
      (session, { url, item: { opts, checks, verify } }) =>
        getFile(ctx, session, {
          url,
          output: opts.output as string | undefined,
          force: opts.force === true,
          continue: opts.continue === true,
          segments: opts.segments as number | undefined,
          limiter,
          checks,
          verify,
          sessions: ctx.remote.sessions(url, conn),
        }),
      {
        http: async (client, { url, item: { opts, checks, verify } }) => {
          const target = await targetOf(url, opts.output as string | undefined);
          const o = { force: opts.force === true, continue: opts.continue === true, limiter, checks, verify };
          const pgetPartial = opts.segments === undefined ? await readState<SegmentedState>(statePath(target), 'segmented') : undefined;
          const segments = opts.segments !== undefined ? (opts.segments as number) : Math.max(1, pgetPartial?.ranges?.length ?? 1);
          if (segments > 1 || pgetPartial) return httpSegmentedDownload(client, url, target, { ...o, segments }, ctx.out);
          return httpDownload(client, url, target, o, ctx.out);
        },
      },
    );
  },
};
