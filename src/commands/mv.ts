import type { ArgumentsCamelCase, Argv } from 'yargs';
import { usageError } from '../errors.js';
import { renameRemote } from '../session/ops.js';
import { checkRemotePath, remoteBasename } from '../session/paths.js';
import type { Session } from '../session/session.js';
import { displayUrl, isFtpUrl, parseFtpUrl, redactUrlText, type FtpUrl } from '../session/url.js';
import { openSession, type CommandContext, type OutputArgs, type SessionArgs } from './context.js';
import { outputOptions, sessionOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'mv <url> <to>';
export const describe = 'rename or move a remote file or directory on the same server';

export function builder(y: Argv) {
  return outputOptions(sessionOptions(y))
    .positional('url', { type: 'string', demandOption: true, describe: 'URL of the file to move' })
    .positional('to', { type: 'string', demandOption: true, describe: 'new path (relative to the login directory, or /absolute; ending in / = into that directory)' })
    .example('$0 mv ftp://alice@host/upload.tmp upload.tar', 'rename in the login directory');
}

export type MvArgs = SessionArgs & OutputArgs & { url: string; to: string };

/** The core of `mv`, shared by the one-shot command and the shell. A target ending in / keeps the name. */
export async function moveRemote(_ctx: CommandContext, session: Session, from: FtpUrl, to: string): Promise<void> {
  const target = to.endsWith('/') ? to + remoteBasename(from.path) : to;
  checkRemotePath(target);
  if (target === '' || from.path === '') throw usageError('mv: give a source and a target path');
  await session.run(`mv ${displayUrl(from)}`, () => 0, (client) => renameRemote(client, from.path, target));
}

export function handler(args: ArgumentsCamelCase<MvArgs>): Promise<number> {
  return runCommand('mv', args, async (ctx) => {
    const url = parseFtpUrl(args.url);
    let to = String(args.to);
    // Another scheme's URL would be taken as a path ("http:/x/y" on the server).
    if (!isFtpUrl(to) && /^[a-z][a-z0-9+.-]*:\/\//i.test(to)) throw usageError(`mv: the target is a URL but no ftp://, ftpes:// or ftps:// one: ${redactUrlText(to)}`);
    if (isFtpUrl(to)) {
      const t = parseFtpUrl(to);
      if (t.host !== url.host || t.port !== url.port) throw usageError('mv: both URLs must name the same server');
      to = t.path;
    }
    const session = openSession(url, args, ctx);
    try {
      await moveRemote(ctx, session, url, to);
      return [];
    } finally {
      session.close();
    }
  });
}
