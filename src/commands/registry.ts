import type { CommandSpec } from './spec.js';

/**
 * Every command, in the order `rftp --help` lists them. Only the names live here; a spec is
 * imported when its command runs: loading one command instead of all of them (sync and the
 * shell pull in dozens of modules) is a visible part of a small transfer's time. A test holds
 * the names and aliases here to the specs'.
 */
export const registry: Array<{ name: string; aliases: string[]; load: () => Promise<CommandSpec> }> = [
  { name: 'get', aliases: [], load: async () => (await import('./get.js')).spec },
  { name: 'pget', aliases: [], load: async () => (await import('./pget.js')).spec },
  { name: 'put', aliases: [], load: async () => (await import('./put.js')).spec },
  { name: 'sync', aliases: ['mirror'], load: async () => (await import('./sync.js')).spec },
  { name: 'queue', aliases: [], load: async () => (await import('./queue.js')).spec },
  { name: 'check', aliases: [], load: async () => (await import('./sync.js')).checkSpec },
  { name: 'open', aliases: [], load: async () => (await import('./open.js')).spec },
  { name: 'ls', aliases: ['dir'], load: async () => (await import('./ls.js')).spec },
  { name: 'cat', aliases: [], load: async () => (await import('./cat.js')).spec },
  { name: 'mkdir', aliases: [], load: async () => (await import('./mkdir.js')).spec },
  { name: 'rm', aliases: [], load: async () => (await import('./rm.js')).spec },
  { name: 'rmdir', aliases: [], load: async () => (await import('./rmdir.js')).spec },
  { name: 'mv', aliases: ['rename'], load: async () => (await import('./mv.js')).spec },
  { name: 'login', aliases: [], load: async () => (await import('./login.js')).spec },
  { name: 'logout', aliases: [], load: async () => (await import('./logout.js')).spec },
  { name: 'help', aliases: ['?'], load: async () => (await import('./help.js')).spec },
  { name: 'completion', aliases: [], load: async () => (await import('./help.js')).completionSpec },
];

export function findEntry(word: string) {
  return registry.find((e) => e.name === word || e.aliases.includes(word));
}

export const registryNames = (): string[] => registry.flatMap((e) => [e.name, ...e.aliases]);

/** Every spec (for the overview, completion and the shell's table). */
export function loadAll(): Promise<CommandSpec[]> {
  return Promise.all(registry.map((e) => e.load()));
}
