import { basename } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { RftpError } from '../errors.js';
import { checkLocalPath, checkRemotePath } from '../session/paths.js';
import { parseFtpUrl } from '../session/url.js';
import { upload } from '../transfer/upload.js';
import { openSession, type OutputArgs, type SessionArgs } from './context.js';
import { clobberOptions, outputOptions, sessionOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'put <local> <url>';
export const describe = 'upload one file, resuming a partial upload from an earlier run';

export function builder(y: Argv) {
  return clobberOptions(outputOptions(sessionOptions(y)))
    .positional('local', { type: 'string', demandOption: true, describe: 'local file to upload' })
    .positional('url', { type: 'string', demandOption: true, describe: 'remote file URL, or a directory URL ending in /' })
    .example('$0 put build.zip ftpes://deploy@host/releases/', 'into a directory, explicit TLS')
    .example('$0 put -f site.tar ftp://deploy@host/site.tar', 'replace an existing remote file');
}

export type PutArgs = SessionArgs & OutputArgs & { local: string; url: string; force: boolean; continue: boolean };

export function handler(args: ArgumentsCamelCase<PutArgs>): Promise<number> {
  return runCommand('put', args, async (ctx) => {
    checkLocalPath(args.local);
    const url = parseFtpUrl(args.url);
    if (url.path === '' || url.path.endsWith('/')) url.path += basename(args.local);
    checkRemotePath(url.path);
    if (args.force && args.continue) throw new RftpError('usage', '--force and --continue exclude each other');
    const session = openSession(url, args, ctx);
    try {
      return [await upload(session, args.local, url, { force: args.force, continue: args.continue, settleMs: settleMs(ctx.env) }, ctx.out)];
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
