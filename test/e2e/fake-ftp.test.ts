// Proves the scripted fake FTP server (test/helpers/fake-ftp.ts) talks real FTP
// by driving it with basic-ftp, including its hostile behaviours.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client, FTPError } from 'basic-ftp';
import { startFakeFtp, type FakeFtpServer } from '../helpers/fake-ftp.js';

let tlsDir = '';
let key = '';
let cert = '';
before(() => {
  tlsDir = mkdtempSync(path.join(os.tmpdir(), 'fake-ftp-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-days',
      '2',
      '-keyout',
      path.join(tlsDir, 'key.pem'),
      '-out',
      path.join(tlsDir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  key = readFileSync(path.join(tlsDir, 'key.pem'), 'utf8');
  cert = readFileSync(path.join(tlsDir, 'cert.pem'), 'utf8');
});
after(() => rmSync(tlsDir, { recursive: true, force: true }));

const payload = Buffer.from(Array.from({ length: 100_000 }, (_, i) => i % 251));

function sink(): { stream: Writable; data: () => Buffer } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  return { stream, data: () => Buffer.concat(chunks) };
}

async function withServer(fn: (srv: FakeFtpServer, client: Client) => Promise<void>, opts: { behaviour?: Parameters<typeof startFakeFtp>[1]; secure?: boolean; timeout?: number } = {}): Promise<void> {
  const srv = await startFakeFtp({ '/pub/data.bin': payload, '/hello.txt': 'hello world' }, opts.behaviour, opts.secure ? { key, cert } : undefined);
  const client = new Client(opts.timeout ?? 5000);
  try {
    await client.access({ host: srv.host, port: srv.port, user: 'alice', password: 's3cret', secure: opts.secure ?? false, secureOptions: opts.secure ? { ca: cert, host: '127.0.0.1' } : undefined });
    await fn(srv, client);
  } finally {
    client.close();
    await srv.close();
  }
}

test('plain download, upload, listing and metadata via basic-ftp', async () => {
  await withServer(async (srv, client) => {
    const out = sink();
    await client.downloadTo(out.stream, '/pub/data.bin');
    assert.deepEqual(out.data(), payload);
    assert.equal(srv.bytesSent, payload.length);

    await client.uploadFrom(Readable.from([Buffer.from('abc'), Buffer.from('def')]), '/up/new.txt');
    assert.equal(srv.files.get('/up/new.txt')?.data.toString(), 'abcdef');
    await client.appendFrom(Readable.from([Buffer.from('ghi')]), '/up/new.txt');
    assert.equal(srv.files.get('/up/new.txt')?.data.toString(), 'abcdefghi');

    assert.equal(await client.size('/pub/data.bin'), payload.length);
    assert.equal((await client.lastMod('/pub/data.bin')).toISOString(), '2020-01-02T03:04:05.000Z');
    await client.cd('/pub');
    assert.equal(await client.pwd(), '/pub');
    assert.deepEqual(
      (await client.list()).map((f) => [f.name, f.size]),
      [['data.bin', payload.length]],
    );
    await assert.rejects(client.cd('/nope'), (e: unknown) => e instanceof FTPError && e.code === 550);
    await client.rename('data.bin', '/moved.bin');
    assert.ok(srv.files.has('/moved.bin') && !srv.files.has('/pub/data.bin'));
    await client.remove('/moved.bin');
    assert.ok(!srv.files.has('/moved.bin'));
    assert.ok(srv.commands.includes('EPSV'));
    assert.ok(srv.commands.includes('TYPE I'));
  });
});

test('REST offset is honoured', async () => {
  await withServer(async (srv, client) => {
    const out = sink();
    await client.downloadTo(out.stream, '/pub/data.bin', 12_345);
    assert.deepEqual(out.data(), payload.subarray(12_345));
    assert.equal(srv.bytesSent, payload.length - 12_345);
    assert.deepEqual(srv.commands.slice(-2), ['REST 12345', 'RETR /pub/data.bin']);
  });
});

test("rest 'ignore' answers 350 but sends from byte 0", async () => {
  await withServer(
    async (_srv, client) => {
      const out = sink();
      await client.downloadTo(out.stream, '/hello.txt', 6);
      assert.equal(out.data().toString(), 'hello world');
    },
    { behaviour: { rest: 'ignore' } },
  );
});

test("rest 'refuse' makes downloadTo with startAt > 0 fail with FTPError 502", async () => {
  await withServer(
    async (srv, client) => {
      await assert.rejects(client.downloadTo(sink().stream, '/pub/data.bin', 10), (e: unknown) => e instanceof FTPError && e.code === 502);
      assert.ok(!srv.commands.some((c) => c.startsWith('RETR')));
    },
    { behaviour: { rest: 'refuse' } },
  );
});

test('shortRetr: truncated data with 226 resolves, with 426 rejects', async () => {
  await withServer(
    async (srv, client) => {
      const out = sink();
      // basic-ftp trusts the 226 and reports success although bytes are missing.
      await client.downloadTo(out.stream, '/pub/data.bin');
      assert.deepEqual(out.data(), payload.subarray(0, 1000));

      srv.behaviour.shortRetr = { afterBytes: 500, reply: '426 Connection closed; transfer aborted.' };
      await assert.rejects(client.downloadTo(sink().stream, '/pub/data.bin', 100), (e: unknown) => e instanceof FTPError && e.code === 426);
      assert.equal(srv.bytesSent, 1500);
    },
    { behaviour: { shortRetr: { afterBytes: 1000, reply: '226 Transfer complete.' } } },
  );
});

test('stallRetrAfterBytes: the client times out waiting for data', async () => {
  await withServer(
    async (srv, client) => {
      const out = sink();
      await assert.rejects(client.downloadTo(out.stream, '/pub/data.bin'), /Timeout/);
      assert.equal(out.data().length, 2048);
      assert.equal(srv.bytesSent, 2048);
    },
    { behaviour: { stallRetrAfterBytes: 2048 }, timeout: 600 },
  );
});

test('AUTH TLS + PROT P: download and upload over TLS', async () => {
  await withServer(
    async (srv, client) => {
      const logs: string[] = [];
      client.ftp.verbose = true;
      client.ftp.log = (m: string) => {
        logs.push(m);
      };
      const out = sink();
      await client.downloadTo(out.stream, '/pub/data.bin');
      assert.deepEqual(out.data(), payload);
      await client.uploadFrom(Readable.from([Buffer.from('secret bytes')]), '/tls.txt');
      assert.equal(srv.files.get('/tls.txt')?.data.toString(), 'secret bytes');
      assert.ok(
        logs.some((l) => /^Downloading from .*\(TLSv1\.[23]\)/.test(l)),
        logs.join('\n'),
      );
      assert.ok(
        logs.some((l) => /^Uploading to .*\(TLSv1\.[23]\)/.test(l)),
        logs.join('\n'),
      );
      assert.deepEqual(srv.commands.slice(0, 2), ['AUTH TLS', 'OPTS UTF8 ON']);
      assert.ok(srv.commands.includes('PBSZ 0') && srv.commands.includes('PROT P'));
    },
    { secure: true },
  );
});

test("prot 'refuse' answers PROT P with 536 (and basic-ftp ignores it)", async () => {
  await withServer(
    async (srv, client) => {
      assert.ok(srv.commands.includes('PROT P')); // sent by access(), refusal swallowed
      const res = await client.sendIgnoringError('PROT P');
      assert.equal(res.code, 536);
      // basic-ftp still wraps the data connection in TLS while the server talks plaintext.
      await assert.rejects(client.downloadTo(sink().stream, '/hello.txt'));
    },
    { secure: true, behaviour: { prot: 'refuse' } },
  );
});

test("authTls 'refuse' (default without a cert) fails explicit FTPS", async () => {
  const srv = await startFakeFtp({}, {});
  const client = new Client(2000);
  try {
    await assert.rejects(client.access({ host: srv.host, port: srv.port, secure: true }), (e: unknown) => e instanceof FTPError && e.code === 502);
  } finally {
    client.close();
    await srv.close();
  }
});

test('loginFails gives 530 and the command log masks PASS', async () => {
  const srv = await startFakeFtp({}, { loginFails: true, welcome: '220 hostile fake' });
  const client = new Client(2000);
  try {
    await assert.rejects(client.access({ host: srv.host, port: srv.port, user: 'bob', password: 'hunter2' }), (e: unknown) => e instanceof FTPError && e.code === 530);
    assert.deepEqual(srv.commands, ['OPTS UTF8 ON', 'USER bob', 'PASS ***']);
    assert.ok(!srv.commands.join('\n').includes('hunter2'));
    assert.equal(srv.connections, 1);
  } finally {
    client.close();
    await srv.close();
  }
});

test('raw socket: split and pipelined commands, PASV, junk SIZE/MDTM, unknown command', async () => {
  const srv = await startFakeFtp({ '/a/b.txt': 'xyz' }, { size: 'junk', mdtm: 'junk' });
  const sock = net.connect(srv.port, srv.host);
  let received = '';
  sock.on('data', (d) => {
    received += d.toString();
  });
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 200 && !re.test(received); i++) await new Promise((r) => setTimeout(r, 10));
    assert.match(received, re);
  };
  try {
    await waitFor(/^220 fake ftp ready\r\n/);
    sock.write('US');
    await new Promise((r) => setTimeout(r, 20));
    sock.write('ER x\r\nPASS y\r\nSIZE /a/b.txt\r\nMDTM /a/b.txt\r\nCWD a\r\nPWD\r\nSITE CHMOD\r\nPASV\r\n');
    await waitFor(/227 .*\r\n/);
    const lines = received.trim().split('\r\n');
    assert.deepEqual(lines.slice(1, 8), [
      '331 Please specify the password.',
      '230 Login successful.',
      '213 abc',
      '213 99999999999999',
      '250 Directory successfully changed.',
      '257 "/a" is the current directory.',
      '502 Command not implemented.',
    ]);
    const m = /\(127,0,0,1,(\d+),(\d+)\)/.exec(lines[8]);
    assert.ok(m);
    const data = net.connect(Number(m[1]) * 256 + Number(m[2]), '127.0.0.1');
    const got: Buffer[] = [];
    data.on('data', (d: Buffer) => got.push(d));
    const closed = new Promise((r) => data.on('close', r));
    sock.write('RETR b.txt\r\n');
    await closed;
    await waitFor(/226 Transfer complete\.\r\n/);
    assert.equal(Buffer.concat(got).toString(), 'xyz');
    assert.deepEqual(srv.commands, ['USER x', 'PASS ***', 'SIZE /a/b.txt', 'MDTM /a/b.txt', 'CWD a', 'PWD', 'SITE CHMOD', 'PASV', 'RETR b.txt']);
  } finally {
    sock.destroy();
    await srv.close();
  }
});
