import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FTPError } from 'basic-ftp';
import { ExitCode, RftpError } from '../../src/errors.js';
import { classify } from '../../src/session/classify.js';
import { backoffDelay, withRetry } from '../../src/session/retry.js';
import { parseFtpTime, parseSize } from '../../src/session/remote.js';
import { redact, addSecret, escapeControl } from '../../src/ui/redact.js';

const ftpError = (code: number, text: string) => new FTPError({ code, message: `${code} ${text}` });
const sys = (code: string, extra: object = {}) => Object.assign(new Error(`${code} happened`), { code, ...extra });

test('exit codes are the documented ones', () => {
  assert.deepEqual(ExitCode, {
    ok: 0,
    internal: 1,
    usage: 2,
    connection: 3,
    login: 4,
    tls: 5,
    notFound: 6,
    local: 7,
    transfer: 8,
    exists: 9,
    infected: 10,
    checkFailed: 11,
    differences: 12,
    interrupted: 130,
  });
});

test('server replies map to exit codes and retry decisions', () => {
  const expect = (err: unknown, kind: string, retryable: boolean) => {
    const e = classify(err, 'ctx');
    assert.equal(e.kind, kind, e.message);
    assert.equal(e.retryable, retryable, e.message);
  };
  expect(ftpError(530, 'Login incorrect.'), 'login', false);
  expect(ftpError(550, 'Failed to open file.'), 'notFound', false);
  expect(ftpError(421, 'Timeout.'), 'connection', true);
  expect(ftpError(426, 'Failure writing network stream.'), 'transfer', true);
  expect(ftpError(451, 'Local error'), 'transfer', true);
  expect(ftpError(552, 'Quota'), 'transfer', false);
  // vsftpd out of passive ports ends the session with this; a new connection may well work.
  expect(ftpError(500, 'OOPS: vsf_sysutil_bind'), 'connection', true);
  expect(ftpError(500, 'Unknown command.'), 'transfer', false);
  expect(sys('ECONNRESET'), 'connection', true);
  expect(sys('ECONNREFUSED'), 'connection', true);
  expect(sys('ENOTFOUND'), 'connection', false);
  expect(new Error('Timeout (data socket)'), 'connection', true);
  expect(new Error('Client is closed'), 'connection', true);
  expect(new Error('Server sent FIN packet unexpectedly, closing connection.'), 'connection', true);
  expect(sys('DEPTH_ZERO_SELF_SIGNED_CERT'), 'tls', false);
  expect(sys('ERR_TLS_CERT_ALTNAME_INVALID'), 'tls', false);
  expect(sys('EACCES', { syscall: 'open', path: '/x' }), 'local', false);
  expect(sys('ENOSPC', { syscall: 'write' }), 'local', false);
  // A TLS handshake cut by a dropped connection is an outage to retry, not a certificate verdict.
  expect(Object.assign(new Error('Client network socket disconnected before secure TLS connection was established'), { code: 'ECONNRESET' }), 'connection', true);
  const kept = new RftpError('exists', 'x');
  assert.equal(classify(kept, 'ctx'), kept);
});

test('backoff doubles with jitter and is capped', () => {
  const policy = { retries: 10, baseDelayMs: 1000, maxDelayMs: 30000 };
  assert.equal(
    backoffDelay(policy, 1, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(policy, 1, () => 1),
    1000,
  );
  assert.equal(
    backoffDelay(policy, 3, () => 1),
    4000,
  );
  assert.equal(
    backoffDelay(policy, 20, () => 1),
    30000,
  );
});

test('retries stop after N failures in a row without progress, and progress resets the count', async () => {
  const signal = new AbortController().signal;
  let calls = 0;
  const retried: number[] = [];
  const fail = () => {
    calls++;
    throw new RftpError('connection', 'lost', { retryable: true });
  };
  await assert.rejects(
    withRetry({ retries: 3, baseDelayMs: 0, maxDelayMs: 0 }, { progress: () => 0, onRetry: (_e, n) => retried.push(n), signal }, async () => fail()),
    /gave up after 3 retries/,
  );
  assert.equal(calls, 4);
  assert.deepEqual(retried, [1, 2, 3]);

  let progress = 0;
  calls = 0;
  const result = await withRetry({ retries: 2, baseDelayMs: 0, maxDelayMs: 0 }, { progress: () => progress, onRetry: () => {}, signal }, async () => {
    if (++calls < 6) {
      progress += 10;
      fail();
    }
    return 'ok';
  });
  assert.equal(result, 'ok');

  calls = 0;
  await assert.rejects(
    withRetry({ retries: 5, baseDelayMs: 0, maxDelayMs: 0 }, { progress: () => 0, onRetry: () => {}, signal }, async () => {
      calls++;
      throw new RftpError('login', 'bad');
    }),
    /bad/,
  );
  assert.equal(calls, 1, 'a login failure is never retried');
});

test('SIZE and MDTM replies are parsed strictly', () => {
  assert.equal(parseSize('213 1234'), 1234);
  assert.equal(parseSize('213 abc'), undefined);
  assert.equal(parseSize('213 99999999999999999999'), undefined);
  assert.equal(parseSize('213 -5'), undefined);
  assert.equal(parseFtpTime('20240131235959'), Date.UTC(2024, 0, 31, 23, 59, 59));
  assert.equal(parseFtpTime('20240131235959.250'), Date.UTC(2024, 0, 31, 23, 59, 59, 250));
  assert.equal(parseFtpTime('99999999999999'), undefined);
  assert.equal(parseFtpTime('20240231000000'), undefined);
  assert.equal(parseFtpTime('junk'), undefined);
});

test('the redactor masks registered secrets, URL passwords and PASS lines', () => {
  addSecret('t0p-secret');
  assert.equal(redact('login with t0p-secret failed'), 'login with *** failed');
  assert.equal(redact('ftp://u:whatever@h/x'), 'ftp://u:***@h/x');
  assert.equal(redact('> PASS hunter2'), '> PASS ***');
  assert.equal(redact('ftp://bob:pa@ss@host/x'), 'ftp://bob:***@host/x');
  assert.equal(escapeControl('a\x1b[31mb\n'), 'a\\x1b[31mb\\x0a');
  assert.equal(escapeControl('\u202Etxt.exe\u2028'), '\\u{202e}txt.exe\\u{2028}');
  assert.equal(escapeControl('café 文件'), 'café 文件');
});
