/**
 * Layer 3: the one retry loop for model calls. The SDK's own retries are switched off, so the two
 * cannot multiply: an overloaded API (529), a server error (5xx), a timeout or a dropped
 * connection is retried here up to `retries` times with full-jitter exponential backoff (a random
 * wait between 0 and min(cap, base × 2^attempt), honouring a server's retry-after when it asks for
 * longer); anything else, including 4xx other than 429, fails at once. 429 is not retried in
 * process at all: infer puts the message back on its queue with a delay (pacing, not spinning).
 */

/** What to do with one failure. */
export type RetryVerdict = { retry: false } | { retry: true; retryAfterMs?: number };

/** Options of {@link withRetries}. */
export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Backoff base and ceiling, in milliseconds. */
  baseMs: number;
  capMs: number;
  /** Longest retry-after honoured; a longer one is capped (the stage timeout must cover the loop). */
  maxRetryAfterMs: number;
  classify(err: unknown): RetryVerdict;
  /** Injected for tests. @default setTimeout */
  sleep?: (ms: number) => Promise<void>;
  /** Injected for tests. @default Math.random */
  random?: () => number;
  /** Told before each wait (metrics, logs). */
  onRetry?: (attempt: number, waitMs: number, err: unknown) => void;
}

/** The full-jitter wait before retry number `attempt` (0-based). */
export function fullJitterMs(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** Runs `fn`, retrying what `classify` says is retryable, at most `retries` times. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = opts.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const verdict = opts.classify(err);
      if (!verdict.retry || attempt >= opts.retries) throw err;
      const jitter = fullJitterMs(attempt, opts.baseMs, opts.capMs, random);
      const waitMs = Math.min(opts.maxRetryAfterMs, Math.max(jitter, verdict.retryAfterMs ?? 0));
      opts.onRetry?.(attempt + 1, waitMs, err);
      await sleep(waitMs);
    }
  }
}
