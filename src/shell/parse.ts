import { usageError } from '../errors.js';
import { displayUrl, isFtpUrl, parseFtpUrl, redactUrlText } from '../session/url.js';

/** One word of a command line and where its raw text sits in the line (for completion). */
export interface Token {
  value: string;
  start: number;
  end: number;
  /** The quote still open at the end of the line, if any (only while typing). */
  openQuote?: '"' | "'";
}

export interface ParsedCommand {
  words: Token[];
  /** `!cmd`: the rest of the line, for the local shell (it may hold `;` of its own). */
  local?: string;
}

/**
 * Splits a line into `;`-separated commands of words, as lftp and sh do: '…' is literal, "…"
 * and a backslash escape the next character, `#` at the start of a word comments out the rest.
 * `partial` accepts an unterminated quote (completion); otherwise it is a usage error.
 */
export function splitLine(line: string, partial = false): ParsedCommand[] {
  const commands: ParsedCommand[] = [];
  let words: Token[] = [];
  let i = 0;
  const endCommand = () => {
    if (words.length > 0) commands.push({ words });
    words = [];
  };
  while (i < line.length) {
    const ch = line[i];
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      i++;
      continue;
    }
    if (ch === ';') {
      endCommand();
      i++;
      continue;
    }
    if (ch === '#') break;
    if (ch === '!' && words.length === 0) {
      commands.push({ words: [{ value: '!', start: i, end: i + 1 }], local: line.slice(i + 1) });
      return commands;
    }
    const start = i;
    let value = '';
    let quote: '"' | "'" | undefined;
    for (; i < line.length; i++) {
      const c = line[i];
      if (quote === "'") {
        if (c === "'") quote = undefined;
        else value += c;
      } else if (quote === '"') {
        if (c === '"') quote = undefined;
        else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) value += line[++i];
        else value += c;
      } else if (c === "'" || c === '"') {
        quote = c;
      } else if (c === '\\') {
        if (i + 1 < line.length) value += line[++i];
        // A backslash at the end escapes nothing (there is no line continuation): say so, as
        // for an unterminated quote, rather than drop it silently.
        else if (!partial) throw usageError('a backslash at the end of the line escapes nothing');
      } else if (' \t\r\n;'.includes(c)) {
        break;
      } else {
        value += c;
      }
    }
    if (quote && !partial) throw usageError(`unterminated ${quote === '"' ? 'double' : 'single'} quote`);
    words.push({ value, start, end: i, ...(quote ? { openQuote: quote } : {}) });
  }
  endCommand();
  return commands;
}

/** A word as it must be typed to come back unchanged (completion inserts these). */
export function escapeWord(text: string): string {
  return text.replace(/[\s;'"\\#!$`*?[\]]/g, (c) => `\\${c}`);
}

/**
 * A command's words without passwords, for the history: `user NAME PASSWORD` keeps NAME, URLs
 * lose their password, and -u/--user values (-u X, -uX, -kuX, --user X, --user=X) are cut at ":".
 */
export function stripPasswords(words: string[]): string[] {
  if (words[0] === 'user') return words.slice(0, 2);
  const out: string[] = [];
  let userValueNext = false;
  for (const w of words) {
    if (userValueNext) {
      out.push(userOnly(w));
      userValueNext = false;
    } else if (w === '--user') {
      out.push(w);
      userValueNext = true;
    } else if (w.startsWith('--user=')) {
      out.push(userOnly(w));
    } else if (/^-[A-Za-z]*u/.test(w)) {
      // A short option group: the value of -u is the rest of the word, or the next word.
      if (w.endsWith('u')) userValueNext = true;
      out.push(userOnly(w));
    } else {
      out.push(isFtpUrl(w) ? withoutPassword(w) : withoutAnyPassword(w));
    }
  }
  return out;
}

const userOnly = (text: string) => text.split(':')[0];

/**
 * A word that is no ftp URL may still carry a password: another scheme's URL (`sftp://u:pw@h`),
 * lftp's `user:password@host`, a URL with a stray space. Such a command fails, but its line must
 * not keep the password in the history.
 */
function withoutAnyPassword(text: string): string {
  // As in error messages: from the first ":" after the user name to the last "@".
  const masked = redactUrlText(text.trimStart());
  return masked === text.trimStart() ? text : masked.replace(':***@', '@');
}

function withoutPassword(text: string): string {
  try {
    const url = parseFtpUrl(text);
    if (url.password === undefined) return text;
    return displayUrl({ ...url, password: undefined });
  } catch {
    // Unparsable: drop everything from the first ":" after the scheme to the last "@".
    return text.replace(/^([a-z]+:\/\/[^:@/]*)(:.*)?@/i, (_m, user: string) => `${user}@`);
  }
}
