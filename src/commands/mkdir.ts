import { usageError } from '../errors.js';
import { makeDir } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import { sessionArgsOf, type CommandContext } from './context.js';
import { forEachRemote } from './many.js';
import { remoteOptions } from './options.js';
import type { CommandSpec } from './spec.js';

/** One directory of `mkdir`. */
export async function makeDirectory(_ctx: CommandContext, session: Session, url: FtpUrl, parents: boolean): Promise<void> {
  if (url.path.replace(/\/+$/, '') === '') throw usageError('mkdir: the URL names no directory');
  await session.run(
    `mkdir ${displayUrl(url)}`,
    () => 0,
    (client) => makeDir(client, url.path, parents),
  );
}

export const spec: CommandSpec = {
  name: 'mkdir',
  ftpOnly: true,
  summary: 'make remote directories (-p: with missing parents, no error if they exist)',
  positionals: [{ name: 'url', arity: 'many', completes: 'remote-dir', describe: 'URL of the new directory (in the shell: a path)' }],
  options: [{ name: 'parents', short: 'p', type: 'boolean', default: false, describe: 'make missing parent directories too' }, ...remoteOptions],
  examples: [['mkdir -p ftp://deploy@host/releases/2024/06', 'make the whole path']],
  async run(ctx, args) {
    await forEachRemote(ctx, args.url as string[], sessionArgsOf(args), (session, url) => makeDirectory(ctx, session, url, args.parents === true));
  },
};
