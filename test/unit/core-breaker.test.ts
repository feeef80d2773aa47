import { describe, expect, it } from 'vitest';
import { breakerState, qualityFailureOf, recordSignal, type BreakerPolicy } from '../../lambdas/core/breaker.js';
import { ModelUnavailable } from '../../lambdas/core/errors.js';
import { GENESIS_HASH } from '../../lambdas/core/audit-record.js';
import type { Envelope } from '../../lambdas/core/envelope.js';
import { MemoryBreakerStore, MemoryCostLedger, MemoryMetrics, MemoryTokenPacer, StaticFlagSource } from '../../lambdas/core/memory-ports.js';
import type { ModelPort, ModelResult } from '../../lambdas/core/ports.js';
import { metricsOf } from '../../lambdas/core/record-metrics.js';
import { inferStage } from '../../lambdas/core/stages/infer.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { buildPrompt } from '../../lambdas/core/prompt.js';
import { estimateTokens } from '../../lambdas/core/tokens.js';

const POLICY: BreakerPolicy = { windowSeconds: 60, minCalls: 10, maxErrorRate: 0.5, maxQualityRate: 0.3, openSeconds: 120 };
const t0 = new Date('2026-11-25T10:00:00Z');
const at = (s: number) => new Date(t0.getTime() + s * 1000);

describe('circuit breaker', () => {
  it('stays closed below the minimum number of calls, whatever the rate', async () => {
    const store = new MemoryBreakerStore(() => t0);
    for (let i = 0; i < 5; i++) {
      await recordSignal(store, 'x', 'call', POLICY, t0);
      expect(await recordSignal(store, 'x', 'model_error', POLICY, t0)).toBeUndefined();
    }
    expect((await breakerState(store, 'x', POLICY, t0)).state).toBe('closed');
  });

  it('opens on the model error rate, once, emitting BreakerOpened; half-opens by itself after openSeconds', async () => {
    let now = t0;
    const store = new MemoryBreakerStore(() => now);
    const metrics = new MemoryMetrics();
    const reasons: Array<string | undefined> = [];
    for (let i = 0; i < 12; i++) {
      await recordSignal(store, 'x', 'call', POLICY, now, metrics);
      if (i % 3 !== 0) reasons.push(await recordSignal(store, 'x', 'model_error', POLICY, now, metrics));
    }
    expect(reasons.filter(Boolean)).toHaveLength(1);
    expect(reasons.find(Boolean)).toMatch(/model calls failed \(over 50%\)/);
    expect(metrics.counts.get('BreakerOpened')).toBe(1);
    expect(await breakerState(store, 'x', POLICY, at(30))).toMatchObject({ state: 'open', until: at(120).toISOString() });
    now = at(121);
    expect((await breakerState(store, 'x', POLICY, at(121))).state).toBe('half-open');
    expect((await breakerState(store, 'x', POLICY, at(400))).state).toBe('closed');
  });

  it('opens on the quality failure rate too', async () => {
    const store = new MemoryBreakerStore(() => t0);
    let reason: string | undefined;
    for (let i = 0; i < 10; i++) {
      await recordSignal(store, 'x', 'call', POLICY, t0);
      if (i < 4) reason = (await recordSignal(store, 'x', 'quality_failure', POLICY, t0)) ?? reason;
    }
    // 4 of 10 is over 30%, but the 4th failure came when only 4 calls were counted: below minCalls.
    expect(reason).toBeUndefined();
    reason = await recordSignal(store, 'x', 'quality_failure', POLICY, t0);
    expect(reason).toMatch(/5 of the last 10 AI decisions failed verification/);
  });

  it('counts retractions, ungrounded claims, divergence and schema breaks as quality failures, not abstentions or low confidence', () => {
    const verified = (checks: Array<{ check: string; verdict: string }>, source = 'ai') =>
      ({ kind: 'forward', to: 'act', envelope: {} as Envelope, audit: { kind: 'verified', data: { source, checks } } }) as const;
    expect(qualityFailureOf(verified([{ check: 'quote-exists', verdict: 'retracted' }]))).toBe(true);
    expect(qualityFailureOf(verified([{ check: 'closed-book', verdict: 'fail' }]))).toBe(true);
    expect(qualityFailureOf(verified([{ check: 'claim-pairing', verdict: 'retracted' }]))).toBe(true);
    expect(qualityFailureOf(verified([{ check: 'divergence', verdict: 'fail' }]))).toBe(true);
    expect(qualityFailureOf(verified([{ check: 'confidence-floor', verdict: 'fail' }, { check: 'min-evidence', verdict: 'fail' }]))).toBe(false);
    expect(qualityFailureOf(undefined, { code: 'OUTPUT_SCHEMA_VIOLATION' })).toBe(true);
    expect(qualityFailureOf(verified([{ check: 'abstain', verdict: 'fail' }]))).toBe(false);
    expect(qualityFailureOf(verified([{ check: 'quote-exists', verdict: 'retracted' }], 'baseline'))).toBe(false);
  });
});

describe('infer with a circuit breaker', () => {
  const now = () => t0;
  const flags = new StaticFlagSource({ [supportTriage.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } });
  const caps = { tenantDailyUsd: 10, tenantMonthlyUsd: 100, integrationDailyUsd: 100, globalDailyUsd: 100 };
  const envelope: Envelope = {
    v: 1, decisionId: 'dec_b', integration: supportTriage.name, tenant: 't', vendorEventId: 'e', receivedAt: t0.toISOString(), stage: 'infer',
    auditHead: { seq: 0, hash: GENESIS_HASH }, input: { requesterId: '1', ticketId: '1' },
    documents: [{ id: 'ticket.description', title: 'D', text: 'The export fails every night.', origin: 'zendesk:ticket/1' }],
  };
  class Failing implements ModelPort {
    readonly id = 'failing';
    calls = 0;
    async invoke(): Promise<ModelResult> {
      this.calls += 1;
      throw new ModelUnavailable('overloaded after retries');
    }
  }

  it('opens after repeated model failures, then takes the baseline path without calling the model, saying why', async () => {
    const store = new MemoryBreakerStore(now);
    const model = new Failing();
    const deps = { integration: () => supportTriage, ledger: new MemoryCostLedger(), now, caps, maxRateLimitRequeues: 0, flags, model, breaker: { store, policy: POLICY } };
    for (let i = 0; i < 10; i++) await expect(inferStage({ ...envelope, decisionId: `dec_${i}` }, deps)).rejects.toBeInstanceOf(ModelUnavailable);
    expect((await breakerState(store, supportTriage.name, POLICY, t0)).state).toBe('open');
    const out = await inferStage(envelope, deps);
    expect(model.calls).toBe(10);
    expect(out.kind === 'forward' && out.envelope.path).toBe('baseline');
    expect(out.audit.data.route).toMatchObject({ path: 'baseline', breaker: 'open' });
    expect((out.audit.data.route as { reason: string }).reason).toMatch(/^circuit breaker open until 2026-11-25T10:02:00.000Z: 10 of the last 10 model calls failed/);
    const record = { kind: out.audit.kind, data: out.audit.data } as Parameters<typeof metricsOf>[0];
    expect(metricsOf(record)).toContainEqual(['BreakerDiverted', 1]);
  });
});

describe('infer pacing (tokens per minute)', () => {
  const t = new Date('2026-11-25T10:00:45Z');
  const flags = new StaticFlagSource({ [supportTriage.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } });
  const caps = { tenantDailyUsd: 10, tenantMonthlyUsd: 100, integrationDailyUsd: 100, globalDailyUsd: 100 };
  const envelope: Envelope = {
    v: 1, decisionId: 'dec_p', integration: supportTriage.name, tenant: 't', vendorEventId: 'e', receivedAt: t.toISOString(), stage: 'infer',
    auditHead: { seq: 0, hash: GENESIS_HASH }, input: { requesterId: '1', ticketId: '1' },
    documents: [{ id: 'ticket.description', title: 'D', text: 'The export fails every night.', origin: 'zendesk:ticket/1' }],
  };
  class Counting implements ModelPort {
    readonly id = 'counting';
    calls = 0;
    async invoke(): Promise<ModelResult> {
      this.calls += 1;
      return { toolInput: {}, stopReason: 'tool_use', model: 'claude-haiku-4-5', usage: { input_tokens: 100, output_tokens: 10 } };
    }
  }

  it('lets calls through until the minute\'s budget is spent, then puts the event back on its queue until the next minute, then gives up', async () => {
    // Each call asks for (estimated input + max output) tokens: a budget with room for two and a half.
    const ask = estimateTokens(JSON.stringify(buildPrompt(supportTriage, envelope.documents!).request)) + supportTriage.model.maxTokens;
    const budget = Math.floor(ask * 2.5);
    const paced = { ...supportTriage, model: { ...supportTriage.model, tokensPerMinute: budget } };
    const model = new Counting();
    const deps = { integration: () => paced, ledger: new MemoryCostLedger(), now: () => t, caps, maxRateLimitRequeues: 2, flags, model, pacer: new MemoryTokenPacer() };
    const outs = [];
    for (let i = 0; i < 3; i++) outs.push(await inferStage({ ...envelope, decisionId: `dec_p${i}` }, deps));
    expect(model.calls).toBe(2);
    expect(outs[2]).toMatchObject({ kind: 'requeue', delaySeconds: 15, envelope: { requeues: 1 } });
    expect(outs[2].audit.data.pacing).toMatchObject({ tokensPerMinute: budget, usedThisMinute: 2 * ask, asked: ask });
    await expect(inferStage({ ...envelope, requeues: 2 }, deps)).rejects.toThrow(new RegExp(`tokens-per-minute budget \\(${budget}\\) stayed spent through 2 waits`));
  });
});
