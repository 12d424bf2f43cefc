import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RftpError, usageError } from '../errors.js';
import { formatBytes } from '../ui/format.js';
import { escapeControl } from '../ui/redact.js';
import { shellArgs } from './args.js';
import { ExitRequest, Reported, type ShellCommand } from './commands-types.js';
import type { ShellSettings } from './state.js';

export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME || homedir();
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

interface Setting {
  key: keyof ShellSettings;
  kind: 'bool' | 'int' | 'seconds' | 'path';
  about: string;
  /** lftp's names for the same thing. */
  aliases: string[];
}

export const settings: Record<string, Setting> = {
  parallel: { key: 'parallel', kind: 'int', about: 'connections for mget/mput, and default for pget -n and mirror -P', aliases: ['mirror:parallel-transfer-count'] },
  retries: { key: 'retries', kind: 'int', about: 'reconnect attempts in a row without progress', aliases: ['net:max-retries'] },
  'retry-delay': { key: 'retryDelay', kind: 'seconds', about: 'first reconnect delay (doubles, up to 30 s)', aliases: ['net:reconnect-interval-base'] },
  timeout: { key: 'timeout', kind: 'seconds', about: 'seconds without traffic before a connection counts as stalled', aliases: ['net:timeout'] },
  tls: { key: 'tls', kind: 'bool', about: 'require explicit TLS on ftp:// (applies to the next open)', aliases: ['ftp:ssl-force'] },
  insecure: { key: 'insecure', kind: 'bool', about: 'do not verify server certificates (applies to the next open)', aliases: [] },
  'ca-file': { key: 'caFile', kind: 'path', about: 'extra CA certificate (PEM) to trust (applies to the next open)', aliases: ['ssl:ca-file'] },
  'fix-pasv-address': { key: 'fixPasvAddress', kind: 'bool', about: 'ignore the address in PASV replies, use the control connection\'s (default on)', aliases: ['ftp:fix-pasv-address'] },
  'fail-exit': { key: 'failExit', kind: 'bool', about: 'in scripts, stop at the first failing command (default on)', aliases: ['cmd:fail-exit'] },
};

function findSetting(name: string): [string, Setting] {
  for (const [n, s] of Object.entries(settings)) if (n === name || s.aliases.includes(name)) return [n, s];
  throw usageError(`set: unknown setting ${name} (set alone lists them)`);
}

/** Timers beyond about 24 days overflow in Node; a day is already more than any wait here needs. */
export const MAX_SECONDS = 86_400;

function parseValue(name: string, s: Setting, text: string): unknown {
  if (s.kind === 'bool') {
    if (/^(on|yes|true|1)$/i.test(text)) return true;
    if (/^(off|no|false|0)$/i.test(text)) return false;
    throw usageError(`set ${name}: expected on or off`);
  }
  if (s.kind === 'path') return text === '' ? undefined : text;
  // Plain decimal numbers only: Number() would take "", " 0x4 " or "1e1" as well.
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (s.kind === 'int' && (!Number.isInteger(n) || n < 0 || (s.key === 'parallel' && (n < 1 || n > 16)))) {
    throw usageError(`set ${name}: expected a whole number${s.key === 'parallel' ? ' from 1 to 16' : ''}`);
  }
  if (s.kind === 'seconds' && (!Number.isFinite(n) || n > MAX_SECONDS || (s.key === 'timeout' && n === 0))) {
    throw usageError(`set ${name}: expected seconds, at most ${MAX_SECONDS}`);
  }
  return n;
}

export const localCommands: ShellCommand[] = [
  {
    names: ['lcd'],
    usage: 'lcd [DIR|-]',
    summary: 'change the local directory (none: home; -: the previous one)',
    complete: ['local-dir'],
    async run(sh, argv) {
      const { positionals } = shellArgs('lcd', argv, {}, 0, 1);
      const arg = positionals[0] ?? '~';
      if (arg === '-' && sh.previousLocal === undefined) throw usageError('lcd: no previous directory');
      const dir = arg === '-' ? sh.previousLocal! : expandHome(arg, sh.env);
      const before = process.cwd();
      try {
        process.chdir(dir);
      } catch (err) {
        throw new RftpError('local', `lcd: ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`);
      }
      sh.previousLocal = before;
    },
  },
  {
    names: ['lpwd'],
    usage: 'lpwd',
    summary: 'print the local directory',
    complete: ['none'],
    async run(sh, argv) {
      shellArgs('lpwd', argv, {}, 0, 0);
      sh.out.print(process.cwd());
    },
  },
  {
    names: ['lls'],
    usage: 'lls [-l] [DIR]',
    summary: 'list a local directory',
    complete: ['local'],
    async run(sh, argv) {
      const { values, positionals } = shellArgs('lls', argv, { long: { type: 'boolean', short: 'l' } }, 0, 1);
      const dir = expandHome(positionals[0] ?? '.', sh.env);
      let names: string[];
      try {
        names = (await readdir(dir)).sort();
      } catch (err) {
        throw new RftpError('local', `lls: ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`);
      }
      for (const n of names) {
        const st = await stat(join(dir, n)).catch(() => undefined);
        const name = escapeControl(n) + (st?.isDirectory() ? '/' : '');
        sh.out.print(values.long && st ? `${formatBytes(st.size).padStart(10)}  ${st.mtime.toISOString().slice(0, 16).replace('T', ' ')}  ${name}` : name);
      }
    },
  },
  {
    names: ['!'],
    usage: '!COMMAND',
    summary: 'run a command in the local shell (/bin/sh)',
    complete: ['local'],
    async run(sh, argv) {
      const code = await new Promise<number>((resolve) => {
        const child = spawn('/bin/sh', ['-c', argv.join(' ')], { stdio: [sh.stdinIsScript ? 'ignore' : 'inherit', 'inherit', 'inherit'] });
        child.on('error', () => resolve(127));
        child.on('close', (c, signal) => resolve(c ?? (signal === 'SIGINT' ? 130 : 1)));
      });
      if (code !== 0) throw new Reported(code, `!: the command exited with ${code}`);
    },
  },
  {
    names: ['set'],
    usage: 'set [NAME [VALUE]]',
    summary: 'show or change session settings (alone: list them)',
    details: Object.entries(settings).map(([n, s]) => `${n.padEnd(12)} ${s.about}${s.aliases.length ? ` (lftp: ${s.aliases.join(', ')})` : ''}`),
    complete: ['setting', 'none'],
    async run(sh, argv) {
      const { positionals } = shellArgs('set', argv, {}, 0, 2);
      if (positionals.length === 0) {
        for (const [n, s] of Object.entries(settings)) {
          const v = sh.settings[s.key];
          sh.out.print(`set ${n} ${typeof v === 'boolean' ? (v ? 'on' : 'off') : (v ?? '')}`);
        }
        return;
      }
      const [name, s] = findSetting(positionals[0]);
      if (positionals.length === 1) {
        const v = sh.settings[s.key];
        sh.out.print(`set ${name} ${typeof v === 'boolean' ? (v ? 'on' : 'off') : (v ?? '')}`);
        return;
      }
      (sh.settings as unknown as Record<string, unknown>)[s.key] = parseValue(name, s, positionals[1]);
      if (['retries', 'retryDelay', 'timeout', 'fixPasvAddress'].includes(s.key)) sh.applySettings();
    },
  },
  {
    names: ['exit', 'quit', 'bye'],
    usage: 'exit [CODE]',
    summary: 'leave (in a script without a code: the code of the last failure, else 0)',
    complete: ['none'],
    async run(sh, argv) {
      const { positionals } = shellArgs('exit', argv, {}, 0, 1);
      const given = positionals[0];
      const code = given === undefined ? (sh.interactive ? 0 : sh.lastFailure) : /^\d+$/.test(given) ? Number(given) : NaN;
      if (!Number.isInteger(code) || code < 0 || code > 255) throw usageError('exit: the code must be 0-255');
      throw new ExitRequest(code);
    },
  },
];
