// `rftp completion` in a real bash: the script it prints, sourced, completes commands, options
// and bookmark names from the same specs the commands run with.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cleanup, RFTP, runRftp, testEnv, tmpHome } from '../helpers/cli.js';

const dirs: string[] = [];
after(() => cleanup(...dirs));

test('rftp completion: bash completes commands, options and bookmarks', async () => {
  const home = tmpHome();
  dirs.push(home);
  const env = testEnv(home);
  const script = await runRftp(['completion'], { env });
  assert.equal(script.code, 0, script.stderr);
  assert.match(script.stdout, /complete .* rftp/);
  // `rftp` on the PATH, as after npm install -g.
  const bin = join(home, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'rftp'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(RFTP)} "$@"\n`);
  chmodSync(join(bin, 'rftp'), 0o755);
  mkdirSync(join(home, '.config/rftp'), { recursive: true });
  writeFileSync(join(home, '.config/rftp/bookmarks.json'), JSON.stringify({ work: { url: 'ftp://alice@work.example/' }, home: { url: 'ftp://h.example/' } }));
  writeFileSync(join(home, 'completion.bash'), script.stdout);
  const complete = (...words: string[]) => {
    const bash = `source ${JSON.stringify(join(home, 'completion.bash'))}
COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}
_rftp_yargs_completions
printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', bash], { env: { ...env, PATH: `${bin}:${env.PATH}` }, encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);
  };
  assert.deepEqual(complete('rftp', 'sy'), ['sync']);
  assert.ok(complete('rftp', '').includes('mirror'));
  assert.deepEqual(complete('rftp', 'get', '--limit-r'), ['--limit-rate']);
  assert.deepEqual(complete('rftp', 'sync', '--dry'), ['--dry-run']);
  assert.deepEqual(complete('rftp', 'open', 'wo'), ['work']);
  // Where a file goes, the user's shell offers files (bash's default, as the script asks).
  writeFileSync(join(home, 'local-file.txt'), '');
  assert.deepEqual(complete('rftp', 'put', join(home, 'local-f')), []);
});
