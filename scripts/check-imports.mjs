#!/usr/bin/env node
// Imports run one way (run by .ci/run through npm run lint): no cycle among the modules of src/,
// and no module importing a higher layer than its own; basic-ftp only in session/, and only ui/
// prints. Every import counts, type-only and dynamic
// ones too: a type-only cycle is still two modules that cannot be understood one without the other.
//
// Layers, lowest first: errors.ts and ui/ (printing), session/ (the only code that knows
// basic-ftp), transfer/, sync/, commands/ (the command specs), shell/, then main.ts and cli.ts.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? new URL('../src', import.meta.url).pathname);
const layers = ['errors.ts', 'ui', 'session', 'transfer', 'sync', 'jobs', 'commands', 'shell', 'main.ts', 'cli.ts'];

const files = [];
(function walk(d) {
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.ts')) files.push(p);
  }
})(root);

/** The relative modules a file imports: `import … from`, `export … from`, `import('…')`. */
function importsOf(file) {
  const text = readFileSync(file, 'utf8');
  const found = new Set();
  for (const m of text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    const target = resolve(dirname(file), m[1]).replace(/\.js$/, '.ts');
    if (files.includes(target)) found.add(target);
  }
  return found;
}

const layerOf = (file) => {
  const first = relative(root, file).split('/')[0];
  const i = layers.indexOf(first);
  if (i < 0) throw new Error(`${relative(root, file)}: no layer (add its folder to scripts/check-imports.mjs)`);
  return i;
};

const edges = new Map(files.map((f) => [f, importsOf(f)]));
const problems = [];
// Only ui/ prints: the rest goes through Output (redacted, escaped, quiet when asked).
for (const f of files) {
  const rel = relative(root, f);
  if (rel.startsWith('ui/')) continue;
  for (const m of readFileSync(f, 'utf8').matchAll(/process\.std(?:out|err)\.write|console\.(?:log|error|warn|info)/g)) problems.push(`${rel}: ${m[0]} outside ui/ (print through Output)`);
}
// basic-ftp only in session/, and its internals (basic-ftp/dist/…) only in one module there.
for (const f of files) {
  const rel = relative(root, f);
  for (const m of readFileSync(f, 'utf8').matchAll(/from\s+['"](basic-ftp(\/[^'"]*)?)['"]/g)) {
    if (!rel.startsWith('session/')) problems.push(`${rel} imports ${m[1]}: only session/ talks to basic-ftp`);
    else if (m[2] && rel !== 'session/basic-ftp-internals.ts') problems.push(`${rel} imports ${m[1]}: basic-ftp's internals belong in session/basic-ftp-internals.ts`);
  }
}
for (const [from, tos] of edges) {
  for (const to of tos) {
    if (layerOf(to) > layerOf(from)) problems.push(`${relative(root, from)} imports ${relative(root, to)}: a higher layer (${layers[layerOf(to)]} above ${layers[layerOf(from)]})`);
  }
}

const state = new Map();
const stack = [];
function visit(v) {
  state.set(v, 'open');
  stack.push(v);
  for (const w of edges.get(v)) {
    if (state.get(w) === 'open')
      problems.push(
        `cycle: ${stack
          .slice(stack.indexOf(w))
          .concat(w)
          .map((p) => relative(root, p))
          .join(' -> ')}`,
      );
    else if (!state.has(w)) visit(w);
  }
  stack.pop();
  state.set(v, 'done');
}
for (const f of files) if (!state.has(f)) visit(f);

for (const p of problems) console.log(p);
if (problems.length > 0) process.exit(1);
console.log(`imports: ${files.length} modules, no cycle, every import to its own or a lower layer`);
