import type { CommandSpec, RunContext } from '../commands/spec.js';
import type { Shell } from './state.js';

/** What the shell's own commands (cd, set, bookmark…) get: the command context and the shell. */
export interface ShellContext extends RunContext {
  sh: Shell;
}

/** A command only the shell has: the same kind of spec as the registry's, run by the same runner. */
export type ShellSpec = CommandSpec<ShellContext>;
