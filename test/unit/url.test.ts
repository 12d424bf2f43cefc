import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RftpError } from '../../src/errors.js';
import { displayUrl, hostPort, parseFtpUrl, redactUrlText, requireFile } from '../../src/session/url.js';

function usage(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (err: unknown) => err instanceof RftpError && err.kind === 'usage' && pattern.test(err.message));
}

test('schemes choose security and default port', () => {
  assert.deepEqual(parseFtpUrl('ftp://h/f'), { security: 'none', host: 'h', port: 21, user: undefined, password: undefined, path: 'f' });
  assert.equal(parseFtpUrl('ftpes://h/f').security, 'explicit');
  assert.equal(parseFtpUrl('ftpes://h/f').port, 21);
  assert.equal(parseFtpUrl('ftps://h/f').security, 'implicit');
  assert.equal(parseFtpUrl('ftps://h/f').port, 990);
  assert.equal(parseFtpUrl('FTP://h:2121/f').port, 2121);
});

test('user, password and path are percent-decoded', () => {
  const u = parseFtpUrl('ftp://al%40ice:p%3Aw%2F@host.example:21/dir/a%20b.txt');
  assert.equal(u.user, 'al@ice');
  assert.equal(u.password, 'p:w/');
  assert.equal(u.path, 'dir/a b.txt');
});

test('paths are relative to the login directory unless they start with %2F', () => {
  assert.equal(parseFtpUrl('ftp://h/pub/x').path, 'pub/x');
  assert.equal(parseFtpUrl('ftp://h/%2Fetc/x').path, '/etc/x');
  assert.equal(parseFtpUrl('ftp://h').path, '');
  assert.equal(parseFtpUrl('ftp://h/dir/').path, 'dir/');
});

test('IPv6 literal hosts', () => {
  const u = parseFtpUrl('ftp://[::1]:2121/f');
  assert.equal(u.host, '::1');
  assert.equal(u.port, 2121);
  assert.equal(displayUrl(u), 'ftp://[::1]:2121/f');
});

test('malformed URLs are usage errors', () => {
  usage(() => parseFtpUrl('http://h/f'), /unsupported URL scheme/);
  usage(() => parseFtpUrl('h/f'), /malformed URL/);
  usage(() => parseFtpUrl('ftp://'), /malformed|no host/);
  usage(() => parseFtpUrl('ftp://h:99999/f'), /malformed URL/);
  usage(() => parseFtpUrl('ftp://h/a%ZZ'), /percent-encoding/);
  usage(() => parseFtpUrl('ftp://h/a?b'), /percent-encoded/);
});

test('CR, LF and NUL are refused, raw or encoded', () => {
  usage(() => parseFtpUrl('ftp://h/a%0D%0ADELE x'), /CR, LF or NUL/);
  usage(() => parseFtpUrl('ftp://h/a%00b'), /CR, LF or NUL/);
  usage(() => parseFtpUrl('ftp://h/a\nb'), /control character/);
  usage(() => parseFtpUrl('ftp://u%0A:p@h/a'), /CR, LF or NUL/);
});

test('display URL never carries the password', () => {
  const u = parseFtpUrl('ftps://bob:hunter22@h:990/%2Fabs/f%20g');
  const shown = displayUrl(u);
  assert.equal(shown, 'ftps://bob@h/%2Fabs/f%20g');
  assert.doesNotMatch(shown, /hunter22/);
  assert.deepEqual(parseFtpUrl(shown).path, u.path);
  assert.equal(redactUrlText('ftp://bob:hunter22@h/x'), 'ftp://bob:***@h/x');
});

test('requireFile refuses directory URLs', () => {
  usage(() => requireFile(parseFtpUrl('ftp://h/')), /directory/);
  usage(() => requireFile(parseFtpUrl('ftp://h/d/')), /directory/);
  requireFile(parseFtpUrl('ftp://h/d/f'));
});

test('host and port come from the text: port 80 stays 80, 0 and 65536 are refused, an empty host is no host', () => {
  assert.equal(parseFtpUrl('ftp://127.0.0.1:80/a').port, 80);
  assert.equal(parseFtpUrl('ftps://h:80/a').port, 80);
  assert.equal(parseFtpUrl('ftp://[::1]:2121/x').port, 2121);
  assert.equal(parseFtpUrl('ftp://[::1]/x').port, 21);
  for (const bad of ['ftp://h:0/a', 'ftp://h:65536/a', 'ftp://h:0000000/a']) assert.throws(() => parseFtpUrl(bad), /bad port/, bad);
  // An empty port is the default one; leading zeros are fine; a backslash in the path is a name.
  assert.equal(parseFtpUrl('ftp://h:/a').port, 21);
  assert.equal(parseFtpUrl('ftp://h:0000021/a').port, 21);
  assert.equal(parseFtpUrl('ftp://h/a\\b').path, 'a\\b');
  assert.throws(() => parseFtpUrl('ftp://h:2x/a'), /malformed URL/);
  // Parsed as http, "ftp:///127.0.0.1:1/x" would have taken the path's first segment as its host.
  for (const bad of ['ftp:///a', 'ftp:///127.0.0.1:1/x', 'ftp://u:p@/x']) assert.throws(() => parseFtpUrl(bad), /no host/, bad);
  // WHATWG reads "\" as "/": the host would not be the one in the text.
  for (const bad of ['ftp://other.example\\@127.0.0.1/x', 'ftp://127.0.0.1\\x/../y']) assert.throws(() => parseFtpUrl(bad), /backslash/, bad);
  assert.throws(() => parseFtpUrl('ftp://h:21?x'), /percent-encoded/);
});

test('a URL that cannot be parsed is echoed without its password, whatever the typo', () => {
  for (const text of ['ftp:/u:Secr3tPW@127.0.0.1/x', 'ftp:u:Secr3tPW@127.0.0.1/x', 'ftp://u:Secr3t/PW@127.0.0.1:1/x', 'u:Secr3tPW@host']) {
    assert.doesNotMatch(redactUrlText(text), /Secr3t/, text);
    assert.throws(
      () => parseFtpUrl(text),
      (err: Error) => !/Secr3t/.test(err.message),
      text,
    );
  }
  assert.equal(redactUrlText('ftp://h/a@b'), 'ftp://h/a@b');
});

test('hostPort writes an IPv6 address in brackets', () => {
  assert.equal(hostPort(parseFtpUrl('ftp://[::1]:2121/x')), '[::1]:2121');
  assert.equal(hostPort(parseFtpUrl('ftp://127.0.0.1/x')), '127.0.0.1:21');
});
