// The session layer on its own, against the scripted fake server: what close() does to a login
// that is still under way (a pool's extra connection when the run fails or ends early).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { RftpError } from '../../src/errors.js';
import { Session } from '../../src/session/session.js';
import { parseFtpUrl } from '../../src/session/url.js';
import { Output } from '../../src/ui/output.js';
import { fakeServers } from '../helpers/fake-ftp.js';
import { waitFor } from '../helpers/cli.js';

const fake = fakeServers();
const quiet = new Output({ quiet: true, json: false, debug: false });
const controller = new AbortController();
after(() => controller.abort());

test('close() cuts a login under way: the server sees the connection go, the caller gets "closed", no new login follows', async () => {
  const s = await fake({ '/a.txt': 'a' });
  // Every login takes 20 s: one awaited instead of cut would keep a shell's slot (and socket) that long.
  s.behaviour.slowLogins = { after: 0, ms: 20_000 };
  const session = new Session(
    {
      url: parseFtpUrl(`ftp://u@127.0.0.1:${s.port}/`),
      tls: { requireTls: false, insecure: false },
      timeoutMs: 60_000,
      retry: { retries: 2, baseDelayMs: 10, maxDelayMs: 10 },
      credentials: async () => ({ user: 'u', password: 'pw', source: 'env' }),
    },
    quiet,
    controller.signal,
  );
  const login = session.connected();
  await waitFor(() => s.commands.includes('PASS ***'), 'the password to be sent');
  session.close();
  await assert.rejects(login, (err: unknown) => err instanceof RftpError && err.kind === 'interrupted' && /closed/.test(err.message));
  await waitFor(() => s.loginsCut === 1, 'the server to see the login cut', 5000);
  // A closed session does not log in again.
  await assert.rejects(
    session.run(
      'list',
      () => 0,
      (c) => c.list(),
    ),
    /closed/,
  );
  assert.equal(s.connections, 1);
});
