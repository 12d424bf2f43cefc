import { usageError } from '../errors.js';
import { renameRemote } from '../session/ops.js';
import { checkRemotePath, remoteBasename } from '../session/paths.js';
import type { Session } from '../session/session.js';
import { displayUrl, isFtpUrl, parseFtpUrl, redactUrlText, type FtpUrl } from '../session/url.js';
import { sessionArgsOf, type CommandContext } from './context.js';
import { forEachRemote } from './many.js';
import { remoteOptions } from './options.js';
import type { CommandSpec } from './spec.js';

/** Renames on the server; a target ending in / keeps the name. */
export async function moveRemote(_ctx: CommandContext, session: Session, from: FtpUrl, to: string): Promise<void> {
  const target = to.endsWith('/') ? to + remoteBasename(from.path) : to;
  checkRemotePath(target);
  if (target === '' || from.path === '') throw usageError('mv: give a source and a target path');
  await session.run(
    `mv ${displayUrl(from)}`,
    () => 0,
    (client) => renameRemote(client, from.path, target),
  );
}

export const spec: CommandSpec = {
  name: 'mv',
  ftpOnly: true,
  aliases: ['rename'],
  summary: 'rename or move a remote file or directory on the same server',
  positionals: [
    { name: 'url', completes: 'remote', describe: 'URL of the file to move (in the shell: a path)' },
    {
      name: 'to',
      completes: 'remote',
      describe: 'new path (relative to the login directory, or /absolute; in the shell relative to the remote directory), or a URL of the same server; ending in / = into that directory',
    },
  ],
  options: remoteOptions,
  examples: [['mv ftp://alice@host/upload.tmp upload.tar', 'rename in the login directory']],
  async run(ctx, args) {
    const url = ctx.remote.url(args.url as string, 'URL');
    let to = args.to as string;
    // Another scheme's URL would be taken as a path ("http:/x/y" on the server).
    if (!isFtpUrl(to) && /^[a-z][a-z0-9+.-]*:\/\//i.test(to)) throw usageError(`mv: the target is a URL but no ftp://, ftpes:// or ftps:// one: ${redactUrlText(to)}`);
    if (isFtpUrl(to)) {
      const t = parseFtpUrl(to);
      if (t.host !== url.host || t.port !== url.port) throw usageError('mv: both URLs must name the same server');
      to = t.path;
    } else {
      to = ctx.remote.path(to);
    }
    await forEachRemote(ctx, [args.url as string], sessionArgsOf(args), (session, from) => moveRemote(ctx, session, from, to));
  },
};
