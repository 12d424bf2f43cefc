import type { Argv } from 'yargs';

/** Options shared by every command that talks to a server; the shell's `set` maps onto them too. */
export function sessionOptions<T>(y: Argv<T>) {
  return y
    .option('user', { alias: 'u', type: 'string', describe: 'user name (USER[:PASSWORD]; prefer RFTP_PASSWORD or ~/.netrc for the password)' })
    .option('tls', { type: 'boolean', default: false, describe: 'require explicit TLS (AUTH TLS) on an ftp:// URL' })
    .option('ca-file', { type: 'string', describe: 'PEM file with a CA certificate to trust in addition to the system ones' })
    .option('insecure', { alias: 'k', type: 'boolean', default: false, describe: 'do not verify the server certificate (says so on stderr)' })
    .option('timeout', { type: 'number', default: 30, describe: 'seconds without any traffic before a connection counts as stalled' })
    .option('retries', { type: 'number', default: 10, describe: 'reconnect attempts in a row without progress' })
    .option('fix-pasv-address', { type: 'boolean', default: true, describe: 'connect data connections to the control connection\'s address, ignoring the one in PASV replies (as lftp\'s ftp:fix-pasv-address; --no-fix-pasv-address trusts the reply)' })
    .option('retry-delay', { type: 'number', default: 1, describe: 'first reconnect delay in seconds (doubles, with jitter, up to 30)' });
}

export function outputOptions<T>(y: Argv<T>) {
  return y
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'no progress output, only errors' })
    .option('json', { type: 'boolean', default: false, describe: 'print one JSON summary object on stdout' })
    .option('debug', { type: 'boolean', default: false, describe: 'log the FTP conversation on stderr (passwords masked)' });
}

export function clobberOptions<T>(y: Argv<T>) {
  return y
    .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'replace an existing destination file' })
    .option('continue', { alias: 'c', type: 'boolean', default: false, describe: 'skip a destination that is already complete (same size); fetch or send it otherwise' });
}

/** --limit-rate for transfer commands; parsed by parseRate (src/transfer/rate-limit.ts) in the handler. */
export function rateOptions<T>(y: Argv<T>) {
  return y.option('limit-rate', { type: 'string', describe: 'cap the bandwidth, in bytes per second: 500k, 2M (k = 1024); pget: for all connections together' });
}
