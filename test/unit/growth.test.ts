// sync --parallel auto's rule, on a mocked clock: double while the files per second rise by a
// tenth, stay once they do not, stop at 16, stop when the server refuses a connection.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import type { Session } from '../../src/session/session.js';
import { connectionGrowth } from '../../src/sync/growth.js';

const WINDOW = 500;

function fakeSession(refuse = false): Session & { closed: boolean; reconnects: number } {
  const s = {
    closed: false,
    reconnects: 0,
    connected: () => (refuse ? Promise.reject(new Error('421 too many connections')) : Promise.resolve()),
    close() {
      s.closed = true;
    },
  };
  return s as unknown as Session & { closed: boolean; reconnects: number };
}

/** A growth on 4 sessions with a long queue; `refuseFrom`: the nth new session (1-based) on is refused. */
function setup(refuseFrom = Infinity) {
  const sessions = [fakeSession(), fakeSession(), fakeSession(), fakeSession()];
  const queue = Array.from({ length: 1000 }, (_, i) => i);
  let made = 0;
  const debug: string[] = [];
  const growth = connectionGrowth<number>({ sessions, queue, newSession: () => fakeSession(++made >= refuseFrom), debug: (t) => debug.push(t) });
  const workers: unknown[] = [];
  growth.attach(
    (w) => {
      workers.push(w);
      return true;
    },
    () => async () => {},
  );
  /** `files` done in the next window, then the window ends and the logins it started finish. */
  const window = async (files: number) => {
    for (let i = 0; i < files; i++) growth.fileDone();
    mock.timers.tick(WINDOW);
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { sessions, workers, growth, window, debug };
}

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

test('doubles while the rate rises by a tenth, up to 16', async () => {
  const g = setup();
  await g.window(20);
  assert.equal(g.sessions.length, 8);
  await g.window(40);
  assert.equal(g.sessions.length, 16);
  await g.window(80);
  assert.equal(g.sessions.length, 16);
  assert.equal(g.workers.length, 12);
  assert.equal(g.growth.opened.length, 12);
});

test('stays once a window brings no rise of a tenth, and stays for good', async () => {
  const g = setup();
  await g.window(20);
  assert.equal(g.sessions.length, 8);
  await g.window(21);
  assert.equal(g.sessions.length, 8, g.debug.join('\n'));
  await g.window(100);
  assert.equal(g.sessions.length, 8, 'a later rise no longer counts');
});

test('waits while no file is done yet', async () => {
  const g = setup();
  await g.window(0);
  await g.window(0);
  assert.equal(g.sessions.length, 4);
  await g.window(10);
  assert.equal(g.sessions.length, 8);
});

test('a refused connection ends the growth; the accepted ones work, the refused are closed', async () => {
  const g = setup(3);
  await g.window(20);
  assert.equal(g.sessions.length, 6);
  assert.match(g.debug.join('\n'), /refused connection 7 .*421/);
  await g.window(100);
  assert.equal(g.sessions.length, 6);
});

test('stop() ends it (a file failed)', async () => {
  const g = setup();
  g.growth.stop();
  await g.window(20);
  assert.equal(g.sessions.length, 4);
});

test('a connection that had to reconnect ends the growth (vsftpd out of passive ports)', async () => {
  const g = setup();
  await g.window(20);
  assert.equal(g.sessions.length, 8);
  (g.sessions[5] as unknown as { reconnects: number }).reconnects = 1;
  await g.window(40);
  assert.equal(g.sessions.length, 8);
  assert.match(g.debug.join('\n'), /had to reconnect; staying at 8/);
});
