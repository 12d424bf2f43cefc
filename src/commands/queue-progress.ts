import { renameSync, writeFileSync } from 'node:fs';
import { Output, type OutputMode, type TransferProgress } from '../ui/output.js';

// A queue entry runs as its own process (rftp COMMAND LINE); `queue` shows how far its transfer
// is from a small file that process keeps up to date (RFTP_QUEUE_PROGRESS names it): the label,
// bytes and total of its current transfer, rewritten at most once a second.

export interface EntryProgress {
  label: string;
  bytes: number;
  total?: number;
}

export class ProgressFileOutput extends Output {
  constructor(
    mode: OutputMode,
    private readonly file: string,
  ) {
    super(mode);
  }

  override withMode(mode: OutputMode): Output {
    const same = mode.quiet === this.mode.quiet && mode.json === this.mode.json && mode.debug === this.mode.debug;
    return same ? this : new ProgressFileOutput(mode, this.file);
  }

  override transfer(label: string, total: number | undefined, startAt: number, verb: string): TransferProgress {
    const inner = super.transfer(label, total, startAt, verb);
    let written = 0;
    const record = (bytes: number, force = false) => {
      const now = Date.now();
      if (!force && now - written < 1000) return;
      written = now;
      try {
        writeFileSync(`${this.file}.tmp`, JSON.stringify({ label, bytes, total } satisfies EntryProgress));
        renameSync(`${this.file}.tmp`, this.file);
      } catch {
        // Only a display: a full disk must not fail the transfer.
      }
    };
    record(startAt, true);
    return {
      update: (bytes) => {
        inner.update(bytes);
        record(bytes);
      },
      done: () => {
        inner.done();
        record(total ?? 0, true);
      },
      stop: () => inner.stop(),
    };
  }
}
