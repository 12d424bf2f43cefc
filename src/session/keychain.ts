/**
 * keytar is an optional dependency with a native part: load it only when the keychain is
 * actually consulted, and treat any failure to load or answer as "no keychain".
 */
export const KEYCHAIN_SERVICE = 'rftp';

export function keychainAccount(user: string, host: string, port: number): string {
  return `${user}@${host}:${port}`;
}

interface Keytar { getPassword(service: string, account: string): Promise<string | null>; }

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
