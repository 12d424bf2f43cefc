// A real Secret Service for keychain tests: keytar (built from source against Debian's
// libsecret when it is missing) and an unlocked gnome-keyring on a private D-Bus session.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const HINT =
  'keychain tests need keytar and gnome-keyring: as root on Debian they install them (apt-get install libsecret-1-dev gnome-keyring dbus-x11; npm_config_build_from_source=true npm_config_nodedir=/usr npm rebuild keytar)';

function keytarLoads(): boolean {
  try {
    execFileSync(process.execPath, ['--input-type=module', '-e', "await import('keytar')"], { cwd: repo, stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const have = (bin: string) =>
  (process.env.PATH ?? '')
    .split(':')
    .concat(['/usr/bin'])
    .some((d) => fs.existsSync(path.join(d, bin)));

/** keytar is an optional dependency: npm ci skips it where its native build fails (no libsecret headers). */
export function ensureKeychainTools(): void {
  if (keytarLoads() && have('gnome-keyring-daemon') && have('dbus-run-session')) return;
  if (process.getuid?.() !== 0 || !fs.existsSync('/etc/debian_version')) throw new Error(HINT);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'libsecret-1-dev', 'gnome-keyring', 'dbus', 'dbus-x11', 'g++', 'make', 'python3'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    install();
  }
  if (!keytarLoads()) {
    const lock = JSON.parse(fs.readFileSync(path.join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    const version = lock.packages['node_modules/keytar']?.version ?? '7.9.0';
    const args = fs.existsSync(path.join(repo, 'node_modules/keytar/package.json')) ? ['rebuild', 'keytar'] : ['install', '--no-save', '--no-audit', '--no-fund', `keytar@${version}`];
    execFileSync('npm', args, { cwd: repo, env: { ...env, ...buildFromSourceEnv() }, stdio: ['ignore', 'ignore', 'pipe'] });
  }
  if (!keytarLoads()) throw new Error(HINT);
}

/**
 * Build keytar here, from source, against the headers installed with this node (Debian's nodejs
 * ships them in /usr/include/node): otherwise prebuild-install asks github.com for a binary and
 * node-gyp asks nodejs.org for the headers, and both fail offline.
 */
function buildFromSourceEnv(): NodeJS.ProcessEnv {
  const prefix = path.dirname(path.dirname(process.execPath));
  const env: NodeJS.ProcessEnv = { npm_config_build_from_source: 'true' };
  if (fs.existsSync(path.join(prefix, 'include/node/node_version.h'))) env.npm_config_nodedir = prefix;
  return env;
}

export interface Keyring {
  /** DBUS_SESSION_BUS_ADDRESS of the private session bus. */
  bus: string;
  stop(): void;
}

/** dbus-run-session with gnome-keyring-daemon unlocked (empty keyring in `home`), kept alive until stop(). */
export async function startKeyring(home: string): Promise<Keyring> {
  const script = 'echo -n rftp-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null && echo "BUS=$DBUS_SESSION_BUS_ADDRESS" && exec sleep 600';
  const child: ChildProcess = spawn('dbus-run-session', ['--', 'sh', '-c', script], {
    env: { PATH: process.env.PATH, HOME: home, XDG_DATA_HOME: path.join(home, '.local/share'), XDG_RUNTIME_DIR: home },
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  const bus = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('gnome-keyring did not start within 20 s')), 20_000);
    child.stdout!.on('data', (c) => {
      text += c;
      const m = /BUS=(\S+)/.exec(text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', () => reject(new Error('dbus-run-session exited early')));
  });
  return {
    bus,
    stop() {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
    },
  };
}
