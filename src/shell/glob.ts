import { globRegExp } from '../sync/glob.js';

export { hasGlob } from '../sync/glob.js';

/** A shell-style pattern for one name: * and ? never match "/", a leading dot must be explicit. */
export function globToRegExp(pattern: string): RegExp {
  return globRegExp(pattern, { dot: false, what: 'pattern' });
}
