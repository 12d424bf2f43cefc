import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { listRemote } from '../commands/ls.js';
import { camel, type CommandSpec, type Completes, type OptionSpec } from '../commands/spec.js';
import { bookmarksPath, loadBookmarks } from './bookmarks.js';
import { commandNames, findCommand } from './commands.js';
import { expandHome } from './commands-local.js';
import { escapeWord, splitLine, type Token } from './parse.js';
import { settings } from './settings.js';
import type { Shell } from './state.js';

interface Entry {
  name: string;
  dir: boolean;
}

/**
 * Names completion never offers: control characters (C0, DEL, C1) would reach the terminal raw
 * when inserted into the line, and format characters (bidi overrides) make a name look like
 * another. ls still shows such names, escaped.
 */
const UNSAFE_NAME = /[\u0000-\u001f\u007f-\u009f/\p{Cf}\u2028\u2029]/u;
export const completable = (name: string) => !UNSAFE_NAME.test(name);

/** Remote listings are reused this long: Tab after Tab must not list the same directory again. */
const CACHE_MS = 10_000;
/** Tab never waits longer than this; a slow listing goes on and serves the next Tab. */
const WAIT_MS = 1500;

export class Completer {
  private cache = new Map<string, { at: number; entries: Promise<Entry[]> }>();

  constructor(private readonly sh: Shell) {}

  /** Commands can change directories: listings from before them are stale. */
  forget(): void {
    this.cache.clear();
  }

  /** readline's completer: [candidates, the text they replace]. Every candidate starts with that text. */
  async complete(line: string): Promise<[string[], string]> {
    let commands: ReturnType<typeof splitLine>;
    try {
      commands = splitLine(line, true);
    } catch {
      return [[], ''];
    }
    const endsInSpace = line === '' || (/[\s;]$/.test(line) && !commands.at(-1)?.words.at(-1)?.openQuote);
    const last = line.trimEnd().endsWith(';') || commands.length === 0 ? undefined : commands.at(-1);
    if (last?.local !== undefined) return [[], ''];
    const words = last?.words ?? [];
    const current: Token | undefined = endsInSpace ? undefined : words.at(-1);
    const raw = current ? line.slice(current.start) : '';
    const typed = current?.value ?? '';
    const index = words.length - (current ? 1 : 0);
    if (index === 0)
      return [
        commandNames(this.sh.commands)
          .filter((n) => n.startsWith(typed))
          .sort()
          .map((n) => `${n} `),
        raw,
      ];
    const cmd = findCommand(this.sh.commands, words[0].value);
    if (!cmd) return [[], raw];
    if (typed.startsWith('-'))
      return [
        optionNames(cmd)
          .filter((n) => n.startsWith(typed))
          .map((n) => `${n} `),
        raw,
      ];
    const kind = wordKind(
      cmd,
      words.slice(1, index).map((w) => w.value),
    );
    const entries = await this.candidates(kind, typed, words[1]?.value);
    const slash = typed.lastIndexOf('/');
    const base = typed.slice(slash + 1);
    const quoted = current?.openQuote !== undefined;
    const hits = entries
      .filter((e) => e.name.startsWith(base) && (base.startsWith('.') || !e.name.startsWith('.') || kind === 'command'))
      .map((e) => {
        const rest = e.name.slice(base.length);
        return raw + (quoted ? rest : escapeWord(rest)) + (e.dir ? '/' : kind === 'remote' || kind === 'local' || kind === 'remote-dir' || kind === 'local-dir' ? '' : ' ');
      });
    return [hits.sort(), raw];
  }

  private async candidates(kind: Completes, typed: string, firstArg: string | undefined): Promise<Entry[]> {
    const dirPart = typed.slice(0, typed.lastIndexOf('/') + 1);
    const words = (names: string[]) => names.map((name) => ({ name, dir: false }));
    switch (kind) {
      case 'command':
        return words(commandNames(this.sh.commands));
      case 'setting':
        return words(Object.keys(settings));
      case 'bookmark':
        if (firstArg !== undefined && ['list', 'add', 'del'].every((s) => s !== firstArg) && typed !== firstArg) return [];
        try {
          return words(Object.keys(loadBookmarks(bookmarksPath(this.sh.env))));
        } catch {
          return [];
        }
      case 'remote':
      case 'remote-dir': {
        const all = await this.remote(dirPart);
        return kind === 'remote-dir' ? all.filter((e) => e.dir) : all;
      }
      case 'local':
      case 'local-dir': {
        const all = await local(dirPart, this.sh.env);
        return kind === 'local-dir' ? all.filter((e) => e.dir) : all;
      }
      default:
        return [];
    }
  }

  private async remote(dirPart: string): Promise<Entry[]> {
    const session = this.sh.completionSession();
    if (!session) return [];
    let dir: string;
    try {
      dir = this.sh.resolveRemote(dirPart === '' ? '.' : dirPart);
    } catch {
      return [];
    }
    let cached = this.cache.get(dir);
    if (!cached || Date.now() - cached.at > CACHE_MS) {
      const entries = listRemote(session, this.sh.remoteUrl(dir)).then(
        (list) => list.filter((e) => completable(e.name)).map((e) => ({ name: e.name, dir: e.isDirectory })),
        () => [] as Entry[],
      );
      cached = { at: Date.now(), entries };
      this.cache.set(dir, cached);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Entry[]>((resolve) => {
      timer = setTimeout(() => resolve([]), WAIT_MS);
    });
    try {
      return await Promise.race([cached.entries, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** --long and -l spellings of a command's options. */
function optionNames(cmd: CommandSpec): string[] {
  return cmd.options.flatMap((o) => [`--${o.name}`, ...(o.short ? [`-${o.short}`] : [])]);
}

/**
 * What the next word of a command is: the value of the option before it (-o PATH), or the
 * positional it fills (options and their values skipped); the last positional repeats.
 */
function wordKind(cmd: CommandSpec, before: string[]): Completes {
  const last = before.at(-1);
  const option = last === undefined ? undefined : valueOption(cmd, last);
  if (option) return option.completes ?? 'none';
  let positional = 0;
  for (let i = 0; i < before.length; i++) {
    const w = before[i];
    if (!w.startsWith('-') || w === '-') positional++;
    else if (valueOption(cmd, w)) i++;
  }
  const p = cmd.positionals[Math.min(positional, cmd.positionals.length - 1)];
  return p?.completes ?? 'none';
}

/** The option a word ends with when it still needs its value (-o, --output, -ko), else undefined. */
function valueOption(cmd: CommandSpec, word: string): OptionSpec | undefined {
  if (word.startsWith('--')) {
    const o = word.includes('=') ? undefined : cmd.options.find((x) => x.name === word.slice(2) || camel(x.name) === word.slice(2));
    return o?.type === 'boolean' ? undefined : o;
  }
  if (!word.startsWith('-')) return undefined;
  for (let j = 1; j < word.length; j++) {
    const o = cmd.options.find((x) => x.short === word[j]);
    // A value-taking letter takes the rest of the word, or the next word when it is the last.
    if (o && o.type !== 'boolean') return j === word.length - 1 ? o : undefined;
  }
  return undefined;
}

async function local(dirPart: string, env: NodeJS.ProcessEnv): Promise<Entry[]> {
  const dir = dirPart === '' ? '.' : expandHome(dirPart, env);
  try {
    const dirents = await readdir(dir, { withFileTypes: true });
    const out: Entry[] = [];
    for (const d of dirents) {
      if (!completable(d.name)) continue;
      let isDir = d.isDirectory();
      if (d.isSymbolicLink())
        isDir = await readdir(join(dir, d.name)).then(
          () => true,
          () => false,
        );
      out.push({ name: d.name, dir: isDir });
    }
    return out;
  } catch {
    return [];
  }
}
