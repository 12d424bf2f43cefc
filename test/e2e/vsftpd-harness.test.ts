// Proves the real-vsftpd harness works: each TLS variant serves uploads and
// downloads to basic-ftp, certificates verify against caFile (and not against
// otherCaFile), xferlog totals add up, throttling and killSessions work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { Client, type AccessOptions } from 'basic-ftp';
import { startVsftpd, type TlsMode, type VsftpdServer } from '../helpers/vsftpd.js';

function accessOptions(server: VsftpdServer, caFile = server.caFile): AccessOptions {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    secure: server.tls === 'none' ? false : server.tls === 'implicit' ? 'implicit' : true,
    secureOptions: { ca: fs.readFileSync(caFile), host: '127.0.0.1' },
  };
}

async function connect(server: VsftpdServer, caFile?: string): Promise<Client> {
  const client = new Client(10_000);
  await client.access(accessOptions(server, caFile));
  return client;
}

function collector(): { sink: Writable; data: () => Buffer; length: () => number } {
  const chunks: Buffer[] = [];
  let length = 0;
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk);
      length += chunk.length;
      cb();
    },
  });
  return { sink, data: () => Buffer.concat(chunks), length: () => length };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

for (const tls of ['none', 'explicit', 'implicit'] as TlsMode[]) {
  test(`vsftpd tls=${tls}: upload, download, xferlog totals`, { timeout: 60_000 }, async () => {
    const server = await startVsftpd({ tls });
    let client: Client | undefined;
    try {
      assert.equal(server.tls, tls);
      assert.ok(fs.existsSync(server.caFile) && fs.existsSync(server.otherCaFile));
      const scheme = { none: 'ftp', explicit: 'ftpes', implicit: 'ftps' }[tls];
      assert.equal(server.url('/a b/c&d.txt', { withPassword: true }), `${scheme}://rftptest:s3cr%26t%3Apw@127.0.0.1:${server.port}/a%20b/c%26d.txt`);
      assert.equal(server.url(), `${scheme}://rftptest@127.0.0.1:${server.port}/`);

      const content = randomBytes(100_000);
      const mtime = new Date('2020-01-02T03:04:05Z');
      const abs = await server.put('dir/hello world.bin', content, mtime);
      assert.equal(abs, path.join(server.root, 'dir', 'hello world.bin'));

      client = await connect(server);
      if (tls !== 'none') {
        assert.ok(client.ftp.socket instanceof TLSSocket);
        assert.equal(client.ftp.socket.authorized, true);
      }
      assert.equal((await client.lastMod('dir/hello world.bin'))?.getTime(), mtime.getTime());

      const down = collector();
      await client.downloadTo(down.sink, 'dir/hello world.bin');
      assert.ok(down.data().equals(content));

      const upload = randomBytes(50_000);
      await client.uploadFrom(Readable.from([upload]), 'dir/up.bin');
      assert.ok(fs.readFileSync(path.join(server.root, 'dir', 'up.bin')).equals(upload));

      // A second round on the same connection: with TLS the data connections
      // must keep resuming the control connection's session (require_ssl_reuse).
      await client.downloadTo(collector().sink, 'dir/up.bin');
      assert.deepEqual(await server.xferTotals(), { sent: 150_000, received: 50_000, entries: 3 });
      assert.ok(server.sessionPids().length >= 2, 'a logged-in session has at least 2 processes');
    } finally {
      client?.close();
      await server.stop();
    }
    assert.equal(fs.existsSync(server.root), false, 'stop() removes the temp dirs');
    assert.throws(() => process.kill(server.pid, 0), 'stop() kills the listener');
  });
}

test('vsftpd TLS: untrusted CA is rejected, plain login is refused', { timeout: 60_000 }, async () => {
  const server = await startVsftpd({ tls: 'explicit' });
  try {
    await assert.rejects(connect(server, server.otherCaFile), /self[- ]signed|unable to verify|certificate/i);

    const plain = new Client(10_000);
    await assert.rejects(plain.access({ ...accessOptions(server), secure: false }), /530/);
    plain.close();
  } finally {
    await server.stop();
  }
});

test('vsftpd: maxRate throttles and killSessions ends sessions mid-transfer', { timeout: 60_000 }, async () => {
  const server = await startVsftpd({ maxRate: 100_000 });
  const client = await connect(server);
  try {
    await server.put('big.bin', randomBytes(2_000_000));
    await server.waitForSessions(2);
    const down = collector();
    const transfer = client.downloadTo(down.sink, 'big.bin');
    transfer.catch(() => undefined); // asserted below; avoid an unhandled rejection meanwhile
    await sleep(1000);
    // ~100 KB/s plus socket buffering: far from the 2 MB an unthrottled loopback would have moved.
    assert.ok(down.length() < 1_000_000, `throttled download got ${down.length()} bytes in 1s`);

    const killed = server.killSessions();
    assert.ok(killed >= 2, `killed ${killed} session processes`);
    await assert.rejects(transfer);
    for (let i = 0; i < 100 && server.sessionPids().length > 0; i++) await sleep(20);
    assert.deepEqual(server.sessionPids(), []);
    // A killed session never gets to write its xferlog entry.
    assert.deepEqual(await server.xferTotals(), { sent: 0, received: 0, entries: 0 });

    // The listener survives and serves new sessions.
    const again = await connect(server);
    await server.waitForSessions(2, 2000);
    assert.ok((await again.list()).some((f) => f.name === 'big.bin'));
    again.close();
  } finally {
    client.close();
    await server.stop();
  }
});

test('vsftpd: a client-aborted download is logged as incomplete with partial bytes', { timeout: 60_000 }, async () => {
  const server = await startVsftpd({ maxRate: 200_000 });
  const client = await connect(server);
  try {
    await server.put('big.bin', randomBytes(3_000_000));
    const down = collector();
    const transfer = client.downloadTo(down.sink, 'big.bin');
    transfer.catch(() => undefined);
    await sleep(700);
    client.close(); // closes control and data sockets, like a crashed client
    await assert.rejects(transfer);
    let totals = await server.xferTotals();
    for (let i = 0; i < 100 && totals.entries === 0; i++, totals = await server.xferTotals()) await sleep(20);
    assert.equal(totals.entries, 1);
    assert.ok(totals.sent > 0 && totals.sent < 3_000_000, `partial sent=${totals.sent}`);
    assert.ok(totals.sent >= down.length(), 'server counts at least what the client received');
    assert.match(fs.readFileSync(server.xferlogPath, 'utf8'), / \/big\.bin b _ o r rftptest ftp 0 \* i\n$/);
  } finally {
    client.close();
    await server.stop();
  }
});
