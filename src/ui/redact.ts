/**
 * One redactor for every line that leaves the process: passwords are registered as soon as they
 * are known, and anything printed, logged or written to JSON passes through here.
 */
const secrets = new Set<string>();

export function addSecret(secret: string | undefined): void {
  // Very short "secrets" (e.g. an empty or one-letter password) would mangle unrelated text.
  if (secret && secret.length >= 3) {
    secrets.add(secret);
    secrets.add(encodeURIComponent(secret));
  }
}

export function redact(text: string): string {
  // The scheme must start a word: tried at every letter of a long name (a hostile server's),
  // the pattern took time quadratic in the line's length.
  let out = text.replace(/(?<![a-z])([a-z]+:\/\/[^/\s@:]*):[^/\s]*@/gi, '$1:***@').replace(/\b(PASS) \S.*$/gim, '$1 ***');
  for (const s of secrets) out = out.split(s).join('***');
  return out;
}

/**
 * Names from servers can carry escape sequences, and Unicode format characters (bidi overrides
 * such as U+202E, line separators) can make a name look like another: show them as \xNN / \u{N}.
 */
export function escapeControl(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/[\p{Cf}\u2028\u2029]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/**
 * A file name for a message: escaped as above, and quoted when a space at either end (or an
 * empty name) would not show: `"trail "`, `" lead"`. Names that need no quotes stay as they are.
 */
export function quoteName(name: string): string {
  const shown = escapeControl(name);
  return name === '' || /^\s|\s$/.test(name) ? `"${shown.replace(/"/g, '\\"')}"` : shown;
}

/** Whether text still holds a known password (for what must never be written down, like history). */
export function containsSecret(text: string): boolean {
  for (const s of secrets) if (text.includes(s)) return true;
  return false;
}
