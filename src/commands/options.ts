import type { OptionSpec, PositionalSpec } from './spec.js';

// The options several commands share, with their defaults: written here once, read by the
// parser, help, completion, the shell's `set` and the README check.

/** Options of every command that talks to a server; the shell's `set` gives their defaults there. */
export const sessionOptions: OptionSpec[] = [
  { name: 'user', short: 'u', type: 'string', value: 'USER[:PASSWORD]', describe: 'user name (a password here is visible in ps; prefer RFTP_PASSWORD, ~/.netrc or rftp login)' },
  { name: 'tls', type: 'boolean', default: false, setting: 'tls', describe: 'require explicit TLS (AUTH TLS) on an ftp:// URL' },
  { name: 'ca-file', type: 'string', value: 'PATH', completes: 'local', setting: 'ca-file', describe: 'trust this PEM CA certificate in addition to the system ones (a regular file)' },
  { name: 'insecure', short: 'k', type: 'boolean', default: false, setting: 'insecure', describe: 'do not verify the server certificate (says so on stderr)' },
  { name: 'timeout', type: 'number', default: 30, value: 'SECONDS', setting: 'timeout', describe: 'seconds without any traffic before a connection counts as stalled and is reopened' },
  { name: 'retries', type: 'number', default: 10, setting: 'retries', describe: 'reconnect attempts in a row without progress before giving up' },
  { name: 'retry-delay', type: 'number', default: 1, value: 'SECONDS', setting: 'retry-delay', describe: 'first reconnect delay; doubles with jitter up to 30 s' },
  {
    name: 'pipelining',
    type: 'boolean',
    default: true,
    setting: 'pipelining',
    lftp: 'set ftp:sync-mode off',
    describe:
      'send commands whose replies decide nothing about what follows in one write (a round trip each saved); --no-pipelining sends one at a time, for a server or middlebox that loses commands sent together',
  },
  {
    name: 'fix-pasv-address',
    type: 'boolean',
    default: true,
    setting: 'fix-pasv-address',
    describe: "connect data connections to the control connection's address, ignoring the one in PASV replies (lftp's ftp:fix-pasv-address; --no-fix-pasv-address trusts the reply)",
  },
];

export const outputOptions: OptionSpec[] = [
  { name: 'quiet', short: 'q', type: 'boolean', default: false, describe: 'no progress output, only warnings and errors' },
  { name: 'json', type: 'boolean', default: false, describe: 'one JSON summary on stdout' },
  { name: 'debug', type: 'boolean', default: false, describe: 'the FTP conversation on stderr, passwords masked' },
];

export const clobberOptions: OptionSpec[] = [
  { name: 'force', short: 'f', type: 'boolean', default: false, describe: 'replace an existing destination' },
  { name: 'continue', short: 'c', type: 'boolean', default: false, describe: 'skip a destination that is already complete; fetch or send it otherwise' },
];

export const rateOption: OptionSpec = {
  name: 'limit-rate',
  type: 'string',
  value: 'RATE',
  setting: 'limit-rate',
  describe: 'cap the bandwidth for the whole command, in bytes per second: 500k, 2M (k = 1024); or a timetable of local times, "08:00,512k 18:00,4M 23:00,off", followed while it runs',
};

/** get/put/pget with several files: how many at once, one connection each. */
export const parallelFilesOption: OptionSpec = {
  name: 'parallel',
  short: 'P',
  type: 'number',
  default: 4,
  setting: 'parallel',
  describe: 'with several files: files at once, one connection each (1-16); a server that accepts fewer connections gets fewer',
};

/** curl's --create-dirs: make the directories a target needs. */
export const createDirsOption = (describe: string): OptionSpec => ({ name: 'create-dirs', type: 'boolean', default: false, describe });

/** get, pget and cat: what only http(s) URLs use. */
export const httpOptions: OptionSpec[] = [
  {
    name: 'allow-insecure-redirect',
    type: 'boolean',
    default: false,
    describe: 'http(s): follow a redirect from https to plain http (refused by default: the rest would travel unencrypted; --insecure does not allow it)',
  },
];

/** The options of every transfer command after its own: clobbering, parallel files, rate, connection, output. */
export const transferOptions: OptionSpec[] = [...clobberOptions, parallelFilesOption, rateOption, ...sessionOptions, ...outputOptions];

/** The options of every command that talks to a server. */
export const remoteOptions: OptionSpec[] = [...sessionOptions, ...outputOptions];

export { MAX_SEGMENTS as MAX_CONNECTIONS } from '../transfer/targets.js';

/** get's and pget's files: one URL at least, or -i (the parser takes none; run() says what is missing). */
export const remoteFilesPositional: PositionalSpec = {
  name: 'url',
  arity: 'any',
  completes: 'remote',
  describe: 'ftp://, ftpes://, ftps://, http:// or https:// URL of a remote file (in the shell: a path relative to the remote directory, or an absolute URL)',
};
