import { usageError } from '../errors.js';

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
  return text.replace(/[\s;'"\\#!$`*?[\]]/g, (c) => '\\' + c);
}
