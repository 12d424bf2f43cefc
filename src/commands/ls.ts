import { FileType, type FileInfo } from 'basic-ftp';
import type { ArgumentsCamelCase, Argv } from 'yargs';
import { listEntries } from '../session/ops.js';
import type { Session } from '../session/session.js';
import { displayUrl, parseFtpUrl, type FtpUrl } from '../session/url.js';
import { escapeControl } from '../ui/redact.js';
import { openSession, type CommandContext, type OutputArgs, type SessionArgs } from './context.js';
import { outputOptions, sessionOptions } from './options.js';
import { runCommand } from './runner.js';

export const command = 'ls <url>';
export const describe = 'list a remote directory (names, directories with a trailing /; -l for details)';

export function builder(y: Argv) {
  return outputOptions(sessionOptions(y))
    .positional('url', { type: 'string', demandOption: true, describe: 'URL of a remote directory (or file)' })
    .option('long', { alias: 'l', type: 'boolean', default: false, describe: 'type, permissions, size, modification time (UTC) and name' })
    .example('$0 ls ftp://alice@host/pub/', 'names in /pub (relative to the login directory: ftp://host/%2Fpub for absolute)')
    .example('$0 ls --json ftps://host/', 'one JSON array of entries');
}

export type LsArgs = SessionArgs & OutputArgs & { url: string; long: boolean };

export interface ListOptions { url: FtpUrl; long: boolean; json?: boolean }

/** The entries of a remote directory, without "." and "..", sorted by name. */
export async function listRemote(session: Session, url: FtpUrl): Promise<FileInfo[]> {
  const entries = await session.run(`ls ${displayUrl(url)}`, () => 0, (client) => listEntries(client, url.path));
  return entries.filter((e) => e.name !== '.' && e.name !== '..').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The core of `ls`, shared by the one-shot command and the shell. */
export async function listDir(ctx: CommandContext, session: Session, opts: ListOptions): Promise<void> {
  const entries = await listRemote(session, opts.url);
  if (opts.json) {
    ctx.out.json(entries.map((e) => ({ name: e.name, type: typeWord(e), size: e.size, modified: e.modifiedAt?.toISOString() ?? null })));
    return;
  }
  for (const e of entries) ctx.out.print(opts.long ? longLine(e) : escapeControl(e.name) + (e.isDirectory ? '/' : ''));
}

function typeWord(e: FileInfo): string {
  return e.type === FileType.Directory ? 'dir' : e.type === FileType.File ? 'file' : e.type === FileType.SymbolicLink ? 'link' : 'unknown';
}

function longLine(e: FileInfo): string {
  const kind = e.type === FileType.Directory ? 'd' : e.type === FileType.SymbolicLink ? 'l' : '-';
  const p = e.permissions;
  const bits = (n: number) => (n & 4 ? 'r' : '-') + (n & 2 ? 'w' : '-') + (n & 1 ? 'x' : '-');
  const perms = p ? bits(p.user) + bits(p.group) + bits(p.world) : '---------';
  const when = e.modifiedAt && !Number.isNaN(e.modifiedAt.getTime()) ? e.modifiedAt.toISOString().slice(0, 16).replace('T', ' ') : e.rawModifiedAt || '-';
  const link = e.link ? ` -> ${escapeControl(e.link)}` : '';
  return `${kind}${perms} ${String(e.size).padStart(12)} ${when.padEnd(16)} ${escapeControl(e.name)}${e.isDirectory ? '/' : ''}${link}`;
}

export function handler(args: ArgumentsCamelCase<LsArgs>): Promise<number> {
  // The listing itself is the JSON output; the transfer report would be a second object.
  return runCommand('ls', { ...args, json: false, quiet: args.quiet || args.json }, async (ctx) => {
    const url = parseFtpUrl(args.url);
    const session = openSession(url, args, ctx);
    try {
      await listDir(ctx, session, { url, long: args.long, json: args.json });
      return [];
    } finally {
      session.close();
    }
  });
}
