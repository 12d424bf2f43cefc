import type { ArgumentsCamelCase, Argv } from 'yargs';
import { usageError } from '../errors.js';
import { removeDirectory } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { displayUrl, parseFtpUrl, type FtpUrl } from '../session/url.js';
import { openSession, type CommandContext, type OutputArgs, type SessionArgs } from './context.js';
import { outputOptions, sessionOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'rmdir <url>';
export const describe = 'remove an empty remote directory';

export function builder(y: Argv) {
  return outputOptions(sessionOptions(y)).positional('url', { type: 'string', demandOption: true, describe: 'URL of the remote directory' });
}

export type RmdirArgs = SessionArgs & OutputArgs & { url: string };

/** The core of `rmdir`, shared by the one-shot command and the shell. */
export async function removeDir(_ctx: CommandContext, session: Session, url: FtpUrl): Promise<void> {
  if (url.path.replace(/\/+$/, '') === '') throw usageError('rmdir: refusing to remove the login or root directory');
  await session.run(`rmdir ${displayUrl(url)}`, () => 0, (client) => removeDirectory(client, url.path, false));
}

export function handler(args: ArgumentsCamelCase<RmdirArgs>): Promise<number> {
  return runCommand('rmdir', args, async (ctx) => {
    const url = parseFtpUrl(args.url);
    const session = openSession(url, args, ctx);
    try {
      await removeDir(ctx, session, url);
      return [];
    } finally {
      session.close();
    }
  });
}
