// `npm run demo` as a user who pipes it into a file sees it: no terminal escape codes, and the
// sizes it says were left by each kill are where the next run resumes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

test('the demo: no escape codes off a terminal; its words match what happened', () => {
  const demo = fileURLToPath(new URL('../../../scripts/demo.mjs', import.meta.url));
  const r = spawnSync(process.execPath, [demo], { encoding: 'utf8', timeout: 180_000 });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out);
  assert.doesNotMatch(out, /\x1b/, 'no escape codes when stdout is not a terminal');
  const left = [...out.matchAll(/a partial of ([\d.]+) MiB/g)].map((m) => m[1]);
  const resumed = [...out.matchAll(/resuming (?:upload )?at ([\d.]+) MiB/g)].map((m) => m[1]);
  assert.equal(left.length, 3, out);
  assert.deepEqual(resumed, left, 'each run resumes where the demo said the kill left it');
  assert.match(out, /sha256 matches the server's file: yes/);
  assert.match(out, /sha256 on the server matches: yes/);
});
