import { setMaxListeners } from 'node:events';
import { asRftpError, RftpError } from '../errors.js';
import { partialResultOf, type FileResult } from '../transfer/download.js';
import { redact } from '../ui/redact.js';
import { makeOutput, type CommandContext, type OutputArgs } from './context.js';
import { makeReport } from './report.js';

/**
 * Runs one command: wires Ctrl-C/SIGTERM to an abort signal, turns every error into one line
 * and an exit code, and prints the --json report. Returns the exit code.
 */
export async function runCommand(name: string, args: OutputArgs, body: (ctx: CommandContext) => Promise<FileResult[]>): Promise<number> {
  const out = makeOutput(args);
  const controller = new AbortController();
  // Every connection listens for the abort: sync -P 16 --use-pget-n 16 has hundreds, and Node
  // warns past 10 listeners as if they leaked.
  setMaxListeners(0, controller.signal);
  let signals = 0;
  const onSignal = () => {
    // A second Ctrl-C means "now": the partial was already flushed by the writes so far.
    if (++signals > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const startedAt = Date.now();
  try {
    const files = await body({ out, signal: controller.signal, env: process.env });
    if (args.json) out.json(makeReport(name, files, startedAt));
    return 0;
  } catch (raw) {
    let err = asRftpError(raw);
    if (controller.signal.aborted) err = new RftpError('interrupted', 'interrupted; run the same command again to resume');
    out.stopStatus();
    out.error(err.message);
    if (args.debug && err.kind === 'internal') process.stderr.write(redact(String((raw as Error)?.stack ?? raw)) + '\n');
    const partial = partialResultOf(raw);
    if (args.json) out.json(makeReport(name, partial ? [partial] : [], startedAt, err));
    return err.exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
