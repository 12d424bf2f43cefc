// http(s) downloads from a scripted server that misbehaves: ranges ignored or answered wrong,
// connections cut or stalled, content codings, 416s, no validators. In each case the target holds
// the right bytes or nothing, the line says what happened, and the exit code is the documented one.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { errorLines, RFTP, randomData, runRftp, scratchDirs, sha256, sha256File, sizeOr0, spawnRftp, testEnv, waitFor } from '../helpers/cli.js';
import { ensureCerts } from '../helpers/vsftpd.js';
import { ETAG, sendCut, sendRange, sendWhole, startFakeHttp, type FakeHttp, type Handler } from '../helpers/fake-http.js';

const workdir = scratchDirs();
const body = randomData(1024 * 1024 + 17);
const fast = ['--retry-delay', '0.05'];

describe('http(s) downloads from misbehaving servers', () => {
  const servers: FakeHttp[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });
  const serve = async (h: Handler) => {
    const s = await startFakeHttp(h);
    servers.push(s);
    return s;
  };
  const get = async (s: FakeHttp, extra: string[] = []) => {
    const { d, home } = workdir();
    const target = join(d, 'f.bin');
    const r = await runRftp(['get', `${s.url}/f.bin`, '-o', target, ...fast, ...extra], { env: testEnv(home) });
    return { r, d, target };
  };

  test('a server that ignores Range (200 to the resume): restarted from zero with that body, and said', async () => {
    const s = await serve((_req, res, n) => (n === 1 ? sendCut(res, body, 300_000) : sendWhole(res, body)));
    const { r, target } = await get(s);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(target), sha256(body));
    assert.match(r.stderr, /restarting from zero: the server sent the whole file instead of the range asked for/);
    assert.match(s.requests[1].range ?? '', /^bytes=\d+-$/);
    assert.equal(s.requests[1].ifRange, ETAG);
    assert.equal(s.requests.length, 2, 'the 200 body was the fresh start');
  });

  test('a wrong Content-Range is never appended: restart, the right file', async () => {
    const s = await serve((req, res, n) => {
      if (n === 1) return sendCut(res, body, 300_000);
      if (req.headers.range) {
        // Claims to start 1000 bytes later than asked, with those bytes.
        const from = Number(/bytes=(\d+)-/.exec(req.headers.range)![1]) + 1000;
        res.writeHead(206, { 'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}`, 'Content-Length': String(body.length - from), ETag: ETAG });
        return res.end(body.subarray(from));
      }
      sendWhole(res, body);
    });
    const { r, target } = await get(s);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /restarting from zero: the server answered with the wrong range/);
    assert.equal(sha256File(target), sha256(body));
  });

  test('connections cut mid-body twice: continued from where each stopped, with the overlap re-read only', async () => {
    const s = await serve((req, res, n) => {
      if (n === 1) return sendCut(res, body, 200_000);
      if (n === 2) {
        const from = Number(/bytes=(\d+)-/.exec(req.headers.range!)![1]);
        res.writeHead(206, { 'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}`, 'Content-Length': String(body.length - from), ETag: ETAG });
        return res.write(body.subarray(from, from + 300_000), () => setTimeout(() => res.socket?.destroy(), 50));
      }
      sendRange(res, req, body);
    });
    const { r, target } = await get(s);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(target), sha256(body));
    assert.equal((r.stderr.match(/connection lost.*retrying/g) ?? []).length, 2, r.stderr);
    const starts = s.requests.slice(1).map((q) => Number(/bytes=(\d+)-/.exec(q.range!)![1]));
    assert.deepEqual(starts, [200_000 - 65_536, 200_000 - 65_536 + 300_000 - 65_536]);
  });

  test('a stalled body: --timeout ends the wait and the retry continues', async () => {
    const s = await serve((req, res, n) => {
      if (n === 1) {
        res.writeHead(200, { 'Content-Length': String(body.length), ETag: ETAG });
        return res.write(body.subarray(0, 200_000));
      }
      sendRange(res, req, body);
    });
    const { r, target } = await get(s, ['--timeout', '1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /stalled \(no data for 1 s\)/);
    assert.equal(sha256File(target), sha256(body));
  });

  test('a content-encoded answer to a resume is refused, not appended; a fresh one is saved as sent, never resumed', async () => {
    const s = await serve((req, res, n) => {
      if (n === 1) return sendCut(res, body, 300_000);
      // A correct 206 in every way but its coding: that alone must keep it from being appended.
      if (req.headers.range) return sendRange(res, req, body, { 'Content-Encoding': 'gzip' });
      sendWhole(res, body);
    });
    const { r, target } = await get(s);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /restarting from zero: the server sent the data gzip-encoded, which cannot be appended/);
    assert.equal(sha256File(target), sha256(body));
    const zipped = gzipSync(body);
    const z = await serve((_req, res, n) => (n === 1 ? sendCut(res, zipped, 100_000, { 'Content-Encoding': 'gzip' }) : sendWhole(res, zipped, { 'Content-Encoding': 'gzip' })));
    const { r: rz, target: tz } = await get(z);
    assert.equal(rz.code, 0, rz.stderr);
    assert.match(rz.stderr, /gzip-encoded although the file as stored was asked for; saved as sent/);
    assert.match(rz.stderr, /restarting from zero: the partial data was sent gzip-encoded/);
    assert.equal(z.requests[1].range, undefined, 'no range asked for an encoded partial');
    assert.equal(sha256File(tz), sha256(zipped));
  });

  test('416 to a resume: finished when HEAD shows the same resource and every byte is here; else restarted', async () => {
    for (const same of [true, false]) {
      const { d, home } = workdir();
      const target = join(d, 'f.bin');
      writeFileSync(`${target}.rftp-part`, body);
      const s = await serve((req, res) => {
        if (req.method === 'HEAD') {
          res.writeHead(200, { 'Content-Length': String(body.length), ETag: same ? ETAG : '"other"' });
          return res.end();
        }
        if (req.headers.range) {
          res.writeHead(416, { 'Content-Range': `bytes */${body.length}` });
          return res.end();
        }
        sendWhole(res, body, { ETag: '"other"' });
      });
      writeFileSync(`${target}.rftp-state`, JSON.stringify({ version: 1, kind: 'http', url: `${s.url}/f.bin`, length: body.length, validator: ETAG }));
      const r = await runRftp(['get', `${s.url}/f.bin`, '-o', target, ...fast], { env: testEnv(home) });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sha256File(target), sha256(body));
      if (same) {
        assert.match(r.stderr, /the partial data is complete/);
        assert.deepEqual(
          s.requests.map((q) => q.method),
          ['GET', 'HEAD'],
        );
      } else assert.match(r.stderr, /restarting from zero: the server cannot send the rest \(416\)/);
      assert.deepEqual(readdirSync(d), ['f.bin']);
    }
  });

  test('no ETag or Last-Modified: a cut download starts again from zero, and says why', async () => {
    const s = await serve((_req, res, n) => {
      res.writeHead(200, { 'Content-Length': String(body.length) });
      if (n === 1) return res.write(body.subarray(0, 300_000), () => setTimeout(() => res.socket?.destroy(), 50));
      res.end(body);
    });
    const { r, target } = await get(s);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /no ETag or Last-Modified/);
    assert.match(r.stderr, /restarting from zero: the server gave no ETag or Last-Modified/);
    assert.equal(s.requests[1].range, undefined);
    assert.equal(sha256File(target), sha256(body));
  });

  test('pget: no Accept-Ranges means one stream, with a note; ranges answered 200 are never written as ranges', async () => {
    const s = await serve((req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(200, { 'Content-Length': String(body.length), ETag: ETAG });
        return res.end();
      }
      res.writeHead(200, { 'Content-Length': String(body.length), ETag: ETAG });
      res.end(body);
    });
    const { d, home } = workdir();
    const r = await runRftp(['pget', '-n', '4', `${s.url}/f.bin`, '-o', join(d, 'f.bin')], { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /does not offer byte ranges \(no Accept-Ranges: bytes\); downloading over one connection/);
    assert.equal(sha256File(join(d, 'f.bin')), sha256(body));
    assert.ok(s.requests.every((q) => q.range === undefined));
    const liar = await serve((req, res) => {
      res.writeHead(200, { 'Content-Length': String(body.length), ETag: ETAG, 'Accept-Ranges': 'bytes' });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    const big = randomData(3 * 1024 * 1024);
    liar.handle((req, res) => {
      res.writeHead(200, { 'Content-Length': String(big.length), ETag: ETAG, 'Accept-Ranges': 'bytes' });
      res.end(req.method === 'HEAD' ? undefined : big);
    });
    const l = await runRftp(['pget', '-n', '3', `${liar.url}/f.bin`, '-o', join(d, 'l.bin')], { env: testEnv(home) });
    assert.equal(l.code, 8, l.stderr);
    assert.equal(errorLines(l.stderr).length, 1, l.stderr);
    assert.match(l.stderr, /gave up restarting: the server sent the whole file instead of the range/);
    assert.ok(!existsSync(join(d, 'l.bin')) && !existsSync(join(d, 'l.bin.rftp-part')));
  });

  test('503 is retried; a 500 that stays is exit 8 after the retries, one line', async () => {
    const s = await serve((_req, res, n) => {
      if (n === 1) {
        res.writeHead(503, { 'Retry-After': '0' });
        return res.end('busy');
      }
      sendWhole(res, body);
    });
    const { r, target } = await get(s);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /503 Service Unavailable; retrying/);
    assert.equal(sha256File(target), sha256(body));
    const bad = await serve((_req, res) => {
      res.writeHead(500);
      res.end();
    });
    const b = await get(bad, ['--retries', '2']);
    assert.equal(b.r.code, 8, b.r.stderr);
    assert.equal(errorLines(b.r.stderr).length, 1, b.r.stderr);
    assert.match(b.r.stderr, /500 Internal Server Error \(gave up after 2 retries without progress\)/);
    assert.equal(bad.requests.length, 3);
    assert.deepEqual(readdirSync(b.d), []);
  });

  test('SIGINT during a stalled body: exit 130, the partial and its state kept for the rerun', async () => {
    const s = await serve((req, res) => {
      if (req.headers.range) return sendRange(res, req, body);
      res.writeHead(200, { 'Content-Length': String(body.length), ETag: ETAG });
      res.write(body.subarray(0, 200_000));
    });
    const { d, home } = workdir();
    const target = join(d, 'f.bin');
    const { child, done } = spawnRftp(['get', `${s.url}/f.bin`, '-o', target], { env: testEnv(home) });
    await waitFor(() => sizeOr0(`${target}.rftp-part`) >= 200_000, 'partial');
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.equal(JSON.parse(readFileSync(`${target}.rftp-state`, 'utf8')).validator, ETAG);
    const again = await runRftp(['get', `${s.url}/f.bin`, '-o', target], { env: testEnv(home) });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(sha256File(target), sha256(body));
  });

  test('cat: a connection cut before the first byte printed is simply tried again', async () => {
    const s = await serve((_req, res, n) => {
      res.writeHead(200, { 'Content-Length': String(body.length), ETag: ETAG });
      if (n === 1) return res.flushHeaders();
      res.end(body);
    });
    const { home } = workdir();
    // Not execFileSync: the fake server lives in this process and must keep answering.
    const child = spawn(process.execPath, [RFTP, 'cat', '--timeout', '1', ...fast, `${s.url}/f.bin`], { env: testEnv(home), stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    assert.equal(sha256(Buffer.concat(chunks)), sha256(body));
    assert.equal(s.requests.length, 2);
  });

  test('a redirect to another https host goes to that host (certificate and SNI for it), without the password', async () => {
    const certs = ensureCerts();
    const { d, home } = workdir();
    execFileSync('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(d, 'k.pem'), '-out', join(d, 'c.csr'), '-subj', '/CN=other'], { stdio: 'ignore' });
    writeFileSync(join(d, 'ext'), 'subjectAltName=IP:127.0.0.2\n');
    execFileSync(
      'openssl',
      [
        'x509',
        '-req',
        '-in',
        join(d, 'c.csr'),
        '-CA',
        join(certs, 'ca.pem'),
        '-CAkey',
        join(certs, 'ca.key'),
        '-CAcreateserial',
        '-CAserial',
        join(d, 'ca.srl'),
        '-days',
        '2',
        '-extfile',
        join(d, 'ext'),
        '-out',
        join(d, 'c.pem'),
      ],
      { stdio: 'ignore' },
    );
    const tls2 = { key: readFileSync(join(d, 'k.pem'), 'utf8'), cert: readFileSync(join(d, 'c.pem'), 'utf8') };
    const other = await startFakeHttp((_req, res) => sendWhole(res, body), { tls: tls2, host: '127.0.0.2' });
    servers.push(other);
    const tls1 = { key: readFileSync(join(certs, 'server.key'), 'utf8'), cert: readFileSync(join(certs, 'server.pem'), 'utf8') };
    const first = await startFakeHttp(
      (_req, res) => {
        res.writeHead(302, { Location: `${other.url}/f.bin` });
        res.end();
      },
      { tls: tls1 },
    );
    servers.push(first);
    const r = await runRftp(['get', '--ca-file', join(certs, 'ca.pem'), `${first.url.replace('//', '//alice:Pw4-redirect@')}/start`, '-o', join(d, 'f.bin')], { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(join(d, 'f.bin')), sha256(body));
    assert.equal(other.requests.length, 1);
    assert.equal(other.requests[0].authorization, undefined, 'the password stays with the host it was given for');
    assert.match(first.requests[0].authorization ?? '', /^Basic /);
  });

  test('a redirect to another port of the same host (https there) gets no password', async () => {
    const certs = ensureCerts();
    const tls = { key: readFileSync(join(certs, 'server.key'), 'utf8'), cert: readFileSync(join(certs, 'server.pem'), 'utf8') };
    const secure = await startFakeHttp((_req, res) => sendWhole(res, body), { tls });
    servers.push(secure);
    const plain = await serve((_req, res) => {
      res.writeHead(302, { Location: `${secure.url}/f.bin` });
      res.end();
    });
    const { d, home } = workdir();
    const r = await runRftp(['get', '--ca-file', join(certs, 'ca.pem'), `${plain.url.replace('//', '//alice:Pw4-port@')}/f.bin`, '-o', join(d, 'f.bin')], { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(join(d, 'f.bin')), sha256(body));
    assert.match(plain.requests[0].authorization ?? '', /^Basic /);
    assert.equal(secure.requests[0].authorization, undefined);
  });

  test('a recorded http end of an https URL is not used without --allow-insecure-redirect', async () => {
    const plain = await serve((_req, res) => sendWhole(res, body));
    const certs = ensureCerts();
    const tls = { key: readFileSync(join(certs, 'server.key'), 'utf8'), cert: readFileSync(join(certs, 'server.pem'), 'utf8') };
    const secure = await startFakeHttp((req, res) => (req.headers.range ? sendRange(res, req, body) : sendWhole(res, body)), { tls });
    servers.push(secure);
    const { d, home } = workdir();
    const target = join(d, 'f.bin');
    writeFileSync(`${target}.rftp-part`, body.subarray(0, 500_000));
    writeFileSync(`${target}.rftp-state`, JSON.stringify({ version: 1, kind: 'http', url: `${secure.url}/f.bin`, finalUrl: `${plain.url}/f.bin`, length: body.length, validator: ETAG }));
    const r = await runRftp(['get', '--ca-file', join(certs, 'ca.pem'), `${secure.url}/f.bin`, '-o', target], { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(target), sha256(body));
    assert.equal(plain.requests.length, 0, 'nothing asked over plain http');
    assert.match(secure.requests[0].range ?? '', /^bytes=434464-$/);
  });

  test('a recorded final URL that fails (404) falls back to the original one, and the resume goes on', async () => {
    const gone = await serve((_req, res) => {
      res.writeHead(404);
      res.end();
    });
    const original = await serve((req, res) => (req.headers.range ? sendRange(res, req, body) : sendWhole(res, body)));
    const { d, home } = workdir();
    const target = join(d, 'f.bin');
    writeFileSync(`${target}.rftp-part`, body.subarray(0, 400_000));
    writeFileSync(`${target}.rftp-state`, JSON.stringify({ version: 1, kind: 'http', url: `${original.url}/f.bin`, finalUrl: `${gone.url}/moved.bin`, length: body.length, validator: ETAG }));
    const r = await runRftp(['get', `${original.url}/f.bin`, '-o', target], { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming at/);
    assert.equal(sha256File(target), sha256(body));
    assert.equal(gone.requests.length, 1);
    assert.equal(original.requests[0].range, `bytes=${400_000 - 65_536}-`);
  });

  test('get -c against a server that refuses HEAD: downloaded as usual', async () => {
    const s = await serve((req, res) => {
      if (req.method === 'HEAD') {
        res.writeHead(405);
        return res.end();
      }
      sendWhole(res, body);
    });
    const { d, home } = workdir();
    writeFileSync(join(d, 'f.bin'), 'old');
    const r = await runRftp(['get', '-c', `${s.url}/f.bin`, '-o', join(d, 'f.bin')], { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha256File(join(d, 'f.bin')), sha256(body));
  });

  test('--verify-required over http fails before anything is fetched (exit 11)', async () => {
    const s = await serve((_req, res) => sendWhole(res, body));
    const { r, d } = await get(s, ['--verify-required']);
    assert.equal(r.code, 11, r.stderr);
    assert.equal(errorLines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /offers no hash/);
    assert.equal(s.requests.length, 0);
    assert.deepEqual(readdirSync(d), []);
  });

  test('netrc: a machine entry is used for http, the default entry is not', async () => {
    const s = await serve((_req, res) => sendWhole(res, body));
    const { d, home } = workdir();
    writeFileSync(join(home, '.netrc'), 'default login bob password Pw4-default\n', { mode: 0o600 });
    const r = await runRftp(['get', `${s.url}/f.bin`, '-o', join(d, 'a.bin')], { env: testEnv(home) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(s.requests[0].authorization, undefined);
    writeFileSync(join(home, '.netrc'), 'machine 127.0.0.1 login carol password Pw4-machine\n', { mode: 0o600 });
    const m = await runRftp(['get', `${s.url}/f.bin`, '-o', join(d, 'b.bin')], { env: testEnv(home) });
    assert.equal(m.code, 0, m.stderr);
    assert.equal(s.requests[1].authorization, `Basic ${Buffer.from('carol:Pw4-machine').toString('base64')}`);
  });
});
