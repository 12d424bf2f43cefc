import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { RftpError } from '../errors.js';
import { checkLocalPath, remoteBasename } from '../session/paths.js';
import { parseFtpUrl, requireFile } from '../session/url.js';
import { download } from '../transfer/download.js';
import { openSession, type OutputArgs, type SessionArgs } from './context.js';
import { clobberOptions, outputOptions, sessionOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'get <url>';
export const describe = 'download one file, resuming a partial download from an earlier run';

export function builder(y: Argv) {
  return clobberOptions(outputOptions(sessionOptions(y)))
    .positional('url', { type: 'string', demandOption: true, describe: 'ftp://, ftpes:// or ftps:// URL of the remote file' })
    .option('output', { alias: 'o', type: 'string', describe: 'local file or directory (default: the remote name in the current directory)' })
    .example('$0 get ftps://alice@files.example.com/pub/big.iso -o ~/Downloads/', 'implicit TLS, into a directory')
    .example('RFTP_PASSWORD=… $0 get ftp://alice@host/data.tar --tls', 'explicit TLS required on ftp://');
}

export type GetArgs = SessionArgs & OutputArgs & { url: string; output?: string; force: boolean; continue: boolean };

/** Where the download lands: -o as a file, or into -o as a directory, or the remote name here. */
export async function localTarget(remotePath: string, output: string | undefined): Promise<string> {
  const name = remoteBasename(remotePath);
  if (output === undefined) return resolve(name);
  checkLocalPath(output);
  if (output.endsWith('/')) return resolve(join(output, name));
  const st = await stat(output).catch(() => undefined);
  return st?.isDirectory() ? resolve(join(output, name)) : resolve(output);
}

export function handler(args: ArgumentsCamelCase<GetArgs>): Promise<number> {
  return runCommand('get', args, async (ctx) => {
    const url = parseFtpUrl(args.url);
    requireFile(url);
    const target = await localTarget(url.path, args.output);
    if (args.force && args.continue) throw new RftpError('usage', '--force and --continue exclude each other');
    const session = openSession(url, args, ctx);
    try {
      return [await download(session, url, target, { force: args.force, continue: args.continue }, ctx.out)];
    } finally {
      session.close();
    }
  });
}
