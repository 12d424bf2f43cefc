// rftp uses a few of basic-ftp's internals (src/session/basic-ftp-internals.ts), pinned to the
// exact version in package.json. An upgrade that changes any of them fails here, saying which,
// before it can fail a transfer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { Client } from 'basic-ftp';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };

test('basic-ftp is pinned to one exact version, the one installed', () => {
  const pinned = pkg.dependencies['basic-ftp'];
  assert.match(pinned, /^\d+\.\d+\.\d+$/, `package.json must pin basic-ftp exactly (its internals are used), not "${pinned}"`);
  const installed = (require('basic-ftp/package.json') as { version: string }).version;
  assert.equal(installed, pinned, `basic-ftp ${installed} is installed but ${pinned} is pinned: run npm ci`);
});

test('the internals rftp relies on still have their shape (see src/session/basic-ftp-internals.ts)', async () => {
  const transfer = (await import('basic-ftp/dist/transfer.js')) as Record<string, unknown>;
  for (const name of ['downloadTo', 'uploadFrom', 'parseEpsvResponse', 'parsePasvResponse']) {
    assert.equal(typeof transfer[name], 'function', `basic-ftp/dist/transfer.js no longer exports ${name}()`);
  }
  assert.equal(
    transfer.parseEpsvResponse instanceof Function && (transfer.parseEpsvResponse as (m: string) => number)('229 Entering Extended Passive Mode (|||6446|)'),
    6446,
    'parseEpsvResponse() no longer returns the port',
  );
  assert.deepEqual(
    (transfer.parsePasvResponse as (m: string) => unknown)('227 Entering Passive Mode (127,0,0,1,4,1)'),
    { host: '127.0.0.1', port: 1025 },
    'parsePasvResponse() no longer returns { host, port }',
  );
  const { ProgressTracker } = (await import('basic-ftp/dist/ProgressTracker.js')) as { ProgressTracker: unknown };
  assert.equal(typeof ProgressTracker, 'function', 'basic-ftp/dist/ProgressTracker.js no longer exports ProgressTracker');
  const { StringWriter } = (await import('basic-ftp/dist/StringWriter.js')) as { StringWriter: new (max: number) => { getText(e: string): string } };
  assert.equal(typeof new StringWriter(10).getText, 'function', 'StringWriter has no getText() any more');

  const client = new Client();
  try {
    const ftp = client.ftp as unknown as Record<string, unknown>;
    for (const name of ['_onControlSocketData', '_passToHandler', 'closeWithError', 'handle', 'request']) {
      assert.equal(typeof ftp[name], 'function', `FTPContext has no ${name}() any more`);
    }
    const accessor = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(client.ftp), 'dataSocket');
    assert.ok(accessor?.get && accessor.set, 'FTPContext.dataSocket is no longer a getter/setter pair');
    assert.ok('tlsOptions' in ftp, 'FTPContext has no tlsOptions any more');
    assert.equal(typeof client.prepareTransfer, 'function', 'Client has no prepareTransfer any more');
    assert.ok(Array.isArray(client.availableListCommands), 'Client has no availableListCommands any more');
  } finally {
    client.close();
  }
});
