import { setMaxListeners } from 'node:events';
import { asRftpError, ExitCode, ExitRequest, Reported, RftpError, type ExitCodeName } from '../errors.js';
import { refuseHttp } from '../session/http-url.js';
import { handshakes } from '../session/tls-sessions.js';
import { partialResultOf } from '../transfer/download.js';
import type { Output } from '../ui/output.js';
import { withDefaults, type HelpHint } from './parse.js';
import { makeReport } from './report.js';
import type { ArgValue, Args, CommandContext, CommandSpec, ParsedCommand, RemoteNaming, RunContext, SiteHost } from './spec.js';

/** Where a command runs: the one-shot CLI, or the shell (which keeps a site and settings). */
export interface RunHost {
  out: Output;
  env: NodeJS.ProcessEnv;
  /** Aborted by Ctrl-C/SIGTERM. The shell keeps one across commands (its connection listens to it). */
  controller: AbortController;
  naming(ctx: CommandContext, command: string, given: ReadonlySet<string>): RemoteNaming;
  hint: HelpHint;
  /** Defaults by setting name (the shell's `set`). */
  settings?: Record<string, ArgValue | undefined>;
  stdinFree: boolean;
  site?: SiteHost;
  /** A second Ctrl-C exits at once (CLI, scripts); at the shell's prompt it only stops the command. */
  exitOnSecondSignal: boolean;
  /** false: Ctrl-C and SIGTERM are not this command's (a shell's background job: kill stops it). */
  signals?: boolean;
  /** More for the context of the host's own commands (the shell's `sh`). */
  extra?: object;
  commands: RunContext['commands'];
  overview: RunContext['overview'];
}

/**
 * The one run path of every command, from the CLI, the shell or a script: applies the defaults,
 * wires Ctrl-C/SIGTERM to an abort signal, turns every error into one line and an exit code, and
 * prints the --json report. Returns the exit code.
 */
export async function runCommand(spec: CommandSpec, parsed: ParsedCommand, host: RunHost): Promise<number> {
  const args = withDefaults(spec, parsed.args, host.settings);
  const out = outputFor(host.out, args);
  const controller = host.controller;
  // Every connection listens for the abort: sync -P 16 --use-pget-n 16 has hundreds, and Node
  // warns past 10 listeners as if they leaked.
  setMaxListeners(0, controller.signal);
  let signals = 0;
  const onSignal = () => {
    // A second Ctrl-C means "now": the partial was already flushed by the writes so far.
    if (++signals > 1 && host.exitOnSecondSignal) process.exit(ExitCode.interrupted);
    if (spec.signals !== 'ignore') controller.abort();
  };
  const listen = spec.signals !== 'none' && host.signals !== false;
  if (listen) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const startedAt = Date.now();
  const tlsBefore = { ...handshakes };
  const base = { out, signal: controller.signal, env: host.env };
  const given = new Set(Object.keys(parsed.args));
  const ctx: RunContext = {
    ...base,
    ...host.extra,
    given,
    remote: host.naming(base, spec.name, given),
    results: [],
    stdinFree: host.stdinFree,
    site: host.site,
    helpHint: host.hint(spec.name),
    commands: host.commands,
    overview: host.overview,
  };
  const json = args.json === true && !spec.ownJson;
  try {
    if (spec.ftpOnly) refuseHttpIn(spec.name, parsed.args);
    const code = (await spec.run(ctx, args)) ?? ExitCode.ok;
    if (json) out.json(makeReport(spec.name, ctx.results, startedAt, code === ExitCode.ok ? undefined : failureOf(new Reported(code), false)));
    return code;
  } catch (raw) {
    if (raw instanceof ExitRequest) throw raw;
    out.stopStatus();
    const err = failureOf(raw, controller.signal.aborted);
    if (err.message) out.error(err.message);
    if (err.kind === 'internal') out.debugStack(raw);
    const partial = partialResultOf(raw);
    if (json) out.json(makeReport(spec.name, partial ? [...ctx.results, partial] : ctx.results, startedAt, err));
    return raw instanceof Reported && !controller.signal.aborted ? raw.code : err.exitCode;
  } finally {
    if (listen) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    reportHandshakes(out, tlsBefore);
  }
}

/** put, sync, ls, rm…: one line (exit 2) for an http(s) URL, which has no directories or uploads. */
function refuseHttpIn(command: string, args: Record<string, ArgValue>): void {
  for (const value of Object.values(args)) for (const v of Array.isArray(value) ? value : [value]) if (typeof v === 'string') refuseHttp(command, v);
}

/** --debug: what TLS cost this command (a full handshake per connection is what resuming avoids). */
function reportHandshakes(out: Output, before: typeof handshakes): void {
  const full = handshakes.full - before.full;
  const resumed = handshakes.resumed - before.resumed;
  if (full + resumed > 0) out.debug(`TLS handshakes: ${full} full, ${resumed} resumed`);
}

/** The error line of a failure: interrupted wins; a Reported one only has its summary left. */
function failureOf(raw: unknown, aborted: boolean): RftpError {
  if (aborted) return new RftpError('interrupted', 'interrupted; run the same command again to resume');
  if (raw instanceof Reported) {
    const kind = (Object.keys(ExitCode) as ExitCodeName[]).find((k) => ExitCode[k] === raw.code) ?? 'transfer';
    return new RftpError(kind, raw.summary ?? '');
  }
  return asRftpError(raw);
}

/** The command's own --quiet, --json and --debug on top of the host's (the shell's -q stays). */
function outputFor(base: Output, args: Args): Output {
  const json = args.json === true;
  return base.withMode({ quiet: base.mode.quiet || args.quiet === true || json, json, debug: base.mode.debug || args.debug === true });
}
