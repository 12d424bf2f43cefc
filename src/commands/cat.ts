import { Writable } from 'node:stream';
import { RftpError } from '../errors.js';
import { retrieve } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { displayUrl, requireFile, type FtpUrl } from '../session/url.js';
import { httpClientFor, sessionArgsOf, type CommandContext, type SessionArgs } from './context.js';
import { isHttpUrl, parseHttpUrl, type HttpUrl } from '../session/http-url.js';
import { httpCat } from '../transfer/http-download.js';
import { forEachRemote } from './many.js';
import { httpOptions, remoteOptions } from './options.js';
import type { CommandSpec } from './spec.js';

async function catHttp(ctx: CommandContext, url: HttpUrl, conn: SessionArgs): Promise<void> {
  const client = httpClientFor(url, conn, ctx);
  let stdoutFailed: Error | undefined;
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve, reject) =>
      ctx.out.writeRaw(chunk, (err) => {
        if (!err) return resolve();
        stdoutFailed = err;
        reject(new RftpError('local', `cat: cannot write to stdout (${(stdoutFailed as NodeJS.ErrnoException).code ?? stdoutFailed.message})`));
      }),
    );
  try {
    await httpCat(client, url, write, ctx.out);
  } finally {
    client.close();
  }
}

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
  positionals: [{ name: 'url', arity: 'many', completes: 'remote', describe: 'URL of a remote file, ftp or http(s) (in the shell: a path relative to the remote directory, or an absolute URL)' }],
  options: [...httpOptions, ...remoteOptions],
  examples: [
    ['cat ftp://alice@host/logs/today.log | grep ERROR', 'read a file without saving it'],
    ['cat https://example.com/SHA256SUMS', 'http(s) too'],
  ],
  async run(ctx, args) {
    const conn = sessionArgsOf(args);
    const texts = args.url as string[];
    // In order, each URL on its own: FTP ones share a connection per server, http ones a client.
    for (let i = 0; i < texts.length; ) {
      let j = i;
      while (j < texts.length && isHttpUrl(texts[j]) === isHttpUrl(texts[i])) j++;
      const run = texts.slice(i, j);
      if (isHttpUrl(texts[i])) for (const text of run) await catHttp(ctx, parseHttpUrl(text), conn);
      else
        await forEachRemote(ctx, run, conn, async (session, url) => {
          await catFile(ctx, session, url);
        });
      i = j;
    }
  },
};
