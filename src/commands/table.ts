import type { CommandModule } from './index.js';

/**
 * Command name (and alias) -> its module, imported on demand. Loading one command instead of all
 * of them (the shell, sync and pget pull in dozens of modules) is a visible part of a small
 * transfer's time. `rftp --help` and unknown words still load the full list (index.ts).
 */
export const commandModules: Record<string, () => Promise<CommandModule>> = {
  get: () => import('./get.js'),
  pget: () => import('./pget.js'),
  put: () => import('./put.js'),
  sync: () => import('./sync.js'),
  mirror: () => import('./sync.js'),
  open: () => import('./open.js'),
  ls: () => import('./ls.js'),
  cat: () => import('./cat.js'),
  mkdir: () => import('./mkdir.js'),
  rm: () => import('./rm.js'),
  rmdir: () => import('./rmdir.js'),
  mv: () => import('./mv.js'),
  login: () => import('./login.js'),
  logout: () => import('./logout.js'),
};
