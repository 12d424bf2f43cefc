import { posix } from 'node:path';
import { usageError } from '../errors.js';
import { deleteFile, removeDirectory, resolveDir } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import { sessionArgsOf, type CommandContext } from './context.js';
import { forEachRemote } from './many.js';
import { remoteOptions } from './options.js';
import type { CommandSpec } from './spec.js';

/** One path of `rm`. */
export async function removePath(ctx: CommandContext, session: Session, url: FtpUrl, recursive: boolean): Promise<void> {
  const refuse = () => usageError('rm: refusing to remove the login or root directory, or a directory holding the login directory');
  if (url.path === '' || url.path.replace(/\/+$/, '') === '') throw refuse();
  if (recursive) {
    // ".", "sub/..", "~" or ".." in the shell, or the login directory (or one above it) by its
    // absolute name: resolved against the login directory, none of them may take it (or "/") away.
    const home = posix.resolve(
      await session.run(
        `rm ${displayUrl(url)}`,
        () => 0,
        (client) => resolveDir(client, ''),
      ),
    );
    const target = posix.resolve(home, url.path);
    if (target === '/' || target === home || home.startsWith(`${target}/`)) throw refuse();
  }
  await session.run(
    `rm ${displayUrl(url)}`,
    () => 0,
    (client) => (recursive ? removeDirectory(client, url.path, true) : deleteFile(client, url.path)),
  );
  ctx.out.debug(`removed ${url.path}`);
}

export const spec: CommandSpec = {
  name: 'rm',
  ftpOnly: true,
  summary: 'remove remote files (-r: directories and everything in them)',
  positionals: [{ name: 'url', arity: 'many', completes: 'remote', describe: 'URL of a remote file (in the shell: a path)' }],
  options: [{ name: 'recursive', short: 'r', type: 'boolean', default: false, describe: 'remove a directory tree (never the login directory, one above it, or /)' }, ...remoteOptions],
  examples: [['rm ftp://alice@host/old.tar', 'remove one file']],
  async run(ctx, args) {
    await forEachRemote(ctx, args.url as string[], sessionArgsOf(args), (session, url) => removePath(ctx, session, url, args.recursive === true));
  },
};
