import { basename } from 'node:path';
import { RftpError, usageError } from '../errors.js';
import { isDirectory, makeDir, replyCode } from '../session/ops.js';
import { checkLocalPath, checkRemotePath, remoteDirname } from '../session/paths.js';
import type { Session } from '../session/session.js';
import { displayUrl, isFtpUrl, type FtpUrl } from '../session/url.js';
import { afterCommit, type Checks } from '../transfer/checks.js';
import type { VerifyMode } from '../transfer/verify.js';
import type { FileResult } from '../transfer/download.js';
import { limiterFor, type TokenBucket } from '../transfer/rate-limit.js';
import { checkStoredName } from '../transfer/stored-names.js';
import { settleMs, upload } from '../transfer/upload.js';
import { serverKey, sessionArgsOf, type CommandContext } from './context.js';
import { eachOnConnections } from './many.js';
import { checksOf, onCompleteOptions, verifyOf } from './checks.js';
import { forEntry, inputFileOption, transferEntries } from './input-file.js';
import { createDirsOption, transferOptions } from './options.js';
import type { Args, CommandSpec, RunContext } from './spec.js';

export interface PutFileArgs {
  local: string;
  url: FtpUrl;
  force: boolean;
  continue: boolean;
  limiter?: TokenBucket;
  createDirs?: boolean;
  checks?: Checks;
  verify?: VerifyMode;
}

/** One file of `put`; a URL ending in / is a directory, the file goes in under its local name. */
export async function putFile(ctx: CommandContext, session: Session, args: PutFileArgs): Promise<FileResult> {
  checkLocalPath(args.local);
  const url = { ...args.url };
  // "." and ".." name directories too: the file goes into them, never to a file named ".".
  if (/(^|\/)\.\.?$/.test(url.path)) url.path += '/';
  if (url.path === '' || url.path.endsWith('/')) url.path += basename(args.local);
  checkRemotePath(url.path);
  if (args.force && args.continue) throw new RftpError('usage', '--force and --continue exclude each other');
  const dir = remoteDirname(url.path);
  if (args.createDirs && dir !== '')
    await session.run(
      `mkdir ${displayUrl(url, dir)}`,
      () => 0,
      (client) => makeDir(client, dir, true),
    );
  try {
    const result = await upload(session, args.local, url, { force: args.force, continue: args.continue, settleMs: settleMs(ctx.env), limiter: args.limiter, verify: args.verify }, ctx.out);
    if (!result.skipped) await checkStoredName(session, url.path);
    if (!result.skipped) await afterCommit(args.checks, { part: args.local, target: args.local, url: displayUrl(url), size: result.size, direction: 'up' }, session.signal);
    return result;
  } catch (err) {
    // A server refuses to create a file in a missing directory in its own words (vsftpd: "553
    // Could not create file."): say what is wrong.
    const code = replyCode(err);
    if (dir !== '' && (code === 550 || code === 553)) {
      if (
        !(await session.run(
          `cd ${displayUrl(url, dir)}`,
          () => 0,
          (client) => isDirectory(client, dir),
        ))
      ) {
        throw new RftpError('notFound', `remote directory not found: ${displayUrl(url, dir)} (--create-dirs makes it)`);
      }
    }
    throw err;
  }
}

/** One entry's files and where each goes: the last argument (or -o) names the destination. */
function putJobs(ctx: RunContext, args: Args): Array<{ local: string; url: FtpUrl }> {
  const locals = [...(args.local as string[])];
  let dest = args.output as string | undefined;
  // On the command line the destination is a URL: the last argument (a line of -i may name its
  // own, over the command line's -o), else -o.
  if (ctx.remote.kind === 'url' && locals.length >= 2 && isFtpUrl(locals[locals.length - 1])) dest = locals.pop();
  else if (dest === undefined && ctx.remote.kind === 'url') {
    if (locals.length < 2) throw usageError(`put: missing argument URL (see ${ctx.helpHint})`);
    dest = locals.pop();
  }
  const base = ctx.remote.url(dest, 'URL');
  const intoDir = dest === undefined || dest.endsWith('/') || locals.length > 1;
  if (intoDir && base.path !== '' && !base.path.endsWith('/')) base.path += '/';
  return locals.map((local) => ({ local, url: base }));
}

/** The remote path a local file is stored under (as putFile works it out). */
function remoteTarget(url: FtpUrl, local: string): string {
  let path = url.path;
  if (/(^|\/)\.\.?$/.test(path)) path += '/';
  return path === '' || path.endsWith('/') ? path + basename(local) : path;
}

export const spec: CommandSpec = {
  name: 'put',
  ftpOnly: true,
  summary: 'upload files, resuming partial uploads from an earlier run',
  usage: '<local>... <url>',
  details: ['in the shell: put [-o REMOTE] LOCAL..., into the remote directory by default (as lftp)'],
  positionals: [
    {
      name: 'local',
      arity: 'any',
      completes: 'local',
      describe: 'local files, then the remote URL (a directory when it ends in /); in the shell the destination is -o, by default the remote directory',
    },
  ],
  options: [
    {
      name: 'output',
      short: 'o',
      type: 'string',
      value: 'REMOTE',
      completes: 'remote',
      describe: 'remote file, or directory when it ends in / (on the command line the last argument may say it instead)',
    },
    createDirsOption('make the missing remote directories of the target first'),
    inputFileOption,
    ...onCompleteOptions,
    ...transferOptions,
  ],
  examples: [
    ['put build.zip ftpes://deploy@host/releases/', 'into a directory, explicit TLS'],
    ['put -f site.tar ftp://deploy@host/site.tar', 'replace an existing remote file'],
    ['put a.csv b.csv ftp://deploy@host/incoming/', 'several files, up to --parallel at once'],
  ],
  async run(ctx, args) {
    // `put -i LIST URL/`: the URL alone on the command line is where the lines' files go.
    const own = (args.local as string[] | undefined) ?? [];
    const base = args.inputFile !== undefined && own.length === 1 && isFtpUrl(own[0]) && args.output === undefined ? { ...args, local: undefined, output: own[0] } : args;
    const entries = await transferEntries(ctx, spec, base, 'local');
    const jobs: Array<{ url: FtpUrl; item: { local: string; target: string; opts: Args; checks?: Checks; verify: VerifyMode } }> = [];
    for (const entry of entries) {
      const e = entry.args;
      await forEntry(entry, async () => {
        if (e.force && e.continue) throw new RftpError('usage', '--force and --continue exclude each other');
        const checks = checksOf(e, ctx.env);
        const verify = verifyOf(e);
        for (const { local, url } of putJobs(ctx, e)) jobs.push({ url, item: { local, target: remoteTarget(url, local), opts: e, checks, verify } });
      });
    }
    // Two files that would be stored under one remote name: refused before anything starts.
    const seen = new Map<string, string>();
    for (const { url, item } of jobs) {
      const key = `${serverKey(url)} ${item.target}`;
      const other = seen.get(key);
      if (other !== undefined) throw usageError(`${other} and ${item.local} would both be uploaded as ${item.target}`);
      seen.set(key, item.local);
    }
    const conn = sessionArgsOf(args);
    const limiter = limiterFor(args.limitRate as string | undefined, ctx.signal);
    await eachOnConnections(ctx, 'put', jobs, conn, args.parallel as number, (session, { url, item }) =>
      putFile(ctx, session, {
        local: item.local,
        url,
        force: item.opts.force === true,
        continue: item.opts.continue === true,
        limiter,
        createDirs: item.opts.createDirs === true,
        checks: item.checks,
        verify: item.verify,
      }),
    );
  },
};
