import { RftpError, usageError } from '../errors.js';
import { catFile } from '../commands/cat.js';
import { storeLogin } from '../commands/login.js';
import { removeLogin } from '../commands/logout.js';
import { listDir } from '../commands/ls.js';
import { makeDirectory } from '../commands/mkdir.js';
import { moveRemote } from '../commands/mv.js';
import { removePath } from '../commands/rm.js';
import { removeDir } from '../commands/rmdir.js';
import { displayUrl, isFtpUrl, parseFtpUrl, type FtpUrl } from '../session/url.js';
import { escapeControl } from '../ui/redact.js';
import { addSecret } from '../ui/redact.js';
import { shellArgs } from './args.js';
import { bookmarksPath, checkBookmarkName, loadBookmarks, saveBookmarks, type BookmarkOptions } from './bookmarks.js';
import type { ShellCommand } from './commands-types.js';
import type { Shell } from './state.js';

/** open's target: a URL, a bookmark, or a bare host name (as lftp takes it). */
function lookupTarget(sh: Shell, target: string): { url: FtpUrl; options: BookmarkOptions } {
  if (isFtpUrl(target)) return { url: parseFtpUrl(target), options: {} };
  const bookmarks = loadBookmarks(bookmarksPath(sh.env));
  const b = bookmarks[target];
  if (b) return { url: parseFtpUrl(b.url), options: b.options ?? {} };
  if (/^[A-Za-z0-9.-]+(:\d+)?$/.test(target) && target.includes('.')) return { url: parseFtpUrl(`ftp://${target}/`), options: {} };
  // `user:password@host` is not a form open takes, but it may well hold a password: never echo that.
  const shown = target.replace(/:.*@/, ':***@');
  throw usageError(`open: "${shown}" is neither an ftp://, ftpes:// or ftps:// URL nor a bookmark (bookmark list shows them)`);
}

const many = async (sh: Shell, paths: string[], one: (path: string) => Promise<void>) => {
  for (const p of paths) await one(sh.resolveRemote(p));
};

export const remoteCommands: ShellCommand[] = [
  {
    names: ['open'],
    usage: 'open [-u USER[:PASSWORD]] [--tls] [-k] URL|BOOKMARK',
    summary: 'connect to a server (the URL path becomes the remote directory)',
    details: ['--tls  require explicit TLS on ftp://', '-k     do not verify the certificate', 'example: open ftpes://alice@files.example.com/pub', 'example: open mysite'],
    complete: ['bookmark'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs('open', argv, { user: { type: 'string', short: 'u' }, tls: { type: 'boolean' }, insecure: { type: 'boolean', short: 'k' } }, 1, 1);
      const { url, options } = lookupTarget(sh, positionals[0]);
      await sh.open(url, {
        ...sh.settings,
        tls: values.tls ?? options.tls ?? sh.settings.tls,
        insecure: values.insecure ?? options.insecure ?? sh.settings.insecure,
        caFile: options.caFile ?? sh.settings.caFile,
        user: values.user,
      });
    },
  },
  {
    names: ['user'],
    usage: 'user NAME [PASSWORD]',
    summary: 'log in to the open server again as another user (the password is never kept in the history)',
    complete: ['none'],
    async run(sh, argv) {
      const { positionals } = shellArgs('user', argv, {}, 1, 2);
      const site = sh.requireSite();
      if (positionals[1] !== undefined) addSecret(positionals[1]);
      const cwd = site.cwd;
      await sh.open({ ...site.url, user: positionals[0], password: positionals[1], path: '' }, { ...site.args, user: undefined });
      await sh.cd(cwd).catch(() => undefined);
    },
  },
  {
    names: ['close'],
    usage: 'close',
    summary: 'disconnect from the server',
    complete: ['none'],
    async run(sh, argv) {
      shellArgs('close', argv, {}, 0, 0);
      sh.close();
    },
  },
  {
    names: ['ls', 'dir'],
    usage: 'ls [-l] [PATH]',
    summary: 'list a remote directory (directories end in /; -l: type, permissions, size, time)',
    complete: ['remote'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs('ls', argv, { long: { type: 'boolean', short: 'l' } }, 0, 1);
      const path = positionals[0] === undefined ? sh.requireSite().cwd : sh.resolveRemote(positionals[0]);
      await listDir(sh.ctx(), sh.requireSite().session, { url: sh.remoteUrl(path), long: !!values.long });
    },
  },
  {
    names: ['cls'],
    usage: 'cls [PATH]',
    summary: 'short listing: names only (the same as ls without -l)',
    complete: ['remote'],
    async run(sh, argv) {
      const { positionals } = shellArgs('cls', argv, {}, 0, 1);
      const path = positionals[0] === undefined ? sh.requireSite().cwd : sh.resolveRemote(positionals[0]);
      await listDir(sh.ctx(), sh.requireSite().session, { url: sh.remoteUrl(path), long: false });
    },
  },
  {
    names: ['cd'],
    usage: 'cd [DIR|-|~]',
    summary: 'change the remote directory (none or ~: the login directory; -: the previous one)',
    complete: ['remote-dir'],
    async run(sh, argv) {
      const { positionals } = shellArgs('cd', argv, {}, 0, 1);
      const site = sh.requireSite();
      const arg = positionals[0] ?? '~';
      if (arg === '-' && site.previous === undefined) throw usageError('cd: no previous directory');
      await sh.cd(arg === '-' ? site.previous! : sh.resolveRemote(arg));
    },
  },
  {
    names: ['pwd'],
    usage: 'pwd [-u]',
    summary: 'print the remote directory (-u: as a URL, without password)',
    complete: ['none'],
    async run(sh, argv) {
      const { values } = shellArgs('pwd', argv, { url: { type: 'boolean', short: 'u' } }, 0, 0);
      // The server names the directory (PWD): its escape sequences must not reach the terminal.
      sh.out.print(escapeControl(values.url ? sh.describeSite() : sh.requireSite().cwd));
    },
  },
  {
    names: ['rm'],
    usage: 'rm [-r] PATH...',
    summary: 'remove remote files (-r: directories with everything in them)',
    complete: ['remote'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs('rm', argv, { recursive: { type: 'boolean', short: 'r' } }, 1);
      await many(sh, positionals, (p) => removePath(sh.ctx(), sh.requireSite().session, sh.remoteUrl(p), !!values.recursive));
    },
  },
  {
    names: ['mkdir'],
    usage: 'mkdir [-p] DIR...',
    summary: 'make remote directories (-p: with parents, no error if they exist)',
    complete: ['remote-dir'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs('mkdir', argv, { parents: { type: 'boolean', short: 'p' } }, 1);
      await many(sh, positionals, (p) => makeDirectory(sh.ctx(), sh.requireSite().session, sh.remoteUrl(p), !!values.parents));
    },
  },
  {
    names: ['rmdir'],
    usage: 'rmdir DIR...',
    summary: 'remove empty remote directories',
    complete: ['remote-dir'],
    async run(sh, argv) {
      const { positionals } = shellArgs('rmdir', argv, {}, 1);
      await many(sh, positionals, (p) => removeDir(sh.ctx(), sh.requireSite().session, sh.remoteUrl(p)));
    },
  },
  {
    names: ['mv', 'rename'],
    usage: 'mv FROM TO',
    summary: 'rename or move a remote file (TO ending in /: into that directory)',
    complete: ['remote'],
    async run(sh, argv) {
      const { positionals } = shellArgs('mv', argv, {}, 2, 2);
      const [from, to] = positionals;
      const target = sh.resolveRemote(to) + (to.endsWith('/') ? '/' : '');
      await moveRemote(sh.ctx(), sh.requireSite().session, sh.remoteUrl(sh.resolveRemote(from)), target);
    },
  },
  {
    names: ['cat'],
    usage: 'cat PATH...',
    summary: 'print remote files',
    complete: ['remote'],
    async run(sh, argv) {
      const { positionals } = shellArgs('cat', argv, {}, 1);
      await many(sh, positionals, async (p) => {
        await catFile(sh.ctx(), sh.requireSite().session, sh.remoteUrl(p));
      });
    },
  },
  {
    names: ['login'],
    usage: 'login [--no-check] [URL]',
    summary: 'store a password in the OS keychain (default: the open server, with the password it was opened with)',
    details: ['the password is asked for without echo; rftp then finds it for this user, host and port', 'example: login ftpes://alice@files.example.com'],
    complete: ['none'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs('login', argv, { 'no-check': { type: 'boolean' } }, 0, 1);
      let url: FtpUrl;
      if (positionals[0] !== undefined) url = parseFtpUrl(positionals[0]);
      else url = sh.requireSite().url;
      if (!sh.interactive && url.password === undefined) throw usageError('login: in a script, use `rftp login URL` with the password on stdin');
      await storeLogin(sh.ctx(), url, { ...sh.settings, user: undefined, check: !values['no-check'] && positionals[0] !== undefined });
    },
  },
  {
    names: ['logout'],
    usage: 'logout [URL]',
    summary: 'remove a stored password from the OS keychain (default: the open server)',
    complete: ['none'],
    async run(sh, argv) {
      const { positionals } = shellArgs('logout', argv, {}, 0, 1);
      await removeLogin(sh.ctx(), positionals[0] !== undefined ? parseFtpUrl(positionals[0]) : sh.requireSite().url, undefined);
    },
  },
  {
    names: ['bookmark'],
    usage: 'bookmark [list | add NAME [URL] | del NAME]',
    summary: 'named servers: `open NAME` connects (passwords stay in the keychain, never in bookmarks)',
    details: ['add NAME       the open server and directory (with its --tls/-k choice)', 'add NAME URL   a URL; a password in it is dropped', 'example: bookmark add work; open work'],
    complete: ['none', 'bookmark'],
    async run(sh, argv) {
      const { positionals } = shellArgs('bookmark', argv, {}, 0, 3);
      const path = bookmarksPath(sh.env);
      const sub = positionals[0] ?? 'list';
      const bookmarks = loadBookmarks(path);
      if (sub === 'list') {
        for (const [name, b] of Object.entries(bookmarks).sort()) {
          const opts = Object.entries(b.options ?? {}).map(([k, v]) => (v === true ? ` --${k}` : ` --${k}=${v}`)).join('');
          // A hand-edited file may hold anything: nothing raw reaches the terminal.
          sh.out.print(`${escapeControl(name)}\t${escapeControl(b.url + opts)}`);
        }
        return;
      }
      const name = positionals[1];
      if (name === undefined) throw usageError(`bookmark ${sub}: give a name (see help bookmark)`);
      if (sub === 'add') {
        checkBookmarkName(name);
        let url: string;
        const options: BookmarkOptions = {};
        if (positionals[2] !== undefined) {
          const parsed = parseFtpUrl(positionals[2]);
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
        if (!bookmarks[name]) throw new RftpError('usage', `bookmark del: no bookmark named ${name}`);
        delete bookmarks[name];
        saveBookmarks(path, bookmarks);
      } else {
        throw usageError(`bookmark: unknown subcommand ${sub} (list, add, del)`);
      }
    },
  },
];
