import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ExitRequest, Reported, RftpError, usageError } from '../errors.js';
import { formatBytes } from '../ui/format.js';
import { escapeControl } from '../ui/redact.js';
import { moveJobsToQueue } from './background.js';
import type { ShellSpec } from './commands-types.js';
import { findSetting, parseValue, settings, showValue } from './settings.js';

export function expandHome(path: string, env: NodeJS.ProcessEnv): string {
  const home = env.HOME || homedir();
  return path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
}

export const localCommands: ShellSpec[] = [
  {
    name: 'lcd',
    summary: 'change the local directory (none: home; -: the previous one)',
    positionals: [{ name: 'dir', arity: 'optional', completes: 'local-dir', describe: 'DIR or -' }],
    options: [],
    async run({ sh }, args) {
      const arg = (args.dir as string | undefined) ?? '~';
      if (arg === '-' && sh.previousLocal === undefined) throw usageError('lcd: no previous directory');
      // A job's relative paths mean the directory it started in: it would finish elsewhere.
      if (sh.jobs.running.length > 0) throw usageError(`lcd: ${sh.jobs.running.length} background jobs are running; wait for them (or kill them) first`);
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
    name: 'lpwd',
    summary: 'print the local directory',
    positionals: [],
    options: [],
    async run({ sh }) {
      sh.out.print(process.cwd());
    },
  },
  {
    name: 'lls',
    summary: 'list a local directory',
    positionals: [{ name: 'dir', arity: 'optional', completes: 'local', describe: 'local directory (default: the current one)' }],
    options: [{ name: 'long', short: 'l', type: 'boolean', default: false, describe: 'size and modification time too' }],
    async run({ sh }, args) {
      const dir = expandHome((args.dir as string | undefined) ?? '.', sh.env);
      let names: string[];
      try {
        names = (await readdir(dir)).sort();
      } catch (err) {
        throw new RftpError('local', `lls: ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`);
      }
      for (const n of names) {
        const st = await stat(join(dir, n)).catch(() => undefined);
        const name = escapeControl(n) + (st?.isDirectory() ? '/' : '');
        sh.out.print(args.long && st ? `${formatBytes(st.size).padStart(10)}  ${st.mtime.toISOString().slice(0, 16).replace('T', ' ')}  ${name}` : name);
      }
    },
  },
  {
    name: '!',
    summary: 'run a command in the local shell (/bin/sh): !COMMAND',
    positionals: [{ name: 'command', arity: 'any', completes: 'local', describe: 'the rest of the line, for /bin/sh' }],
    options: [],
    // The command gets Ctrl-C itself; the open server's connection is left alone.
    signals: 'ignore',
    async run({ sh }, args) {
      const line = ((args.command as string[] | undefined) ?? []).join(' ');
      const code = await new Promise<number>((resolve) => {
        const child = spawn('/bin/sh', ['-c', line], { stdio: [sh.stdinIsScript ? 'ignore' : 'inherit', 'inherit', 'inherit'] });
        child.on('error', () => resolve(127));
        child.on('close', (c, signal) => resolve(c ?? (signal === 'SIGINT' ? 130 : 1)));
      });
      if (code !== 0) throw new Reported(code, `!: the command exited with ${code}`);
    },
  },
  {
    name: 'set',
    summary: "show or change settings, the defaults of the commands' options here (alone: list them)",
    positionals: [
      { name: 'name', arity: 'optional', completes: 'setting', describe: 'the setting (or its lftp name)' },
      { name: 'value', arity: 'optional', completes: 'none', describe: 'its new value' },
    ],
    options: [],
    details: Object.entries(settings).map(([n, s]) => `${n}: ${s.about}${s.aliases.length ? ` (lftp: ${s.aliases.join(', ')})` : ''}`),
    async run({ sh }, args) {
      const name = args.name as string | undefined;
      if (name === undefined) {
        for (const [n, s] of Object.entries(settings)) sh.out.print(`set ${n} ${showValue(sh.settings[s.key])}`);
        return;
      }
      const [canonical, s] = findSetting(name);
      if (args.value === undefined) {
        sh.out.print(`set ${canonical} ${showValue(sh.settings[s.key])}`);
        return;
      }
      (sh.settings as unknown as Record<string, unknown>)[s.key] = parseValue(canonical, s, args.value as string);
      if (['retries', 'retryDelay', 'timeout', 'fixPasvAddress', 'pipelining'].includes(s.key)) sh.applySettings();
    },
  },
  {
    name: 'exit',
    aliases: ['quit', 'bye'],
    summary: 'leave (in a script without a code: the code of the last failure, else 0); exit bg: background jobs go to the persistent queue',
    positionals: [{ name: 'code', arity: 'optional', completes: 'none', describe: '0-255, or bg' }],
    options: [],
    async run({ sh }, args) {
      if (args.code === 'bg') {
        // lftp's `exit bg`, with the persistent queue instead of a detached shell.
        await moveJobsToQueue(sh, sh.commands);
        throw new ExitRequest(0);
      }
      const running = sh.jobs.running.length;
      if (running > 0 && sh.interactive && !sh.exitWarned) {
        sh.exitWarned = true;
        throw usageError(`${running} background jobs are running: wait for them, kill them, exit bg to move them to the persistent queue, or exit again to stop them (their partial files are kept)`);
      }
      const given = args.code as string | undefined;
      const code = given === undefined ? (sh.interactive ? 0 : sh.lastFailure) : /^\d+$/.test(given) ? Number(given) : NaN;
      if (!Number.isInteger(code) || code < 0 || code > 255) throw usageError('exit: the code must be 0-255');
      throw new ExitRequest(code);
    },
  },
];
