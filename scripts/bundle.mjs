#!/usr/bin/env node
// Bundles tsc's output (dist/src/cli.js) with its dependencies into dist/bundle/, which bin/rftp
// runs. Start-up is most of a small transfer's time, and Node loading yargs as ~100 separate ESM
// files costs ~140 ms; one bundle (plus a few lazily loaded chunks) loads in a fraction of that.
// Run after `tsc -p tsconfig.json` (npm run build does both).
//
// - Code splitting keeps the CLI's lazy `import()`s lazy: each command, the shell and ora are
//   chunks loaded only when used.
// - keytar stays outside: a native addon and an optional dependency, imported at run time from
//   node_modules when the keychain is consulted (src/session/keychain.ts).
// - basic-ftp is CommonJS and requires Node's built-ins: the banner gives the ESM bundle a
//   `require` for them.
// - The entry stays two directories below the package root, as dist/src/cli.js is, so cli.ts's
//   `new URL('../../package.json', import.meta.url)` still finds package.json.
// - yargs finds its translations relative to its own file; in the bundle that file is a chunk in
//   dist/bundle/, so the translations are copied next to it and the one line that names the
//   directory is pointed there.
// - Linked source maps lead back to src/*.ts (through tsc's maps); Node reads them only with
//   --enable-source-maps, so they cost no start-up time.
// - The bundle is written to a new directory and renamed into place, so a CLI started during a
//   build finds the old bundle, the new one, or none (bin/rftp then runs dist/src), never half of one.
import { build } from 'esbuild';
import { cpSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const entry = `${repo}dist/src/cli.js`;
const outdir = `${repo}dist/bundle`;
const fresh = `${outdir}.new-${process.pid}`;
const old = `${outdir}.old-${process.pid}`;

if (!existsSync(entry)) {
  console.error(`bundle: ${entry} is missing; run tsc -p tsconfig.json first`);
  process.exit(1);
}

const YARGS_LOCALES = "resolve(__dirname, '../../../locales')";
let localesDir;
const yargsLocales = {
  name: 'yargs-locales',
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, (args) => {
      const text = readFileSync(args.path, 'utf8');
      // A yargs release that finds them differently must be looked at, not bundled blindly.
      if (!text.includes(YARGS_LOCALES)) throw new Error(`${args.path} no longer contains ${YARGS_LOCALES}: check how yargs finds its locales`);
      localesDir = resolve(dirname(args.path), '../../locales');
      return { contents: text.replace(YARGS_LOCALES, "fileURLToPath(new URL('./yargs-locales', import.meta.url))"), loader: 'js' };
    });
  },
};

// string-width builds an Intl.Segmenter and compiles large Unicode regular expressions when it is
// imported (20-35 ms of every start), although the CLI measures text only to lay out help. In the
// bundle each import of it gets a stand-in that answers printable ASCII itself and loads the real
// module (the version that importer resolved to) on the first other string.
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData?.real) return undefined;
      const real = await b.resolve('string-width', { kind: args.kind, resolveDir: args.resolveDir, pluginData: { real: true } });
      if (real.errors.length > 0) return { errors: real.errors };
      // Relative to the repository, so the bundle does not record the build machine's paths.
      return { path: relative(repo, real.path), namespace: 'lazy-string-width' };
    });
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => ({
      resolveDir: dirname(resolve(repo, args.path)),
      contents: `let real;
export default function stringWidth(text, options) {
  if (typeof text === 'string' && /^[\x20-\x7e]*$/.test(text)) return text.length;
  real ??= require(${JSON.stringify(`./${basename(args.path)}`)}).default;
  return real(text, options);
}`,
      loader: 'js',
    }));
  },
};

try {
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    splitting: true,
    outdir: fresh,
    external: ['keytar'],
    sourcemap: 'linked',
    banner: { js: "import { createRequire as __rftpCreateRequire } from 'node:module'; const require = __rftpCreateRequire(import.meta.url);" },
    plugins: [yargsLocales, lazyStringWidth],
    logLevel: 'warning',
  });
  if (!localesDir) throw new Error("yargs' platform shim was not bundled: check the yargs-locales plugin's filter");
  cpSync(localesDir, `${fresh}/yargs-locales`, { recursive: true });
  if (existsSync(outdir)) renameSync(outdir, old);
  renameSync(fresh, outdir);
  rmSync(old, { recursive: true, force: true });
} catch (err) {
  rmSync(fresh, { recursive: true, force: true });
  throw err;
}
