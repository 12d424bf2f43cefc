import type { ArgumentsCamelCase, Argv } from 'yargs';
import { runShell } from '../shell/repl.js';
import type { OutputArgs, SessionArgs } from './context.js';
import { outputOptions, sessionOptions } from './options.js';

export const command = 'open <target>';
export const describe = 'start the interactive shell connected to a URL or bookmark (rftp alone starts it unconnected)';

export function builder(y: Argv) {
  return outputOptions(sessionOptions(y))
    .positional('target', { type: 'string', demandOption: true, describe: 'ftp://, ftpes:// or ftps:// URL, or a bookmark name' })
    .example('$0 open ftpes://alice@files.example.com/pub', 'then: ls, cd, get, put, mirror, help…')
    .example('$0 -c "open ftp://alice@host; cd logs; mget *.gz"', 'the same commands as a script');
}

export type OpenArgs = SessionArgs & OutputArgs & { target: string };

export function handler(args: ArgumentsCamelCase<OpenArgs>): Promise<number> {
  const { user, tls, caFile, insecure, timeout, retries, retryDelay, fixPasvAddress } = args;
  return runShell({ open: args.target, session: { user, tls, caFile, insecure, timeout, retries, retryDelay, fixPasvAddress }, quiet: args.quiet, debug: args.debug });
}
