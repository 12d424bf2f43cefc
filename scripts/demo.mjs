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
const size = (p) => { try { return statSync(p).size; } catch { return 0; } };
const say = (s) => console.log(`\n\x1b[1m== ${s}\x1b[0m`);

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
  say('Download, killed (SIGKILL) after 6 MiB');
  await run(['get', server.url('big.bin'), '-o', target], () => size(part) >= 6 * MiB);
  console.log(`   partial on disk: ${size(part)} bytes, target exists: ${size(target) > 0}`);
  say('Same command again, killed after 14 MiB');
  await run(['get', server.url('big.bin'), '-o', target], () => size(part) >= 14 * MiB);
  say('Same command again: it continues where it stopped');
  const code = await run(['get', server.url('big.bin'), '-o', target]);
  const same = code === 0 && sha(target) === createHash('sha256').update(data).digest('hex');
  console.log(`   sha256 matches the server's file: ${same ? 'yes' : 'NO'}`);

  say('Upload, killed after 6 MiB, then resumed with the same command');
  const local = join(work, 'upload.bin');
  writeFileSync(local, data);
  await run(['put', local, server.url('')], () => size(join(server.root, 'upload.bin.rftp-part')) >= 6 * MiB);
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
