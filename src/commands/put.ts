import { basename } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { RftpError } from '../errors.js';
import { checkLocalPath, checkRemotePath } from '../session/paths.js';
import type { Session } from '../session/session.js';
import { parseFtpUrl, type FtpUrl } from '../session/url.js';
import type { FileResult } from '../transfer/download.js';
import { upload } from '../transfer/upload.js';
import { openSession, type CommandContext, type OutputArgs, type SessionArgs } from './context.js';
import { limiterFor, type TokenBucket } from '../transfer/rate-limit.js';
import { clobberOptions, outputOptions, rateOptions, sessionOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'put <local> <url>';
export const describe = 'upload one file, resuming a partial upload from an earlier run';

export function builder(y: Argv) {
  return rateOptions(clobberOptions(outputOptions(sessionOptions(y))))
    .positional('local', { type: 'string', demandOption: true, describe: 'local file to upload' })
    .positional('url', { type: 'string', demandOption: true, describe: 'remote file URL, or a directory URL ending in /' })
    .example('$0 put build.zip ftpes://deploy@host/releases/', 'into a directory, explicit TLS')
    .example('$0 put -f site.tar ftp://deploy@host/site.tar', 'replace an existing remote file');
}

export type PutArgs = SessionArgs & OutputArgs & { local: string; url: string; force: boolean; continue: boolean; limitRate?: string };

export interface PutFileArgs { local: string; url: FtpUrl; force: boolean; continue: boolean; limiter?: TokenBucket }

/** The core of `put`, shared by the one-shot command and the shell; a URL ending in / is a directory. */
export async function putFile(ctx: CommandContext, session: Session, args: PutFileArgs): Promise<FileResult> {
  checkLocalPath(args.local);
  const url = { ...args.url };
  // "." and ".." name directories too: the file goes into them, never to a file named ".".
  if (/(^|\/)\.\.?$/.test(url.path)) url.path += '/';
  if (url.path === '' || url.path.endsWith('/')) url.path += basename(args.local);
  checkRemotePath(url.path);
  if (args.force && args.continue) throw new RftpError('usage', '--force and --continue exclude each other');
  return upload(session, args.local, url, { force: args.force, continue: args.continue, settleMs: settleMs(ctx.env), limiter: args.limiter }, ctx.out);
}

export function handler(args: ArgumentsCamelCase<PutArgs>): Promise<number> {
  return runCommand('put', args, async (ctx) => {
    const url = parseFtpUrl(args.url);
    const session = openSession(url, args, ctx);
    try {
      return [await putFile(ctx, session, { local: args.local, url, force: args.force, continue: args.continue, limiter: limiterFor(args.limitRate, ctx.signal) })];
    } finally {
      session.close();
    }
  });
}

/** How long a remote partial must keep its size before an upload appends to it (see README). */
function settleMs(env: NodeJS.ProcessEnv): number {
  const v = Number(env.RFTP_UPLOAD_SETTLE_MS);
  return Number.isFinite(v) && v >= 0 && env.RFTP_UPLOAD_SETTLE_MS !== undefined ? v : 1000;
}
