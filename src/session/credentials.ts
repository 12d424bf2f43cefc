import { usageError } from '../errors.js';
import type { FtpUrl } from './url.js';
import { findNetrc, loadNetrc, netrcPath } from './netrc.js';

export type CredentialSource = 'url' | 'option' | 'env' | 'netrc' | 'keychain' | 'prompt' | 'anonymous' | 'none';

export interface Credentials {
  user: string;
  password: string;
  /** Where the password came from; shown in --debug and used to word login errors. */
  source: CredentialSource;
}

export interface CredentialDeps {
  env: NodeJS.ProcessEnv;
  warn: (msg: string) => void;
  /** Looks up the OS keychain; undefined when no keychain is available. */
  keychain?: (user: string, host: string, port: number) => Promise<string | undefined>;
  /** Asks on the terminal; only given when stdin is a terminal. */
  prompt?: (question: string) => Promise<string>;
  /**
   * For http(s), where credentials go with the first request: netrc's `default` entry is skipped
   * (a catch-all password would reach every web server downloaded from), and no user means none
   * are sent rather than an anonymous login.
   */
  http?: boolean;
}

/**
 * Order: URL userinfo, --user, RFTP_PASSWORD, ~/.netrc, keychain, a prompt on a terminal.
 * The user name comes from the URL, then --user, then netrc; none at all means anonymous.
 */
export async function resolveCredentials(url: Pick<FtpUrl, 'host' | 'port' | 'user' | 'password'>, userOption: string | undefined, deps: CredentialDeps): Promise<Credentials> {
  const found = await lookup(url, userOption, deps);
  // Whatever the source (environment, netrc, keychain, prompt): a CR or LF would end the
  // USER/PASS command early and let the rest be read as another command.
  if (/[\r\n\0]/.test(found.user) || /[\r\n\0]/.test(found.password)) {
    throw usageError(`refusing a user name or password containing CR, LF or NUL (from ${found.source})`);
  }
  return found;
}

async function lookup(url: Pick<FtpUrl, 'host' | 'port' | 'user' | 'password'>, userOption: string | undefined, deps: CredentialDeps): Promise<Credentials> {
  let optionUser = userOption;
  let optionPassword: string | undefined;
  if (userOption?.includes(':')) {
    // curl's -u user:password form; accepted, though the password is then visible in `ps`.
    optionUser = userOption.slice(0, userOption.indexOf(':'));
    optionPassword = userOption.slice(userOption.indexOf(':') + 1);
  }
  for (const v of [optionUser, optionPassword]) {
    if (v !== undefined && /[\r\n\0]/.test(v)) throw usageError('refusing a user name or password containing CR, LF or NUL');
  }
  // "-u :secret" would log in as anonymous, sending that password.
  if (optionPassword !== undefined && optionUser === '') throw usageError('-u/--user: give a user name before ":" (user or user:password)');
  let user = url.user ?? (optionUser || undefined);
  if (url.password !== undefined) return { user: user ?? 'anonymous', password: url.password, source: 'url' };
  if (optionPassword !== undefined && (!url.user || url.user === optionUser)) return { user: user!, password: optionPassword, source: 'option' };
  const envPassword = deps.env.RFTP_PASSWORD;
  if (envPassword !== undefined && envPassword !== '' && user !== undefined) return { user, password: envPassword, source: 'env' };

  const netrc = findNetrc(loadNetrc(netrcPath(deps.env), deps.warn), url.host, user, !deps.http);
  if (netrc && (user === undefined || netrc.login === undefined || netrc.login === user)) {
    user = user ?? netrc.login;
    if (user !== undefined && netrc.password !== undefined) return { user, password: netrc.password, source: 'netrc' };
  }
  if (user === undefined) {
    if (envPassword) deps.warn(`RFTP_PASSWORD is set but no user was given (URL user or --user); ${deps.http ? 'no credentials are sent' : 'logging in anonymously'}`);
    return { user: 'anonymous', password: 'anonymous@', source: 'anonymous' };
  }
  if (deps.keychain) {
    const stored = await deps.keychain(user, url.host, url.port);
    if (stored !== undefined) return { user, password: stored, source: 'keychain' };
  }
  if (deps.prompt) {
    const typed = await deps.prompt(`Password for ${user}@${url.host}: `);
    return { user, password: typed, source: 'prompt' };
  }
  return { user, password: '', source: 'none' };
}
