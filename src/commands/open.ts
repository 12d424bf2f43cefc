import { RftpError } from '../errors.js';
import { sessionArgsOf } from './context.js';
import { remoteOptions } from './options.js';
import type { CommandSpec } from './spec.js';

export const spec: CommandSpec = {
  name: 'open',
  ftpOnly: true,
  summary: 'connect to a server; on the command line, start the shell connected to it (rftp alone starts it unconnected)',
  positionals: [{ name: 'target', completes: 'bookmark', describe: 'ftp://, ftpes:// or ftps:// URL (its path becomes the remote directory), a bookmark name, or a host name' }],
  options: remoteOptions,
  examples: [
    ['open ftpes://alice@files.example.com/pub', 'then: ls, cd, get, put, mirror, help…'],
    ['-c "open ftp://alice@host; cd logs; mget *.gz"', 'the same commands as a script'],
  ],
  // The shell handles Ctrl-C per command, and prints what each command reports.
  signals: 'none',
  ownJson: true,
  async run(ctx, args) {
    if (!ctx.site) throw new RftpError('internal', 'open: no shell to open a server in');
    return ctx.site.open(args.target as string, sessionArgsOf(args), ctx);
  },
};
