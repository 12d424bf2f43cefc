import { usageError } from '../errors.js';
import { removeDirectory } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import { sessionArgsOf, type CommandContext } from './context.js';
import { forEachRemote } from './many.js';
import { remoteOptions } from './options.js';
import type { CommandSpec } from './spec.js';

/** One directory of `rmdir`. */
export async function removeDir(_ctx: CommandContext, session: Session, url: FtpUrl): Promise<void> {
  if (url.path.replace(/\/+$/, '') === '') throw usageError('rmdir: refusing to remove the login or root directory');
  await session.run(
    `rmdir ${displayUrl(url)}`,
    () => 0,
    (client) => removeDirectory(client, url.path, false),
  );
}

export const spec: CommandSpec = {
  name: 'rmdir',
  ftpOnly: true,
  summary: 'remove empty remote directories',
  positionals: [{ name: 'url', arity: 'many', completes: 'remote-dir', describe: 'URL of the remote directory (in the shell: a path)' }],
  options: remoteOptions,
  examples: [['rmdir ftp://alice@host/empty', 'remove an empty directory']],
  async run(ctx, args) {
    await forEachRemote(ctx, args.url as string[], sessionArgsOf(args), (session, url) => removeDir(ctx, session, url));
  },
};
