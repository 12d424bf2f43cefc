import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { RftpError, usageError } from '../errors.js';
import { getFile } from '../commands/get.js';
import { listRemote } from '../commands/ls.js';
import { putFile } from '../commands/put.js';
import { sessionFactory } from '../commands/context.js';
import { pgetFile } from '../commands/pget.js';
import { syncDirs } from '../commands/sync.js';
import { DEFAULT_LIMITS } from '../sync/walk-remote.js';
import { remoteBasename, remoteDirname } from '../session/paths.js';
import { acceptedConnections } from '../session/pool.js';
import type { Session } from '../session/session.js';
import { displayUrl } from '../session/url.js';
import { shellArgs } from './args.js';
import { Reported, type ShellCommand } from './commands-types.js';
import { globToRegExp, hasGlob } from './glob.js';
import type { Shell } from './state.js';

const clobber = { continue: { type: 'boolean', short: 'c' }, force: { type: 'boolean', short: 'f' } } as const;

const dirSlash = (p: string) => (p.endsWith('/') ? p : p + '/');

/**
 * Runs one job per item on up to `set parallel` connections (the shell's own plus extra ones
 * sharing its credentials). A failed item is reported and the rest go on; Ctrl-C stops all.
 */
async function eachParallel<T>(sh: Shell, name: string, items: T[], job: (session: Session, item: T) => Promise<void>): Promise<void> {
  const site = sh.requireSite();
  const workers = Math.max(1, Math.min(sh.settings.parallel, items.length));
  const sessions = [site.session, ...Array.from({ length: workers - 1 }, () => site.factory(sh.controller.signal))];
  let next = 0;
  const failures: RftpError[] = [];
  try {
    const pool = workers > 1 ? await acceptedConnections(site.session, sessions.slice(1), (text) => sh.out.warn(text)) : sessions;
    await Promise.all(
      pool.map(async (session) => {
        while (next < items.length && !sh.controller.signal.aborted) {
          const item = items[next++];
          try {
            await job(session, item);
          } catch (err) {
            if (sh.controller.signal.aborted || !(err instanceof RftpError) || items.length === 1) throw err;
            sh.out.error(err.message);
            failures.push(err);
          }
        }
      }),
    );
  } finally {
    for (const s of sessions.slice(1)) s.close();
  }
  if (failures.length > 0) throw new Reported(failures[0].exitCode, `${name}: ${failures.length} of ${items.length} files failed`);
}

/** Remote files matching a pattern in the last path segment; a name without wildcards is taken as it is. */
async function expandRemote(sh: Shell, pattern: string): Promise<string[]> {
  const path = sh.resolveRemote(pattern);
  const base = remoteBasename(pattern);
  if (!hasGlob(base)) return [path];
  const dir = remoteDirname(path) || '/';
  const re = globToRegExp(base);
  const entries = await listRemote(sh.requireSite().session, sh.remoteUrl(dir));
  const names = entries.filter((e) => !e.isDirectory && re.test(e.name) && !/[/\r\n\0]/.test(e.name)).map((e) => dirSlash(dir) + e.name);
  if (names.length === 0) throw new RftpError('notFound', `no remote files match ${pattern}`);
  return names;
}

async function expandLocal(pattern: string): Promise<string[]> {
  const base = basename(pattern);
  if (!hasGlob(base)) return [pattern];
  const dir = dirname(pattern);
  const re = globToRegExp(base);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new RftpError('local', `${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const files: string[] = [];
  for (const n of names.filter((n) => re.test(n)).sort()) {
    const p = dir === '.' ? n : join(dir, n);
    if ((await stat(p).catch(() => undefined))?.isFile()) files.push(p);
  }
  if (files.length === 0) throw new RftpError('local', `no local files match ${pattern}`);
  return files;
}

async function getMany(sh: Shell, name: string, remotes: string[], output: string | undefined, opts: { force?: boolean; continue?: boolean }) {
  if (remotes.length > 1 && output !== undefined) {
    const st = await stat(output).catch(() => undefined);
    if (!st?.isDirectory()) throw usageError(`${name}: with several files, -o must name an existing directory`);
  }
  const ctx = sh.ctx();
  await eachParallel(sh, name, remotes, async (session, path) => {
    await getFile(ctx, session, { url: sh.remoteUrl(path), output, force: !!opts.force, continue: !!opts.continue, sessions: sh.requireSite().factory });
  });
}

async function putMany(sh: Shell, name: string, locals: string[], dest: string | undefined, opts: { force?: boolean; continue?: boolean }) {
  const site = sh.requireSite();
  let target = dirSlash(site.cwd);
  if (dest !== undefined) target = dest.endsWith('/') || locals.length > 1 ? dirSlash(sh.resolveRemote(dest)) : sh.resolveRemote(dest);
  const ctx = sh.ctx();
  await eachParallel(sh, name, locals, async (session, local) => {
    await putFile(ctx, session, { local, url: sh.remoteUrl(target), force: !!opts.force, continue: !!opts.continue });
  });
}

export const transferCommands: ShellCommand[] = [
  {
    names: ['get'],
    usage: 'get [-c] [-f] [-o LOCAL] REMOTE...',
    summary: 'download files, resuming partial downloads (as rftp get)',
    details: ['-c  skip files already complete here', '-f  replace existing local files', '-o  local file or directory', 'example: get -o ~/Downloads/ big.iso'],
    complete: ['remote'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs('get', argv, { ...clobber, output: { type: 'string', short: 'o' } }, 1);
      await getMany(sh, 'get', positionals.map((p) => sh.resolveRemote(p)), values.output, values);
    },
  },
  {
    names: ['mget'],
    usage: 'mget [-c] [-f] [-O DIR] PATTERN...',
    summary: 'download the files matching wildcards (*, ?, [...]) in the last path segment',
    details: ['-O  local directory to put them in', 'example: mget -c logs/*.gz'],
    complete: ['remote'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs('mget', argv, { ...clobber, 'output-dir': { type: 'string', short: 'O' } }, 1);
      const remotes: string[] = [];
      for (const p of positionals) remotes.push(...(await expandRemote(sh, p)));
      const dir = values['output-dir'];
      await getMany(sh, 'mget', remotes, dir === undefined ? undefined : dirSlash(dir), values);
    },
  },
  {
    names: ['put'],
    usage: 'put [-c] [-f] [-o REMOTE] LOCAL...',
    summary: 'upload files, resuming partial uploads (as rftp put)',
    details: ['-o  remote file, or directory when it ends in /', 'example: put -o releases/ build.zip'],
    complete: ['local'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs('put', argv, { ...clobber, output: { type: 'string', short: 'o' } }, 1);
      await putMany(sh, 'put', positionals, values.output, values);
    },
  },
  {
    names: ['mput'],
    usage: 'mput [-c] [-f] [-O DIR] PATTERN...',
    summary: 'upload the local files matching wildcards',
    details: ['-O  remote directory to put them in', 'example: mput -O incoming/ *.csv'],
    complete: ['local'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs('mput', argv, { ...clobber, 'output-dir': { type: 'string', short: 'O' } }, 1);
      const locals: string[] = [];
      for (const p of positionals) locals.push(...(await expandLocal(p)));
      const dir = values['output-dir'];
      await putMany(sh, 'mput', locals, dir === undefined ? undefined : dirSlash(dir), values);
    },
  },
  {
    names: ['pget'],
    usage: 'pget [-n N] [-c] [-f] [-o LOCAL] REMOTE',
    summary: 'download one file over several connections (as rftp pget)',
    details: ['-n  connections (default: set parallel)', 'example: pget -n 4 big.iso'],
    complete: ['remote'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs('pget', argv, { ...clobber, output: { type: 'string', short: 'o' }, connections: { type: 'string', short: 'n' } }, 1, 1);
      const site = sh.requireSite();
      const connections = values.connections === undefined ? Math.max(sh.settings.parallel, 1) : Number(values.connections);
      const url = sh.remoteUrl(sh.resolveRemote(positionals[0]));
      await pgetFile(sh.ctx(), site.factory, { url, output: values.output, force: !!values.force, continue: !!values.continue, connections });
    },
  },
  {
    names: ['mirror', 'sync'],
    usage: 'mirror [-R] [-e] [--dry-run] [-P N] [-I GLOB] [-X GLOB] [--use-pget-n N] [--no-pipelining] SOURCE [TARGET]',
    summary: 'mirror a remote directory here, or with -R a local one there (as rftp sync)',
    details: [
      'without -R: SOURCE is remote (relative to cd), TARGET local (default: its name in lcd)',
      '-R  upload: SOURCE is local, TARGET remote (default: its name in cd)',
      '-e  delete what the source lacks; --max-delete N caps it',
      '--max-dirs N, --max-entries N  walk limits (defaults 20000 and 500000)',
      '--use-pget-n N  download files of 2 MiB or more in up to N segments each (as pget)',
      '--no-pipelining  ask file times one at a time (a server that loses commands sent together)',
      'example: mirror -R -e ./site www',
    ],
    complete: ['remote', 'local'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs(
        'mirror',
        argv,
        {
          reverse: { type: 'boolean', short: 'R' },
          delete: { type: 'boolean', short: 'e' },
          'dry-run': { type: 'boolean' },
          continue: { type: 'boolean', short: 'c' },
          parallel: { type: 'string', short: 'P' },
          'max-delete': { type: 'string' },
          'max-dirs': { type: 'string' },
          'max-entries': { type: 'string' },
          include: { type: 'string', short: 'I', multiple: true },
          exclude: { type: 'string', short: 'X', multiple: true },
          'no-pipelining': { type: 'boolean' },
          'use-pget-n': { type: 'string' },
        } as const,
        1,
        2,
      );
      const site = sh.requireSite();
      const [src, dst] = positionals;
      const reverse = !!values.reverse;
      const remote = sh.resolveRemote(reverse ? (dst ?? basename(resolve(src))) : src);
      const local = reverse ? src : (dst ?? (remoteBasename(remote) || '.'));
      // The remote side as a URL without password: the connections come from the open site.
      const url = displayUrl(sh.remoteUrl(dirSlash(remote)));
      await syncDirs(sh.ctx(), (_url, ctx) => sessionFactory(site.url, site.args, ctx), {
        source: reverse ? local : url,
        destination: reverse ? url : local,
        reverse,
        delete: !!values.delete,
        dryRun: !!values['dry-run'],
        json: false,
        parallel: values.parallel === undefined ? sh.settings.parallel : Number(values.parallel),
        maxDelete: values['max-delete'] === undefined ? undefined : Number(values['max-delete']),
        maxDirs: values['max-dirs'] === undefined ? DEFAULT_LIMITS.maxDirs : Number(values['max-dirs']),
        maxEntries: values['max-entries'] === undefined ? DEFAULT_LIMITS.maxEntries : Number(values['max-entries']),
        include: (values.include as string[] | undefined) ?? [],
        exclude: (values.exclude as string[] | undefined) ?? [],
        pipelining: !values['no-pipelining'],
        usePgetN: values['use-pget-n'] === undefined ? undefined : /^\d+$/.test(values['use-pget-n']) ? Number(values['use-pget-n']) : NaN,
      });
    },
  },
];
