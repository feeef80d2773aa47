import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fullJitterMs, withRetries, type RetryVerdict } from '../../lambdas/core/retry.js';

class Status extends Error {
  constructor(readonly status: number, readonly retryAfterMs?: number) {
    super(`status ${status}`);
  }
}
const classify = (err: unknown): RetryVerdict =>
  err instanceof Status && err.status >= 500 ? { retry: true, ...(err.retryAfterMs ? { retryAfterMs: err.retryAfterMs } : {}) } : { retry: false };

function run(failures: Status[], opts: { random?: () => number } = {}) {
  const waits: number[] = [];
  let attempts = 0;
  const promise = withRetries(async () => {
    const f = failures[attempts++];
    if (f) throw f;
    return 'ok';
  }, { retries: 3, baseMs: 1000, capMs: 20_000, maxRetryAfterMs: 30_000, classify, sleep: async (ms) => void waits.push(ms), random: opts.random ?? (() => 0.5) });
  return { promise, waits, attempts: () => attempts };
}

describe('withRetries (the one retry loop)', () => {
  it('retries 529/5xx up to three times with full-jitter backoff, then succeeds', async () => {
    const r = run([new Status(529), new Status(500), new Status(503)]);
    await expect(r.promise).resolves.toBe('ok');
    expect(r.attempts()).toBe(4);
    expect(r.waits).toEqual([500, 1000, 2000]); // random 0.5 × min(cap, 1000 × 2^n)
  });

  it('gives up after the third retry with the last error', async () => {
    const r = run([new Status(529), new Status(529), new Status(529), new Status(502)]);
    await expect(r.promise).rejects.toMatchObject({ status: 502 });
    expect(r.attempts()).toBe(4);
  });

  it('never retries a 4xx, 429 included (infer paces those through the queue)', async () => {
    for (const status of [400, 401, 404, 409, 429]) {
      const r = run([new Status(status)]);
      await expect(r.promise).rejects.toMatchObject({ status });
      expect(r.attempts(), String(status)).toBe(1);
    }
  });

  it('honours a longer retry-after, capped', async () => {
    const r = run([new Status(529, 7_000), new Status(529, 90_000)]);
    await r.promise;
    expect(r.waits).toEqual([7_000, 30_000]);
  });

  it('draws every wait uniformly between 0 and min(cap, base × 2^attempt) (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 20 }), fc.double({ min: 0, max: 0.9999999, noNaN: true }), (attempt, u) => {
      const w = fullJitterMs(attempt, 1000, 20_000, () => u);
      expect(w).toBeGreaterThanOrEqual(0);
      expect(w).toBeLessThan(Math.min(20_000, 1000 * 2 ** attempt));
    }));
  });
});
