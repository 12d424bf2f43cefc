// The words of a check's command line: split as a POSIX shell would, without running one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitCommand } from '../../src/transfer/checks.js';

test('a command line splits into words as sh would, nothing expanded', () => {
  assert.deepEqual(splitCommand('clamscan --no-summary -d /x/test.hdb'), ['clamscan', '--no-summary', '-d', '/x/test.hdb']);
  assert.deepEqual(splitCommand(`sh -c 'echo "$1"; exit 2' scan`), ['sh', '-c', 'echo "$1"; exit 2', 'scan']);
  assert.deepEqual(splitCommand('a "b c" d\\ e "x\\"y" $HOME'), ['a', 'b c', 'd e', 'x"y', '$HOME']);
  assert.deepEqual(splitCommand("  two''  words "), ['two', 'words']);
  assert.deepEqual(splitCommand("empty '' word"), ['empty', '', 'word']);
  assert.throws(() => splitCommand("sh -c 'unclosed"), /unmatched '/);
  assert.throws(() => splitCommand('   '), /empty command/);
});
