// The queue's store on a temporary directory: ids, corrupt files moved aside, locks and their
// takeover (a dead holder, a PID reused by another process).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { QueueStore } from '../../src/jobs/store.js';

function store() {
  const dir = mkdtempSync(join(tmpdir(), 'rftp-queue-'));
  const warnings: string[] = [];
  return { dir, warnings, s: new QueueStore(dir, (t) => warnings.push(t)), done: () => rmSync(dir, { recursive: true, force: true }) };
}

const entry = { words: ['get', 'ftp://h/x'], cwd: '/', addedAt: 0, due: 0, state: 'waiting' as const, runs: 0 };

test('ids count up; a file that is not an entry is moved aside with a warning', async () => {
  const { dir, warnings, s, done } = store();
  try {
    assert.equal((await s.add(entry)).id, 1);
    assert.equal((await s.add(entry)).id, 2);
    writeFileSync(join(dir, '7.json'), '{ broken');
    assert.deepEqual(
      s.list().map((e) => e.id),
      [1, 2],
    );
    assert.match(warnings.join('\n'), /7\.json could not be read/);
    assert.ok(readdirSync(dir).some((n) => n.startsWith('7.json.corrupt-')));
    assert.equal((await s.add(entry)).id, 3);
  } finally {
    done();
  }
});

test('a lock is held once; a dead holder or a reused PID is taken over, a live holder is not', () => {
  const { dir, warnings, s, done } = store();
  try {
    const release = s.lock(1);
    assert.ok(release);
    assert.equal(s.lock(1), undefined, 'held by a live process: this one');
    release();
    assert.ok(s.lock(1), 'free again');
    // A PID no process has.
    writeFileSync(join(dir, '2.lock'), '2147483646 1\n');
    assert.ok(s.lock(2));
    assert.match(warnings.join('\n'), /entry 2 was locked by process 2147483646, which is gone/);
    // Our own PID with another start time: a process that reused the PID, not the holder.
    writeFileSync(join(dir, '3.lock'), `${process.pid} 1\n`);
    assert.ok(s.lock(3));
    // Our own PID and start time: the holder is alive.
    const mine = readFileSync(join(dir, '1.lock'), 'utf8');
    writeFileSync(join(dir, '4.lock'), mine);
    assert.equal(s.lock(4), undefined);
  } finally {
    done();
  }
});

test("queue run --limit-rate: each of N entries gets 1/N, a timetable's rates too", async () => {
  const { shareOf } = await import('../../src/commands/queue.js');
  assert.equal(shareOf('4M', 4), String(1024 * 1024));
  assert.equal(shareOf('08:00,512k 23:00,off', 2), '08:00,262144 23:00,off');
  assert.throws(() => shareOf('fast', 2), /--limit-rate/);
});
