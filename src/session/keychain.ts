import { dirname } from 'node:path';
import { RftpError } from '../errors.js';

/**
 * keytar is an optional dependency with a native part: load it only when the keychain is
 * actually consulted, and treat any failure to load or answer as "no keychain".
 */
export const KEYCHAIN_SERVICE = 'rftp';

export function keychainAccount(user: string, host: string, port: number): string {
  return `${user}@${host}:${port}`;
}

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

export async function loadKeytar(): Promise<Keytar | undefined> {
  const name = 'keytar';
  try {
    const mod = (await import(name)) as { default?: Keytar } & Keytar;
    return mod.default ?? mod;
  } catch {
    return undefined;
  }
}

export async function keychainLookup(user: string, host: string, port: number): Promise<string | undefined> {
  const keytar = await loadKeytar();
  if (!keytar) return undefined;
  // A keychain daemon that does not answer must not hang a transfer.
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3000).unref());
  try {
    const found = await Promise.race([keytar.getPassword(KEYCHAIN_SERVICE, keychainAccount(user, host, port)), timeout]);
    return found ?? undefined;
  } catch {
    return undefined;
  }
}

const INSTEAD = 'use RFTP_PASSWORD or ~/.netrc instead';

/** keytar, or one line saying why the keychain cannot be used and what to use instead. */
export async function requireKeychain(env: NodeJS.ProcessEnv): Promise<Keytar> {
  if (env.RFTP_NO_KEYCHAIN) throw new RftpError('local', `the OS keychain is switched off (RFTP_NO_KEYCHAIN is set); ${INSTEAD}`);
  const keytar = await loadKeytar();
  if (!keytar) {
    throw new RftpError(
      'local',
      `the OS keychain is not available: the optional module keytar is not installed or cannot load (on Debian: apt-get install libsecret-1-dev, then npm_config_build_from_source=true npm_config_nodedir=${nodePrefix()} npm rebuild keytar); ${INSTEAD}`,
    );
  }
  return keytar;
}

/** Where this node's headers live (include/node): keytar then builds without downloading them. */
function nodePrefix(): string {
  return dirname(dirname(process.execPath));
}

/** Runs a keychain call with a time limit: a Secret Service that never answers must not hang. */
async function keychainCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000);
    timer.unref();
  });
  try {
    return await Promise.race([call(), timeout]);
  } catch (err) {
    const reason = String((err as Error)?.message ?? err).split('\n')[0];
    throw new RftpError('local', `${what}: no keychain service answered (${reason}); ${INSTEAD}`);
  } finally {
    clearTimeout(timer);
  }
}

export async function keychainStore(user: string, host: string, port: number, password: string, env: NodeJS.ProcessEnv): Promise<void> {
  const keytar = await requireKeychain(env);
  await keychainCall('cannot store the password in the OS keychain', () => keytar.setPassword(KEYCHAIN_SERVICE, keychainAccount(user, host, port), password));
}

/** Removes a stored password; false when there was none. */
export async function keychainDelete(user: string, host: string, port: number, env: NodeJS.ProcessEnv): Promise<boolean> {
  const keytar = await requireKeychain(env);
  return keychainCall('cannot remove the password from the OS keychain', () => keytar.deletePassword(KEYCHAIN_SERVICE, keychainAccount(user, host, port)));
}
