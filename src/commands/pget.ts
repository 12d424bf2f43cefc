import { RftpError } from '../errors.js';
import { limiterFor } from '../transfer/rate-limit.js';
import { segmentedDownload, type SegmentedOptions } from '../transfer/segmented.js';
import { checkSegments, MAX_SEGMENTS } from '../transfer/targets.js';
import { sessionArgsOf } from './context.js';
import { downloadJobs, refuseSameTarget, targetOf } from './get.js';
import type { HttpUrl } from '../session/http-url.js';
import { httpSegmentedDownload } from '../transfer/http-segmented.js';
import { forEntry, inputFileOption, transferEntries } from './input-file.js';
import { eachOnConnections } from './many.js';
import { checkOptions, checksOf, verifyOf } from './checks.js';
import { createDirsOption, httpOptions, remoteFilesPositional, transferOptions } from './options.js';
import type { FtpUrl } from '../session/url.js';
import type { CommandSpec } from './spec.js';

export const spec: CommandSpec = {
  name: 'pget',
  summary: 'download a file over several connections at once, resumable per segment',
  usage: '<url>...',
  positionals: [remoteFilesPositional],
  options: [
    { name: 'connections', short: 'n', type: 'number', default: 4, setting: 'pget-n', describe: `connections (segments) per file, 1-${MAX_SEGMENTS}; fewer are used when the server refuses more` },
    { name: 'output', short: 'o', type: 'string', value: 'PATH', completes: 'local', describe: 'local file or directory (default: the remote name in the current directory)' },
    createDirsOption('make the local directory of -o PATH when it is missing'),
    inputFileOption,
    ...checkOptions,
    ...httpOptions,
    ...transferOptions,
  ],
  examples: [
    ['pget -n 4 ftpes://alice@host/iso/big.iso -o ~/Downloads/', 'four connections, explicit TLS'],
    ['pget -n 8 --limit-rate 5M ftp://host/pub/data.tar', 'at most 5 MiB/s in total'],
    ['pget -n 8 https://downloads.example.com/debian.iso', 'http(s): eight ranges, each with If-Range'],
  ],
  async run(ctx, args) {
    const entries = await transferEntries(ctx, spec, args, 'url');
    const jobs: Array<{ url: FtpUrl | HttpUrl; item: { name: string; target: string; opts: SegmentedOptions } }> = [];
    for (const entry of entries) {
      const e = entry.args;
      await forEntry(entry, async () => {
        const segments = checkSegments(e.connections as number, '-n/--connections');
        if (e.force && e.continue) throw new RftpError('usage', '--force and --continue exclude each other');
        const opts = { force: e.force === true, continue: e.continue === true, segments, checks: checksOf(e, ctx.env), verify: verifyOf(e) };
        for (const j of await downloadJobs(ctx, e.url as string[], e.output as string | undefined, e.createDirs === true)) {
          jobs.push({ url: j.url, item: { name: j.item, target: await targetOf(j.url, e.output as string | undefined), opts } });
        }
      });
    }
    refuseSameTarget(jobs.map((j) => ({ item: j.item.name, target: j.item.target })));
    const conn = sessionArgsOf(args);
    const limiter = limiterFor(args.limitRate as string | undefined, ctx.signal);
    await eachOnConnections(
      ctx,
      'pget',
      jobs,
      conn,
      args.parallel as number,
      (_session, { url, item }) => segmentedDownload(ctx.remote.sessions(url, conn), ctx.signal, url, item.target, { ...item.opts, limiter }, ctx.out),
      { login: false, http: (client, { url, item }) => httpSegmentedDownload(client, url, item.target, { ...item.opts, limiter }, ctx.out) },
    );
  },
};
