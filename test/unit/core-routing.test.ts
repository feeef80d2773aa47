import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IntegrationFlag } from '../../lambdas/core/flags.js';
import { bucketOf, choosePath } from '../../lambdas/core/routing.js';

const live = (rolloutPercent: number): IntegrationFlag => ({ enabled: true, rolloutPercent, mode: 'live' });

describe('bucketOf', () => {
  it('keeps the documented bucketing (first four bytes of sha256(integration:key) mod 100), so canary cohorts survive releases', () => {
    const expected = createHash('sha256').update('support-triage:customer-42').digest().readUInt32BE(0) % 100;
    expect(bucketOf('support-triage', 'customer-42')).toBe(expected);
  });

  it('is sticky and within 0–99 (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (integration, key) => {
        const bucket = bucketOf(integration, key);
        expect(bucket).toBe(bucketOf(integration, key));
        expect(Number.isInteger(bucket) && bucket >= 0 && bucket <= 99).toBe(true);
      }),
    );
  });

  it('depends on the integration as well as the key', () => {
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const differ = keys.filter((k) => bucketOf('a', k) !== bucketOf('b', k));
    expect(differ.length).toBeGreaterThan(80);
  });
});

describe('choosePath', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `customer-${i}`);

  it('sends the kill-switched integration to baseline whatever the rollout', () => {
    const choice = choosePath({ enabled: false, rolloutPercent: 100, mode: 'live' }, 'support-triage', 'customer-1');
    expect(choice.path).toBe('baseline');
    expect(choice.reason).toBe('AI disabled by the kill switch (enabled=false)');
  });

  it.each([5, 25, 50])('sends about %i%% of 10k keys to the AI path (±2)', (percent) => {
    const ai = keys.filter((k) => choosePath(live(percent), 'support-triage', k).path === 'ai').length;
    expect(Math.abs((ai / keys.length) * 100 - percent)).toBeLessThanOrEqual(2);
  });

  it('sends nobody to AI at 0% and everybody at 100%', () => {
    expect(keys.every((k) => choosePath(live(0), 'support-triage', k).path === 'baseline')).toBe(true);
    expect(keys.every((k) => choosePath(live(100), 'support-triage', k).path === 'ai')).toBe(true);
  });

  it('uses shadow instead of ai in shadow mode', () => {
    const choice = choosePath({ enabled: true, rolloutPercent: 100, mode: 'shadow' }, 'support-triage', 'customer-1');
    expect(choice.path).toBe('shadow');
  });

  it('only adds subjects to the AI path when the rollout grows (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(100), fc.nat(100), (key, a, b) => {
        const [low, high] = a <= b ? [a, b] : [b, a];
        if (choosePath(live(low), 'i', key).path === 'ai') expect(choosePath(live(high), 'i', key).path).toBe('ai');
      }),
    );
  });

  it('reports the bucket it used', () => {
    const choice = choosePath(live(50), 'support-triage', 'customer-7');
    expect(choice.bucket).toBe(bucketOf('support-triage', 'customer-7'));
    expect(choice.reason).toContain(`bucket ${choice.bucket}`);
  });
});

describe('choosePath records what really happened to the flags', () => {
  const since = '2026-12-04T09:00:00.000Z';
  const why = 'serving last good version; flags file config/flags.local.json is not valid JSON';

  it('says a decision on a stale kill switch used the last known flag, not a fresh kill switch', () => {
    const choice = choosePath({ enabled: false, rolloutPercent: 0, mode: 'live', stale: { since, why } }, 'support-triage', 'customer-1');
    expect(choice.path).toBe('baseline');
    expect(choice.reason).toBe(`flags stale since ${since}: last known flag used, AI disabled by the kill switch (enabled=false) (${why})`);
  });

  it('says a decision on a stale rollout used the last known flag, and still follows it', () => {
    const choice = choosePath({ ...live(100), stale: { since, why } }, 'support-triage', 'customer-1');
    expect(choice.path).toBe('ai');
    expect(choice.reason).toMatch(new RegExp(`^flags stale since ${since}: last known flag used, bucket \\d+ is below the 100% rollout \\(live mode\\)`));
  });

  it('names unreadable flags and since when, never the kill switch, even though the flag it got is off', () => {
    const choice = choosePath({ enabled: false, rolloutPercent: 0, mode: 'live', unavailable: 'The AppConfig agent answered 503', unavailableSince: since }, 'support-triage', 'k');
    expect(choice).toMatchObject({ path: 'baseline', reason: `flags unavailable since ${since}, baseline as the safe default (The AppConfig agent answered 503)` });
    expect(choice.reason).not.toMatch(/kill switch/);
  });

  it('says the flags document has no flag for the integration rather than blaming a kill switch', () => {
    const choice = choosePath({ enabled: false, rolloutPercent: 0, mode: 'live', notInDocument: true }, 'support-triage', 'k');
    expect(choice).toMatchObject({ path: 'baseline', reason: 'no support-triage flag in the flags document: baseline only' });
  });

  it('only the stale mark changes the reason of a fresh flag (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.nat(100), fc.boolean(), (key, rollout, enabled) => {
        const flag: IntegrationFlag = { enabled, rolloutPercent: rollout, mode: 'live' };
        const fresh = choosePath(flag, 'i', key);
        const stale = choosePath({ ...flag, stale: { since, why: 'w' } }, 'i', key);
        expect(stale.path).toBe(fresh.path);
        expect(stale.reason).toBe(`flags stale since ${since}: last known flag used, ${fresh.reason} (w)`);
        expect(fresh.reason).not.toMatch(/stale/);
      }),
    );
  });
});
