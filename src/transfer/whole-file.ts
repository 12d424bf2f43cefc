import { constants, createReadStream } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { RftpError } from '../errors.js';
import { hasFeature, renameRemote, retrieve, sizeOf, store } from '../session/ops.js';
import { modifiedTime } from '../session/remote.js';
import type { Session } from '../session/session.js';
import { displayUrl, type FtpUrl } from '../session/url.js';
import type { FileResult } from './download.js';
import { partialPath } from './download.js';
import { commitPartial, localError } from './local-file.js';
import { PartialWriter, TooMuchData } from './partial-writer.js';
import { paced, type TokenBucket } from './rate-limit.js';
import { remoteTempPath } from './upload.js';

/**
 * Files up to this size are sent whole by sync: re-sending one after an interruption costs less
 * than the resume bookkeeping (state file, SIZE/MDTM, fsyncs), which is most of the time a sync
 * of many small files would spend. They still go through a temporary name and a size check.
 */
export const WHOLE_FILE_BYTES = 256 * 1024;

/** RETR into `target.rftp-part`, checked against the listing's size, then renamed into place. */
export async function downloadWhole(session: Session, url: FtpUrl, target: string, size: number, mtimeMs: number | undefined, limiter?: TokenBucket): Promise<FileResult> {
  const part = partialPath(target);
  let fh;
  try {
    fh = await open(part, constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  } catch (err) {
    throw localError(part, err, 'write');
  }
  const result: FileResult = { remote: displayUrl(url), local: target, size, bytesTransferred: 0, resumedFrom: 0, restarted: false, skipped: false };
  let reached = 0;
  let attempts = 0;
  try {
    await session.run(`get ${result.remote}`, () => reached, async (client) => {
      attempts++;
      // The local copy takes the server's time, so a later change on the server is seen as newer.
      if (mtimeMs === undefined) mtimeMs = (await modifiedTime(client, url.path)).mtimeMs;
      await fh.truncate(0);
      const writer = new PartialWriter(fh, { start: 0, verifyTail: Buffer.alloc(0), limit: size, limiter });
      try {
        await retrieve(client, writer, url.path, 0);
      } catch (err) {
        if (err instanceof TooMuchData) throw new RftpError('transfer', `the file changed since it was listed (more than ${size} bytes)`);
        throw err;
      } finally {
        await writer.settled();
        result.bytesTransferred += writer.position;
        reached = Math.max(reached, writer.position);
      }
      if (writer.position !== size) {
        // A cut-off transfer is worth another try; the same short length again means the file
        // shrank since it was listed, which no retry fixes.
        throw new RftpError('transfer', `transfer ended early: ${writer.position} of ${size} bytes${attempts >= 3 ? ' (has the file changed since it was listed?)' : ''}`, { retryable: attempts < 3 });
      }
    });
    await fh.sync();
  } catch (err) {
    // Nothing worth resuming: a small partial without state would only make the next run
    // announce a restart.
    await fh.close().catch(() => {});
    await unlink(part).catch(() => {});
    throw err;
  }
  await fh.close();
  await commitPartial(part, target, mtimeMs);
  return result;
}

/** STOR to the temporary name, SIZE must equal the local size, then RNFR/RNTO. */
export async function uploadWhole(session: Session, localPath: string, url: FtpUrl, limiter?: TokenBucket): Promise<FileResult> {
  const before = await stat(localPath).catch((err) => {
    throw localError(localPath, err, 'read');
  });
  const temp = remoteTempPath(url.path);
  const result: FileResult = { remote: displayUrl(url), local: localPath, size: before.size, bytesTransferred: 0, resumedFrom: 0, restarted: false, skipped: false };
  let attempts = 0;
  await session.run(`put ${result.remote}`, () => 0, async (client) => {
    attempts++;
    await store(client, limiter ? Readable.from(pacedFile(localPath, limiter)) : createReadStream(localPath), temp, { mode: 'stor' });
    result.bytesTransferred += before.size;
    const remote = await sizeOf(client, temp);
    if (remote !== before.size && (remote !== undefined || (await hasFeature(client, 'SIZE')))) {
      throw new RftpError('transfer', `upload ended early: the server has ${remote ?? 'no'} of ${before.size} bytes`, { retryable: attempts < 3 });
    }
    const now = await stat(localPath).catch(() => undefined);
    if (!now || now.size !== before.size || now.mtimeMs !== before.mtimeMs) {
      throw new RftpError('local', `${localPath} changed while it was being uploaded; run again to upload the new version`);
    }
    await renameRemote(client, temp, url.path);
  });
  return result;
}

/** A small file, whole, then paced by --limit-rate. */
async function* pacedFile(path: string, limiter: TokenBucket): AsyncGenerator<Buffer> {
  yield* paced(limiter, await readFile(path));
}
