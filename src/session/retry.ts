import { RftpError } from '../errors.js';

export interface RetryPolicy {
  /** Attempts in a row without progress before giving up. */
  retries: number;
  /** First backoff delay; doubles each failed attempt, with jitter, capped at maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export function backoffDelay(policy: RetryPolicy, failuresInARow: number, random = Math.random): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failuresInARow - 1));
  // "Equal jitter": at least half the delay, so a fleet of clients does not reconnect in lockstep.
  return Math.round(exp / 2 + random() * (exp / 2));
}

export interface RetryHooks {
  /** A number that grows while a transfer makes progress; a failure after progress resets the count. */
  progress(): number;
  onRetry(err: RftpError, attempt: number, delayMs: number): void;
  signal: AbortSignal;
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `attempt` until it succeeds, fails for good, or fails `retries` times in a row without
 * progress. Every attempt starts from the state it finds (the partial file's length, the remote
 * size), so a retry continues rather than restarts.
 */
export async function withRetry<T>(policy: RetryPolicy, hooks: RetryHooks, attempt: () => Promise<T>): Promise<T> {
  let failures = 0;
  let mark = hooks.progress();
  for (;;) {
    try {
      return await attempt();
    } catch (raw) {
      if (hooks.signal.aborted) throw raw;
      const err = raw as RftpError;
      if (!(err instanceof RftpError) || !err.retryable) throw raw;
      const now = hooks.progress();
      failures = now > mark ? 1 : failures + 1;
      mark = now;
      if (failures > policy.retries) {
        throw new RftpError(err.kind === 'connection' ? 'connection' : 'transfer', `${err.message} (gave up after ${policy.retries} retries without progress)`, { cause: err });
      }
      const delay = backoffDelay(policy, failures);
      hooks.onRetry(err, failures, delay);
      await sleep(delay, hooks.signal);
      if (hooks.signal.aborted) throw raw;
    }
  }
}
