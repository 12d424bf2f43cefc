import { Writable } from 'node:stream';
import { RftpError } from '../errors.js';
import { retrieve } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { displayUrl, requireFile, type FtpUrl } from '../session/url.js';
import { sessionArgsOf, type CommandContext } from './context.js';
import { forEachRemote } from './many.js';
import { remoteOptions } from './options.js';
import type { CommandSpec } from './spec.js';

/** One file of `cat`. After a dropped connection it continues with REST from the bytes already printed, so nothing is printed twice. */
export async function catFile(ctx: CommandContext, session: Session, url: FtpUrl): Promise<number> {
  requireFile(url);
  let printed = 0;
  let stdoutFailed: Error | undefined;
  await session.run(
    `cat ${displayUrl(url)}`,
    () => printed,
    async (client) => {
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          ctx.out.writeRaw(chunk, (err) => {
            if (err) stdoutFailed = err;
            else printed += chunk.length;
            done(err);
          });
        },
      });
      try {
        await retrieve(client, sink, url.path, printed);
      } catch (err) {
        // A closed stdout (cat … | head) is the reader's choice, not a connection problem to retry.
        if (stdoutFailed) throw new RftpError('local', `cat: cannot write to stdout (${(stdoutFailed as NodeJS.ErrnoException).code ?? stdoutFailed.message})`);
        throw err;
      }
    },
  );
  return printed;
}

export const spec: CommandSpec = {
  name: 'cat',
  summary: 'print remote files on stdout',
  positionals: [{ name: 'url', arity: 'many', completes: 'remote', describe: 'URL of a remote file (in the shell: a path relative to the remote directory)' }],
  options: remoteOptions,
  examples: [['cat ftp://alice@host/logs/today.log | grep ERROR', 'read a file without saving it']],
  async run(ctx, args) {
    await forEachRemote(ctx, args.url as string[], sessionArgsOf(args), async (session, url) => {
      await catFile(ctx, session, url);
    });
  },
};
