import picomatch from 'picomatch';
import { usageError } from '../errors.js';

/**
 * The one glob matcher: sync's --include/--exclude and the shell's mget/mput. picomatch does the
 * matching with its options pinned to what rftp has always done: `*` and `?` stay within one
 * segment, `**` crosses segments, `[abc]`/`[!abc]` are classes, braces, extglobs and a leading
 * `!` are plain characters, parentheses too. `dot` says whether `*` matches a leading dot (sync:
 * yes, a filter sees every name; the shell: only when the pattern starts with one, as sh does).
 */
const OPTIONS = { nobrace: true, noextglob: true, nonegate: true, strictSlashes: true } as const;

export function hasGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

/** The glob as a regular expression; `what` names it in the error for a bad class ("glob", "pattern"). */
export function globRegExp(glob: string, opts: { dot: boolean; what: string }): RegExp {
  checkClasses(glob, opts.what);
  // picomatch reads "[!…]" literally and "(…)" as a group: sh's negation, and a literal paren.
  const pattern = glob.replace(/\[!/g, '[^').replace(/[()]/g, '\\$&');
  return picomatch.makeRe(pattern, { ...OPTIONS, dot: opts.dot });
}

/** A class such as [z-a] can match nothing: the user's mistake (2), said as such. */
function checkClasses(glob: string, what: string): void {
  for (const m of glob.matchAll(/\[!?(.[^\]]*)\]/g)) {
    for (const r of m[1].matchAll(/(.)-(.)/g)) {
      if (r[1] > r[2]) throw usageError(`bad ${what} "${glob}": check its [...] class (${r[0]} is backwards)`);
    }
  }
}
