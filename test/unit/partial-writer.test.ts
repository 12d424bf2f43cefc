import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { OverlapMismatch, PartialWriter, RunningSha256, TooMuchData, type PartialWriterOptions } from '../../src/transfer/partial-writer.js';

/** Splits data into chunks of uneven sizes, as a socket hands them over. */
function chunked(data: Buffer): Readable {
  const parts: Buffer[] = [];
  for (let at = 0, i = 0; at < data.length; i++) {
    const n = [16384, 1, 70000, 333][i % 4];
    parts.push(data.subarray(at, at + n));
    at += n;
  }
  return Readable.from(parts, { objectMode: false });
}

async function withFile(initial: Buffer, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rftp-pw-'));
  try {
    const path = join(dir, 'part');
    await writeFile(path, initial);
    await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function run(path: string, data: Buffer, opts: PartialWriterOptions, flags = 'r+'): Promise<{ writer: PartialWriter; error?: unknown }> {
  const fh = await open(path, flags);
  const writer = new PartialWriter(fh, opts);
  try {
    await pipeline(chunked(data), writer);
    return { writer };
  } catch (error) {
    await writer.settled();
    return { writer, error };
  } finally {
    await fh.close();
  }
}

for (const syncWrites of [false, true]) {
  const mode = syncWrites ? 'synchronous writes (TLS data)' : 'batched writes (plain data)';

  test(`PartialWriter, ${mode}: resumed data lands at its offset after the overlap is proven`, async () => {
    const remote = randomBytes(600_000);
    const resumeAt = 250_000;
    const verifyFrom = resumeAt - 65_536;
    await withFile(remote.subarray(0, resumeAt), async (path) => {
      const { writer, error } = await run(path, remote.subarray(verifyFrom), { start: verifyFrom, verifyTail: remote.subarray(verifyFrom, resumeAt), limit: remote.length, syncWrites });
      assert.equal(error, undefined);
      assert.ok(writer.overlapChecked);
      assert.equal(writer.position, remote.length);
      assert.ok((await readFile(path)).equals(remote));
    });
  });

  test(`PartialWriter, ${mode}: different bytes in the overlap stop the write before anything is written`, async () => {
    const local = randomBytes(100_000);
    const other = randomBytes(200_000);
    await withFile(local, async (path) => {
      const { error } = await run(path, other.subarray(30_000), { start: 30_000, verifyTail: local.subarray(30_000), syncWrites });
      assert.ok(error instanceof OverlapMismatch);
      assert.ok((await readFile(path)).equals(local));
    });
  });

  test(`PartialWriter, ${mode}: a segment keeps only its own bytes and reports once it is full`, async () => {
    const remote = randomBytes(400_000);
    await withFile(Buffer.alloc(remote.length), async (path) => {
      let full = 0;
      const { writer, error } = await run(path, remote.subarray(100_000), { start: 100_000, verifyTail: Buffer.alloc(0), stopAt: 250_000, onFull: () => full++, syncWrites });
      assert.equal(error, undefined);
      assert.equal(full, 1);
      assert.equal(writer.position, 250_000);
      const disk = await readFile(path);
      assert.ok(disk.subarray(100_000, 250_000).equals(remote.subarray(100_000, 250_000)));
      assert.ok(disk.subarray(250_000).equals(Buffer.alloc(150_000)), 'nothing past the segment end');
      assert.ok(disk.subarray(0, 100_000).equals(Buffer.alloc(100_000)), 'nothing before the segment start');
    });
  });

  test(`PartialWriter, ${mode}: more data than the announced size is refused, nothing lands past it`, async () => {
    const data = randomBytes(300_000);
    await withFile(Buffer.alloc(0), async (path) => {
      const { error } = await run(path, data, { start: 0, verifyTail: Buffer.alloc(0), limit: 100_000, syncWrites });
      assert.ok(error instanceof TooMuchData);
      assert.ok((await readFile(path)).length <= 100_000);
    });
  });

  test(`PartialWriter, ${mode}: a failing write fails the stream`, async () => {
    await withFile(Buffer.alloc(0), async (path) => {
      // Opened read-only: every write fails with EBADF.
      const { error } = await run(path, randomBytes(50_000), { start: 0, verifyTail: Buffer.alloc(0), syncWrites }, 'r');
      assert.equal((error as NodeJS.ErrnoException)?.code, 'EBADF');
    });
  });
}

test('PartialWriter, synchronous writes: a batch of several chunks (writev) is trimmed at the segment end', async () => {
  const remote = randomBytes(300_000);
  await withFile(Buffer.alloc(remote.length), async (path) => {
    const fh = await open(path, 'r+');
    try {
      let full = 0;
      const writer = new PartialWriter(fh, { start: 0, verifyTail: Buffer.alloc(0), stopAt: 120_000, onFull: () => full++, syncWrites: true });
      // Corked, the three chunks reach the writer as one batch.
      writer.cork();
      for (const [a, b] of [
        [0, 50_000],
        [50_000, 100_000],
        [100_000, 300_000],
      ])
        writer.write(remote.subarray(a, b));
      writer.uncork();
      writer.end();
      await new Promise((resolve, reject) => writer.on('finish', resolve).on('error', reject));
      assert.equal(writer.position, 120_000);
      assert.equal(full, 1);
      const disk = await readFile(path);
      assert.ok(disk.subarray(0, 120_000).equals(remote.subarray(0, 120_000)));
      assert.ok(disk.subarray(120_000).equals(Buffer.alloc(180_000)));
    } finally {
      await fh.close();
    }
  });
});

test('PartialWriter, synchronous writes: after a slow write the rest goes in batches, and the file is still right', async () => {
  const remote = randomBytes(500_000);
  await withFile(Buffer.alloc(0), async (path) => {
    // Any write counts as slow.
    const { writer, error } = await run(path, remote, { start: 0, verifyTail: Buffer.alloc(0), limit: remote.length, syncWrites: true, slowWriteMs: -1 });
    assert.equal(error, undefined);
    assert.equal(writer.writesInline, false);
    assert.ok((await readFile(path)).equals(remote));
  });
  await withFile(Buffer.alloc(0), async (path) => {
    const { writer } = await run(path, remote, { start: 0, verifyTail: Buffer.alloc(0), syncWrites: true, slowWriteMs: 60_000 });
    assert.equal(writer.writesInline, true);
  });
});

test('PartialWriter, synchronous writes: a throwing progress callback fails the stream, not the process', async () => {
  await withFile(Buffer.alloc(0), async (path) => {
    const { error } = await run(path, randomBytes(100_000), {
      start: 0,
      verifyTail: Buffer.alloc(0),
      syncWrites: true,
      onBytes: () => {
        throw new Error('progress broke');
      },
    });
    assert.equal((error as Error)?.message, 'progress broke');
  });
});

for (const syncWrites of [false, true]) {
  test(`PartialWriter ${syncWrites ? 'synchronous' : 'batched'}: the sha256 follows the file from zero, across a resume in the same run`, async () => {
    const remote = randomBytes(500_000);
    const digest = new RunningSha256();
    await withFile(Buffer.alloc(0), async (path) => {
      // A first connection gets 200,000 bytes, a second continues after the 64 KiB overlap.
      await run(path, remote.subarray(0, 200_000), { start: 0, verifyTail: Buffer.alloc(0), syncWrites, digest });
      const from = 200_000 - 65_536;
      await run(path, remote.subarray(from), { start: from, verifyTail: remote.subarray(from, 200_000), syncWrites, digest });
      assert.equal(digest.result(remote.length), createHash('sha256').update(remote).digest('hex'));
    });
    // Data that did not start at zero in this run (a partial from an earlier one): no digest.
    const late = new RunningSha256();
    await withFile(remote.subarray(0, 100_000), async (path) => {
      await run(path, remote.subarray(100_000), { start: 100_000, verifyTail: Buffer.alloc(0), syncWrites, digest: late });
      assert.equal(late.result(remote.length), undefined);
    });
  });
}
