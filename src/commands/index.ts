import type { Argv } from 'yargs';
import * as cat from './cat.js';
import * as get from './get.js';
import * as login from './login.js';
import * as logout from './logout.js';
import * as ls from './ls.js';
import * as mkdir from './mkdir.js';
import * as mv from './mv.js';
import * as open from './open.js';
import * as pget from './pget.js';
import * as put from './put.js';
import * as rm from './rm.js';
import * as rmdir from './rmdir.js';
import * as sync from './sync.js';

/** A command module: its yargs definition and one handler that returns the exit code. */
export interface CommandModule {
  command: string | string[];
  describe: string;
  builder: (y: Argv) => Argv<any>;
  handler: (args: any) => Promise<number>;
}

/** Every one-shot command, in the order `rftp --help` lists them. */
export const commands: CommandModule[] = [get, pget, put, sync, open, ls, cat, mkdir, rm, rmdir, mv, login, logout];
