import { createHash } from 'node:crypto';
import type { DecisionPath } from './envelope.js';
import type { IntegrationFlag } from './flags.js';

/**
 * Layer 7 canary routing: which path (AI, baseline, shadow) an event takes.
 *
 * Bucketing is sticky — a hash of the integration and a subject key (customer, account, order) —
 * so one customer does not flip between AI and baseline from one ticket to the next, and raising
 * `rolloutPercent` only ever adds subjects to the AI path. The integration is part of the hash so
 * the same customer is not in the first 5% of every integration at once.
 */

/** Sticky bucket in 0–99: the first 4 bytes of sha256(`${integration}:${stickyKey}`), big-endian, mod 100. */
export function bucketOf(integration: string, stickyKey: string): number {
  const digest = createHash('sha256').update(`${integration}:${stickyKey}`, 'utf8').digest();
  return digest.readUInt32BE(0) % 100;
}

/** The path chosen for one event, with the bucket and a sentence for the audit log. */
export interface PathChoice {
  path: DecisionPath;
  bucket: number;
  reason: string;
}

/**
 * Chooses the path: flag disabled (the kill switch) → baseline; flags unreadable → baseline; bucket below `rolloutPercent` → AI (or shadow
 * when the flag's mode is `shadow`); otherwise baseline.
 */
export function choosePath(flag: IntegrationFlag & { unavailable?: string }, integration: string, stickyKey: string): PathChoice {
  const bucket = bucketOf(integration, stickyKey);
  if (flag.unavailable) return { path: 'baseline', bucket, reason: `flags unavailable, baseline as the safe default (${flag.unavailable})` };
  if (!flag.enabled) return { path: 'baseline', bucket, reason: 'AI disabled by the kill switch (enabled=false)' };
  if (bucket < flag.rolloutPercent) {
    const path: DecisionPath = flag.mode === 'shadow' ? 'shadow' : 'ai';
    return { path, bucket, reason: `bucket ${bucket} is below the ${flag.rolloutPercent}% rollout (${flag.mode ?? 'live'} mode)` };
  }
  return { path: 'baseline', bucket, reason: `bucket ${bucket} is outside the ${flag.rolloutPercent}% rollout` };
}
