import { posix } from 'node:path';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { usageError } from '../errors.js';
import { deleteFile, removeDirectory, resolveDir } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { displayUrl, parseFtpUrl, type FtpUrl } from '../session/url.js';
import { openSession, type CommandContext, type OutputArgs, type SessionArgs } from './context.js';
import { outputOptions, sessionOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'rm <url>';
export const describe = 'remove a remote file (-r: a directory and everything in it)';

export function builder(y: Argv) {
  return outputOptions(sessionOptions(y))
    .positional('url', { type: 'string', demandOption: true, describe: 'URL of the remote file' })
    .option('recursive', { alias: 'r', type: 'boolean', default: false, describe: 'remove a directory tree' })
    .example('$0 rm ftp://alice@host/old.tar', 'remove one file');
}

export type RmArgs = SessionArgs & OutputArgs & { url: string; recursive: boolean };

/** The core of `rm`, shared by the one-shot command and the shell. */
export async function removePath(ctx: CommandContext, session: Session, url: FtpUrl, recursive: boolean): Promise<void> {
  const refuse = () => usageError('rm: refusing to remove the login or root directory, or a directory holding the login directory');
  if (url.path === '' || url.path.replace(/\/+$/, '') === '') throw refuse();
  if (recursive) {
    // ".", "sub/..", "~" or ".." in the shell, or the login directory (or one above it) by its
    // absolute name: resolved against the login directory, none of them may take it (or "/") away.
    const home = posix.resolve(await session.run(`rm ${displayUrl(url)}`, () => 0, (client) => resolveDir(client, '')));
    const target = posix.resolve(home, url.path);
    if (target === '/' || target === home || home.startsWith(target + '/')) throw refuse();
  }
  await session.run(`rm ${displayUrl(url)}`, () => 0, (client) => (recursive ? removeDirectory(client, url.path, true) : deleteFile(client, url.path)));
  ctx.out.debug(`removed ${url.path}`);
}

export function handler(args: ArgumentsCamelCase<RmArgs>): Promise<number> {
  return runCommand('rm', args, async (ctx) => {
    const url = parseFtpUrl(args.url);
    const session = openSession(url, args, ctx);
    try {
      await removePath(ctx, session, url, args.recursive);
      return [];
    } finally {
      session.close();
    }
  });
}
