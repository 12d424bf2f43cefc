import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { resolveCredentials, type CredentialDeps } from '../../src/session/credentials.js';
import { findNetrc, parseNetrc } from '../../src/session/netrc.js';
import { parseFtpUrl } from '../../src/session/url.js';

const dir = mkdtempSync(join(tmpdir(), 'rftp-cred-'));
function netrc(text: string, mode = 0o600): string {
  const p = join(dir, `netrc-${Math.random()}`);
  writeFileSync(p, text);
  chmodSync(p, mode);
  return p;
}

function deps(env: NodeJS.ProcessEnv, extra: Partial<CredentialDeps> = {}): CredentialDeps & { warnings: string[] } {
  const warnings: string[] = [];
  return { env: { NETRC: join(dir, 'none'), ...env }, warn: (m) => warnings.push(m), warnings, ...extra };
}

test('URL password wins over everything', async () => {
  const d = deps({ RFTP_PASSWORD: 'env', NETRC: netrc('machine h login u password fromnetrc') });
  assert.deepEqual(await resolveCredentials(parseFtpUrl('ftp://u:url@h/f'), 'other:opt', d), { user: 'u', password: 'url', source: 'url' });
});

test('--user USER:PASSWORD comes next, then RFTP_PASSWORD', async () => {
  assert.deepEqual(await resolveCredentials(parseFtpUrl('ftp://h/f'), 'bob:opt', deps({ RFTP_PASSWORD: 'env' })), { user: 'bob', password: 'opt', source: 'option' });
  assert.deepEqual(await resolveCredentials(parseFtpUrl('ftp://h/f'), 'bob', deps({ RFTP_PASSWORD: 'env' })), { user: 'bob', password: 'env', source: 'env' });
  assert.deepEqual(await resolveCredentials(parseFtpUrl('ftp://bob@h/f'), undefined, deps({ RFTP_PASSWORD: 'env' })), { user: 'bob', password: 'env', source: 'env' });
});

test('-u with no user name before ":" is a usage error, not an anonymous login with that password', async () => {
  await assert.rejects(resolveCredentials(parseFtpUrl('ftp://h/f'), ':Secr3tPW', deps({})), (err: Error & { exitCode?: number }) => err.exitCode === 2 && !/Secr3t/.test(err.message));
  // An empty -u (an unset variable in a script) still means "no user given".
  assert.equal((await resolveCredentials(parseFtpUrl('ftp://h/f'), '', deps({}))).user, 'anonymous');
});

test('netrc gives user and password for the host; keychain and prompt come after it', async () => {
  const path = netrc('machine other login x password y\nmachine h\n  login nuser\n  password "n pass"\ndefault login anon password d\n');
  const calls: string[] = [];
  const d = deps(
    { NETRC: path },
    {
      keychain: async () => {
        calls.push('keychain');
        return 'kc';
      },
      prompt: async () => {
        calls.push('prompt');
        return 'typed';
      },
    },
  );
  assert.deepEqual(await resolveCredentials(parseFtpUrl('ftp://h/f'), undefined, d), { user: 'nuser', password: 'n pass', source: 'netrc' });
  assert.deepEqual(calls, []);
  assert.deepEqual(await resolveCredentials(parseFtpUrl('ftp://zzz/f'), undefined, d), { user: 'anon', password: 'd', source: 'netrc' });
  // A netrc entry for another login does not apply: the keychain is asked, then nothing else.
  assert.deepEqual(await resolveCredentials(parseFtpUrl('ftp://carol@h/f'), undefined, deps({ NETRC: netrc('machine h login nuser password p') }, { keychain: async () => 'kc' })), {
    user: 'carol',
    password: 'kc',
    source: 'keychain',
  });
});

test('prompt only when nothing else gives a password; anonymous when no user', async () => {
  const d = deps(
    {},
    {
      keychain: async () => undefined,
      prompt: async (q) => {
        assert.match(q, /carol@h/);
        return 'typed';
      },
    },
  );
  assert.deepEqual(await resolveCredentials(parseFtpUrl('ftp://carol@h/f'), undefined, d), { user: 'carol', password: 'typed', source: 'prompt' });
  assert.deepEqual(await resolveCredentials(parseFtpUrl('ftp://carol@h/f'), undefined, deps({})), { user: 'carol', password: '', source: 'none' });
  assert.deepEqual(await resolveCredentials(parseFtpUrl('ftp://h/f'), undefined, deps({})), { user: 'anonymous', password: 'anonymous@', source: 'anonymous' });
});

test('a group- or world-readable netrc is ignored with a warning', async () => {
  const d = deps({ NETRC: netrc('machine h login u password p', 0o644) });
  const c = await resolveCredentials(parseFtpUrl('ftp://h/f'), undefined, d);
  assert.equal(c.source, 'anonymous');
  assert.match(d.warnings.join('\n'), /readable by other users/);
});

test('netrc parser: macdef bodies are skipped, quotes honoured', () => {
  const entries = parseNetrc('macdef init\ncd /\nls\n\nmachine a login "x y" password z\n# comment\nmachine b login q');
  assert.deepEqual(entries, [
    { machine: 'a', login: 'x y', password: 'z' },
    { machine: 'b', login: 'q' },
  ]);
  assert.equal(findNetrc(entries, 'a', 'other'), undefined);
});

test('CR/LF in credentials is refused', async () => {
  await assert.rejects(resolveCredentials(parseFtpUrl('ftp://h/f'), 'u:p\r\nDELE x', deps({})), /CR, LF or NUL/);
});
