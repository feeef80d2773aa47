import { describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../../lambdas/core/audit-record.js';
import type { Envelope } from '../../lambdas/core/envelope.js';
import { hallucinationFlagged } from '../../lambdas/core/grounding/playbook.js';
import { MemoryCostLedger, StaticFlagSource } from '../../lambdas/core/memory-ports.js';
import { METRICS } from '../../lambdas/core/metrics.js';
import type { ModelPort, ModelResult } from '../../lambdas/core/ports.js';
import { metricsOf } from '../../lambdas/core/record-metrics.js';
import { inferStage } from '../../lambdas/core/stages/infer.js';
import { checkDecision } from '../../lambdas/core/stages/verify.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { sealRecord } from '../../lambdas/core/audit-record.js';

const now = () => new Date('2026-11-25T12:00:00Z');
const docs = [{ id: 'ticket.description', title: 'Description', text: 'Our checkout is down for every customer since 9am. Production is down.', origin: 'zendesk:ticket/1' }];
/** An urgent, escalated answer: high stakes for support-triage, so the canary samples it again. */
const urgent = {
  reasoning: 'outage',
  evidence: [{ id: 'q1', quote: 'Our checkout is down for every customer since 9am.', source: 'ticket.description' }],
  claims: [
    { field: 'category', statement: 'Checkout is down.', quote_ids: ['q1'] },
    { field: 'priority', statement: 'Down for every customer.', quote_ids: ['q1'] },
    { field: 'escalation_reason', statement: 'Down for every customer.', quote_ids: ['q1'] },
  ],
  outcome: 'triaged', summary: 'Checkout is down for every customer.', category: 'technical', priority: 'urgent', escalation_reason: 'Checkout is down for every customer.',
  confidence: 0.9, missing_information: [],
};
const envelope: Envelope = {
  v: 1, decisionId: 'dec_g', integration: supportTriage.name, tenant: 't', vendorEventId: 'e', receivedAt: now().toISOString(), stage: 'infer',
  auditHead: { seq: 0, hash: GENESIS_HASH }, input: { ticketId: '1', requesterId: '1' }, documents: docs,
};

class CountingModel implements ModelPort {
  readonly id = 'counting';
  calls = 0;
  async invoke(): Promise<ModelResult> {
    this.calls += 1;
    return { toolInput: urgent, stopReason: 'tool_use', model: 'claude-haiku-4-5', messageId: `msg_${this.calls}`, usage: { input_tokens: 900, output_tokens: 200 } };
  }
}

/** A ledger that fails on the n-th reservation, as DynamoDB can. */
class FlakyLedger extends MemoryCostLedger {
  n = 0;
  constructor(private readonly failOn: number) {
    super();
  }
  override async reserve(...args: Parameters<MemoryCostLedger['reserve']>) {
    this.n += 1;
    if (this.n === this.failOn) throw new Error('ProvisionedThroughputExceededException');
    return super.reserve(...args);
  }
}

const deps = (model: ModelPort, ledger: MemoryCostLedger) => ({
  integration: () => supportTriage, flags: new StaticFlagSource({ [supportTriage.name]: { enabled: true, rolloutPercent: 100, mode: 'live' as const } }),
  ledger, model, now, caps: { tenantDailyUsd: 10, tenantMonthlyUsd: 100, integrationDailyUsd: 100, globalDailyUsd: 100 }, maxRateLimitRequeues: 0,
});

describe('grounding calls at infer', () => {
  it('never throws after the generation is billed: a ledger failure on the canary is recorded, not redelivered', async () => {
    const model = new CountingModel();
    const out = await inferStage(envelope, deps(model, new FlakyLedger(2)));
    expect(model.calls).toBe(1);
    if (out.kind !== 'forward') throw new Error(`expected forward, got ${out.kind}`);
    expect(out.envelope.grounding?.canary).toMatchObject({ ran: false, failed: expect.stringContaining('ProvisionedThroughputExceededException') });
    const calls = out.audit.data.groundingCalls as Array<{ purpose: string; response: { error?: string } }>;
    expect(calls).toEqual([expect.objectContaining({ purpose: 'canary', response: { error: expect.stringContaining('not made') } })]);
    // Verify holds it for a person as unconfirmed — not as a hallucination.
    const v = checkDecision(supportTriage, out.envelope.aiDecision, out.envelope.documents!, { grounding: out.envelope.grounding });
    expect(v.blocked).toMatchObject({ to: 'review', code: 'GROUNDING_UNCONFIRMED' });
    expect(hallucinationFlagged(v.checks)).toBe(false);
    const record = sealRecord({ decisionId: 'd', integration: supportTriage.name, stage: 'verify', attempt: 1, kind: 'verified', at: now().toISOString(), data: { source: 'ai', checks: v.checks } }, null);
    expect(metricsOf(record).filter(([m]) => m === METRICS.HallucinationFlagged || m === METRICS.DivergenceDetected)).toEqual([]);
  });

  it('draws the second sample under the caps and records it with its reservation', async () => {
    const model = new CountingModel();
    const ledger = new MemoryCostLedger();
    const out = await inferStage(envelope, deps(model, ledger));
    expect(model.calls).toBe(2);
    if (out.kind !== 'forward') throw new Error(`expected forward, got ${out.kind}`);
    const calls = out.audit.data.groundingCalls as Array<{ purpose: string; reservation: string; worstCaseUsd: number; usage: { costUsd: number } }>;
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ purpose: 'canary', reservation: expect.stringContaining('dec_g#canary#') });
    expect(calls[0].worstCaseUsd).toBeGreaterThanOrEqual(calls[0].usage.costUsd);
    expect(checkDecision(supportTriage, out.envelope.aiDecision, docs, { grounding: out.envelope.grounding }).blocked).toBeUndefined();
  });

  it('does not carry an earlier pass\'s grounding evidence into a new inference', async () => {
    const stale: Envelope = { ...envelope, grounding: { canary: { ran: true, why: 'old', decision: { ...urgent, priority: 'low' } } } };
    const out = await inferStage(stale, deps(new CountingModel(), new MemoryCostLedger()));
    if (out.kind !== 'forward') throw new Error(`expected forward, got ${out.kind}`);
    expect(out.envelope.grounding?.canary).toMatchObject({ ran: true, decision: { priority: 'urgent' } });
    // The new answer abstains: no second sample is drawn, and the old one is gone.
    const abstaining = new (class extends CountingModel {
      override async invoke(): Promise<ModelResult> {
        return { ...(await super.invoke()), toolInput: { ...urgent, outcome: 'insufficient_information', evidence: [], claims: [], escalation_reason: null, priority: 'normal', missing_information: ['what is down'] } };
      }
    })();
    const again = await inferStage(stale, deps(abstaining, new MemoryCostLedger()));
    if (again.kind !== 'forward') throw new Error(`expected forward, got ${again.kind}`);
    expect(again.envelope.grounding).toBeUndefined();
  });
});

describe('grounding metrics', () => {
  const verified = (data: Record<string, unknown>) => sealRecord({ decisionId: 'd', integration: supportTriage.name, stage: 'verify', attempt: 1, kind: 'verified', at: now().toISOString(), data }, null);
  const names = (data: Record<string, unknown>) => metricsOf(verified(data)).map(([m]) => m);
  const flagged = [{ check: 'quote-exists', verdict: 'retracted' }, { check: 'abstain', verdict: 'pass' }];
  it('counts the AI decisions judged and flagged, acting or in shadow, and not the baseline\'s', () => {
    expect(names({ source: 'ai', checks: flagged })).toEqual(expect.arrayContaining([METRICS.DecisionJudged, METRICS.HallucinationFlagged]));
    expect(names({ source: 'baseline', checks: flagged })).not.toContain(METRICS.DecisionJudged);
    expect(names({ source: 'baseline', checks: [], shadow: { checks: [{ check: 'abstain', verdict: 'fail' }] } })).toEqual(expect.arrayContaining([METRICS.DecisionJudged, METRICS.Abstained]));
    expect(names({ source: 'baseline', checks: [], shadow: { checks: [{ check: 'abstain', verdict: 'fail' }] } })).not.toContain(METRICS.HallucinationFlagged);
  });
});
