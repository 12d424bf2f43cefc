import { loadAll } from '../commands/registry.js';
import type { CommandSpec } from '../commands/spec.js';
import { jobCommands } from './commands-jobs.js';
import { localCommands } from './commands-local.js';
import { remoteCommands } from './commands-remote.js';
import { transferCommands } from './commands-transfer.js';

/**
 * Every command of the shell, in the order `help` lists them: the registry's (the same specs the
 * command line runs), then the shell's own.
 */
export async function shellTable(): Promise<Array<CommandSpec>> {
  const registry = (await loadAll()).filter((s) => !s.modes || s.modes.includes('shell'));
  const own = [...remoteCommands, ...transferCommands, ...jobCommands, ...localCommands].map((s): CommandSpec => ({ ...s, modes: ['shell'] }));
  return [...registry, ...own];
}

export function findCommand(table: Array<CommandSpec>, name: string): CommandSpec | undefined {
  return table.find((c) => c.name === name || c.aliases?.includes(name));
}

export function commandNames(table: Array<CommandSpec>): string[] {
  return table.flatMap((c) => [c.name, ...(c.aliases ?? [])]).filter((n) => n !== '!');
}

/** `help` without a name in the shell: one line per command. */
export async function shellOverview(table: Array<CommandSpec>): Promise<string> {
  const { usageLine } = await import('../commands/help.js');
  const lines = table.map((c) => `${(c.name === '!' ? '!COMMAND' : usageLine(c)).padEnd(40)} ${c.summary}`);
  lines.push('Commands are separated by ";". In scripts a failing command ends the run (set fail-exit off to go on). help NAME explains one.');
  return lines.join('\n');
}
