import type { ArgumentsCamelCase, Argv } from 'yargs';
import { RftpError } from '../errors.js';
import { parseFtpUrl, requireFile, type FtpUrl } from '../session/url.js';
import type { FileResult } from '../transfer/download.js';
import { limiterFor, type TokenBucket } from '../transfer/rate-limit.js';
import { segmentedDownload, type SessionMaker } from '../transfer/segmented.js';
import { sessionFactory, type CommandContext, type OutputArgs, type SessionArgs } from './context.js';
import { localTarget } from './get.js';
import { clobberOptions, outputOptions, rateOptions, sessionOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'pget <url>';
export const describe = 'download one file over several connections at once, resumable per segment';

/** More connections than this mostly annoys servers; lftp and aria2 cap theirs similarly. */
const MAX_SEGMENTS = 16;

export function builder(y: Argv) {
  return rateOptions(clobberOptions(outputOptions(sessionOptions(y))))
    .positional('url', { type: 'string', demandOption: true, describe: 'ftp://, ftpes:// or ftps:// URL of the remote file' })
    .option('connections', { alias: 'n', type: 'number', default: 4, describe: `number of connections (segments), 1-${MAX_SEGMENTS}; fewer are used when the server refuses more` })
    .option('output', { alias: 'o', type: 'string', describe: 'local file or directory (default: the remote name in the current directory)' })
    .example('$0 pget -n 4 ftpes://alice@host/iso/big.iso -o ~/Downloads/', 'four connections, explicit TLS')
    .example('$0 pget -n 8 --limit-rate 5M ftp://host/pub/data.tar', 'at most 5 MiB/s in total');
}

export type PgetArgs = SessionArgs & OutputArgs & { url: string; output?: string; force: boolean; continue: boolean; connections: number; limitRate?: string };

export function checkSegments(n: number, option: string): number {
  if (!Number.isInteger(n) || n < 1 || n > MAX_SEGMENTS) throw new RftpError('usage', `${option} must be a whole number from 1 to ${MAX_SEGMENTS}`);
  return n;
}

export interface PgetFileArgs { url: FtpUrl; output?: string; force: boolean; continue: boolean; connections: number; limiter?: TokenBucket }

/** The core of `pget`, shared by the one-shot command and the shell (which passes its own connections). */
export async function pgetFile(ctx: CommandContext, sessions: SessionMaker, args: PgetFileArgs): Promise<FileResult> {
  requireFile(args.url);
  const segments = checkSegments(args.connections, '-n/--connections');
  const target = await localTarget(args.url.path, args.output);
  if (args.force && args.continue) throw new RftpError('usage', '--force and --continue exclude each other');
  return segmentedDownload(sessions, ctx.signal, args.url, target, { force: args.force, continue: args.continue, segments, limiter: args.limiter }, ctx.out);
}

export function handler(args: ArgumentsCamelCase<PgetArgs>): Promise<number> {
  return runCommand('pget', args, async (ctx) => {
    const url = parseFtpUrl(args.url);
    requireFile(url);
    const { output, force, connections } = args;
    return [await pgetFile(ctx, sessionFactory(url, args, ctx), { url, output, force, continue: args.continue, connections, limiter: limiterFor(args.limitRate, ctx.signal) })];
  });
}
