import { RftpError, usageError } from '../errors.js';
import { displayUrl, parseFtpUrl } from '../session/url.js';
import { addSecret, escapeControl } from '../ui/redact.js';
import { bookmarksPath, checkBookmarkName, loadBookmarks, saveBookmarks, type BookmarkOptions } from './bookmarks.js';
import type { ShellSpec } from './commands-types.js';

// The shell's own commands about the open server; open, ls, get and the rest are the registry's.

export const remoteCommands: ShellSpec[] = [
  {
    name: 'user',
    summary: 'log in to the open server again as another user (the password is never kept in the history)',
    positionals: [
      { name: 'name', completes: 'none', describe: 'user name' },
      { name: 'password', arity: 'optional', completes: 'none', describe: 'password (asked for, or found as usual, when not given)' },
    ],
    options: [],
    async run({ sh }, args) {
      const site = sh.requireSite();
      const password = args.password as string | undefined;
      if (password !== undefined) addSecret(password);
      const cwd = site.cwd;
      await sh.open({ ...site.url, user: args.name as string, password, path: '' }, { ...site.args, user: undefined });
      await sh.cd(cwd).catch(() => undefined);
    },
  },
  {
    name: 'close',
    summary: 'disconnect from the server',
    positionals: [],
    options: [],
    async run({ sh }) {
      sh.close();
    },
  },
  {
    name: 'cls',
    summary: 'short listing: names only (the same as ls without -l)',
    positionals: [{ name: 'path', arity: 'optional', completes: 'remote', describe: 'remote directory (default: the remote directory)' }],
    options: [],
    async run(ctx, args) {
      const { listDir } = await import('../commands/ls.js');
      const url = ctx.remote.url(args.path as string | undefined, 'PATH');
      const { session, release } = ctx.remote.session(url, ctx.sh.settings);
      try {
        await listDir(ctx, session, { url, long: false });
      } finally {
        release();
      }
    },
  },
  {
    name: 'cd',
    summary: 'change the remote directory (none or ~: the login directory; -: the previous one)',
    positionals: [{ name: 'dir', arity: 'optional', completes: 'remote-dir', describe: 'DIR, - or ~' }],
    options: [],
    async run({ sh }, args) {
      const site = sh.requireSite();
      const arg = (args.dir as string | undefined) ?? '~';
      if (arg === '-' && site.previous === undefined) throw usageError('cd: no previous directory');
      await sh.cd(arg === '-' ? site.previous! : sh.resolveRemote(arg));
    },
  },
  {
    name: 'pwd',
    summary: 'print the remote directory (-u: as a URL, without password)',
    positionals: [],
    options: [{ name: 'url', short: 'u', type: 'boolean', default: false, describe: 'as a URL a one-shot command takes' }],
    async run({ sh }, args) {
      // The server names the directory (PWD): its escape sequences must not reach the terminal.
      sh.out.print(escapeControl(args.url ? sh.describeSite() : sh.requireSite().cwd));
    },
  },
  {
    name: 'bookmark',
    summary: 'named servers: `open NAME` connects (passwords stay in the keychain, never in bookmarks)',
    positionals: [
      { name: 'action', arity: 'optional', completes: 'none', describe: 'list (default), add or del' },
      { name: 'name', arity: 'optional', completes: 'bookmark', describe: 'the bookmark' },
      { name: 'url', arity: 'optional', completes: 'none', describe: 'for add: a URL (default: the open server and directory, with its --tls/-k choice); a password in it is dropped' },
    ],
    options: [],
    examples: [['-c "open ftpes://alice@host/www; bookmark add work"', 'then: rftp open work']],
    async run({ sh }, args) {
      const path = bookmarksPath(sh.env);
      const sub = (args.action as string | undefined) ?? 'list';
      const bookmarks = loadBookmarks(path);
      if (sub === 'list') {
        for (const [name, b] of Object.entries(bookmarks).sort()) {
          const opts = Object.entries(b.options ?? {})
            .map(([k, v]) => (v === true ? ` --${k}` : ` --${k}=${v}`))
            .join('');
          // A hand-edited file may hold anything: nothing raw reaches the terminal.
          sh.out.print(`${escapeControl(name)}\t${escapeControl(b.url + opts)}`);
        }
        return;
      }
      const name = args.name as string | undefined;
      if (name === undefined) throw usageError(`bookmark ${sub}: give a name (see help bookmark)`);
      if (sub === 'add') {
        checkBookmarkName(name);
        let url: string;
        const options: BookmarkOptions = {};
        if (args.url !== undefined) {
          const parsed = parseFtpUrl(args.url as string);
          if (parsed.password !== undefined) sh.out.warn('the password is not kept in the bookmark; use login to store it in the keychain');
          url = displayUrl(parsed);
        } else {
          const site = sh.requireSite();
          url = displayUrl(site.url, site.cwd);
          if (site.args.tls) options.tls = true;
          if (site.args.insecure) options.insecure = true;
          if (site.args.caFile) options.caFile = site.args.caFile;
        }
        bookmarks[name] = { url, ...(Object.keys(options).length ? { options } : {}) };
        saveBookmarks(path, bookmarks);
        sh.out.info(`bookmark ${name}: ${url}`);
      } else if (sub === 'del' || sub === 'delete' || sub === 'rm') {
        if (!Object.hasOwn(bookmarks, name)) throw new RftpError('usage', `bookmark del: no bookmark named ${name}`);
        delete bookmarks[name];
        saveBookmarks(path, bookmarks);
      } else {
        throw usageError(`bookmark: unknown subcommand ${sub} (list, add, del)`);
      }
    },
  },
];
