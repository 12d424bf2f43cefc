import { RftpError } from '../errors.js';
import { limiterFor } from '../transfer/rate-limit.js';
import { segmentedDownload } from '../transfer/segmented.js';
import { checkSegments, localTarget, MAX_SEGMENTS } from '../transfer/targets.js';
import { sessionArgsOf } from './context.js';
import { downloadJobs } from './get.js';
import { eachOnConnections } from './many.js';
import { checkOptions, checksOf, verifyOf } from './checks.js';
import { createDirsOption, transferOptions } from './options.js';
import type { FtpUrl } from '../session/url.js';
import type { CommandSpec } from './spec.js';

export const spec: CommandSpec = {
  name: 'pget',
  summary: 'download a file over several connections at once, resumable per segment',
  positionals: [{ name: 'url', arity: 'many', completes: 'remote', describe: 'ftp://, ftpes:// or ftps:// URL of a remote file (in the shell: a path relative to the remote directory)' }],
  options: [
    { name: 'connections', short: 'n', type: 'number', default: 4, setting: 'pget-n', describe: `connections (segments) per file, 1-${MAX_SEGMENTS}; fewer are used when the server refuses more` },
    { name: 'output', short: 'o', type: 'string', value: 'PATH', completes: 'local', describe: 'local file or directory (default: the remote name in the current directory)' },
    createDirsOption('make the local directory of -o PATH when it is missing'),
    ...checkOptions,
    ...transferOptions,
  ],
  examples: [
    ['pget -n 4 ftpes://alice@host/iso/big.iso -o ~/Downloads/', 'four connections, explicit TLS'],
    ['pget -n 8 --limit-rate 5M ftp://host/pub/data.tar', 'at most 5 MiB/s in total'],
  ],
  async run(ctx, args) {
    const output = args.output as string | undefined;
    const segments = checkSegments(args.connections as number, '-n/--connections');
    if (args.force && args.continue) throw new RftpError('usage', '--force and --continue exclude each other');
    const jobs = await downloadJobs(ctx, args.url as string[], output, args.createDirs === true);
    const conn = sessionArgsOf(args);
    const limiter = limiterFor(args.limitRate as string | undefined, ctx.signal);
    const opts = { force: args.force === true, continue: args.continue === true, segments, limiter, checks: checksOf(args, ctx.env), verify: verifyOf(args) };
    const one = async (url: FtpUrl) => segmentedDownload(ctx.remote.sessions(url, conn), ctx.signal, url, await localTarget(url.path, output), opts, ctx.out);
    await eachOnConnections(ctx, 'pget', jobs, conn, args.parallel as number, (_session, { url }) => one(url), { login: false });
  },
};
