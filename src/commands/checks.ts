import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { usageError } from '../errors.js';
import { DEFAULT_CHECK_TIMEOUT_S, DEFAULT_SCAN_INFECTED, defaultQuarantine, splitCommand, type Checks } from '../transfer/checks.js';
import { verifyModeOf, type VerifyMode } from '../transfer/verify.js';
import type { Args, OptionSpec } from './spec.js';

// The options of the checks after a transfer (transfer/checks.ts) and the one place that turns
// them into Checks: get, pget and sync take them all; put takes the hook that runs after.

const onComplete: OptionSpec[] = [
  {
    name: 'on-complete',
    type: 'string',
    value: 'CMD',
    setting: 'on-complete',
    describe: 'run CMD once each file is in place, with RFTP_LOCAL, RFTP_URL, RFTP_SIZE, RFTP_SHA256, RFTP_DIRECTION set; a failure is exit 11, the file stays',
  },
  { name: 'hook-timeout', type: 'number', default: DEFAULT_CHECK_TIMEOUT_S, value: 'SECONDS', describe: 'longest wait for --verify-command and --on-complete (then they count as failed)' },
];

/** Every transfer command: the content against the server's hash. */
const verifyOptions: OptionSpec[] = [
  {
    name: 'verify',
    type: 'boolean',
    default: false,
    setting: 'verify',
    describe:
      "compare each file with the server's hash (HASH, XSHA256, XSHA1, XMD5, XCRC) after the transfer: a mismatch transfers it again once, then fails (exit 11); without server hashes: a note, and the size check alone",
  },
  { name: 'verify-required', type: 'boolean', default: false, describe: 'as --verify, but a server without hashes fails each file (exit 11)' },
];

/** get, pget, sync: everything. */
export const checkOptions: OptionSpec[] = [
  ...verifyOptions,
  {
    name: 'scan',
    type: 'string',
    value: 'CMD',
    setting: 'scan',
    describe:
      'virus-scan each download before it is moved into place (the file is the last argument; also RFTP_SCAN): exit 0 clean, --scan-infected codes infected (quarantined, exit 10), others failed (exit 11, kept)',
  },
  { name: 'scan-infected', type: 'string', default: DEFAULT_SCAN_INFECTED.join(','), value: 'CODES', describe: "the scanner's exit codes that mean infected, comma-separated" },
  { name: 'scan-timeout', type: 'number', default: DEFAULT_CHECK_TIMEOUT_S, value: 'SECONDS', describe: 'longest wait for the scanner (then the scan counts as failed, exit 11)' },
  {
    name: 'quarantine',
    type: 'string',
    value: 'DIR',
    completes: 'local-dir',
    setting: 'quarantine',
    describe: 'where infected files go, each with a JSON record (default $XDG_STATE_HOME/rftp/quarantine)',
  },
  {
    name: 'verify-command',
    type: 'string',
    value: 'CMD',
    setting: 'verify-command',
    describe: "run CMD on each download before it is moved into place (the file is the last argument); non-zero fails it (exit 11) and keeps it (lftp's xfer:verify-command)",
  },
  ...onComplete,
];

/** put: the server's hash and the hook after an upload. */
export const onCompleteOptions: OptionSpec[] = [...verifyOptions, ...onComplete];

export const verifyOf = (args: Args): VerifyMode => verifyModeOf(args.verify, args.verifyRequired);

/** The checks the options (and RFTP_SCAN) ask for; undefined when none, so plain transfers pay nothing. */
export function checksOf(args: Args, env: NodeJS.ProcessEnv): Checks | undefined {
  const checks: Checks = {};
  const scan = (args.scan as string | undefined) ?? env.RFTP_SCAN;
  const hookMs = seconds(args.hookTimeout, '--hook-timeout');
  if (scan) {
    checks.scan = {
      argv: commandLine(scan, '--scan'),
      timeoutMs: seconds(args.scanTimeout, '--scan-timeout'),
      infected: exitCodes(String(args.scanInfected ?? DEFAULT_SCAN_INFECTED.join(','))),
      quarantine: (args.quarantine as string | undefined) || defaultQuarantine(env),
    };
  }
  if (args.verifyCommand) checks.verify = { argv: commandLine(args.verifyCommand as string, '--verify-command'), timeoutMs: hookMs };
  if (args.onComplete) checks.onComplete = { argv: commandLine(args.onComplete as string, '--on-complete'), timeoutMs: hookMs };
  return Object.keys(checks).length > 0 ? checks : undefined;
}

/** The words of a check's command, whose program must exist: a typo fails before any transfer. */
function commandLine(text: string, option: string): string[] {
  const argv = splitCommand(text);
  const program = argv[0];
  const candidates = program.includes('/')
    ? [program]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  const runnable = candidates.some((p) => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
  if (!runnable) throw usageError(`${option}: ${program}: command not found (or not executable)`);
  return argv;
}

function seconds(v: unknown, name: string): number {
  const n = v === undefined ? DEFAULT_CHECK_TIMEOUT_S : Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > 86_400) throw usageError(`${name} must be seconds, more than 0 and at most 86400`);
  return n * 1000;
}

function exitCodes(text: string): number[] {
  const codes = text.split(',').map((c) => c.trim());
  if (codes.some((c) => !/^\d{1,3}$/.test(c) || Number(c) === 0 || Number(c) > 255)) throw usageError(`--scan-infected: expected exit codes from 1 to 255, comma-separated (got ${text})`);
  return codes.map(Number);
}
