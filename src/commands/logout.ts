import type { ArgumentsCamelCase, Argv } from 'yargs';
import { keychainAccount, keychainDelete } from '../session/keychain.js';
import { parseFtpUrl, type FtpUrl } from '../session/url.js';
import type { CommandContext, OutputArgs } from './context.js';
import { keychainUser } from './login.js';
import { outputOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'logout <url>';
export const describe = 'remove the password stored by `rftp login` from the OS keychain';

export function builder(y: Argv) {
  return outputOptions(y)
    .positional('url', { type: 'string', demandOption: true, describe: 'ftp://USER@host[:port]/' })
    .option('user', { alias: 'u', type: 'string', describe: 'user name, when the URL has none' })
    .example('$0 logout ftpes://alice@files.example.com', 'forget the stored password');
}

export type LogoutArgs = OutputArgs & { url: string; user?: string };

/** The core of `logout`, shared by the one-shot command and the shell. */
export async function removeLogin(ctx: CommandContext, url: FtpUrl, userOption: string | undefined): Promise<void> {
  const user = keychainUser(url, userOption);
  const account = keychainAccount(user, url.host, url.port);
  if (await keychainDelete(user, url.host, url.port, ctx.env)) ctx.out.info(`password for ${account} removed from the OS keychain`);
  else ctx.out.info(`no password was stored for ${account}`);
}

export function handler(args: ArgumentsCamelCase<LogoutArgs>): Promise<number> {
  return runCommand('logout', args, async (ctx) => {
    await removeLogin(ctx, parseFtpUrl(args.url), args.user);
    return [];
  });
}
