import { usageError } from '../errors.js';
import { shellArgs } from './args.js';
import { localCommands } from './commands-local.js';
import { remoteCommands } from './commands-remote.js';
import { transferCommands } from './commands-transfer.js';
import type { ShellCommand } from './commands-types.js';

const help: ShellCommand = {
  names: ['help', '?'],
  usage: 'help [COMMAND]',
  summary: 'list the commands, or explain one',
  complete: ['command'],
  async run(sh, argv) {
    const { positionals } = shellArgs('help', argv, {}, 0, 1);
    if (positionals[0] === undefined) {
      for (const c of shellCommands) sh.out.print(`${c.usage.padEnd(44)} ${c.summary}`);
      sh.out.print('Commands are separated by ";". In scripts a failing command ends the run (set fail-exit off to go on).');
      return;
    }
    const c = findCommand(positionals[0]);
    if (!c) throw usageError(`help: no command ${positionals[0]}`);
    sh.out.print(`usage: ${c.usage}`);
    sh.out.print(c.summary);
    if (c.names.length > 1) sh.out.print(`also: ${c.names.slice(1).join(', ')}`);
    for (const line of c.details ?? []) sh.out.print(`  ${line}`);
  },
};

/** Every shell command, in the order `help` lists them. */
export const shellCommands: ShellCommand[] = [...remoteCommands, ...transferCommands, ...localCommands, help];

export function findCommand(name: string): ShellCommand | undefined {
  return shellCommands.find((c) => c.names.includes(name));
}

export function commandNames(): string[] {
  return shellCommands.flatMap((c) => c.names).filter((n) => n !== '!' && n !== '?');
}
