import { createHash } from 'node:crypto';
import type { DecisionPath } from './envelope.js';
import type { FlagReading, IntegrationFlag } from './flags.js';

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
 * Chooses the path: flags unreadable → baseline; no flag for the integration → baseline; flag
 * disabled (the kill switch) → baseline; bucket below `rolloutPercent` → AI (or shadow when the
 * flag's mode is `shadow`); otherwise baseline. A stale flag (the last known one, served because
 * the flags could not be refreshed) is used as it is, and the reason says so first: a decision
 * taken on it must not read as a fresh kill switch or rollout.
 */
export function choosePath(flag: FlagReading, integration: string, stickyKey: string): PathChoice {
  const bucket = bucketOf(integration, stickyKey);
  if (flag.unavailable) {
    const since = flag.unavailableSince ? ` since ${flag.unavailableSince}` : '';
    return { path: 'baseline', bucket, reason: `flags unavailable${since}, baseline as the safe default (${flag.unavailable})` };
  }
  const choice: PathChoice = flag.notInDocument
    ? { path: 'baseline', bucket, reason: `no ${integration} flag in the flags document: baseline only` }
    : fromFlag(flag, bucket);
  if (!flag.stale) return choice;
  return { ...choice, reason: `flags stale since ${flag.stale.since}: last known flag used, ${choice.reason} (${flag.stale.why})` };
}

function fromFlag(flag: IntegrationFlag, bucket: number): PathChoice {
  if (!flag.enabled) return { path: 'baseline', bucket, reason: 'AI disabled by the kill switch (enabled=false)' };
  if (bucket < flag.rolloutPercent) {
    const path: DecisionPath = flag.mode === 'shadow' ? 'shadow' : 'ai';
    return { path, bucket, reason: `bucket ${bucket} is below the ${flag.rolloutPercent}% rollout (${flag.mode ?? 'live'} mode)` };
  }
  return { path: 'baseline', bucket, reason: `bucket ${bucket} is outside the ${flag.rolloutPercent}% rollout` };
}
