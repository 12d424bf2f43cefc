import type { ArgValue, SessionArgs } from '../commands/spec.js';
import { usageError } from '../errors.js';
import { splitCommand } from '../transfer/checks.js';
import { parseRate, parseTimetable } from '../transfer/rate-limit.js';

/** What `set` changes: the defaults of the commands' options in the shell, and the shell's own. */
export interface ShellSettings extends SessionArgs {
  /** --parallel of get, put, pget and mirror; unset: each command's own default. */
  parallel: number | undefined;
  /** pget's -n. */
  pgetN: number;
  /** --limit-rate of every transfer. */
  limitRate?: string;
  /** In scripts, a failing command ends the run with its exit code. */
  failExit: boolean;
  /** The checks after a transfer: --scan, --quarantine, --verify-command, --on-complete. */
  scan?: string;
  quarantine?: string;
  verify?: boolean;
  verifyCommand?: string;
  onComplete?: string;
}

export interface Setting {
  key: keyof ShellSettings;
  kind: 'bool' | 'int' | 'seconds' | 'path' | 'rate' | 'command';
  about: string;
  /** lftp's names for the same thing. */
  aliases: string[];
}

/**
 * Each setting but fail-exit is the default of the option of the same name (OptionSpec.setting)
 * in every shell command that has it; `help set` lists which.
 */
export const settings: Record<string, Setting> = {
  parallel: {
    key: 'parallel',
    kind: 'int',
    about: "files at once for get/put/pget (mget, mput), connections for mirror (unset: each command's own default, 4)",
    aliases: ['mirror:parallel-transfer-count'],
  },
  'pget-n': { key: 'pgetN', kind: 'int', about: 'connections per file for pget -n', aliases: ['pget:default-n'] },
  'limit-rate': { key: 'limitRate', kind: 'rate', about: 'bandwidth cap of every transfer, as --limit-rate (500k, 2M; off for none)', aliases: ['net:limit-total-rate'] },
  retries: { key: 'retries', kind: 'int', about: 'reconnect attempts in a row without progress', aliases: ['net:max-retries'] },
  'retry-delay': { key: 'retryDelay', kind: 'seconds', about: 'first reconnect delay (doubles, up to 30 s)', aliases: ['net:reconnect-interval-base'] },
  timeout: { key: 'timeout', kind: 'seconds', about: 'seconds without traffic before a connection counts as stalled', aliases: ['net:timeout'] },
  tls: { key: 'tls', kind: 'bool', about: 'require explicit TLS on ftp:// (applies to the next open)', aliases: ['ftp:ssl-force'] },
  insecure: { key: 'insecure', kind: 'bool', about: 'do not verify server certificates (applies to the next open)', aliases: [] },
  'ca-file': { key: 'caFile', kind: 'path', about: 'extra CA certificate (PEM) to trust (applies to the next open)', aliases: ['ssl:ca-file'] },
  pipelining: { key: 'pipelining', kind: 'bool', about: 'send commands whose replies decide nothing in one write (default on; off for a server that loses them)', aliases: [] },
  'fix-pasv-address': { key: 'fixPasvAddress', kind: 'bool', about: "ignore the address in PASV replies, use the control connection's (default on)", aliases: ['ftp:fix-pasv-address'] },
  scan: {
    key: 'scan',
    kind: 'command',
    about: "virus scanner run on each download before it is moved into place, as --scan (quote it: set scan 'clamscan --no-summary'; set scan '' for none, also over RFTP_SCAN)",
    aliases: [],
  },
  quarantine: { key: 'quarantine', kind: 'path', about: 'where --scan puts infected files (default $XDG_STATE_HOME/rftp/quarantine)', aliases: [] },
  verify: { key: 'verify', kind: 'bool', about: "compare each transfer with the server's hash where it offers one, as --verify", aliases: [] },
  'verify-command': { key: 'verifyCommand', kind: 'command', about: 'command run on each download before it is moved into place, as --verify-command', aliases: ['xfer:verify-command'] },
  'on-complete': { key: 'onComplete', kind: 'command', about: 'command run once each file is in place, as --on-complete', aliases: [] },
  'fail-exit': { key: 'failExit', kind: 'bool', about: 'in scripts, stop at the first failing command (default on)', aliases: ['cmd:fail-exit'] },
};

/** The settings as option defaults, by setting name (OptionSpec.setting). */
export function settingDefaults(s: ShellSettings): Record<string, ArgValue | undefined> {
  return Object.fromEntries(Object.entries(settings).map(([name, setting]) => [name, s[setting.key] as ArgValue | undefined]));
}

export function findSetting(name: string): [string, Setting] {
  for (const [n, s] of Object.entries(settings)) if (n === name || s.aliases.includes(name)) return [n, s];
  throw usageError(`set: unknown setting ${name} (set alone lists them)`);
}

/** Timers beyond about 24 days overflow in Node; a day is already more than any wait here needs. */
export const MAX_SECONDS = 86_400;

export function parseValue(name: string, s: Setting, text: string): unknown {
  if (s.kind === 'bool') {
    if (/^(on|yes|true|1)$/i.test(text)) return true;
    if (/^(off|no|false|0)$/i.test(text)) return false;
    throw usageError(`set ${name}: expected on or off`);
  }
  if (s.kind === 'path') return text === '' ? undefined : text;
  if (s.kind === 'command') {
    // Empty: none, also over RFTP_SCAN.
    if (text !== '') splitCommand(text);
    return text;
  }
  if (s.kind === 'rate') {
    if (text === '' || /^(off|none)$/i.test(text)) return undefined;
    if (text.includes(',')) parseTimetable(text);
    else parseRate(text);
    return text;
  }
  // Plain decimal numbers only: Number() would take "", " 0x4 " or "1e1" as well.
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  const bounded = s.key === 'parallel' || s.key === 'pgetN';
  if (s.kind === 'int' && (!Number.isInteger(n) || n < 0 || (bounded && (n < 1 || n > 16)))) {
    throw usageError(`set ${name}: expected a whole number${bounded ? ' from 1 to 16' : ''}`);
  }
  if (s.kind === 'seconds' && (!Number.isFinite(n) || n > MAX_SECONDS || (s.key === 'timeout' && n === 0))) {
    throw usageError(`set ${name}: expected seconds, at most ${MAX_SECONDS}`);
  }
  return n;
}

/** `on`/`off` for yes/no settings, the value otherwise, nothing for an unset one. */
export function showValue(v: unknown): string {
  return typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v ?? '');
}
