#!/usr/bin/env node
// Runs the compiled tests with node's own runner. `node scripts/run-tests.mjs unit` runs only the
// unit tests (no server needed); without an argument everything runs, end-to-end tests included.
// End-to-end files run one at a time: each starts real vsftpd instances and some throttle them.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../dist/test/', import.meta.url).pathname;
const only = process.argv[2];
const dirs = only ? [only] : ['unit', 'e2e'];

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = dirs.flatMap((d) => find(join(root, d)));
if (files.length === 0) {
  console.error(`no test files found under ${root}`);
  process.exit(1);
}
const res = spawnSync(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=300000', ...files], { stdio: 'inherit' });
process.exit(res.status ?? 1);
