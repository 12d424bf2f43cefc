import { Writable } from 'node:stream';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { RftpError } from '../errors.js';
import { retrieve } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { displayUrl, parseFtpUrl, requireFile, type FtpUrl } from '../session/url.js';
import { openSession, type CommandContext, type OutputArgs, type SessionArgs } from './context.js';
import { outputOptions, sessionOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'cat <url>';
export const describe = 'print a remote file on stdout';

export function builder(y: Argv) {
  return outputOptions(sessionOptions(y))
    .positional('url', { type: 'string', demandOption: true, describe: 'URL of the remote file' })
    .example('$0 cat ftp://alice@host/logs/today.log | grep ERROR', 'read a file without saving it');
}

export type CatArgs = SessionArgs & OutputArgs & { url: string };

/**
 * The core of `cat`, shared by the one-shot command and the shell. After a dropped connection
 * it continues with REST from the bytes already printed, so nothing is printed twice.
 */
export async function catFile(ctx: CommandContext, session: Session, url: FtpUrl): Promise<number> {
  requireFile(url);
  let printed = 0;
  let stdoutFailed: Error | undefined;
  await session.run(`cat ${displayUrl(url)}`, () => printed, async (client) => {
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
  });
  return printed;
}

export function handler(args: ArgumentsCamelCase<CatArgs>): Promise<number> {
  return runCommand('cat', args, async (ctx) => {
    const url = parseFtpUrl(args.url);
    requireFile(url);
    const session = openSession(url, args, ctx);
    try {
      await catFile(ctx, session, url);
      return [];
    } finally {
      session.close();
    }
  });
}
