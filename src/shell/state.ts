import { setMaxListeners } from 'node:events';
import { posix } from 'node:path';
import { PassThrough } from 'node:stream';
import { usageError } from '../errors.js';
import { sessionFactory, type CommandContext, type SessionArgs } from '../commands/context.js';
import { shellHint } from '../commands/parse.js';
import type { RunHost } from '../commands/runner.js';
import type { CommandSpec, RemoteNaming, RunContext } from '../commands/spec.js';
import { resolveCredentials } from '../session/credentials.js';
import { keychainLookup } from '../session/keychain.js';
import { resolveDir } from '../session/ops.js';
import { checkRemotePath } from '../session/paths.js';
import { promptHidden } from '../ui/prompt.js';
import type { Session } from '../session/session.js';
import { displayUrl, isFtpUrl, parseFtpUrl, type FtpUrl } from '../session/url.js';
import type { SessionMaker } from '../transfer/segmented.js';
import { Output } from '../ui/output.js';
import { addSecret, escapeControl } from '../ui/redact.js';
import { bookmarksPath, loadBookmarks, type BookmarkOptions } from './bookmarks.js';
import { Jobs } from './jobs.js';
import { settingDefaults, type ShellSettings } from './settings.js';

export type { ShellSettings };

/** The connection options a command may give for itself in the shell (-u, --tls, --timeout…). */
const CONNECTION_KEYS = ['user', 'tls', 'caFile', 'insecure', 'timeout', 'retries', 'retryDelay', 'fixPasvAddress', 'pipelining'] as const;

/** The open server: the URL (with the credentials found at `open`), the directories, the connection. */
export interface Site {
  url: FtpUrl;
  args: SessionArgs;
  factory: (signal?: AbortSignal) => Session;
  session: Session;
  home: string;
  cwd: string;
  previous?: string;
  /** Where the password came from at open: one typed (prompt, URL, -u) cannot be looked up later. */
  passwordSource?: string;
}

export class Shell {
  site: Site | undefined;
  /** Aborted by Ctrl-C during a command; replaced (with the Session bound to it) afterwards. */
  controller = abortController();
  private completion: { session: Session; controller: AbortController } | undefined;
  /** The exit code scripts end with when fail-exit is off: the last failure's. */
  lastFailure = 0;
  previousLocal: string | undefined;
  /** The commands come from stdin: a local command (!) must not read the rest of the script. */
  stdinIsScript = false;
  /** Background jobs (`get big &`). */
  readonly jobs: Jobs = new Jobs((text) => this.out.info(text));
  /** An `exit` was refused once because jobs were running: the next one stops them. */
  exitWarned = false;

  constructor(
    readonly out: Output,
    readonly env: NodeJS.ProcessEnv,
    public settings: ShellSettings,
    readonly interactive: boolean,
    /** Every command the shell knows, in the order `help` lists them. */
    readonly commands: Array<CommandSpec> = [],
  ) {}

  /** Where the shell's commands run: its settings as defaults, remote paths relative to the site. */
  host(overview: (specs: Array<CommandSpec>) => Promise<string>): RunHost {
    return {
      out: this.out,
      env: this.env,
      controller: this.controller,
      naming: (ctx, _command, given) => this.naming(ctx, given),
      hint: shellHint,
      settings: settingDefaults(this.settings),
      stdinFree: this.interactive,
      exitOnSecondSignal: !this.interactive,
      site: { open: (target, args, ctx) => this.openTarget(target, args, ctx) },
      extra: { sh: this },
      commands: async () => this.commands,
      overview,
    };
  }

  /**
   * Where a background job runs: as the shell's commands, but with its own output and abort
   * signal, on connections of its own (the site's stays the foreground's), deaf to Ctrl-C.
   */
  jobHost(overview: (specs: Array<CommandSpec>) => Promise<string>, job: { out: Output; controller: AbortController }, site: Site | undefined): RunHost {
    return {
      ...this.host(overview),
      out: job.out,
      controller: job.controller,
      naming: (ctx, _command, given) => this.naming(ctx, given, { signal: job.controller.signal, site }),
      stdinFree: false,
      exitOnSecondSignal: false,
      signals: false,
    };
  }

  /**
   * Remote files as paths of the open site (a full URL still names its own server). The site's
   * connection serves a command unless it gives connection options of its own (-u, --timeout…):
   * those get connections of their own, with the site's credentials unless -u says otherwise.
   * A background job (`job`) always gets connections of its own, and names paths in the site
   * and directory it was given in (a later cd, close or open does not move it).
   */
  naming(ctx: CommandContext, given: ReadonlySet<string>, job?: { signal: AbortSignal; site: Site | undefined }): RemoteNaming {
    const own = job?.signal;
    const current = () => (job ? (job.site ?? this.requireSite()) : this.requireSite());
    const openSite = job ? job.site : this.site;
    /** The connection options of this command, when it gives some of its own (else the site's). */
    const ownArgs = (args: SessionArgs): SessionArgs | undefined => {
      const keys = CONNECTION_KEYS.filter((k) => given.has(k));
      // --debug shows the conversation of this command's connections: a connection of its own.
      if (keys.length === 0 && ctx.out.mode.debug === this.out.mode.debug) return undefined;
      return { ...current().args, ...Object.fromEntries(keys.map((k) => [k, args[k]])) };
    };
    /** The open site when the URL is on its server (a full URL may name another). */
    const siteOf = (url: FtpUrl) => (openSite && sameServer(url, openSite.url) ? openSite : undefined);
    const sessions = (url: FtpUrl, args: SessionArgs, other?: CommandContext): SessionMaker => {
      const site = siteOf(url);
      if (!site) return sessionFactory(url, args, other ?? ctx);
      const mine = ownArgs(args);
      // A background job's connections report to the job's output, not the prompt's.
      if (!mine && !other && own) return sessionFactory({ ...site.url, path: url.path }, site.args, ctx);
      if (!mine && !other) return (signal = this.controller.signal) => site.factory(signal);
      const login = mine?.user !== undefined ? { ...site.url, user: undefined, password: undefined } : site.url;
      return sessionFactory({ ...login, path: url.path }, { ...(mine ?? site.args), user: mine?.user }, other ?? ctx);
    };
    return {
      kind: 'site',
      url: (arg) => (arg !== undefined && isFtpUrl(arg) ? parseFtpUrl(arg) : this.remoteUrl(arg === undefined ? current().cwd : this.resolveRemote(arg, current()), current())),
      path: (arg) => this.resolveRemote(arg, current()) + (arg.endsWith('/') ? '/' : ''),
      sessions,
      session: (url, args) => {
        const site = siteOf(url);
        if (site && !ownArgs(args) && !own) return { session: site.session, release: () => {} };
        const session = sessions(url, args)();
        return { session, release: () => session.close() };
      },
    };
  }

  /**
   * `open URL|BOOKMARK|HOST`: options given on the line win over the bookmark's, which win over
   * the settings (the command's defaults).
   */
  async openTarget(target: string, args: SessionArgs, ctx: RunContext): Promise<void> {
    const { url, options } = this.lookupTarget(target);
    const pick = <K extends keyof SessionArgs>(k: K, fromBookmark: SessionArgs[K] | undefined) => (ctx.given.has(k) ? args[k] : (fromBookmark ?? args[k]));
    await this.open(url, { ...args, tls: pick('tls', options.tls), insecure: pick('insecure', options.insecure), caFile: pick('caFile', options.caFile) });
  }

  /** open's target: a URL, a bookmark, or a bare host name (as lftp takes it). */
  private lookupTarget(target: string): { url: FtpUrl; options: BookmarkOptions } {
    if (isFtpUrl(target)) return { url: parseFtpUrl(target), options: {} };
    const bookmarks = loadBookmarks(bookmarksPath(this.env));
    const b = Object.hasOwn(bookmarks, target) ? bookmarks[target] : undefined;
    if (b) return { url: parseFtpUrl(b.url), options: b.options ?? {} };
    if (/^[A-Za-z0-9.-]+(:\d+)?$/.test(target) && target.includes('.')) return { url: parseFtpUrl(`ftp://${target}/`), options: {} };
    // `user:password@host` is not a form open takes, but it may well hold a password: never echo that.
    const shown = target.replace(/:.*@/, ':***@');
    throw usageError(`open: "${shown}" is neither an ftp://, ftpes:// or ftps:// URL nor a bookmark (bookmark list shows them)`);
  }

  ctx(): CommandContext {
    return { out: this.out, signal: this.controller.signal, env: this.env };
  }

  requireSite(): Site {
    if (!this.site) throw usageError('not connected: open a server first (open URL or open BOOKMARK)');
    return this.site;
  }

  /**
   * A URL for a path on the open server. Under the login directory the path is relative to it,
   * as a one-shot URL names it (ftp://host/dir/file = dir/file in the login directory): partials
   * record their URL, so `rftp get URL` and the shell's get continue each other's downloads.
   * (Connections never stay in another directory, so this holds across reconnects too.)
   */
  remoteUrl(path: string, site = this.requireSite()): FtpUrl {
    return { ...site.url, path: relativeToHome(path, site.home) };
  }

  /** An argument as an absolute remote path: ~ is the login directory, the rest is relative to cd. */
  resolveRemote(arg: string, site = this.requireSite()): string {
    checkRemotePath(arg);
    if (arg === '~') return site.home;
    if (arg.startsWith('~/')) return posix.resolve(site.home, arg.slice(2));
    return posix.resolve(site.cwd, arg);
  }

  /**
   * Connects now, so a wrong host or password shows at `open`, and learns the login directory.
   * Credentials are looked up once here, in the usual order, and kept for reconnects and `set`.
   */
  async open(url: FtpUrl, args: SessionArgs): Promise<void> {
    const bare = { ...url, path: '' };
    const creds = await resolveCredentials(bare, args.user, {
      env: this.env,
      warn: (m) => this.out.warn(m),
      keychain: this.env.RFTP_NO_KEYCHAIN ? undefined : keychainLookup,
      prompt: process.stdin.isTTY ? promptHidden : undefined,
    });
    addSecret(creds.password);
    // With no password found, leave it unset so the login error can say where to put one.
    const site = this.makeSite({ ...bare, user: creds.user, password: creds.source === 'none' ? undefined : creds.password }, { ...args, user: undefined });
    site.passwordSource = creds.source;
    try {
      site.home = await site.session.run(
        'open',
        () => 0,
        (client) => resolveDir(client, ''),
      );
    } catch (err) {
      site.session.close();
      throw err;
    }
    site.cwd = site.home;
    // The old server stays open until the new one answered: a mistyped `user` or `open` loses nothing.
    this.close();
    this.site = site;
    if (url.path !== '') await this.cd(url.path.startsWith('/') ? url.path : posix.join(site.home, url.path));
  }

  private makeSite(url: FtpUrl, args: SessionArgs): Site {
    const factory = sessionFactory(url, args, this.ctx());
    return { url, args, factory, session: factory(this.controller.signal), home: '/', cwd: '/' };
  }

  /** New settings take effect on the next command: same server, credentials and directory. */
  applySettings(): void {
    const site = this.site;
    if (!site) return;
    site.session.close();
    this.dropCompletion();
    // Only what `set` changes for an open site: its TLS choice and CA stay those it was opened with.
    const { retries, retryDelay, timeout, fixPasvAddress, pipelining } = this.settings;
    const next = this.makeSite(site.url, { ...site.args, retries, retryDelay, timeout, fixPasvAddress, pipelining, user: undefined });
    this.site = { ...site, args: next.args, factory: next.factory, session: next.session, passwordSource: site.passwordSource };
  }

  async cd(path: string): Promise<void> {
    const site = this.requireSite();
    const dir = await site.session.run(
      `cd ${path}`,
      () => 0,
      (client) => resolveDir(client, path),
    );
    if (dir !== site.cwd) site.previous = site.cwd;
    site.cwd = dir;
  }

  close(): void {
    this.site?.session.close();
    this.dropCompletion();
    this.site = undefined;
  }

  /** After Ctrl-C: the aborted signal killed the connection; the next command gets a fresh one. */
  renew(): void {
    if (!this.controller.signal.aborted) return;
    this.controller = abortController();
    if (this.site) this.site.session = this.site.factory(this.controller.signal);
  }

  /** A second connection for Tab completion, so a slow listing never holds up a command. */
  completionSession(): Session | undefined {
    if (!this.site) return undefined;
    if (!this.completion) {
      const controller = new AbortController();
      // Silent and without retries: nothing may draw over the line being typed.
      const silent = new Output({ quiet: true, json: false, debug: false }, new PassThrough().resume() as unknown as NodeJS.WriteStream);
      const factory = sessionFactory(this.site.url, { ...this.site.args, retries: 0 }, { out: silent, signal: controller.signal, env: this.env });
      this.completion = { controller, session: factory(controller.signal) };
    }
    return this.completion.session;
  }

  dropCompletion(): void {
    this.completion?.controller.abort();
    this.completion = undefined;
  }

  prompt(): string {
    if (!this.site) return 'rftp> ';
    const { url, cwd, home } = this.site;
    const under = home === '/' ? cwd.slice(1) : cwd.startsWith(`${home}/`) ? cwd.slice(home.length + 1) : undefined;
    const where = cwd === home ? '~' : under !== undefined ? `~/${under}` : cwd;
    const host = url.host.includes(':') ? `[${url.host}]` : url.host;
    return escapeControl(`rftp ${url.user ?? 'anonymous'}@${host}:${where}> `);
  }

  describeSite(): string {
    const site = this.requireSite();
    return displayUrl(site.url, relativeToHome(site.cwd, site.home));
  }
}

/** The same server and login: the site's connections can serve it. */
function sameServer(a: FtpUrl, b: FtpUrl): boolean {
  return a.security === b.security && a.host === b.host && a.port === b.port && (a.user ?? '') === (b.user ?? '');
}

/** An absolute path at or below the login directory as a path relative to it ("" for itself). */
export function relativeToHome(path: string, home: string): string {
  if (!path.startsWith('/') || !home.startsWith('/')) return path;
  if (path === home) return '';
  const base = home.endsWith('/') ? home : `${home}/`;
  return path.startsWith(base) ? path.slice(base.length) : path;
}

/** Every connection of a command listens for its abort (mirror -P 16): no leak warning past 10. */
function abortController(): AbortController {
  const c = new AbortController();
  setMaxListeners(0, c.signal);
  return c;
}
