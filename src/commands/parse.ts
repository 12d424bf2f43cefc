import { usageError } from '../errors.js';
import { isFtpUrl, parseFtpUrl, redactUrlText } from '../session/url.js';
import { isHttpUrl, parseHttpUrl } from '../session/http-url.js';
import { camel, type ArgValue, type Args, type CommandSpec, type OptionSpec, type ParsedCommand } from './spec.js';

// One parser for the command line, the shell and the queue: getopt-style words in, a plain
// ParsedCommand out. Options and arguments may be mixed (`get URL -o x` and `get -o x URL`);
// `--` ends the options. Every mistake is a usage error that names the command's help.

/** `get: <message> (see rftp get --help)`, or `(see help get)` in the shell. */
export type HelpHint = (command: string) => string;
export const cliHint: HelpHint = (c) => `rftp ${c} --help`;
export const shellHint: HelpHint = (c) => `help ${c}`;

export function parseCommand(spec: CommandSpec, words: string[], hint: HelpHint = cliHint): ParsedCommand {
  return new WordParser(spec, words, hint).parse();
}

/** The words of one command line, taken one at a time; `i` moves past an option's value too. */
class WordParser {
  private readonly args: Record<string, ArgValue> = {};
  private readonly positionals: string[] = [];
  /** Options given so far, as spelled (for "-u was given more than once"). */
  private readonly given = new Map<string, string>();
  private i = 0;

  constructor(
    private readonly spec: CommandSpec,
    private readonly words: string[],
    private readonly hint: HelpHint,
  ) {}

  parse(): ParsedCommand {
    for (; this.i < this.words.length; this.i++) {
      const word = this.words[this.i];
      if (word === '--') {
        this.positionals.push(...this.words.slice(this.i + 1));
        break;
      }
      if (word.startsWith('--')) this.longOption(word);
      else if (word.startsWith('-') && word.length > 1) this.shortOptions(word);
      else this.positionals.push(word);
    }
    placePositionals(this.spec, this.positionals, this.args, this.fail);
    return { command: this.spec.name, args: this.args };
  }

  readonly fail = (message: string) => usageError(`${this.spec.name}: ${message} (see ${this.hint(this.spec.name)})`);

  /** --name, --name=value, --no-name (yes/no options only). */
  private longOption(word: string): void {
    const { spec, fail } = this;
    const eq = word.indexOf('=');
    const name = eq < 0 ? word.slice(2) : word.slice(2, eq);
    const inline = eq < 0 ? undefined : word.slice(eq + 1);
    let o = findLong(spec, name);
    let negated = false;
    if (!o && name.startsWith('no-')) {
      const base = findLong(spec, name.slice(3));
      if (base && base.type !== 'boolean') throw fail(`--${name} (--${base.name} is not a yes/no option)`);
      if (base) [o, negated] = [base, true];
    }
    if (!o) {
      const short = name.length === 1 ? spec.options.find((x) => x.short === name) : undefined;
      const hint = short
        ? `; did you mean -${name}?`
        : suggest(
            name,
            spec.options.map((x) => x.name),
            '--',
          );
      throw fail(`unknown option --${name}${hint}`);
    }
    if (o.type === 'boolean') {
      if (inline !== undefined && !/^(true|false)$/.test(inline)) throw fail(`--${name} takes no value (or =true, =false)`);
      this.set(o, `--${o.name}`, negated !== (inline !== 'false'));
      return;
    }
    if (negated) throw fail(`--${name} (--${o.name} is not a yes/no option)`);
    this.set(o, `--${o.name}`, typed(o, inline ?? this.valueAfter(`--${o.name}`, o), fail));
  }

  /** A group of short options: -kc, -ofile, -o=file, -o file, -n4. */
  private shortOptions(word: string): void {
    for (let j = 1; j < word.length; j++) {
      const letter = word[j];
      const o = this.spec.options.find((x) => x.short === letter);
      if (!o) throw this.fail(`unknown option -${letter}${shortSuggestion(this.spec, letter)}`);
      if (o.type === 'boolean') {
        if (word[j + 1] === '=') throw this.fail(`-${letter} takes no value (or =true, =false)`);
        this.set(o, `-${letter}`, true);
        continue;
      }
      // -oVALUE, -o=VALUE (as getopt_long and yargs take it) or -o VALUE.
      const value = word.length > j + 1 ? word.slice(j + 1).replace(/^=/, '') : this.valueAfter(`-${letter}`, o);
      this.set(o, `-${letter}`, typed(o, value, this.fail));
      return;
    }
  }

  private set(o: OptionSpec, spelled: string, value: ArgValue): void {
    const key = camel(o.name);
    if (o.repeatable) {
      this.args[key] = [...((this.args[key] as string[] | undefined) ?? []), String(value)];
      return;
    }
    // A second -u would go to the server inside the user name, a second -o leave the first unused.
    if (this.given.has(key)) throw this.fail(`${spelled} was given more than once`);
    this.given.set(key, spelled);
    this.args[key] = value;
  }

  /** The next word as the value of an option; a word starting with "-" is taken for an option. */
  private valueAfter(spelled: string, o: OptionSpec): string {
    const next = this.words[++this.i];
    if (next === undefined) throw this.fail(`${spelled} needs a value`);
    if (next.startsWith('-') && next !== '-') {
      const forms = `--${o.name}=-XYZ${o.short ? ` or -${o.short}-XYZ` : ''}`;
      throw this.fail(`${spelled} needs a value; for a value starting with "-" write ${forms}`);
    }
    return next;
  }
}

/**
 * Any letter is one edit from any other, so only a letter in the wrong case is suggested (-K for
 * -k), or the long option the letter starts when it is the only one.
 */
function shortSuggestion(spec: CommandSpec, letter: string): string {
  const other = spec.options.find((o) => o.short !== undefined && o.short !== letter && o.short.toLowerCase() === letter.toLowerCase());
  if (other) return `; did you mean -${other.short}?`;
  const long = spec.options.filter((o) => o.name.startsWith(letter));
  return long.length === 1 ? `; did you mean --${long[0].name}?` : '';
}

function findLong(spec: CommandSpec, name: string): OptionSpec | undefined {
  // The camel-case spelling (--maxDelete) was accepted by yargs, so it still is.
  return spec.options.find((o) => o.name === name || camel(o.name) === name);
}

function typed(o: OptionSpec, text: string, fail: (m: string) => Error): ArgValue {
  if (o.type !== 'number') return text;
  // Plain decimal numbers only: Number() would take "", " 0x4 " or "1e1" as well.
  if (!/^-?(\d+(\.\d*)?|\.\d+)$/.test(text)) throw fail(`--${o.name} must be a number, not "${text}"`);
  return Number(text);
}

function placePositionals(spec: CommandSpec, words: string[], args: Record<string, ArgValue>, fail: (m: string) => Error): void {
  let i = 0;
  for (const p of spec.positionals) {
    const arity = p.arity ?? 'one';
    if (arity === 'many' || arity === 'any') {
      if (arity === 'many' && i >= words.length) throw fail(`missing argument ${p.name.toUpperCase()}`);
      if (i < words.length) args[p.name] = words.slice(i);
      i = words.length;
    } else if (i < words.length) {
      args[p.name] = words[i++];
    } else if (arity === 'one') {
      throw fail(`missing argument ${p.name.toUpperCase()}`);
    }
  }
  if (i < words.length) throw fail(`too many arguments (${words.slice(i).length} more than it takes)`);
}

/** The arguments a command runs with: what was given, then the shell's settings, then the defaults. */
export function withDefaults(spec: CommandSpec, given: Record<string, ArgValue>, settings: Record<string, ArgValue | undefined> = {}): Args {
  const args: Args = { ...given };
  for (const o of spec.options) {
    const key = camel(o.name);
    if (args[key] !== undefined) continue;
    const fromSetting = o.setting === undefined ? undefined : settings[o.setting];
    args[key] = fromSetting ?? o.default;
  }
  return args;
}

/** ` (did you mean --delete?)` when one name is close to what was typed; else nothing. */
export function suggest(typed: string, names: string[], prefix: string): string {
  const close = closest(typed, names);
  return close === undefined ? '' : `; did you mean ${prefix}${close}?`;
}

export function closest(typed: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = distance(typed.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [name, d];
  }
  // One edit for short names, two for longer ones: further than that is a guess, not a typo.
  const allowed = typed.length <= 4 ? 1 : 2;
  if (best !== undefined && bestDistance <= allowed) return best;
  const prefixed = names.filter((n) => n.startsWith(typed) && typed.length >= 2);
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * Where a parsed command carries a password (a URL's, or `-u USER:PASSWORD`): such a command is
 * run, but never stored (the queue refuses it and says where a password belongs).
 */
export function passwordsIn(parsed: ParsedCommand): string[] {
  const found: string[] = [];
  for (const [key, value] of Object.entries(parsed.args)) {
    if (key === 'user' && typeof value === 'string' && value.includes(':')) found.push('-u USER:PASSWORD');
    if (key === 'password' && value !== undefined) found.push('a password argument');
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v !== 'string' || !(isFtpUrl(v) || isHttpUrl(v))) continue;
      try {
        if ((isHttpUrl(v) ? parseHttpUrl(v) : parseFtpUrl(v)).password !== undefined) found.push(`the password in ${redactUrlText(v)}`);
      } catch {
        // Unparsable: the command fails as it is; redactUrlText would still hide its password.
        if (redactUrlText(v) !== v) found.push(`the password in ${redactUrlText(v)}`);
      }
    }
  }
  return found;
}
