import { RftpError, usageError } from '../errors.js';
import { keychainAccount, keychainStore, requireKeychain } from '../session/keychain.js';
import { promptHidden } from '../ui/prompt.js';
import { isFtpUrl, type FtpUrl } from '../session/url.js';
import { displayHttpUrl, isHttpUrl, parseHttpUrl, type HttpUrl } from '../session/http-url.js';
import { statusError } from '../session/http.js';
import { addSecret } from '../ui/redact.js';
import { httpClientFor, sessionArgsOf, sessionFactory, type CommandContext, type SessionArgs } from './context.js';
import { remoteOptions } from './options.js';
import type { CommandSpec, RunContext } from './spec.js';

/** What a keychain entry is for: user@host:port, from an FTP or an http(s) URL. */
export type KeychainUrl = Pick<FtpUrl, 'host' | 'port' | 'user' | 'password'> & { ftp?: FtpUrl; http?: HttpUrl };

/** The server of a keychain entry: a URL, or in the shell by default the open one (never a path there). */
export function keychainUrl(ctx: RunContext, text: string | undefined): KeychainUrl {
  // http(s) credentials come from the same keychain entries (user@host:port), so they are stored the same way.
  if (text !== undefined && isHttpUrl(text)) {
    const http = parseHttpUrl(text);
    return { host: http.host, port: http.port, user: http.user, password: http.password, http };
  }
  if (ctx.remote.kind === 'site' && text !== undefined && !isFtpUrl(text)) throw usageError('give an ftp://, ftpes://, ftps:// or http(s):// URL, or nothing for the open server');
  const ftp = ctx.remote.url(text, 'URL');
  return { ...ftp, ftp };
}

/** The user a keychain entry is for: the URL's, else --user (without any :password part). */
export function keychainUser(url: Pick<KeychainUrl, 'user'>, userOption: string | undefined): string {
  const user = url.user ?? userOption?.split(':')[0];
  if (!user) throw usageError('the keychain keeps passwords per user: name one in the URL (ftp://USER@host/) or with --user');
  return user;
}

/** The password from stdin when it is not a terminal (first line), else asked without echo. */
async function readPassword(question: string): Promise<string> {
  if (process.stdin.isTTY)
    return promptHidden(question).catch(() => {
      throw new RftpError('interrupted', 'interrupted');
    });
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
}

/**
 * Checks the password by logging in (unless check is off), then stores it under service "rftp",
 * account user@host:port.
 */
export async function storeLogin(ctx: CommandContext, url: KeychainUrl, args: SessionArgs & { check: boolean }): Promise<void> {
  const user = keychainUser(url, args.user);
  // Say "no keychain" before asking for a password that could not be kept.
  await requireKeychain(ctx.env);
  let password = url.password;
  if (password === undefined) password = await readPassword(`Password for ${user}@${url.host}: `);
  if (password === '') throw usageError('no password given: nothing stored');
  if (/[\r\n\0]/.test(password)) throw usageError('refusing a password containing CR, LF or NUL');
  addSecret(password);
  if (args.check && url.http) await checkHttpLogin(ctx, { ...url.http, user, password }, args);
  else if (args.check && url.ftp) {
    const session = sessionFactory({ ...url.ftp, user, password, path: '' }, { ...args, user: undefined }, ctx)();
    try {
      await session.run(
        'login',
        () => 0,
        async () => undefined,
      );
    } finally {
      session.close();
    }
  }
  await keychainStore(user, url.host, url.port, password, ctx.env);
  ctx.out.info(`password for ${keychainAccount(user, url.host, url.port)} stored in the OS keychain`);
}

/** An http(s) password is checked with a HEAD of the URL: only a 401 says it is wrong. */
async function checkHttpLogin(ctx: CommandContext, url: HttpUrl, args: SessionArgs): Promise<void> {
  const client = httpClientFor(url, { ...args, user: undefined }, ctx);
  try {
    await client.run(
      'login',
      () => 0,
      async () => {
        const res = await client.request({ method: 'HEAD', url });
        res.body.resume();
        if (res.status === 401) throw statusError(res.body, `login ${displayHttpUrl(url)}`, true);
      },
    );
  } finally {
    client.close();
  }
}

export const spec: CommandSpec = {
  name: 'login',
  summary: "store the password for the URL's user in the OS keychain (read from stdin, or asked without echo)",
  positionals: [
    {
      name: 'url',
      arity: 'optional',
      completes: 'none',
      describe:
        'ftp://USER@host[:port]/ (the path is ignored; for http(s) the password is checked with a HEAD of the URL); in the shell by default the open server, with the password it was opened with',
    },
  ],
  options: [{ name: 'check', type: 'boolean', default: true, describe: 'log in once before storing, so a mistyped password is not kept (--no-check to skip)' }, ...remoteOptions],
  examples: [
    ['login ftpes://alice@files.example.com', 'asks for the password, checks it, stores it'],
    ['login ftp://alice@host < password.txt', 'the password from stdin (its first line)'],
  ],
  async run(ctx, args) {
    const url = keychainUrl(ctx, args.url as string | undefined);
    // The shell's own server was just logged into with that password: no second login.
    const check = args.check === true && args.url !== undefined;
    if (!ctx.stdinFree && url.password === undefined) {
      // As on the command line: "no keychain" first, before asking for a password it could not keep.
      await requireKeychain(ctx.env);
      throw usageError('login: in a script, use `rftp login URL` with the password on stdin');
    }
    await storeLogin(ctx, url, { ...sessionArgsOf(args), check });
  },
};
