// rftp login/logout with a real Secret Service (gnome-keyring on a private D-Bus), and the one
// clear line where no keychain service answers.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ensureKeychainTools, startKeyring, type Keyring } from '../helpers/keychain.js';
import { startVsftpd, type VsftpdServer } from '../helpers/vsftpd.js';
import { startNginx } from '../helpers/nginx.js';
import { cleanup, errorLines, runRftp, testEnv, tmpDir, tmpHome, type RunResult } from '../helpers/cli.js';

const dirs: string[] = [];
after(() => cleanup(...dirs));

/** rftp login with the password on stdin (not a terminal), as a script would give it. */
function login(args: string[], password: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return runRftp(args, { env, input: `${password}\n` });
}

describe('OS keychain through keytar and the Secret Service', () => {
  let server: VsftpdServer;
  let keyring: Keyring;
  let home: string;
  before(async () => {
    ensureKeychainTools();
    server = await startVsftpd();
    await server.put('secret.txt', 'from the keychain\n');
    home = tmpHome();
    dirs.push(home);
    keyring = await startKeyring(home);
  });
  after(async () => {
    keyring?.stop();
    await server?.stop();
  });

  /** No RFTP_PASSWORD, no netrc, the keychain switched on. */
  const env = () => {
    const e = testEnv(home, { DBUS_SESSION_BUS_ADDRESS: keyring.bus });
    delete e.RFTP_NO_KEYCHAIN;
    return e;
  };

  test('login with a wrong password stores nothing', async () => {
    const r = await login(['login', server.url('/')], 'wrong-password', env());
    assert.equal(r.code, 4, r.stderr);
    const d = tmpDir();
    dirs.push(d);
    const get = await runRftp(['get', server.url('/secret.txt'), '-o', join(d, 'x.txt')], { env: env() });
    assert.equal(get.code, 4, get.stderr);
    // The keychain itself holds nothing for this account (logout says whether it removed one).
    const out = await runRftp(['logout', server.url('/')], { env: env() });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stderr, /no password was stored for rftptest@127\.0\.0\.1:\d+/);
  });

  test('login, get with no other password source, logout, get fails again', async () => {
    const r = await login(['login', server.url('/')], server.password, env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.includes(server.password), false);
    const d = tmpDir();
    dirs.push(d);
    const get = await runRftp(['get', server.url('/secret.txt'), '-o', join(d, 'a.txt')], { env: env() });
    assert.equal(get.code, 0, get.stderr);
    assert.equal(readFileSync(join(d, 'a.txt'), 'utf8'), 'from the keychain\n');
    const shell = await runRftp(['-c', `open ${server.url('/')}; cat secret.txt`], { env: env() });
    assert.equal(shell.code, 0, shell.stderr);
    assert.equal(shell.stdout, 'from the keychain\n');

    const out = await runRftp(['logout', server.url('/')], { env: env() });
    assert.equal(out.code, 0, out.stderr);
    const again = await runRftp(['get', server.url('/secret.txt'), '-o', join(d, 'b.txt')], { env: env() });
    assert.equal(again.code, 4, again.stderr);
  });

  test('http(s): login checks the password with a HEAD (401: nothing stored), get takes it from the keychain', async () => {
    const web = await startNginx();
    try {
      writeFileSync(join(web.root, 'k.txt'), 'http keychain\n');
      const url = `${web.url.replace('//', '//alice@')}/private/k.txt`;
      const wrong = await login(['login', url], 'wrong-password', env());
      assert.equal(wrong.code, 4, wrong.stderr);
      assert.equal(errorLines(wrong.stderr).length, 1, wrong.stderr);
      const ok = await login(['login', url], 'Pw4-http', env());
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stderr, /alice@127\.0\.0\.1:\d+ stored/);
      const d = tmpDir();
      dirs.push(d);
      const get = await runRftp(['get', url, '-o', join(d, 'k.txt')], { env: env() });
      assert.equal(get.code, 0, get.stderr);
      assert.equal(readFileSync(join(d, 'k.txt'), 'utf8'), 'http keychain\n');
      assert.equal((await runRftp(['logout', url], { env: env() })).code, 0);
      const again = await runRftp(['get', url, '-o', join(d, 'k2.txt')], { env: env() });
      assert.equal(again.code, 4, again.stderr);
    } finally {
      await web.stop();
    }
  });

  test('no keychain service: login fails with one line naming the alternatives', async () => {
    const e = testEnv(home);
    delete e.RFTP_NO_KEYCHAIN;
    const r = await login(['login', '--no-check', server.url('/')], server.password, e);
    assert.equal(r.code, 7, r.stderr);
    const lines = errorLines(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /keychain.*RFTP_PASSWORD or ~\/\.netrc/);
    // Everything else still works with the usual sources.
    const d = tmpDir();
    dirs.push(d);
    const get = await runRftp(['get', server.url('/secret.txt'), '-o', join(d, 'c.txt')], { env: { ...e, RFTP_PASSWORD: server.password } });
    assert.equal(get.code, 0, get.stderr);
  });
});
