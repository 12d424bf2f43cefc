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
