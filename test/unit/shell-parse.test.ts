import assert from 'node:assert/strict';
import { test } from 'node:test';
import { globToRegExp } from '../../src/shell/glob.js';
import { redactHistoryLine } from '../../src/shell/history.js';
import { escapeWord, splitLine } from '../../src/shell/parse.js';

const words = (line: string) => splitLine(line).map((c) => (c.local !== undefined ? ['!', c.local] : c.words.map((w) => w.value)));

test('splitLine: ; separates commands, quotes and backslashes keep spaces and ;', () => {
  assert.deepEqual(words('open ftp://h; cd "my dir";get a\\ b \'x;y\''), [['open', 'ftp://h'], ['cd', 'my dir'], ['get', 'a b', 'x;y']]);
  assert.deepEqual(words('ls # a comment; rm x'), [['ls']]);
  assert.deepEqual(words('lcd /tmp; !ls -l; echo'), [['lcd', '/tmp'], ['!', 'ls -l; echo']]);
  assert.deepEqual(words('  ;; '), []);
  assert.throws(() => splitLine('get "unterminated'), /unterminated double quote/);
  assert.equal(splitLine('get "unterm', true)[0].words[1].openQuote, '"');
});

test('escapeWord round-trips through splitLine', () => {
  for (const name of ['a b', "it's", 'semi;colon', 'star*', 'plain']) assert.deepEqual(words(`get ${escapeWord(name)}`), [['get', name]]);
});

test('history lines lose passwords', () => {
  assert.equal(redactHistoryLine('open ftp://alice:s3cret@host/dir'), 'open ftp://alice@host/dir');
  assert.equal(redactHistoryLine('user bob hunter22; ls'), 'user bob; ls');
  assert.equal(redactHistoryLine('open -u bob:hunter22 ftp://host'), 'open -u bob ftp://host');
  assert.equal(redactHistoryLine('get file.txt'), 'get file.txt');
});

test('globs match one path segment; a leading dot must be explicit', () => {
  assert.ok(globToRegExp('*.txt').test('a.txt'));
  assert.ok(!globToRegExp('*.txt').test('.hidden.txt'));
  assert.ok(globToRegExp('file[0-9].?z').test('file7.gz'));
  assert.ok(!globToRegExp('file[!0-9]').test('file7'));
  assert.ok(globToRegExp('a+b(1).txt').test('a+b(1).txt'));
});
