// The command registry: one spec per command, parsed the same way everywhere. The cases here run
// the real main() in-process (a fast table instead of a subprocess each); the end-to-end tests
// prove the built binary and the shell.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { readmeBlocks, renderReadme } from '../../src/commands/docs.js';
import { commandHelp, completionAnswer } from '../../src/commands/help.js';
import { parseCommand, shellHint } from '../../src/commands/parse.js';
import { loadAll, registry } from '../../src/commands/registry.js';
import { ExitCode } from '../../src/errors.js';
import { main } from '../../src/main.js';
import { shellTable } from '../../src/shell/commands.js';
import { settings } from '../../src/shell/settings.js';

function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _enc, done) {
      text += String(chunk);
      done();
    },
  }) as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = sink();
  const err = sink();
  const code = await main(argv, { stdout: out.stream, stderr: err.stream, env: { PATH: process.env.PATH, RFTP_NO_KEYCHAIN: '1', HOME: '/nonexistent' } });
  return { code, stdout: out.text(), stderr: err.text() };
}

const readme = new URL('../../../README.md', import.meta.url);

test("the README tables of commands, options, settings and exit codes are the specs' (npm run docs rewrites them)", async () => {
  const text = readFileSync(readme, 'utf8');
  const cli = (await loadAll()).filter((s) => !s.modes || s.modes.includes('cli'));
  const expected = renderReadme(text, readmeBlocks(cli, await shellTable(), settings));
  assert.ok(expected === text, 'README.md differs from the specs: run `npm run docs` and commit the result');
});

test('the README check fails when an option is missing from the README or documented but gone', async () => {
  const cli = (await loadAll()).filter((s) => !s.modes || s.modes.includes('cli'));
  const blocks = readmeBlocks(cli, await shellTable(), settings);
  const text = readFileSync(readme, 'utf8');
  const dropped = text.replace(/^\| `--segments N` .*\n/m, '');
  assert.notEqual(dropped, text);
  assert.notEqual(renderReadme(dropped, blocks), dropped, 'an option missing from the README');
  const extra = text.replace('| `--segments N` ', '| `--gone` | was here |  |\n| `--segments N` ');
  assert.notEqual(renderReadme(extra, blocks), extra, 'an option documented but gone');
});

test('the registry names every spec by its own name and aliases; the shell has no name twice', async () => {
  for (const entry of registry) {
    const spec = await entry.load();
    assert.equal(spec.name, entry.name);
    assert.deepEqual(spec.aliases ?? [], entry.aliases);
  }
  const names = (await shellTable()).flatMap((s) => [s.name, ...(s.aliases ?? [])]);
  assert.deepEqual(
    names.filter((n, i) => names.indexOf(n) !== i),
    [],
  );
});

test('defaults are written once: each option of a spec has one default, shared groups are the same objects', async () => {
  const specs = await loadAll();
  const get = specs.find((s) => s.name === 'get')!;
  const sync = specs.find((s) => s.name === 'sync')!;
  const timeout = (s: typeof get) => s.options.find((o) => o.name === 'timeout');
  assert.equal(timeout(get), timeout(sync));
  assert.equal(timeout(get)?.default, 30);
});

const usage: Array<[string[], RegExp]> = [
  [['gte', 'ftp://h/x'], /^rftp: error: unknown command gte; did you mean get\? \(see rftp --help\)$/],
  [['get'], /^rftp: error: get: missing argument URL \(see rftp get --help\)$/],
  [['put', 'file'], /^rftp: error: put: missing argument URL \(see rftp put --help\)$/],
  [['ls'], /ls: missing argument URL \(see rftp ls --help\)/],
  [['get', '--nope', 'ftp://h/x'], /get: unknown option --nope \(see rftp get --help\)/],
  [['sync', '--dleete', 'ftp://h/', '/tmp/x'], /unknown option --dleete; did you mean --delete\?/],
  [['get', '--limit-rat', '1M', 'ftp://h/x'], /unknown option --limit-rat; did you mean --limit-rate\?/],
  [['get', '-Z', 'ftp://h/x'], /unknown option -Z \(see/],
  [['get', '-K', 'ftp://h/x'], /unknown option -K; did you mean -k\?/],
  [['rm', '--r', 'ftp://h/x'], /unknown option --r; did you mean -r\?/],
  [['sync', 'ftp://h/'], /sync: missing argument DESTINATION/],
  [['get', '-u', 'a:Secr3t', '-u', 'b', 'ftp://h/x'], /-u was given more than once/],
  [['get', '--output', 'a', '-o', 'b', 'ftp://h/x'], /-o was given more than once/],
  [['get', '--tls=yes', 'ftp://h/x'], /--tls takes no value \(or =true, =false\)/],
  [['get', '-k=1', 'ftp://h/x'], /-k takes no value/],
  [['get', '--no-output', 'ftp://h/x'], /--no-output \(--output is not a yes\/no option\)/],
  [['get', '--timeout', 'soon', 'ftp://h/x'], /--timeout must be a number, not "soon"/],
  [['get', '--timeout', '0x10', 'ftp://h/x'], /--timeout must be a number/],
  [['sync', '-P', '-5', 'ftp://h/', '/tmp/x'], /-P needs a value; for a value starting with "-" write --parallel=-XYZ or -P-XYZ/],
  [['get', 'ftp://h/x', '-o'], /-o needs a value/],
  [['mv', 'ftp://h/a'], /mv: missing argument TO/],
  [['rmdir', '--', '--x'], /malformed URL/],
  [['help', 'nope'], /help: no command nope/],
  [['--nope'], /unknown option --nope \(see rftp --help\)/],
];

test('argument mistakes: one line, exit 2, the message and the help to see (no password echoed)', async () => {
  for (const [argv, message] of usage) {
    const r = await run(argv);
    assert.equal(r.code, ExitCode.usage, `${argv.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr.trim(), message, argv.join(' '));
    assert.doesNotMatch(r.stderr + r.stdout, /Secr3t/);
  }
});

test('rftp help NAME = rftp NAME --help, for every command and alias; the overview lists them all', async () => {
  for (const entry of registry) {
    for (const name of [entry.name, ...entry.aliases]) {
      const a = await run(['help', name]);
      const b = await run([name, '--help']);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout, b.stdout, name);
      assert.match(a.stdout, new RegExp(`^rftp ${entry.name}\\b`));
    }
  }
  const overview = await run(['--help']);
  for (const entry of registry) assert.match(overview.stdout, new RegExp(`rftp ${entry.name}\\b`));
  assert.match(overview.stdout.replace(/\s+/g, ' '), /Exit codes: 0 ok, .*10 infected .*11 check after transfer failed.*12 check found differences.*130 interrupted/);
  assert.equal((await run(['help'])).stdout, overview.stdout);
});

test('help wraps prose at the width but never breaks an example line', async () => {
  const get = (await loadAll()).find((s) => s.name === 'get')!;
  const text = await commandHelp(get, 50);
  for (const [cmd] of get.examples ?? []) assert.ok(text.includes(`  rftp ${cmd}\n`), `example kept whole: ${cmd}`);
  const prose = text.split('\n').filter((l) => !l.startsWith('  rftp '));
  assert.deepEqual(
    prose.filter((l) => l.length > 50),
    [],
  );
});

test('getopt spellings: -oVALUE, -o=VALUE, -o VALUE, --output=VALUE; numbers like .5', async () => {
  const get = (await loadAll()).find((s) => s.name === 'get')!;
  for (const words of [['-oout.txt'], ['-o=out.txt'], ['-o', 'out.txt'], ['--output=out.txt'], ['--output', 'out.txt']]) {
    assert.equal(parseCommand(get, [...words, 'ftp://h/x']).args.output, 'out.txt', words.join(' '));
  }
  assert.equal(parseCommand(get, ['--timeout', '.5', 'ftp://h/x']).args.timeout, 0.5);
  assert.equal(parseCommand(get, ['-o', '-', 'ftp://h/x']).args.output, '-', 'a lone "-" is a value');
  assert.deepEqual(parseCommand(get, ['--', '-x']).args.url, ['-x'], 'after --, words are arguments');
  assert.deepEqual(parseCommand(get, ['-kcf', 'ftp://h/x']).args, { insecure: true, continue: true, force: true, url: ['ftp://h/x'] });
});

test('the same words parse to the same command on the command line and in the shell', async () => {
  const specs = await shellTable();
  const sync = specs.find((s) => s.name === 'sync')!;
  const words = ['-e', '--parallel=8', '-I', '*.js', '--include', '*.css', '--no-pipelining', 'src', 'dst', '--max-delete', '3'];
  const cli = parseCommand(sync, words);
  const shell = parseCommand(sync, words, shellHint);
  assert.deepEqual(cli, shell);
  assert.deepEqual(cli, { command: 'sync', args: { delete: true, parallel: '8', include: ['*.js', '*.css'], pipelining: false, source: 'src', destination: 'dst', maxDelete: 3 } });
  // Plain data: it survives JSON (the queue stores it), with nothing but what was given.
  assert.deepEqual(JSON.parse(JSON.stringify(cli)), cli);
  assert.throws(() => parseCommand(sync, ['--bogus'], shellHint), /sync: unknown option --bogus \(see help sync\)/);
});

test("completion for bash: commands, a command's options, bookmarks for open", async () => {
  const specs = (await loadAll()).filter((s) => !s.modes || s.modes.includes('cli'));
  const words = async (...w: string[]) => (await completionAnswer(specs, ['--get-yargs-completions', 'rftp', ...w], () => ['work', 'home'])).split('\n');
  assert.ok((await words('')).includes('get'));
  assert.ok((await words('sy')).includes('sync'));
  const options = await words('get', '--li');
  assert.ok(options.includes('--limit-rate') && options.includes('-o') && !options.includes('--o'), options.join(' '));
  assert.deepEqual((await words('open', 'wo')).filter(Boolean), ['work']);
});

test('a parsed command says where it carries a password, so it is never stored with one', async () => {
  const get = (await loadAll()).find((s) => s.name === 'get')!;
  const { passwordsIn } = await import('../../src/commands/parse.js');
  assert.deepEqual(passwordsIn(parseCommand(get, ['ftp://alice@host/x', '-u', 'alice'])), []);
  const found = passwordsIn(parseCommand(get, ['ftp://alice:Secr3t@host/x', '-u', 'bob:Secr3t2']));
  assert.equal(found.length, 2);
  assert.doesNotMatch(found.join(' '), /Secr3t/);
});
