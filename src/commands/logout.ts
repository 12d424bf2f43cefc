import { keychainAccount, keychainDelete } from '../session/keychain.js';
import type { CommandContext } from './context.js';
import { keychainUrl, keychainUser, type KeychainUrl } from './login.js';
import { outputOptions } from './options.js';
import type { CommandSpec } from './spec.js';

/** Removes the keychain entry of the URL's user (or --user's). */
export async function removeLogin(ctx: CommandContext, url: KeychainUrl, userOption: string | undefined): Promise<void> {
  const user = keychainUser(url, userOption);
  const account = keychainAccount(user, url.host, url.port);
  if (await keychainDelete(user, url.host, url.port, ctx.env)) ctx.out.info(`password for ${account} removed from the OS keychain`);
  else ctx.out.info(`no password was stored for ${account}`);
}

export const spec: CommandSpec = {
  name: 'logout',
  summary: 'remove the password stored by `rftp login` from the OS keychain',
  positionals: [{ name: 'url', arity: 'optional', completes: 'none', describe: 'ftp://USER@host[:port]/ (in the shell by default the open server)' }],
  options: [{ name: 'user', short: 'u', type: 'string', value: 'USER', describe: 'user name, when the URL has none' }, ...outputOptions],
  examples: [['logout ftpes://alice@files.example.com', 'forget the stored password']],
  async run(ctx, args) {
    await removeLogin(ctx, keychainUrl(ctx, args.url as string | undefined), args.user as string | undefined);
  },
};
