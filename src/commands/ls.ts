import { RftpError } from '../errors.js';
import { listEntries, type FileInfo } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import { escapeControl } from '../ui/redact.js';
import { sessionArgsOf, type CommandContext } from './context.js';
import { forEachRemote } from './many.js';
import { remoteOptions } from './options.js';
import type { CommandSpec } from './spec.js';

export interface ListOptions {
  url: FtpUrl;
  long: boolean;
  json?: boolean;
}

/** The entries of a remote directory, without "." and "..", sorted by name. */
export async function listRemote(session: Session, url: FtpUrl): Promise<FileInfo[]> {
  const entries = await session
    .run(
      `ls ${displayUrl(url)}`,
      () => 0,
      (client) => listEntries(client, url.path),
    )
    .catch((err: unknown) => {
      throw err instanceof RftpError && err.message === 'remote directory not found' ? new RftpError('notFound', `remote directory not found: ${displayUrl(url)}`) : err;
    });
  return entries.filter((e) => e.name !== '.' && e.name !== '..').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A listing on stdout: names, long lines (-l) or one JSON array (--json). */
export async function listDir(ctx: CommandContext, session: Session, opts: ListOptions): Promise<void> {
  const entries = await listRemote(session, opts.url);
  if (opts.json) {
    ctx.out.json(entries.map((e) => ({ name: e.name, type: typeWord(e), size: e.size, modified: e.modifiedAt?.toISOString() ?? null })));
    return;
  }
  for (const e of entries) ctx.out.print(opts.long ? longLine(e) : escapeControl(e.name) + (e.isDirectory ? '/' : ''));
}

function typeWord(e: FileInfo): string {
  return e.isDirectory ? 'dir' : e.isFile ? 'file' : e.isSymbolicLink ? 'link' : 'unknown';
}

function longLine(e: FileInfo): string {
  const kind = e.isDirectory ? 'd' : e.isSymbolicLink ? 'l' : '-';
  const p = e.permissions;
  const bits = (n: number) => (n & 4 ? 'r' : '-') + (n & 2 ? 'w' : '-') + (n & 1 ? 'x' : '-');
  const perms = p ? bits(p.user) + bits(p.group) + bits(p.world) : '---------';
  const when = e.modifiedAt && !Number.isNaN(e.modifiedAt.getTime()) ? e.modifiedAt.toISOString().slice(0, 16).replace('T', ' ') : e.rawModifiedAt || '-';
  const link = e.link ? ` -> ${escapeControl(e.link)}` : '';
  return `${kind}${perms} ${String(e.size).padStart(12)} ${when.padEnd(16)} ${escapeControl(e.name)}${e.isDirectory ? '/' : ''}${link}`;
}

export const spec: CommandSpec = {
  name: 'ls',
  ftpOnly: true,
  aliases: ['dir'],
  summary: 'list a remote directory (names, directories with a trailing /; -l for details)',
  positionals: [{ name: 'url', arity: 'optional', completes: 'remote', describe: 'URL of a remote directory or file (in the shell: a path, by default the remote directory)' }],
  options: [{ name: 'long', short: 'l', type: 'boolean', default: false, describe: 'type, permissions, size, modification time (UTC) and name' }, ...remoteOptions],
  examples: [
    ['ls ftp://alice@host/pub/', 'names in pub (relative to the login directory: ftp://host/%2Fpub for /pub)'],
    ['ls --json ftps://host/', 'one JSON array of entries'],
  ],
  // The listing itself is the JSON output; a transfer report would be a second object.
  ownJson: true,
  async run(ctx, args) {
    await forEachRemote(ctx, [args.url as string | undefined], sessionArgsOf(args), (session, url) => listDir(ctx, session, { url, long: args.long === true, json: args.json === true }));
  },
};
