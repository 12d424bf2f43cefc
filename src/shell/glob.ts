import { usageError } from '../errors.js';

/** Whether a name pattern holds wildcards (*, ?, [...]); only the last path segment is matched. */
export function hasGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/** A shell-style pattern for one name: * and ? never match "/", a leading dot must be explicit. */
export function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        let body = pattern.slice(i + 1, close);
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body.replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  try {
    return new RegExp(`^${pattern.startsWith('.') ? '' : '(?!\\.)'}${re}$`);
  } catch {
    // A class such as [z-a].
    throw usageError(`bad pattern "${pattern}": check its [...] class`);
  }
}
