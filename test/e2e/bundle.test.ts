// bin/rftp runs the esbuild bundle (dist/bundle/, npm run build), which every other end-to-end
// test then exercises. Here: the bundle is there and fresh, bin/rftp loads nothing but the bundle
// (no dist/src, no node_modules: that is where the start-up time went), the pieces that depend
// on the bundle's location still work, and bin/rftp falls back to tsc's output, never to a
// missing or stale bundle.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { RFTP, runRftp, scratchDirs, testEnv } from '../helpers/cli.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const bundleCli = join(repo, 'dist/bundle/cli.js');
const tscCli = join(repo, 'dist/src/cli.js');
const scratch = scratchDirs();

/**
 * A module hook for `node --import`: every file the ESM loader loads goes into `log` (one URL a
 * line); `more` is extra code run at start (it may append to the same log).
 */
function loadRecorder(d: string, more = ''): { log: string; register: string } {
  const log = join(d, 'loaded.txt');
  writeFileSync(
    join(d, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  if (url.startsWith('file:')) appendFileSync(${JSON.stringify(log)}, url + '\\n');
  return next(url, context);
}
`,
  );
  writeFileSync(join(d, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(join(d, 'hooks.mjs')).href)});\n${more}`);
  return { log, register: pathToFileURL(join(d, 'register.mjs')).href };
}

test('the bundle exists and is not older than the tsc output it was built from', () => {
  assert.ok(existsSync(bundleCli), `${bundleCli} is missing: the build must run scripts/bundle.mjs after tsc`);
  assert.ok(statSync(bundleCli).mtimeMs >= statSync(tscCli).mtimeMs, 'dist/bundle is older than dist/src: the build ran tsc without scripts/bundle.mjs');
});

test('bin/rftp loads only the bundle: no dist/src module, nothing from node_modules', () => {
  const { d, home } = scratch();
  const { log, register } = loadRecorder(d);
  const r = spawnSync(process.execPath, ['--import', register, RFTP, 'get', '--help'], { env: testEnv(home), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /rftp get <url>/);
  assert.match(r.stdout, /--limit-rate/);
  const loaded = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((u) => fileURLToPath(u));
  assert.ok(loaded.includes(RFTP), `bin/rftp itself is among the loaded files: ${loaded.join(', ')}`);
  const others = loaded.filter((p) => p !== RFTP && !p.startsWith(join(repo, 'dist/bundle/')));
  assert.deepEqual(others, [], 'everything but bin/rftp comes from dist/bundle/');
  assert.ok(loaded.includes(bundleCli));
});

test('start-up stays lean: --version, --help and a get in CI load no spinner, shell or keychain code; only help segments text', () => {
  const { d, home } = scratch();
  // string-width (ora's, and cliui's for yargs' help) builds an Intl.Segmenter, slow on first use:
  // a transfer in CI never needs one.
  const { log, register } = loadRecorder(
    d,
    `
import { appendFileSync } from 'node:fs';
const Real = Intl.Segmenter;
Intl.Segmenter = class extends Real { constructor(...a) { appendFileSync(${JSON.stringify(join(d, 'loaded.txt'))}, 'Intl.Segmenter\\n'); super(...a); } };
`,
  );
  const runs: Array<[string[], number]> = [
    [['--version'], 0],
    [['get', '--help'], 0],
    [['sync', '--help'], 0],
    [['get', 'ftp://127.0.0.1:1/x', '-o', join(d, 'x')], 3],
  ];
  for (const [args, code] of runs) {
    const help = args.includes('--help');
    writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['--import', register, RFTP, ...args], { env: testEnv(home, { CI: 'true' }), encoding: 'utf8' });
    assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
    const loaded = readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(
      loaded.some((l) => l.endsWith('/dist/bundle/cli.js')),
      loaded.join(', '),
    );
    const heavy = loaded.filter((l) => (l === 'Intl.Segmenter' && !help) || /\/(ora|repl|open)-[A-Z0-9]+\.js$/.test(l) || /keytar/.test(l));
    assert.deepEqual(heavy, [], args.join(' '));
  }
});

test("the bundle and its source maps do not record the build machine's paths", () => {
  for (const name of readdirSync(join(repo, 'dist/bundle'))) {
    if (!/\.(js|map)$/.test(name)) continue;
    assert.equal(readFileSync(join(repo, 'dist/bundle', name), 'utf8').includes(repo), false, name);
  }
});

test("--version prints package.json's version (cli.ts finds ../../package.json from the bundle)", async () => {
  const { home } = scratch();
  const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
  const r = await runRftp(['--version'], { env: testEnv(home) });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${version}\n`);
});

test("yargs' translations are found from the bundle", async () => {
  const { home } = scratch();
  const r = await runRftp(['get', '--help'], { env: testEnv(home, { LC_ALL: 'de_DE' }) });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Optionen:$/m);
  assert.match(r.stdout, /--limit-rate/);
});

test("bin/rftp runs tsc's output when the bundle is missing or older than it", () => {
  const { d } = scratch();
  // A copy of bin/rftp in a package layout whose two entry points say which one ran.
  mkdirSync(join(d, 'bin'));
  mkdirSync(join(d, 'dist/src'), { recursive: true });
  mkdirSync(join(d, 'dist/bundle'));
  copyFileSync(RFTP, join(d, 'bin/rftp'));
  writeFileSync(join(d, 'package.json'), '{"type":"module"}\n');
  const src = join(d, 'dist/src/cli.js');
  const bundle = join(d, 'dist/bundle/cli.js');
  writeFileSync(src, "process.stdout.write('src');\n");
  const ran = () => {
    const r = spawnSync(process.execPath, [join(d, 'bin/rftp')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
  };
  assert.equal(ran(), 'src', 'no bundle');
  writeFileSync(bundle, "process.stdout.write('bundle');\n");
  const t = Date.now() / 1000;
  utimesSync(src, t - 10, t - 10);
  utimesSync(bundle, t, t);
  assert.equal(ran(), 'bundle', 'bundle newer than dist/src');
  utimesSync(src, t, t);
  assert.equal(ran(), 'bundle', 'same time, as in an npm pack tarball');
  utimesSync(bundle, t - 10, t - 10);
  assert.equal(ran(), 'src', 'bundle older than dist/src (plain tsc after a change)');
});
