import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, sealRecord } from '../../lambdas/core/audit-record.js';
import type { Envelope, RejectionRecord } from '../../lambdas/core/envelope.js';
import { ContractViolation, ModelRateLimited, SeamworkError } from '../../lambdas/core/errors.js';
import { MemoryAuditStore, MemoryCostLedger, MemoryMetrics, MemoryQueues, MemoryTokenVault, StaticFlagSource } from '../../lambdas/core/memory-ports.js';
import type { ModelPort, ModelResult } from '../../lambdas/core/ports.js';
import { metricsOf } from '../../lambdas/core/record-metrics.js';
import { runStage } from '../../lambdas/core/stage-runner.js';
import { inferStage } from '../../lambdas/core/stages/infer.js';
import { validateStage } from '../../lambdas/core/stages/validate.js';
import { checkDecision, verifyStage } from '../../lambdas/core/stages/verify.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { loadFixtures } from '../../lib/local/fixtures.js';
import { GROUNDED_DECISION, TICKET_DOCS } from '../support/triage-decision.js';

const def = supportTriage;
const now = () => new Date('2026-11-25T12:00:00Z');
const docs = TICKET_DOCS;
const good = GROUNDED_DECISION;
const cleanBody = loadFixtures(def).find((f) => f.name === 'clean-billing-duplicate-charge')!.body;
const envelope = (over: Partial<Envelope> = {}): Envelope => ({
  v: 1, decisionId: 'dec_test', integration: def.name, tenant: 't1', vendorEventId: 'e1', receivedAt: now().toISOString(), stage: 'validate',
  auditHead: { seq: 0, hash: GENESIS_HASH }, ...over,
});
const ports = () => ({ audit: new MemoryAuditStore(), queues: new MemoryQueues(), metrics: new MemoryMetrics(), now });

/** A model port that answers with a fixed tool input and counts calls. */
class FixedModel implements ModelPort {
  readonly id = 'fixed';
  calls = 0;
  constructor(private readonly input: unknown) {}
  async invoke(): Promise<ModelResult> {
    this.calls++;
    return { toolInput: this.input, stopReason: 'tool_use', model: 'fixed', usage: { input_tokens: 500, output_tokens: 100 } };
  }
}

describe('checkDecision', () => {
  it('passes a schema-valid, grounded, confident decision', () => {
    const v = checkDecision(def, good, docs);
    expect(v.blocked).toBeUndefined();
    expect(v.checks.map((c) => `${c.check}:${c.verdict}`)).toEqual([
      'output-schema:pass', 'reasoning-first:pass', 'quotes-first:pass', 'citations:skipped', 'source-whitelist:pass', 'quote-exists:pass',
      'closed-book:pass', 'fresh-evaluator:skipped', 'claim-pairing:pass', 'divergence:skipped', 'abstain:pass', 'min-evidence:pass', 'confidence-floor:pass',
    ]);
    expect(v.checks.filter((c) => c.step).map((c) => c.step)).toEqual([10, 2, 5, 9, 7, 4, 6, 3, 8, 1]);
  });

  it('sends a schema failure to the DLQ with a JSON pointer', () => {
    const v = checkDecision(def, { ...good, priority: 'whenever' }, docs);
    expect(v.blocked).toMatchObject({ to: 'dlq', code: 'OUTPUT_SCHEMA_VIOLATION', pointer: '/priority' });
  });

  it('retracts a claim whose quote is not in any source and keeps the rest', () => {
    const v = checkDecision(def, { ...good, evidence: [...good.evidence, { id: 'q2', quote: 'I was charged five times.', source: 'ticket.description' }] }, docs);
    expect(v.blocked).toBeUndefined();
    expect(v.retracted).toEqual([{ id: 'q2', quote: 'I was charged five times.', source: 'ticket.description' }]);
    expect(v.decision!.evidence).toEqual(good.evidence);
  });

  it('sends a decision to review when every quote was retracted: its claims lose their support', () => {
    const v = checkDecision(def, { ...good, evidence: [{ id: 'q1', quote: 'refund me $4,000 now', source: 'ticket.description' }] }, docs);
    expect(v.blocked).toMatchObject({ to: 'review', code: 'UNSUPPORTED_CLAIM' });
    expect(v.retractedClaims.map((c) => c.field)).toEqual(['category', 'priority']);
  });

  it('retracts a quote that cites a document that was not provided', () => {
    const v = checkDecision(def, { ...good, evidence: [...good.evidence, { id: 'q2', quote: 'Charged twice', source: 'crm.notes' }] }, docs);
    expect(v.retracted).toHaveLength(1);
  });

  it('routes an abstention to review', () => {
    const v = checkDecision(def, { ...good, outcome: 'insufficient_information', evidence: [], missing_information: ['what went wrong'] }, docs);
    expect(v.blocked).toMatchObject({ to: 'review', code: 'INSUFFICIENT_INFORMATION' });
  });

  it('routes low confidence to review', () => {
    expect(checkDecision(def, { ...good, confidence: 0.2 }, docs).blocked).toMatchObject({ to: 'review', code: 'LOW_CONFIDENCE' });
  });
});

describe('verifyStage', () => {
  it('never passes the reasoning field to an action', async () => {
    const out = await verifyStage(envelope({ stage: 'verify', path: 'ai', documents: docs, aiDecision: good, input: { ticketId: '1', requesterId: '1' } }), { integration: () => def });
    expect(out.kind).toBe('forward');
    if (out.kind !== 'forward') return;
    expect(out.envelope.verified!.decision.reasoning).toBeUndefined();
    expect(JSON.stringify(out.envelope.verified!.actions)).not.toContain('duplicate charge');
  });
});

describe('validateStage', () => {
  it('names the JSON pointer and contract version of a contract violation', async () => {
    const body = JSON.parse(cleanBody);
    delete body.detail.description;
    const err = await validateStage(envelope({ raw: { body: JSON.stringify(body), headers: {} } }), { integration: () => def, vault: new MemoryTokenVault(), now, vaultTtlSeconds: 60 }).catch((e) => e);
    expect(err).toBeInstanceOf(ContractViolation);
    expect(err.pointer).toBe('/detail/description');
    expect(err.contractVersion).toBe(def.contract.version);
  });

  it('redacts PII before the documents are built and keeps the originals in the vault', async () => {
    const body = JSON.parse(cleanBody);
    body.detail.description = 'Please email me at jane.doe@example.org or call +44 20 7946 0958 about the charge.';
    const vault = new MemoryTokenVault();
    const out = await validateStage(envelope({ raw: { body: JSON.stringify(body), headers: {} } }), { integration: () => def, vault, now, vaultTtlSeconds: 60 });
    if (out.kind !== 'forward') throw new Error('expected forward');
    const text = out.envelope.documents!.map((d) => d.text).join(' ');
    expect(text).not.toContain('jane.doe@example.org');
    expect(text).toContain('[EMAIL_1]');
    expect(out.envelope.raw).toBeUndefined();
    expect(Object.values(await vault.get('dec_test', now()))).toContain('jane.doe@example.org');
  });
});

describe('inferStage', () => {
  const base = { integration: () => def, ledger: new MemoryCostLedger(), now, caps: { tenantDailyUsd: 10, tenantMonthlyUsd: 100, integrationDailyUsd: 100, globalDailyUsd: 100 }, maxRateLimitRequeues: 2 };
  const e = envelope({ stage: 'infer', input: { requesterId: '1', ticketId: '1' }, documents: docs });

  it('takes the baseline path without calling the model when the kill switch is off', async () => {
    const model = new FixedModel(good);
    const out = await inferStage(e, { ...base, model, flags: new StaticFlagSource({}) });
    expect(model.calls).toBe(0);
    expect(out.kind === 'forward' && out.envelope.path).toBe('baseline');
  });

  it('refuses before the call when the worst case exceeds the per-inference cap', async () => {
    const model = new FixedModel(good);
    const tiny = { ...def, model: { ...def.model, perInferenceCapUsd: 0.000001 } };
    const out = await inferStage(e, { ...base, integration: () => tiny, model, flags: new StaticFlagSource({ [def.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } }) });
    expect(model.calls).toBe(0);
    expect(out).toMatchObject({ kind: 'review', code: 'COST_CAP_EXCEEDED' });
  });

  it.each([
    ['a rate-limited model', { model: { id: 'x', invoke: async () => { throw new ModelRateLimited('429', 30); } } }],
    ['a failing ledger', { ledger: { reserve: async () => { throw new SeamworkError('STORE_UNAVAILABLE', 'throttled', true); }, reconcile: async () => {} } }],
  ])('in shadow mode, lets the baseline go on despite %s (no requeue, no DLQ)', async (_name, over) => {
    const out = await inferStage(e, {
      ...base, model: new FixedModel(good), flags: new StaticFlagSource({ [def.name]: { enabled: true, rolloutPercent: 100, mode: 'shadow' } }), ...over,
    } as never);
    expect(out.kind).toBe('forward');
    if (out.kind !== 'forward') return;
    expect(out.envelope.path).toBe('shadow');
    expect(out.envelope.baselineDecision).toBeDefined();
    expect(out.audit.data.shadowRefused).toBeDefined();
  });

  it('reconciles the reservation to the actual cost after the call', async () => {
    const ledger = new MemoryCostLedger();
    await inferStage(e, { ...base, ledger, model: new FixedModel(good), flags: new StaticFlagSource({ [def.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } }) });
    // 500 in × $1/M + 100 out × $5/M = $0.001, charged to each of the four scopes
    const day = now().toISOString().slice(0, 10);
    expect(Object.fromEntries(ledger.spent)).toEqual({
      [`tenant#t1#day#${day}`]: 1000, [`tenant#t1#month#${day.slice(0, 7)}`]: 1000,
      [`integration#${def.name}#day#${day}`]: 1000, [`global#day#${day}`]: 1000,
    });
  });

  it('refuses before the call when any of the four caps would be passed, naming which', async () => {
    const model = new FixedModel(good);
    const ledger = new MemoryCostLedger();
    const caps = { tenantDailyUsd: 10, tenantMonthlyUsd: 100, integrationDailyUsd: 0.0001, globalDailyUsd: 100 };
    const out = await inferStage(e, { ...base, caps, ledger, model, flags: new StaticFlagSource({ [def.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } }) });
    expect(model.calls).toBe(0);
    expect(out.kind).toBe('review');
    expect(out.kind === 'review' && out.reason).toMatch(/would exceed the integration-day cap integration#support-triage#day#/);
    // Nothing stays reserved in the scopes that had room.
    expect([...ledger.spent.values()].every((v) => v === 0)).toBe(true);
  });
});

describe('runStage', () => {
  it('parks a non-retryable failure in the stage DLQ with a rejection record and an outcome record', async () => {
    const p = ports();
    const res = await runStage('validate', envelope(), { attempt: 1, maxReceiveCount: 3 }, async () => {
      throw new ContractViolation('bad', { pointer: '/detail/id', contractVersion: 'v1' });
    }, p);
    expect(res).toEqual({ status: 'done', outcome: 'dlq' });
    const [rejection] = p.queues.take('validate-dlq') as RejectionRecord[];
    expect(rejection).toMatchObject({ stage: 'validate', integration: def.name, decisionId: 'dec_test', code: 'CONTRACT_VIOLATION', reason: 'bad', pointer: '/detail/id', contractVersion: 'v1' });
    const records = await p.audit.listDecision(def.name, 'dec_test');
    expect(records.at(-1)!.data.outcome).toBe('dlq');
    expect(p.metrics.counts.get('DlqRouted')).toBe(1);
    expect(p.metrics.counts.get('ContractViolation')).toBe(1);
  });

  it('leaves a retryable failure for redelivery and records the attempt', async () => {
    const p = ports();
    const res = await runStage('act', envelope({ stage: 'act' }), { attempt: 1, maxReceiveCount: 3 }, async () => {
      throw new SeamworkError('CONNECTOR_UNAVAILABLE', 'zendesk 503', true);
    }, p);
    expect(res.status).toBe('retry');
    expect(p.queues.sent).toHaveLength(0);
    expect((await p.audit.listDecision(def.name, 'dec_test'))[0].kind).toBe('attempt_failed');
  });

  it('parks a retryable failure itself on the last delivery, saying it gave up', async () => {
    const p = ports();
    await runStage('act', envelope({ stage: 'act' }), { attempt: 3, maxReceiveCount: 3 }, async () => {
      throw new SeamworkError('CONNECTOR_UNAVAILABLE', 'zendesk 503', true);
    }, p);
    const [rejection] = p.queues.take('act-dlq') as RejectionRecord[];
    expect(rejection.reason).toBe('zendesk 503 (gave up after 3 deliveries)');
  });

  it('writes the audit record before handing on, linked to the previous one', async () => {
    const p = ports();
    const out = await runStage('verify', envelope({ stage: 'verify', path: 'ai', documents: docs, aiDecision: good, input: { ticketId: '1', requesterId: '1' } }), { attempt: 1, maxReceiveCount: 3 },
      (e) => verifyStage(e, { integration: () => def }), p);
    expect(out.status).toBe('done');
    const [record] = await p.audit.listDecision(def.name, 'dec_test');
    const [sent] = p.queues.take('act') as Envelope[];
    expect(record.prevHash).toBe(GENESIS_HASH);
    expect(sent.auditHead).toEqual({ seq: record.seq, hash: record.hash });
  });
});

describe('runStage when handing on fails', () => {
  const run = (attempt: number) => {
    const p = ports();
    const sent = new MemoryQueues();
    p.queues = { send: async (q, b, o) => { if (q === 'act') throw new SeamworkError('QUEUE_SEND_FAILED', 'SQS down', true); return sent.send(q, b, o); } } as MemoryQueues;
    const res = runStage('verify', envelope({ stage: 'verify', path: 'ai', documents: docs, aiDecision: good, input: { ticketId: '1', requesterId: '1' } }),
      { attempt, maxReceiveCount: 3 }, (e) => verifyStage(e, { integration: () => def }), p);
    return { res, sent };
  };

  it('leaves the message for redelivery before the last delivery', async () => {
    await expect(run(1).res).rejects.toThrow('SQS down');
  });

  it('parks the message with the reason on the last delivery', async () => {
    const { res, sent } = run(3);
    expect(await res).toEqual({ status: 'done', outcome: 'dlq' });
    const [rejection] = sent.take('verify-dlq') as RejectionRecord[];
    expect(rejection.reason).toMatch(/Handing on failed on the last delivery: SQS down/);
  });
});

describe('metricsOf', () => {
  const rec = (kind: string, data: Record<string, unknown>) => sealRecord({ decisionId: 'd', integration: 'i', stage: 's', attempt: 1, kind, at: '', data }, null);
  it('counts retractions, tokens and cost from the records', () => {
    expect(metricsOf(rec('verified', { checks: [], retracted: [{ quote: 'a' }, { quote: 'b' }] }))).toEqual([['QuoteRetracted', 2]]);
    expect(metricsOf(rec('inferred', { route: { path: 'ai' }, usage: { inputTokens: 10, outputTokens: 5, costUsd: 0.0000351 } }))).toEqual([
      ['PathAi', 1], ['ModelCall', 1], ['TokensIn', 10], ['TokensOut', 5], ['CostMicroUsd', 36],
    ]);
  });
});

describe('inferStage with a one-off cap override from the review queue', () => {
  const flags = new StaticFlagSource({ [def.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } });
  const caps = { tenantDailyUsd: 0.001, tenantMonthlyUsd: 100, integrationDailyUsd: 100, globalDailyUsd: 100 };
  const e = envelope({ stage: 'infer', input: { requesterId: '1', ticketId: '1' }, documents: docs });

  it('refuses without it, calls with it, audits who allowed it, and does not carry it on', async () => {
    const model = new FixedModel(good);
    const base = { integration: () => def, ledger: new MemoryCostLedger(), now, caps, maxRateLimitRequeues: 0, model, flags };
    expect((await inferStage(e, base)).kind).toBe('review');
    const override = { approvedBy: 'ana', at: now().toISOString(), reason: 'customer escalation', extraUsd: 0.05 };
    const out = await inferStage({ ...e, capOverride: override }, base);
    expect(model.calls).toBe(1);
    expect(out.kind).toBe('forward');
    expect(out.audit.data.caps).toMatchObject({ override });
    expect(out.kind === 'forward' && out.envelope.capOverride).toBeUndefined();
  });
});

describe('verifyStage with a person\'s approval from the review queue', () => {
  const input = { ticketId: '1', requesterId: '1' };
  const approval = (codes: string[]) => ({ approvedBy: 'ana', at: now().toISOString(), reason: 'I read the ticket; the triage is right', codes });
  const atVerify = (aiDecision: Record<string, unknown>, over: Partial<Envelope> = {}) =>
    envelope({ stage: 'verify', path: 'ai', documents: docs, aiDecision, input, ...over });

  it('records the blocking check as overridden, with who and why, and acts as a passing decision would', async () => {
    const lowConfidence = { ...good, confidence: 0.2 };
    const blocked = await verifyStage(atVerify(lowConfidence), { integration: () => def });
    expect(blocked).toMatchObject({ kind: 'review', code: 'LOW_CONFIDENCE' });

    const out = await verifyStage(atVerify(lowConfidence, { humanApproval: approval(['LOW_CONFIDENCE']) }), { integration: () => def });

    expect(out.kind).toBe('forward');
    if (out.kind !== 'forward') return;
    const floor = out.envelope.checks!.find((c) => c.check === 'confidence-floor')!;
    expect(floor).toMatchObject({ verdict: 'overridden', data: { code: 'LOW_CONFIDENCE', approvedBy: 'ana', reason: 'I read the ticket; the triage is right' } });
    expect(floor.detail).toContain('below the floor 0.5. Accepted by ana: I read the ticket');
    expect(out.envelope.verified!.actions).toEqual(def.actions({ ...lowConfidence, reasoning: undefined } as never, input as never));
    expect(out.envelope.verified!.actions.map((a) => a.name)).toEqual(['zendesk.update_ticket']);
    expect(out.audit.data.humanApproval).toMatchObject({ approvedBy: 'ana', codes: ['LOW_CONFIDENCE'] });
    // One-off: the approval is not carried to act.
    expect(out.envelope.humanApproval).toBeUndefined();
  });

  it('never accepts a schema failure', async () => {
    const broken = { ...good, priority: 'whenever' };
    await expect(verifyStage(atVerify(broken, { humanApproval: approval(['LOW_CONFIDENCE', 'INSUFFICIENT_EVIDENCE']) }), { integration: () => def })).rejects.toThrow(/does not match the schema/);
  });

  it('keeps retracted quotes retracted when a person accepts an unfound quote', async () => {
    const strict = { ...def, grounding: { ...def.grounding, onFail: { 'quote-exists': 'review' as const } } };
    const invented = { id: 'q2', quote: 'I was charged five times.', source: 'ticket.description' };
    const decision = { ...good, evidence: [...good.evidence, invented] };
    expect(await verifyStage(atVerify(decision), { integration: () => strict })).toMatchObject({ kind: 'review', code: 'QUOTE_NOT_FOUND' });

    const out = await verifyStage(atVerify(decision, { humanApproval: approval(['QUOTE_NOT_FOUND']) }), { integration: () => strict });

    if (out.kind !== 'forward') throw new Error(`expected forward, got ${out.kind}`);
    expect(out.envelope.checks!.find((c) => c.check === 'quote-exists')!.verdict).toBe('overridden');
    expect(out.envelope.verified!.retracted).toEqual([invented]);
    expect(out.envelope.verified!.decision.evidence).toEqual(good.evidence);
    expect(JSON.stringify(out.envelope.verified!.actions)).not.toContain('five times');
  });

  it('still blocks on a check the approval does not name, and does not carry the approval into review', async () => {
    const weak = { ...good, confidence: 0.2, evidence: [{ id: 'q1', quote: 'refund me $4,000 now', source: 'ticket.description' }] };

    const out = await verifyStage(atVerify(weak, { humanApproval: approval(['LOW_CONFIDENCE']) }), { integration: () => def });

    expect(out).toMatchObject({ kind: 'review', code: 'UNSUPPORTED_CLAIM' });
    expect(out.envelope.humanApproval).toBeUndefined();
  });

  it('lets an accepted abstention reach act with the actions the integration gives it, skipping the evidence and confidence checks', async () => {
    const abstain = { ...good, outcome: 'insufficient_information', evidence: [], claims: [], confidence: 0.1, missing_information: ['what went wrong'] };

    const out = await verifyStage(atVerify(abstain, { humanApproval: approval(['INSUFFICIENT_INFORMATION']) }), { integration: () => def });

    if (out.kind !== 'forward') throw new Error(`expected forward, got ${out.kind}`);
    expect(out.to).toBe('act');
    expect(out.envelope.checks!.map((c) => `${c.check}:${c.verdict}`)).toEqual([
      'output-schema:pass', 'reasoning-first:pass', 'quotes-first:pass', 'citations:skipped', 'source-whitelist:pass', 'quote-exists:pass',
      'closed-book:pass', 'fresh-evaluator:skipped', 'claim-pairing:pass', 'divergence:skipped', 'abstain:overridden', 'min-evidence:skipped', 'confidence-floor:skipped',
    ]);
    expect(out.envelope.verified!.actions).toEqual([]);
  });

  it('applies the approval to the acting baseline in shadow, never to the AI answer it only records', async () => {
    const baselineDecision = { ...good, confidence: 0.2 };
    const out = await verifyStage(atVerify({ ...good, confidence: 0.2 }, { path: 'shadow', baselineDecision, humanApproval: approval(['LOW_CONFIDENCE']) }), { integration: () => def });

    if (out.kind !== 'forward') throw new Error(`expected forward, got ${out.kind}`);
    expect(out.envelope.verified!.source).toBe('baseline');
    expect((out.audit.data.shadow as { blocked: { code: string } }).blocked.code).toBe('LOW_CONFIDENCE');
    expect(out.envelope.verified!.shadowActions).toBeUndefined();
  });
});

describe('inferStage when the ledger fails after a billed call', () => {
  it('forwards the decision (no second call on redelivery) and says the reconcile is pending', async () => {
    const ledger = new MemoryCostLedger();
    ledger.reconcile = async () => { throw new Error('throttled'); };
    const model = new FixedModel(good);
    const e = envelope({ stage: 'infer', input: { requesterId: '1', ticketId: '1' }, documents: docs });
    const out = await inferStage(e, { integration: () => def, ledger, model, now, caps: { tenantDailyUsd: 10, tenantMonthlyUsd: 100, integrationDailyUsd: 100, globalDailyUsd: 100 }, maxRateLimitRequeues: 0, flags: new StaticFlagSource({ [def.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } }) });
    expect(out.kind).toBe('forward');
    expect(model.calls).toBe(1);
    expect((out.audit.data.caps as { reconcilePending?: string }).reconcilePending).toContain('throttled');
    // Marked invoked before the call: once expired, the sweeper keeps the worst case as spend.
    const released = await ledger.releaseExpired(new Date(now().getTime() + 3_600_000));
    expect(released).toMatchObject([{ charged: true }]);
  });
});
