#!/usr/bin/env node
// The README's demo: starts a local, throttled vsftpd (installing it with apt-get when missing
// and running as root), then shows a download being killed twice and resumed, and the same for
// an upload. Everything stays on 127.0.0.1 and is removed afterwards.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const { startVsftpd } = await import('../dist/test/helpers/vsftpd.js');
const rftp = fileURLToPath(new URL('../bin/rftp', import.meta.url));
const MiB = 1024 * 1024;
const sha = (p) => createHash('sha256').update(readFileSync(p)).digest('hex');
const size = (p) => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};
// Bold headings on a terminal only: piped into a file or a CI log, escape codes are noise.
const say = (s) => console.log(process.stdout.isTTY ? `\n\x1b[1m== ${s}\x1b[0m` : `\n== ${s}`);
const mib = (n) => `${(n / MiB).toFixed(1)} MiB`;

const server = await startVsftpd({ maxRate: 4 * MiB });
const work = mkdtempSync(join(tmpdir(), 'rftp-demo-'));
const env = { ...process.env, RFTP_PASSWORD: server.password, RFTP_NO_KEYCHAIN: '1', XDG_STATE_HOME: join(work, 'state') };

function run(args, killWhen) {
  console.log(`$ rftp ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [rftp, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
    let timer;
    if (killWhen) {
      timer = setInterval(() => {
        if (killWhen()) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 20);
    }
    child.on('close', (code, signal) => {
      clearInterval(timer);
      console.log(signal ? `   (killed with ${signal})` : `   (exit code ${code})`);
      resolve(code);
    });
  });
}

try {
  const data = randomBytes(24 * MiB);
  await server.put('big.bin', data);
  const target = join(work, 'big.bin');
  const part = `${target}.rftp-part`;
  console.log(`A local vsftpd on 127.0.0.1:${server.port} serves a 24 MiB file at 4 MiB/s per connection.`);
  say('Download, killed (SIGKILL) once 6 MiB are on disk');
  await run(['get', server.url('big.bin'), '-o', target], () => size(part) >= 6 * MiB);
  console.log(`   on disk now: a partial of ${mib(size(part))} (what arrived before the kill); the target ${size(target) > 0 ? 'exists' : 'does not exist'}`);
  say('Same command again, killed once 14 MiB are on disk');
  await run(['get', server.url('big.bin'), '-o', target], () => size(part) >= 14 * MiB);
  console.log(`   on disk now: a partial of ${mib(size(part))}`);
  say('Same command again: it continues where it stopped');
  const code = await run(['get', server.url('big.bin'), '-o', target]);
  const same = code === 0 && sha(target) === createHash('sha256').update(data).digest('hex');
  console.log(`   sha256 matches the server's file: ${same ? 'yes' : 'NO'}`);

  say('Upload, killed once the server holds 6 MiB of it, then resumed with the same command');
  const local = join(work, 'upload.bin');
  writeFileSync(local, data);
  const remotePart = join(server.root, 'upload.bin.rftp-part');
  await run(['put', local, server.url('')], () => size(remotePart) >= 6 * MiB);
  // The server goes on writing what was already in flight for a moment: rftp waits for the
  // partial's size to settle before it appends, and says where it resumes.
  await new Promise((r) => setTimeout(r, 1500));
  console.log(`   on the server now: a partial of ${mib(size(remotePart))} (data in flight when the client died arrived after the kill)`);
  const upCode = await run(['put', local, server.url('')]);
  const upSame = upCode === 0 && sha(join(server.root, 'upload.bin')) === sha(local);
  console.log(`   sha256 on the server matches: ${upSame ? 'yes' : 'NO'}`);
  const totals = await server.xferTotals();
  console.log(`\nvsftpd's xferlog: sent ${totals.sent} bytes for 24 MiB downloaded, received ${totals.received} for 24 MiB uploaded.`);
  process.exitCode = same && upSame ? 0 : 1;
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
