import type { ArgumentsCamelCase, Argv } from 'yargs';
import { RftpError, usageError } from '../errors.js';
import { keychainAccount, keychainStore, requireKeychain } from '../session/keychain.js';
import { promptHidden } from '../session/prompt.js';
import { parseFtpUrl, type FtpUrl } from '../session/url.js';
import { addSecret } from '../ui/redact.js';
import { sessionFactory, type CommandContext, type OutputArgs, type SessionArgs } from './context.js';
import { outputOptions, sessionOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'login <url>';
export const describe = 'store the password for the URL\'s user in the OS keychain (read from stdin, or asked without echo)';

export function builder(y: Argv) {
  return outputOptions(sessionOptions(y))
    .positional('url', { type: 'string', demandOption: true, describe: 'ftp://USER@host[:port]/ (the path is ignored)' })
    .option('check', { type: 'boolean', default: true, describe: 'log in once before storing, so a mistyped password is not kept (--no-check to skip)' })
    .example('$0 login ftpes://alice@files.example.com', 'asks for the password, checks it, stores it')
    .example('pass show ftp/alice | $0 login ftp://alice@host', 'password from stdin');
}

export type LoginArgs = SessionArgs & OutputArgs & { url: string; check: boolean };

/** The user a keychain entry is for: the URL's, else --user (without any :password part). */
export function keychainUser(url: FtpUrl, userOption: string | undefined): string {
  const user = url.user ?? userOption?.split(':')[0];
  if (!user) throw usageError('the keychain keeps passwords per user: name one in the URL (ftp://USER@host/) or with --user');
  return user;
}

/** The password from stdin when it is not a terminal (first line), else asked without echo. */
async function readPassword(question: string): Promise<string> {
  if (process.stdin.isTTY) return promptHidden(question).catch(() => {
    throw new RftpError('interrupted', 'interrupted');
  });
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0];
}

/**
 * The core of `login`, shared by the one-shot command and the shell: checks the password by
 * logging in (unless check is off), then stores it under service "rftp", account user@host:port.
 */
export async function storeLogin(ctx: CommandContext, url: FtpUrl, args: SessionArgs & { check: boolean }): Promise<void> {
  const user = keychainUser(url, args.user);
  // Say "no keychain" before asking for a password that could not be kept.
  await requireKeychain(ctx.env);
  let password = url.password;
  if (password === undefined) password = await readPassword(`Password for ${user}@${url.host}: `);
  if (password === '') throw usageError('no password given: nothing stored');
  if (/[\r\n\0]/.test(password)) throw usageError('refusing a password containing CR, LF or NUL');
  addSecret(password);
  if (args.check) {
    const session = sessionFactory({ ...url, user, password, path: '' }, { ...args, user: undefined }, ctx)();
    try {
      await session.run('login', () => 0, async () => undefined);
    } finally {
      session.close();
    }
  }
  await keychainStore(user, url.host, url.port, password, ctx.env);
  ctx.out.info(`password for ${keychainAccount(user, url.host, url.port)} stored in the OS keychain`);
}

export function handler(args: ArgumentsCamelCase<LoginArgs>): Promise<number> {
  return runCommand('login', args, async (ctx) => {
    await storeLogin(ctx, parseFtpUrl(args.url), args);
    return [];
  });
}
