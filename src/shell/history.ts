import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { containsSecret } from '../ui/redact.js';
import { escapeWord, splitLine, stripPasswords } from './parse.js';

export const HISTORY_SIZE = 1000;

/** $XDG_STATE_HOME/rftp/history (default ~/.local/state/rftp/history). */
export function historyPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'rftp', 'history');
}

/**
 * What may be kept of a line, or undefined: passwords are taken out of the parsed words (see
 * stripPasswords), and a line that still holds a password the session knows is not kept at all.
 * Unchanged words keep their typed text; a changed one is written back escaped.
 */
export function historyLine(line: string): string | undefined {
  let commands: ReturnType<typeof splitLine>;
  try {
    commands = splitLine(line);
  } catch {
    // An unterminated quote could hide anything: such a line is not worth recalling anyway.
    return undefined;
  }
  const parts = commands.map((c) => {
    if (c.local !== undefined) return `!${c.local}`;
    const kept = stripPasswords(c.words.map((w) => w.value));
    return kept.map((v, i) => (v === c.words[i].value ? line.slice(c.words[i].start, c.words[i].end) : escapeWord(v))).join(' ');
  });
  const text = parts.join('; ');
  if (text.trim() === '' || containsSecret(text) || /[\r\n]/.test(text)) return undefined;
  return text;
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
      writeFileSync(path, `${kept.join('\n')}\n`, { mode: 0o600 });
    } catch {
      // A read-only state dir only costs the trim.
    }
  }
  return kept.reverse();
}

export function appendHistory(path: string, line: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    appendFileSync(path, `${line.replace(/[\r\n]/g, ' ')}\n`, { mode: 0o600 });
  } catch {
    // History is a comfort: a full disk or read-only home must not break the shell.
  }
}
