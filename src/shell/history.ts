import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { redact } from '../ui/redact.js';

export const HISTORY_SIZE = 1000;

/** $XDG_STATE_HOME/rftp/history (default ~/.local/state/rftp/history). */
export function historyPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'rftp', 'history');
}

/**
 * What may be kept of a line: passwords in URLs, `user NAME PASSWORD`, `-u USER:PASSWORD` and
 * any password the session has seen are dropped, so recalling the line never replays a secret.
 */
export function redactHistoryLine(line: string): string {
  const dropped = line
    .replace(/([a-z]+:\/\/[^/\s@:]*):[^/\s@]*@/gi, '$1@')
    .replace(/((?:^|;)\s*user\s+(?:"[^"]*"|'[^']*'|[^\s;]+))\s+(?:"[^"]*"|'[^']*'|[^\s;]+)/g, '$1')
    .replace(/((?:^|\s)(?:-u|--user)(?:\s+|=))([^\s:;,]+)[:,][^\s;]+/g, '$1$2');
  return redact(dropped);
}

/** Newest first, as readline keeps it. A missing or unreadable file is an empty history. */
export function loadHistory(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const kept = lines.slice(-HISTORY_SIZE);
  if (lines.length > HISTORY_SIZE * 2) {
    // Appending keeps concurrent shells from losing each other's lines; trim now and then.
    try {
      writeFileSync(path, kept.join('\n') + '\n', { mode: 0o600 });
    } catch {
      // A read-only state dir only costs the trim.
    }
  }
  return kept.reverse();
}

export function appendHistory(path: string, line: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    appendFileSync(path, line.replace(/[\r\n]/g, ' ') + '\n', { mode: 0o600 });
  } catch {
    // History is a comfort: a full disk or read-only home must not break the shell.
  }
}
