#!/usr/bin/env node
// `npm run docs`: rewrites the README's generated tables (options, commands, shell settings, exit
// codes) from the command specs, after a build. The test suite fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';

const dist = new URL('../dist/src/', import.meta.url);
const { readmeBlocks, renderReadme } = await import(new URL('commands/docs.js', dist));
const { loadAll } = await import(new URL('commands/registry.js', dist));
const { shellTable } = await import(new URL('shell/commands.js', dist));
const { settings } = await import(new URL('shell/settings.js', dist));

const path = new URL('../README.md', import.meta.url);
const cli = (await loadAll()).filter((s) => !s.modes || s.modes.includes('cli'));
const text = readFileSync(path, 'utf8');
const next = renderReadme(text, readmeBlocks(cli, await shellTable(), settings));
if (next !== text) writeFileSync(path, next);
console.log(next !== text ? 'README.md: generated tables rewritten' : 'README.md: generated tables up to date');
