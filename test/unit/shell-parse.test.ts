import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { shellTable } from '../../src/shell/commands.js';
import { completable, Completer } from '../../src/shell/completion.js';
import type { Shell } from '../../src/shell/state.js';
import { globToRegExp } from '../../src/shell/glob.js';
import { historyLine } from '../../src/shell/history.js';
import { addSecret, containsSecret } from '../../src/ui/redact.js';
import { escapeWord, splitLine } from '../../src/shell/parse.js';

const words = (line: string) => splitLine(line).map((c) => (c.local !== undefined ? ['!', c.local] : c.words.map((w) => w.value)));

test('splitLine: ; separates commands, quotes and backslashes keep spaces and ;', () => {
  assert.deepEqual(words('open ftp://h; cd "my dir";get a\\ b \'x;y\''), [
    ['open', 'ftp://h'],
    ['cd', 'my dir'],
    ['get', 'a b', 'x;y'],
  ]);
  assert.deepEqual(words('ls # a comment; rm x'), [['ls']]);
  assert.deepEqual(words('lcd /tmp; !ls -l; echo'), [
    ['lcd', '/tmp'],
    ['!', 'ls -l; echo'],
  ]);
  assert.deepEqual(words('  ;; '), []);
  assert.throws(() => splitLine('get "unterminated'), /unterminated double quote/);
  assert.throws(() => splitLine('cat a.txt\\'), /backslash at the end of the line/);
  assert.equal(splitLine('get "unterm', true)[0].words[1].openQuote, '"');
});

test('escapeWord round-trips through splitLine', () => {
  for (const name of ['a b', "it's", 'semi;colon', 'star*', 'plain']) assert.deepEqual(words(`get ${escapeWord(name)}`), [['get', name]]);
});

test('history lines lose passwords', () => {
  const cases: [string, string][] = [
    ['open ftp://alice:s3cret@host/dir', 'open ftp://alice@host/dir'],
    ['open ftp://alice:p@ss@host/', 'open ftp://alice@host/'],
    ['open "ftp://alice:pa ss@host/"', 'open ftp://alice@host/'],
    ["open 'ftp://alice:pa/ss@host/x'", 'open ftp://alice@host/x'],
    ['open ftpes://alice@example.com:pw9@host/', 'open ftpes://alice%40example.com@host/'],
    ['user bob hunter22; ls', 'user bob; ls'],
    ['user bob pa\\ ss', 'user bob'],
    ['open -u bob:hunter22 ftp://host', 'open -u bob ftp://host'],
    ['open -ubob:hunter22 ftp://host', 'open -ubob ftp://host'],
    ['open -ku bob:hunter22 ftp://host', 'open -ku bob ftp://host'],
    ['open -u "bob:hunter 22" ftp://host', 'open -u bob ftp://host'],
    ['open --user=bob:hunter22 ftp://host', 'open --user=bob ftp://host'],
    ['open --user bob:hunter22 ftp://host', 'open --user bob ftp://host'],
    ['login ftp://bob:hunter22@host/; bookmark add b ftp://bob:hunter22@host/', 'login ftp://bob@host/; bookmark add b ftp://bob@host/'],
    ['get "my file.txt"; cd pub', 'get "my file.txt"; cd pub'],
    ['!ls -l', '!ls -l'],
    // Not forms open takes (they fail), but the password must not stay in the history either.
    ['open u:BarePW@127.0.0.1', 'open u@127.0.0.1'],
    ['open sftp://u:SftpPW@127.0.0.1/', 'open sftp://u@127.0.0.1/'],
    ["open ' ftp://u:SpacePW@127.0.0.1:21/'", 'open ftp://u@127.0.0.1:21/'],
    ['open ftp:/u:pw@h/x', 'open ftp:/u@h/x'],
    ['open u:p/w@host', 'open u@host'],
    ['open sftp://u:p@ss@h', 'open sftp://u@h'],
    ["bookmark add z 'http://u:HttpPW@h/'", 'bookmark add z http://u@h/'],
  ];
  for (const [line, kept] of cases) {
    assert.equal(historyLine(line), kept, line);
    assert.ok(!/hunter|pa.?ss|s3cret|pw9|PW|p\/w|p@ss/.test(historyLine(line)!), line);
  }
  assert.equal(historyLine('get "unterminated'), undefined);
  assert.equal(historyLine('   '), undefined);
});

test('history skips a line that still holds a known password', () => {
  addSecret('Known-Secret-42');
  assert.equal(historyLine('lcd Known-Secret-42'), undefined);
  assert.equal(historyLine('!echo Known-Secret-42'), undefined);
  assert.equal(containsSecret('Known%20Secret'), false);
  assert.equal(historyLine('lcd other'), 'lcd other');
});

test('globs match one path segment; a leading dot must be explicit', () => {
  assert.ok(globToRegExp('*.txt').test('a.txt'));
  assert.ok(!globToRegExp('*.txt').test('.hidden.txt'));
  assert.ok(globToRegExp('file[0-9].?z').test('file7.gz'));
  assert.ok(!globToRegExp('file[!0-9]').test('file7'));
  assert.ok(globToRegExp('a+b(1).txt').test('a+b(1).txt'));
  // A class out of order is the user's mistake (2), not an internal error (1).
  assert.throws(
    () => globToRegExp('[z-a]*'),
    (err: unknown) => (err as { exitCode?: number }).exitCode === 2 && /bad pattern/.test((err as Error).message),
  );
});

test('Tab completion never offers names with control or format characters', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rftp-complete-'));
  try {
    for (const name of ['ab\x1b]0;owned\x07', 'ab\x1b[2J', 'ab\u009b31m', 'ab\u202etxt.exe', 'ab\u2028x', 'abc.txt']) writeFileSync(join(dir, name), '');
    const completer = new Completer({ env: process.env, commands: await shellTable() } as unknown as Shell);
    const [hits] = await completer.complete(`lls ${dir}/ab`);
    assert.deepEqual(hits, [`${dir}/abc.txt`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.ok(completable('plain name.txt'));
  for (const bad of ['a\rb', 'a\x7f', 'a\u0085', 'a\u200bb', 'a/b', 'a\0']) assert.ok(!completable(bad), JSON.stringify(bad));
});
