import type { Argv } from 'yargs';
import * as get from './get.js';
import * as put from './put.js';

/** A command module: its yargs definition and one handler that returns the exit code. */
export interface CommandModule {
  command: string | string[];
  describe: string;
  builder: (y: Argv) => Argv<any>;
  handler: (args: any) => Promise<number>;
}

/** Every one-shot command, in the order `rftp --help` lists them. */
export const commands: CommandModule[] = [get, put];
