import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { spec as get } from '../commands/get.js';
import { listRemote } from '../commands/ls.js';
import { spec as put } from '../commands/put.js';
import { RftpError } from '../errors.js';
import { remoteBasename, remoteDirname } from '../session/paths.js';
import type { ShellContext, ShellSpec } from './commands-types.js';
import { globToRegExp, hasGlob } from './glob.js';

// mget and mput: the registry's get and put, on the files a wildcard matches (as lftp's).

const dirSlash = (p: string) => (p.endsWith('/') ? p : `${p}/`);

/** Remote files matching a pattern in the last path segment; a name without wildcards is taken as it is. */
async function expandRemote(ctx: ShellContext, pattern: string): Promise<string[]> {
  const { sh } = ctx;
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

/** get's or put's options, with -O DIR in place of -o. */
const outputDir = (about: string) => ({ name: 'output-dir', short: 'O', type: 'string' as const, value: 'DIR', describe: about });
const without = (spec: typeof get, name: string) => spec.options.filter((o) => o.name !== name);

export const transferCommands: ShellSpec[] = [
  {
    name: 'mget',
    summary: 'download the files matching wildcards (*, ?, [...]) in the last path segment (as get)',
    positionals: [{ name: 'pattern', arity: 'many', completes: 'remote', describe: 'remote path, wildcards allowed in its last segment' }],
    options: [outputDir('local directory to put them in'), ...without(get, 'output')],
    examples: [['-c "open ftp://host/logs; mget -c *.gz"', 'every .gz file of the remote directory, skipping those already here']],
    async run(ctx, args) {
      const remotes: string[] = [];
      for (const p of args.pattern as string[]) remotes.push(...(await expandRemote(ctx, p)));
      const dir = args.outputDir as string | undefined;
      return get.run(ctx, { ...args, url: remotes, output: dir === undefined ? undefined : dirSlash(dir) });
    },
  },
  {
    name: 'mput',
    summary: 'upload the local files matching wildcards (as put)',
    positionals: [{ name: 'pattern', arity: 'many', completes: 'local', describe: 'local path, wildcards allowed in its last segment' }],
    options: [outputDir('remote directory to put them in'), ...without(put, 'output')],
    examples: [['-c "open ftp://host/incoming; mput *.csv"', 'every .csv file here, into the remote directory']],
    async run(ctx, args) {
      const locals: string[] = [];
      for (const p of args.pattern as string[]) locals.push(...(await expandLocal(p)));
      const dir = args.outputDir as string | undefined;
      return put.run(ctx, { ...args, local: locals, output: dir === undefined ? undefined : dirSlash(dir) });
    },
  },
];
