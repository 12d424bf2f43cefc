import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Output } from '../../src/ui/output.js';

function capture() {
  const stream = new PassThrough() as unknown as NodeJS.WriteStream;
  let text = '';
  (stream as unknown as PassThrough).on('data', (c) => (text += c));
  return { stream, text: () => text };
}

test('server text cannot drive the terminal: control characters are escaped on every line', () => {
  const err = capture();
  const out = new Output({ quiet: false, json: false, debug: false }, err.stream, capture().stream);
  out.error('426 \x1b]0;owned\x07\x1b[2Jgone');
  out.warn('a\rb');
  assert.equal(err.text(), 'rftp: error: 426 \\x1b]0;owned\\x07\\x1b[2Jgone\nrftp: warning: a\\x0db\n');
});

test('--quiet keeps warnings and errors, drops progress notes; --json prints one object', () => {
  const err = capture();
  const std = capture();
  const out = new Output({ quiet: true, json: true, debug: false }, err.stream, std.stream);
  out.info('resuming');
  out.warn('w');
  out.json({ a: 1 });
  assert.equal(err.text(), 'rftp: warning: w\n');
  assert.deepEqual(JSON.parse(std.text()), { a: 1 });
});

test('a terminal that reports no width is not treated as interactive (ora would redraw for ever)', () => {
  const saved = process.env.CI;
  delete process.env.CI;
  try {
    const tty = (columns: number | undefined) => Object.assign(capture().stream, { isTTY: true, columns });
    assert.equal(new Output({ quiet: false, json: false, debug: false }, tty(0), capture().stream).interactive, false);
    assert.equal(new Output({ quiet: false, json: false, debug: false }, tty(undefined), capture().stream).interactive, false);
    assert.equal(new Output({ quiet: false, json: false, debug: false }, tty(80), capture().stream).interactive, true);
  } finally {
    if (saved !== undefined) process.env.CI = saved;
  }
});

test('a sync on a terminal counts the bytes of small files (received whole, without progress of their own)', async () => {
  const { SyncOutput } = await import('../../src/sync/report.js');
  const err = capture();
  Object.assign(err.stream, { isTTY: true, columns: 120 });
  const ci = process.env.CI;
  delete process.env.CI;
  try {
    const out = new SyncOutput({ quiet: false, json: false, debug: false }, err.stream);
    out.startFiles(3, 3000);
    out.fileDone('send', 'a.txt', { remote: 'a', local: 'a', size: 1000, bytesTransferred: 1000, resumedFrom: 0, restarted: false, skipped: false });
    out.fileDone('send', 'b.txt', { remote: 'b', local: 'b', size: 1000, bytesTransferred: 1000, resumedFrom: 0, restarted: false, skipped: false });
    const big = out.transfer('c.bin', 1000, 0, 'got');
    big.update(500);
    await new Promise((r) => setTimeout(r, 120));
    big.update(600);
    const lines = err.text().split('\r').filter(Boolean);
    assert.match(lines.at(-1)!, /2\/3 files .* 2\.5 KiB\/2\.9 KiB/, lines.at(-1));
  } finally {
    if (ci !== undefined) process.env.CI = ci;
  }
});

test('names with a space at either end are quoted in messages; others are not', async () => {
  const { quoteName } = await import('../../src/ui/redact.js');
  assert.equal(quoteName('plain name.txt'), 'plain name.txt');
  assert.equal(quoteName('trail '), '"trail "');
  assert.equal(quoteName(' lead'), '" lead"');
  assert.equal(quoteName(''), '""');
  assert.equal(quoteName(' \x1b[31m'), '" \\x1b[31m"');
});
