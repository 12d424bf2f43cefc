// --verify and --verify-required: a finished transfer's content compared with the server's own
// hash of the file, where the server offers one (session/hash.ts). A mismatch means the bytes
// differ, whatever size and time say: the caller discards its copy and transfers once more.
import type { Client } from '../session/ops.js';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type HashAlgorithm, HashUnavailable, type RemoteHash, remoteHash } from '../session/hash.js';
import { serverOf } from '../session/pipeline.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import type { Output } from '../ui/output.js';
import { CheckFailure } from './checks.js';

/** off; on (without server support: a note, then the size check alone); required (without: exit 11). */
export type VerifyMode = 'off' | 'on' | 'required';

/** The content differs from the server's hash: transfer again (once), then fail. */
export class ContentMismatch extends CheckFailure {
  constructor(name: string, algorithm: HashAlgorithm) {
    super('hash', 'checkFailed', `${name}: the content differs from the server's ${algorithm} after a second transfer`);
  }
}

/** CRC-32 (IEEE, as XCRC and HASH CRC32 give it); node:zlib has crc32 only from Node 20.15. */
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(data: Buffer, previous: number): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const NODE_NAMES: Record<Exclude<HashAlgorithm, 'CRC32'>, string> = { 'SHA-256': 'sha256', 'SHA-512': 'sha512', 'SHA-1': 'sha1', MD5: 'md5' };

/** A hash of local data in the server's algorithm, as lower-case hex (CRC32 as 8 digits). */
export class LocalHash {
  private hash;
  private crc = 0;
  constructor(readonly algorithm: HashAlgorithm) {
    this.hash = algorithm === 'CRC32' ? undefined : createHash(NODE_NAMES[algorithm]);
  }
  update(data: Buffer): this {
    if (this.hash) this.hash.update(data);
    else this.crc = crc32(data, this.crc);
    return this;
  }
  hex(): string {
    return this.hash ? this.hash.digest('hex') : this.crc.toString(16).padStart(8, '0');
  }
}

export function hashOfFile(path: string, algorithm: HashAlgorithm): Promise<string> {
  const h = new LocalHash(algorithm);
  return new Promise((resolve, reject) => {
    createReadStream(path)
      .on('data', (d) => h.update(d as Buffer))
      .on('error', reject)
      .on('end', () => resolve(h.hex()));
  });
}

/** Servers already told about (host:port): "cannot verify" is said once per run and server. */
const toldNoHash = new Set<string>();

/**
 * The server's hash of `path`, or undefined when there is none to compare with: --verify says so
 * once and goes on, --verify-required fails the file.
 */
export async function serverHashFor(client: Client, path: string, mode: VerifyMode, name: string, out: Output): Promise<RemoteHash | undefined> {
  if (mode === 'off') return undefined;
  let hash: RemoteHash | undefined;
  try {
    hash = await remoteHash(client, path);
  } catch (err) {
    if (!(err instanceof HashUnavailable)) throw err;
    if (mode === 'required') throw new CheckFailure('hash', 'checkFailed', `${name}: --verify-required, but the server would not hash it (${err.message})`);
    out.info(`${name}: the server would not hash it (${err.message}); checked by size only`);
    return undefined;
  }
  if (hash) return hash;
  if (mode === 'required') throw new CheckFailure('hash', 'checkFailed', `${name}: --verify-required, but the server offers no hash (HASH, XSHA256, XSHA1, XMD5, XCRC)`);
  const server = serverOf(client) ?? '';
  if (!toldNoHash.has(server)) {
    toldNoHash.add(server);
    out.info('--verify: the server offers no hash (HASH, XSHA256, XSHA1, XMD5, XCRC); files are checked by size only');
  }
  return undefined;
}

/** Whether local content (a file, or bytes in memory) has the server's hash. */
export async function sameContent(local: string | Buffer[], remote: RemoteHash): Promise<boolean> {
  const hex = typeof local === 'string' ? await hashOfFile(local, remote.algorithm) : local.reduce((h, b) => h.update(b), new LocalHash(remote.algorithm)).hex();
  return hex === remote.hex;
}

export function verifyModeOf(verify: unknown, required: unknown): VerifyMode {
  if (required === true) return 'required';
  return verify === true ? 'on' : 'off';
}

export const mismatchNote = (name: string, remote: RemoteHash) => `${name}: the content differs from the server's ${remote.algorithm}; transferring it again`;

/** Internal: the first mismatch, turned into one more transfer by retryOnMismatch. */
class MismatchRetry extends Error {}

/**
 * After a complete transfer, before anything else checks it: the server's hash against the
 * local copy. A mismatch removes the copy (`discard`) and asks for one more transfer; after the
 * second it is a failed check (exit 11).
 */
export async function verifyContent(
  session: Session,
  url: FtpUrl,
  local: string | Buffer[],
  opts: { mode: VerifyMode; retried: boolean; name: string; out: Output; discard: () => Promise<void>; sha256?: string },
): Promise<void> {
  if (opts.mode === 'off') return;
  const remote = await session.run(
    `hash ${displayUrl(url)}`,
    () => 0,
    (client) => serverHashFor(client, url.path, opts.mode, opts.name, opts.out),
  );
  // The sha256 computed while writing spares reading the file again.
  if (!remote || (remote.algorithm === 'SHA-256' && opts.sha256 !== undefined ? opts.sha256 === remote.hex : await sameContent(local, remote))) return;
  await opts.discard();
  if (opts.retried) throw new ContentMismatch(opts.name, remote.algorithm);
  throw new MismatchRetry(mismatchNote(opts.name, remote));
}

/** Runs a transfer; when verifyContent asks for another one, says why and runs it once more. */
export async function retryOnMismatch<T>(out: Output, transfer: (retried: boolean) => Promise<T>): Promise<T> {
  try {
    return await transfer(false);
  } catch (err) {
    if (!(err instanceof MismatchRetry)) throw err;
    out.warn(err.message);
    return transfer(true);
  }
}
