import type { ArgumentsCamelCase, Argv } from 'yargs';
import { usageError } from '../errors.js';
import { makeDir } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { displayUrl, parseFtpUrl, type FtpUrl } from '../session/url.js';
import { openSession, type CommandContext, type OutputArgs, type SessionArgs } from './context.js';
import { outputOptions, sessionOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'mkdir <url>';
export const describe = 'make a remote directory (-p: with missing parents, no error if it exists)';

export function builder(y: Argv) {
  return outputOptions(sessionOptions(y))
    .positional('url', { type: 'string', demandOption: true, describe: 'URL of the new directory' })
    .option('parents', { alias: 'p', type: 'boolean', default: false, describe: 'make missing parent directories too' })
    .example('$0 mkdir -p ftp://deploy@host/releases/2024/06', 'make the whole path');
}

export type MkdirArgs = SessionArgs & OutputArgs & { url: string; parents: boolean };

/** The core of `mkdir`, shared by the one-shot command and the shell. */
export async function makeDirectory(_ctx: CommandContext, session: Session, url: FtpUrl, parents: boolean): Promise<void> {
  if (url.path.replace(/\/+$/, '') === '') throw usageError('mkdir: the URL names no directory');
  await session.run(`mkdir ${displayUrl(url)}`, () => 0, (client) => makeDir(client, url.path, parents));
}

export function handler(args: ArgumentsCamelCase<MkdirArgs>): Promise<number> {
  return runCommand('mkdir', args, async (ctx) => {
    const url = parseFtpUrl(args.url);
    const session = openSession(url, args, ctx);
    try {
      await makeDirectory(ctx, session, url, args.parents);
      return [];
    } finally {
      session.close();
    }
  });
}
