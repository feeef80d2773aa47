import { hallucinationFlagged } from './grounding/playbook.js';
import { METRICS } from './metrics.js';
import type { MetricsSink } from './ports.js';
import type { StageOutcome } from './stages/types.js';

/**
 * Layer 3 circuit breaker, one per integration. It counts, in tumbling windows, the AI path's
 * calls, the model's errors (after the retry budget) and quality failures found at verify
 * (output-schema breaks, retracted quotes, numbers from nowhere). When either rate passes its
 * threshold over enough calls, it opens: for `openSeconds` every event of that integration takes
 * the baseline path (recorded with the reason), and BreakerOpened is emitted. Then it half-opens
 * by itself — the next window starts empty and the AI path is tried again; if it fails again, it
 * reopens. Rate limits are pacing, not failures, and do not count.
 */

/** When the breaker opens and for how long. */
export interface BreakerPolicy {
  windowSeconds: number;
  /** Fewer calls than this in a window never open it (one early failure is not a trend). */
  minCalls: number;
  /** Model errors / calls above this opens it. */
  maxErrorRate: number;
  /** Quality failures / calls above this opens it. */
  maxQualityRate: number;
  openSeconds: number;
}

export const DEFAULT_BREAKER: BreakerPolicy = { windowSeconds: 300, minCalls: 10, maxErrorRate: 0.5, maxQualityRate: 0.3, openSeconds: 300 };

/** What one AI-path event contributed. */
export type BreakerSignal = 'call' | 'model_error' | 'quality_failure';

/** Counts of one window. */
export interface BreakerCounts {
  calls: number;
  modelErrors: number;
  qualityFailures: number;
}

/** The breaker as infer sees it. */
export type BreakerState =
  | { state: 'closed' | 'half-open'; counts: BreakerCounts }
  | { state: 'open'; until: string; reason: string; counts: BreakerCounts };

/** Where breaker counts and the open marker live (DynamoDB in AWS). */
export interface BreakerStore {
  /** Adds one signal to the integration's window `window` (a window number). */
  add(integration: string, window: number, signal: BreakerSignal, ttlSeconds: number): Promise<BreakerCounts>;
  /** The open marker, if any: until when, and why. */
  openUntil(integration: string): Promise<{ until: number; reason: string } | undefined>;
  /** Opens the breaker until `until` (epoch ms) unless it is already open. True when this call opened it. */
  open(integration: string, until: number, reason: string): Promise<boolean>;
  /** Counts of a window. */
  counts(integration: string, window: number): Promise<BreakerCounts>;
}

/** The window number of a time. */
export const windowOf = (now: Date, policy: BreakerPolicy): number => Math.floor(now.getTime() / 1000 / policy.windowSeconds);

/** Reads the breaker: open while its marker lasts, half-open in the first window after, closed otherwise. */
export async function breakerState(store: BreakerStore, integration: string, policy: BreakerPolicy, now: Date): Promise<BreakerState> {
  const [marker, counts] = await Promise.all([store.openUntil(integration), store.counts(integration, windowOf(now, policy))]);
  if (marker && marker.until > now.getTime()) return { state: 'open', until: new Date(marker.until).toISOString(), reason: marker.reason, counts };
  const justClosed = marker !== undefined && now.getTime() - marker.until < policy.windowSeconds * 1000;
  return { state: justClosed ? 'half-open' : 'closed', counts };
}

/**
 * Records a signal and opens the breaker when a threshold is passed. Returns the reason it
 * opened, when this signal opened it.
 */
export async function recordSignal(
  store: BreakerStore, integration: string, signal: BreakerSignal, policy: BreakerPolicy, now: Date, metrics?: MetricsSink,
): Promise<string | undefined> {
  const counts = await store.add(integration, windowOf(now, policy), signal, policy.windowSeconds * 3);
  if (signal === 'call' || counts.calls < policy.minCalls) return undefined;
  const errorRate = counts.modelErrors / counts.calls;
  const qualityRate = counts.qualityFailures / counts.calls;
  const reason =
    errorRate > policy.maxErrorRate
      ? `${counts.modelErrors} of the last ${counts.calls} model calls failed (over ${Math.round(policy.maxErrorRate * 100)}%)`
      : qualityRate > policy.maxQualityRate
        ? `${counts.qualityFailures} of the last ${counts.calls} AI decisions failed verification (over ${Math.round(policy.maxQualityRate * 100)}%)`
        : undefined;
  if (!reason) return undefined;
  const opened = await store.open(integration, now.getTime() + policy.openSeconds * 1000, reason);
  if (opened) metrics?.add(METRICS.BreakerOpened);
  return opened ? reason : undefined;
}

/**
 * The quality signal of a verify outcome on the AI path: a schema break, or any grounding check
 * that failed or retracted something (a quote not in its source, a claim without a quote, a number
 * from nowhere, a divergent second sample…) is a failure; abstaining, low confidence and thin evidence are the model being
 * honest, not wrong, and do not count.
 */
export function qualityFailureOf(outcome: StageOutcome | undefined, error?: { code?: string }): boolean {
  if (error?.code === 'OUTPUT_SCHEMA_VIOLATION') return true;
  if (!outcome || outcome.audit.kind !== 'verified' || outcome.audit.data.source !== 'ai') return false;
  const checks = (outcome.audit.data.checks ?? []) as Array<{ check: string; verdict: string; data?: Record<string, unknown> }>;
  return hallucinationFlagged(checks);
}
