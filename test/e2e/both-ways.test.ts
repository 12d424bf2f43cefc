// One table of cases, each run twice against real vsftpd: as a one-shot command (remote files
// named by URL) and as a shell script (`rftp -c "open URL; …"`, remote files named by path).
// The same command definitions run both, so exit codes, files and messages must agree.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';
import { cleanup, errorLines, randomData, runRftp, sha256, sha256File, snapshot, testEnv, tmpDir, tmpHome, type RunResult } from '../helpers/cli.js';

interface Ctx {
  /** A fresh remote directory for this run (relative to the login directory). */
  dir: string;
  local: string;
  server: VsftpdServer;
}

interface Case {
  name: string;
  /** Files on the server (relative to ctx.dir) and locally, before the run. */
  remote?: Record<string, string | Buffer>;
  local?: Record<string, string | Buffer>;
  /** The words after `rftp`, remote files as URLs (u makes one). */
  cli: (u: (path: string) => string, c: Ctx) => string[];
  /** The shell line after `open URL-of-ctx.dir;`, remote files as paths. */
  shell: (c: Ctx) => string;
  code: number;
  check?: (r: RunResult, c: Ctx) => void;
}

const remoteFile = (c: Ctx, p: string) => join(c.server.root, c.dir, p);

const cases: Case[] = [
  {
    name: 'get two files into a directory',
    remote: { 'a.bin': randomData(200_000), 'b.txt': 'bee\n' },
    cli: (u) => ['get', '-o', 'out/', u('a.bin'), u('b.txt')],
    shell: () => 'get -o out/ a.bin b.txt',
    code: 0,
    check: (_r, c) => {
      assert.equal(sha256File(join(c.local, 'out/a.bin')), sha256(readFileSync(remoteFile(c, 'a.bin'))));
      assert.equal(readFileSync(join(c.local, 'out/b.txt'), 'utf8'), 'bee\n');
    },
  },
  {
    name: 'get of a missing file: 6, one error line',
    cli: (u) => ['get', u('nope.bin')],
    shell: () => 'get nope.bin',
    code: 6,
    check: (r) => assert.match(errorLines(r.stderr)[0], /nope\.bin/),
  },
  {
    name: 'get --limit-rate --segments (the shell had neither)',
    remote: { 'big.bin': randomData(3 * 1024 * 1024) },
    cli: (u) => ['get', '--segments', '2', '--limit-rate', '20M', u('big.bin')],
    shell: () => 'get --segments 2 --limit-rate 20M big.bin',
    code: 0,
    check: (r, c) => {
      assert.equal(sha256File(join(c.local, 'big.bin')), sha256(readFileSync(remoteFile(c, 'big.bin'))));
      assert.doesNotMatch(r.stderr, /error/);
    },
  },
  {
    name: 'pget -n 3',
    remote: { 'p.bin': randomData(3 * 1024 * 1024) },
    cli: (u) => ['pget', '-n', '3', u('p.bin'), '-o', 'p.out'],
    shell: () => 'pget -n 3 p.bin -o p.out',
    code: 0,
    check: (_r, c) => assert.equal(sha256File(join(c.local, 'p.out')), sha256(readFileSync(remoteFile(c, 'p.bin')))),
  },
  {
    name: 'put two files, and an existing one without --force is refused (9)',
    local: { 'x.txt': 'ex\n', 'y.txt': 'why\n' },
    remote: { 'y.txt': 'old\n' },
    cli: (u) => ['put', 'x.txt', 'y.txt', u('')],
    shell: () => 'put x.txt y.txt',
    code: 9,
    check: (_r, c) => {
      assert.equal(readFileSync(remoteFile(c, 'x.txt'), 'utf8'), 'ex\n');
      assert.equal(readFileSync(remoteFile(c, 'y.txt'), 'utf8'), 'old\n');
    },
  },
  {
    name: 'put -o into a directory',
    local: { 'z.txt': 'zed\n' },
    remote: { 'sub/keep': '' },
    cli: (u) => ['put', '-o', u('sub/'), 'z.txt'],
    shell: () => 'put -o sub/ z.txt',
    code: 0,
    check: (_r, c) => assert.equal(readFileSync(remoteFile(c, 'sub/z.txt'), 'utf8'), 'zed\n'),
  },
  {
    name: 'sync down, then nothing to do',
    remote: { 'tree/a.txt': 'a\n', 'tree/d/b.txt': 'b\n' },
    cli: (u) => ['sync', u('tree/'), 'tree'],
    shell: () => 'mirror tree tree',
    code: 0,
    check: (r, c) => {
      assert.deepEqual(snapshot(join(c.local, 'tree')), snapshot(remoteFile(c, 'tree')));
      assert.match(r.stderr, /sync: 2 received/);
    },
  },
  {
    name: 'sync up with --delete --dry-run changes nothing',
    local: { 'site/i.html': 'i\n' },
    remote: { 'www/old.html': 'o\n' },
    cli: (u) => ['sync', '--delete', '--dry-run', 'site', u('www/')],
    shell: () => 'mirror -R -e --dry-run site www',
    code: 0,
    check: (r, c) => {
      assert.match(r.stdout, /delete .*old\.html/);
      assert.ok(existsSync(remoteFile(c, 'www/old.html')));
      assert.ok(!existsSync(remoteFile(c, 'www/i.html')));
    },
  },
  {
    name: 'ls -l',
    remote: { 'l/f.txt': 'ffff', 'l/g/h': '' },
    cli: (u) => ['ls', '-l', u('l/')],
    shell: () => 'ls -l l',
    code: 0,
    check: (r) => {
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 2, r.stdout);
      assert.match(lines[0], /^-rw.* 4 .* f\.txt$/);
      assert.match(lines[1], /^d.* g\/$/);
    },
  },
  {
    name: 'ls --json',
    remote: { 'j/one': '1' },
    cli: (u) => ['ls', '--json', u('j/')],
    shell: () => 'ls --json j',
    code: 0,
    check: (r) =>
      assert.deepEqual(
        JSON.parse(r.stdout).map((e: { name: string; type: string }) => [e.name, e.type]),
        [['one', 'file']],
      ),
  },
  {
    name: 'cat of two files',
    remote: { c1: 'one\n', c2: 'two\n' },
    cli: (u) => ['cat', u('c1'), u('c2')],
    shell: () => 'cat c1 c2',
    code: 0,
    check: (r) => assert.equal(r.stdout, 'one\ntwo\n'),
  },
  {
    name: 'mkdir -p',
    cli: (u) => ['mkdir', '-p', u('m/n/o')],
    shell: () => 'mkdir -p m/n/o',
    code: 0,
    check: (_r, c) => assert.ok(existsSync(remoteFile(c, 'm/n/o'))),
  },
  {
    name: 'rm -r, and rm of a missing file (6)',
    remote: { 'gone/x': 'x', 'gone/y/z': 'z' },
    cli: (u) => ['rm', '-r', u('gone'), u('missing')],
    shell: () => 'rm -r gone missing',
    code: 6,
    check: (_r, c) => assert.ok(!existsSync(remoteFile(c, 'gone'))),
  },
  {
    name: "rmdir of a directory that is not empty: the server's refusal",
    remote: { 'e/keep': '' },
    cli: (u) => ['rmdir', u('e')],
    shell: () => 'rmdir e',
    code: 6,
    check: (r, c) => {
      assert.match(errorLines(r.stderr)[0], /550/);
      assert.ok(existsSync(remoteFile(c, 'e/keep')));
    },
  },
  {
    name: 'mv into a directory',
    remote: { 'mv1.txt': 'moved\n', 'into/keep': '' },
    cli: (u, c) => ['mv', u('mv1.txt'), `${c.dir}/into/`],
    shell: () => 'mv mv1.txt into/',
    code: 0,
    check: (_r, c) => assert.equal(readFileSync(remoteFile(c, 'into/mv1.txt'), 'utf8'), 'moved\n'),
  },
  {
    name: 'login without a keychain: one line, exit 7, nothing asked',
    cli: (u) => ['login', '--no-check', u('')],
    shell: (c) => `login --no-check ${c.server.url('')}`,
    code: 7,
    check: (r) => assert.match(errorLines(r.stderr)[0], /keychain/i),
  },
  {
    name: 'logout without a keychain',
    cli: (u) => ['logout', u('')],
    shell: (c) => `logout ${c.server.url('')}`,
    code: 7,
    check: (r) => assert.match(errorLines(r.stderr)[0], /keychain/i),
  },
  {
    name: "a usage mistake names the command's help",
    cli: (u) => ['get', '--segmnets', '2', u('a')],
    shell: () => 'get --segmnets 2 a',
    code: 2,
    check: (r) => assert.match(errorLines(r.stderr)[0], /get: unknown option --segmnets; did you mean --segments\? \(see (rftp get --help|help get)\)/),
  },
];

describe('every command, once from the command line and once from the shell', () => {
  let server: VsftpdServer;
  const dirs: string[] = [];
  let n = 0;
  before(async () => {
    server = await startVsftpd();
  });
  after(async () => {
    await server.stop();
    cleanup(...dirs);
  });

  async function prepare(c: Case, how: string): Promise<Ctx> {
    const ctx: Ctx = { dir: `run${++n}-${how}`, local: tmpDir(), server };
    dirs.push(ctx.local);
    await server.put(`${ctx.dir}/.keep`, '');
    for (const [p, data] of Object.entries(c.remote ?? {})) await server.put(`${ctx.dir}/${p}`, data);
    for (const [p, data] of Object.entries(c.local ?? {})) {
      mkdirSync(join(ctx.local, p, '..'), { recursive: true });
      writeFileSync(join(ctx.local, p), data);
    }
    return ctx;
  }

  for (const c of cases) {
    test(c.name, async () => {
      const home = tmpHome();
      dirs.push(home);
      const env = testEnv(home, { RFTP_PASSWORD: server.password });
      const results: Record<string, RunResult> = {};
      for (const how of ['cli', 'shell'] as const) {
        const ctx = await prepare(c, how);
        const u = (p: string) => server.url(`${ctx.dir}/${p}`);
        const argv = how === 'cli' ? c.cli(u, ctx) : ['-c', `open ${server.url(`${ctx.dir}/`)}; ${c.shell(ctx)}`];
        const r = await runRftp(argv, { env, cwd: ctx.local });
        results[how] = r;
        assert.equal(r.code, c.code, `${how}: ${argv.join(' ')}\n${r.stderr}`);
        assert.doesNotMatch(r.stderr, /internal error|^\s+at /m, how);
        c.check?.(r, ctx);
        // Nothing but the case's own files was left beside them.
        assert.deepEqual(
          readdirSync(ctx.local).filter((f) => f.includes('rftp-')),
          [],
          how,
        );
      }
      // The same errors, word for word, apart from how the remote file and the help are named.
      const same = (t: string) =>
        errorLines(t).map((l) =>
          l
            .replace(/ftp:\/\/\S+?\/run\d+-(cli|shell)\//g, '')
            .replace(/\/run\d+-(cli|shell)\//g, '')
            .replace(/\(see (rftp \w+ --help|help \w+)\)/, '(see help)'),
        );
      assert.deepEqual(same(results.shell.stderr).length, same(results.cli.stderr).length, `${results.cli.stderr}\n---\n${results.shell.stderr}`);
    });
  }

  test("help: rftp help get = rftp get --help = the shell's help get", async () => {
    const home = tmpHome();
    dirs.push(home);
    const env = testEnv(home);
    const a = await runRftp(['help', 'get'], { env });
    const b = await runRftp(['get', '--help'], { env });
    const s = await runRftp(['-c', 'help get'], { env });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.equal(a.stdout, s.stdout);
    assert.match(a.stdout, /--limit-rate/);
  });
});
