// The benchmark script in its quick mode: it runs end to end with tiny sizes, installs nothing,
// reports missing peers as skipped, and writes the JSON that runs are compared with.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { cleanup, tmpDir } from '../helpers/cli.js';

const script = fileURLToPath(new URL('../../../scripts/bench.mjs', import.meta.url));
const dirs: string[] = [];
after(() => cleanup(...dirs));

function runBench(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 290_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('bench --quick produces the JSON table and skips what is missing, installing nothing', async () => {
  const d = tmpDir('rftp-bench-smoke-');
  dirs.push(d);
  const out = join(d, 'results.json');
  // No peers selected: each must be reported as skipped (quick mode never runs apt-get).
  const env = { PATH: process.env.PATH, HOME: d, BENCH_SIZE: '4M', BENCH_REPS: '1', BENCH_PEERS: 'none' };
  const r = await runBench(['--quick', '--out', out], env);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(existsSync(out), 'the JSON file is written');
  assert.match(r.stdout, new RegExp(`results written to ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.doesNotMatch(r.stdout, /installing/);
  const report = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(report.mode, 'quick');
  assert.equal(report.sizes.get, 4 * 1024 * 1024);
  for (const key of ['get', 'getTls', 'put', 'pget']) {
    const c = report.results[key];
    assert.ok(c, `result ${key}`);
    assert.equal(typeof c.tools.rftp.seconds, 'number', `${key}: rftp was measured (${JSON.stringify(c.tools.rftp)})`);
    assert.match(c.tools.lftp.skipped, /not selected/, `${key}: lftp is skipped, not failed`);
  }
  assert.equal(typeof report.results.pget.tools['rftp-single'].seconds, 'number');
  assert.equal(typeof report.results.pget.speedup, 'number');
  // sync is either measured or visibly skipped.
  assert.ok(report.results.syncFresh || report.notes.some((n: string) => /skipped: rftp sync not available/.test(n)));
  assert.ok(Array.isArray(report.goals) && report.goals.length >= 5);
  // Loopback cases report CPU; WAN cases the round trips the latency proxy counted.
  assert.equal(typeof report.results.get.tools.rftp.cpuPerGiB, 'number', JSON.stringify(report.results.get.tools.rftp));
  for (const key of ['wanGet', 'wanPut', 'wanSyncUp', 'wanSyncUpUpToDate', 'wanTlsSyncDown', 'wanPget', 'wan80SyncUp']) {
    const rftp = report.results[key]?.tools.rftp;
    assert.equal(typeof rftp?.roundTrips, 'number', `${key}: ${JSON.stringify(rftp)}`);
  }
  assert.equal(report.results.wanGet.tools.rftp.connections, 1);
  assert.equal(typeof report.machine.cpus, 'number');
});
