import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { RftpError } from '../errors.js';
import { checkLocalPath, remoteBasename } from '../session/paths.js';
import type { Session } from '../session/session.js';
import { parseFtpUrl, requireFile, type FtpUrl } from '../session/url.js';
import { download, statePath, type FileResult } from '../transfer/download.js';
import { limiterFor, type TokenBucket } from '../transfer/rate-limit.js';
import { segmentedDownload, type SessionMaker } from '../transfer/segmented.js';
import { readState, type SegmentedState } from '../transfer/state.js';
import { sessionFactory, type CommandContext, type OutputArgs, type SessionArgs } from './context.js';
import { clobberOptions, outputOptions, rateOptions, sessionOptions } from './options.js';
import { checkSegments } from './pget.js';
import { runCommand } from './runner.js';

export const command = 'get <url>';
export const describe = 'download one file, resuming a partial download from an earlier run';

export function builder(y: Argv) {
  return rateOptions(clobberOptions(outputOptions(sessionOptions(y))))
    .positional('url', { type: 'string', demandOption: true, describe: 'ftp://, ftpes:// or ftps:// URL of the remote file' })
    .option('segments', { type: 'number', describe: 'fetch in N segments over N connections (as pget -n N)' })
    .option('output', { alias: 'o', type: 'string', describe: 'local file or directory (default: the remote name in the current directory)' })
    .example('$0 get ftps://alice@files.example.com/pub/big.iso -o ~/Downloads/', 'implicit TLS, into a directory')
    .example('RFTP_PASSWORD=… $0 get ftp://alice@host/data.tar --tls', 'explicit TLS required on ftp://');
}

export type GetArgs = SessionArgs & OutputArgs & { url: string; output?: string; force: boolean; continue: boolean; segments?: number; limitRate?: string };

/** Where the download lands: -o as a file, or into -o as a directory, or the remote name here. */
export async function localTarget(remotePath: string, output: string | undefined): Promise<string> {
  const name = remoteBasename(remotePath);
  if (output === undefined) return resolve(name);
  checkLocalPath(output);
  if (output.endsWith('/')) return resolve(join(output, name));
  const st = await stat(output).catch(() => undefined);
  return st?.isDirectory() ? resolve(join(output, name)) : resolve(output);
}

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
}

/**
 * The core of `get`, shared by the one-shot command and the shell (which passes its own session).
 * A partial left by pget is continued in segments, so every range keeps its bytes. With
 * `--segments 1` the single stream continues from the pget partial's proven prefix instead
 * (download() works that out from the segmented state).
 */
export async function getFile(ctx: CommandContext, session: Session, args: GetFileArgs): Promise<FileResult> {
  requireFile(args.url);
  if (args.force && args.continue) throw new RftpError('usage', '--force and --continue exclude each other');
  const target = await localTarget(args.url.path, args.output);
  const pgetPartial = args.segments === undefined ? await readState<SegmentedState>(statePath(target), 'segmented') : undefined;
  const segments = args.segments !== undefined ? checkSegments(args.segments, '--segments') : Math.max(1, pgetPartial?.ranges?.length ?? 1);
  const opts = { force: args.force, continue: args.continue, limiter: args.limiter };
  if (segments > 1 || pgetPartial) return segmentedDownload(args.sessions, ctx.signal, args.url, target, { ...opts, segments }, ctx.out);
  return download(session, args.url, target, opts, ctx.out);
}

export function handler(args: ArgumentsCamelCase<GetArgs>): Promise<number> {
  return runCommand('get', args, async (ctx) => {
    const url = parseFtpUrl(args.url);
    requireFile(url);
    const sessions = sessionFactory(url, args, ctx);
    // Connects on first use: a segmented download opens its own connections instead.
    const session = sessions();
    try {
      const { output, force, segments } = args;
      return [await getFile(ctx, session, { url, output, force, continue: args.continue, segments, limiter: limiterFor(args.limitRate, ctx.signal), sessions })];
    } finally {
      session.close();
    }
  });
}
