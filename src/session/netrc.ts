import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface NetrcEntry {
  machine: string | null;
  login?: string;
  password?: string;
}

/** Parses the netrc format (machine/default/login/password/account/macdef), as curl and ftp read it. */
export function parseNetrc(text: string): NetrcEntry[] {
  const entries: NetrcEntry[] = [];
  const lines = text.split(/\r?\n/);
  let current: NetrcEntry | null = null;
  for (let i = 0; i < lines.length; i++) {
    const tokens = lines[i].replace(/^\s*#.*$/, '').match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
    for (let t = 0; t < tokens.length; t++) {
      const token = tokens[t];
      const next = () => unquote(tokens[++t] ?? '');
      if (token === 'machine' || token === 'default') {
        current = { machine: token === 'machine' ? next() : null };
        entries.push(current);
      } else if (token === 'login' && current) current.login = next();
      else if (token === 'password' && current) current.password = next();
      else if (token === 'account') next();
      else if (token === 'macdef') {
        // A macro body runs until the next empty line; skip it.
        t = tokens.length;
        while (i + 1 < lines.length && lines[i + 1].trim() !== '') i++;
      }
    }
  }
  return entries;
}

function unquote(token: string): string {
  return token.startsWith('"') && token.endsWith('"') && token.length >= 2 ? token.slice(1, -1).replace(/\\(.)/g, '$1') : token;
}

/** The entry for host (and login, when one is already known); `default` last, as curl does (unless withDefault is false). */
export function findNetrc(entries: NetrcEntry[], host: string, login?: string, withDefault = true): NetrcEntry | undefined {
  const fits = (e: NetrcEntry) => login === undefined || e.login === undefined || e.login === login;
  return entries.find((e) => e.machine === host && fits(e)) ?? (withDefault ? entries.find((e) => e.machine === null && fits(e)) : undefined);
}

export function netrcPath(env: NodeJS.ProcessEnv): string {
  return env.NETRC || join(env.HOME || homedir(), '.netrc');
}

/** Reads the netrc file; a group- or world-readable one holds exposed secrets and is ignored. */
export function loadNetrc(path: string, warn: (msg: string) => void): NetrcEntry[] {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return [];
  }
  if (mode & 0o077) {
    warn(`ignoring ${path}: it is readable by other users (run: chmod 600 ${path})`);
    return [];
  }
  try {
    return parseNetrc(readFileSync(path, 'utf8'));
  } catch {
    warn(`ignoring ${path}: it cannot be read`);
    return [];
  }
}
