import { describe, expect, it } from 'vitest';
import { GENESIS_HASH, headOf, sealRecord, verifyChain, type AuditRecord } from '../../lambdas/core/audit-record.js';
import type { Envelope } from '../../lambdas/core/envelope.js';
import {
  approvalRecord, copyState, MAX_EXTRA_USD, planApproval, rejectionRecord, resumeApproval, type ApprovalPlan,
} from '../../lambdas/core/review.js';
import type { ReviewItem } from '../../lambdas/core/stage-runner.js';
import { verifyStage } from '../../lambdas/core/stages/verify.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { GROUNDED_DECISION, TICKET_DOCS } from '../support/triage-decision.js';

const def = supportTriage;
const now = new Date('2026-11-25T12:00:00Z');
const docs = TICKET_DOCS;
const good = GROUNDED_DECISION;

/** A decision's first record and a review item parked on it, as the stage runner leaves them. */
function parked(code: string, stage: 'infer' | 'verify', over: Partial<Envelope> = {}, data: Record<string, unknown> = {}): { item: ReviewItem; records: AuditRecord[] } {
  const first = sealRecord({ decisionId: 'dec_r', integration: def.name, stage: 'validate', attempt: 1, kind: 'validated', at: now.toISOString(), data: {} }, null);
  const held = sealRecord({ decisionId: 'dec_r', integration: def.name, stage, attempt: 1, kind: stage === 'infer' ? 'cost_refused' : 'verified', at: now.toISOString(), data: { outcome: 'review', code, ...data } }, headOf(first));
  const envelope: Envelope = {
    v: 1, decisionId: 'dec_r', integration: def.name, tenant: 't1', vendorEventId: 'e1', receivedAt: now.toISOString(), stage: 'verify',
    auditHead: headOf(held), path: 'ai', documents: docs, input: { ticketId: '1', requesterId: '1' }, ...over,
  };
  return { item: { kind: 'review', stage, integration: def.name, decisionId: 'dec_r', code, reason: `blocked with ${code}`, at: now.toISOString(), envelope }, records: [first, held] };
}
const request = (over: { extraUsd?: number; reason?: string; at?: Date } = {}) => ({ approvedBy: 'ana', reason: 'customer escalation', at: now, ...over });
const approved = (plan: ApprovalPlan) => {
  if (plan.verdict !== 'approve') throw new Error(`expected approve, got: ${plan.why}`);
  return plan;
};

describe('planApproval for a cost-cap refusal', () => {
  const { item, records } = parked('COST_CAP_EXCEEDED', 'infer', {}, { preflight: { worstCaseUsd: 0.0123 } });

  it('needs --extra-usd, naming the refused worst case', () => {
    const plan = planApproval(item, def, request(), records);
    expect(plan).toMatchObject({ verdict: 'refuse', usage: true });
    expect(plan.why).toContain('COST_CAP_EXCEEDED needs --extra-usd');
    expect(plan.why).toContain('The refused worst case was $0.0123');
  });

  it.each([0, -1, MAX_EXTRA_USD + 1, Number.NaN, Number.POSITIVE_INFINITY])('refuses a raise of %s', (extraUsd) => {
    expect(planApproval(item, def, request({ extraUsd }), records)).toMatchObject({ verdict: 'refuse', usage: true, why: expect.stringContaining(`at most ${MAX_EXTRA_USD}`) });
  });

  it('sends it back to infer with a one-off cap override naming who, when and why', () => {
    const plan = approved(planApproval(item, def, request({ extraUsd: 1 }), records));
    expect(plan.to).toBe('infer');
    expect(plan.override).toEqual({ capOverride: { approvedBy: 'ana', at: now.toISOString(), reason: 'customer escalation', extraUsd: 1 } });
    expect(plan.warning).toBeUndefined();
  });

  it('warns when the raise is below the refused worst case', () => {
    expect(approved(planApproval(item, def, request({ extraUsd: 0.01 }), records)).warning).toContain('below the refused worst case $0.0123');
  });
});

describe('planApproval for a verify block', () => {
  it('accepts the decision as it stands, naming the codes it overrides and the actions that will run', () => {
    const { item } = parked('LOW_CONFIDENCE', 'verify', { aiDecision: { ...good, confidence: 0.2 } });
    const plan = approved(planApproval(item, def, request()));
    expect(plan.to).toBe('verify');
    expect(plan.override).toEqual({ humanApproval: { approvedBy: 'ana', at: now.toISOString(), reason: 'customer escalation', codes: ['LOW_CONFIDENCE'] } });
    expect(plan.why).toContain('LOW_CONFIDENCE recorded as overridden');
    expect(plan.why).toContain('act runs zendesk.update_ticket');
  });

  it('accepts only the block the person saw; one behind it brings the decision back to review, named', () => {
    const { item } = parked('UNSUPPORTED_CLAIM', 'verify', { aiDecision: { ...good, confidence: 0.2, evidence: [{ id: 'q1', quote: 'not in the ticket', source: 'ticket.description' }] } });
    const plan = approved(planApproval(item, def, request()));
    expect('humanApproval' in plan.override && plan.override.humanApproval.codes).toEqual(['UNSUPPORTED_CLAIM']);
    expect(plan.why).toContain('1 retracted quote stay retracted');
    expect(plan.warning).toMatch(/hold it again for INSUFFICIENT_EVIDENCE, which nobody has accepted yet/);
  });

  it('refuses --extra-usd, which only a cost cap takes', () => {
    const { item } = parked('LOW_CONFIDENCE', 'verify', { aiDecision: { ...good, confidence: 0.2 } });
    expect(planApproval(item, def, request({ extraUsd: 1 }))).toMatchObject({ verdict: 'refuse', usage: true, why: expect.stringContaining('--extra-usd is for COST_CAP_EXCEEDED items only') });
  });

  it('never approves a decision that fails the output schema', () => {
    const { item } = parked('LOW_CONFIDENCE', 'verify', { aiDecision: { ...good, priority: 'whenever' } });
    expect(planApproval(item, def, request())).toMatchObject({ verdict: 'refuse', usage: false, why: expect.stringContaining('OUTPUT_SCHEMA_VIOLATION') });
  });

  it('refuses an item older than its idempotency keys and vault tokens, and an unknown code', () => {
    const { item } = parked('LOW_CONFIDENCE', 'verify', { aiDecision: { ...good, confidence: 0.2 } });
    expect(planApproval(item, def, request({ at: new Date(now.getTime() + 20 * 86_400_000) })).why).toContain('Received 20 days ago');
    expect(planApproval({ ...item, code: 'SOMETHING_ELSE' }, def, request())).toMatchObject({ verdict: 'refuse', why: expect.stringContaining('not a code an approval can resolve') });
  });
});

describe('approvalRecord and rejectionRecord', () => {
  it('chains the approval to the item\'s head and links the envelope it sends to the approval', () => {
    const { item, records } = parked('COST_CAP_EXCEEDED', 'infer', { capOverride: { approvedBy: 'old', at: '', reason: 'earlier', extraUsd: 0.5 } });
    const plan = approved(planApproval(item, def, request({ extraUsd: 2 }), records));

    const { record, envelope } = approvalRecord(item, plan, now);

    expect(record).toMatchObject({ kind: 'review_approved', stage: 'review', seq: item.envelope.auditHead.seq + 1, prevHash: item.envelope.auditHead.hash });
    expect(record.data).toMatchObject({ approvedBy: 'ana', reason: 'customer escalation', code: 'COST_CAP_EXCEEDED', to: 'infer', override: { capOverride: { extraUsd: 2 } } });
    expect(envelope).toMatchObject({ stage: 'infer', auditHead: headOf(record), capOverride: { approvedBy: 'ana', extraUsd: 2 } });
    expect(verifyChain([...records, record]).ok).toBe(true);
  });

  it('rebuilds the very same envelope from a recorded approval that was never sent', () => {
    const { item, records } = parked('LOW_CONFIDENCE', 'verify', { aiDecision: { ...good, confidence: 0.2 } });
    const { record, envelope } = approvalRecord(item, approved(planApproval(item, def, request(), records)), now);
    expect(resumeApproval(item, record)).toEqual(envelope);
  });

  it('closes a rejected item with outcome review, naming who rejected it and why', () => {
    const { item, records } = parked('INSUFFICIENT_INFORMATION', 'verify');
    const record = rejectionRecord(item, 'ana', 'spam', now);
    const summary = summariseDecision([...records, record]);
    expect(summary).toMatchObject({ outcome: 'review', code: 'INSUFFICIENT_INFORMATION', reason: 'Rejected by ana: spam', chainOk: true });
    expect(record.data).toMatchObject({ resolution: 'rejected', rejectedBy: 'ana', rejectReason: 'spam' });
  });

  it('acts on an approved verify block end to end: the approved envelope passes verify with the check overridden', async () => {
    const { item, records } = parked('LOW_CONFIDENCE', 'verify', { aiDecision: { ...good, confidence: 0.2 } });
    const { envelope } = approvalRecord(item, approved(planApproval(item, def, request(), records)), now);

    const out = await verifyStage(envelope, { integration: () => def });

    expect(out.kind).toBe('forward');
    expect(out.envelope.checks!.find((c) => c.check === 'confidence-floor')).toMatchObject({ verdict: 'overridden', data: { approvedBy: 'ana' } });
  });
});

describe('copyState', () => {
  const { item, records } = parked('LOW_CONFIDENCE', 'verify', { aiDecision: { ...good, confidence: 0.2 } });
  const later = (kind: string, head: { seq: number; hash: string }, at = now) =>
    sealRecord({ decisionId: 'dec_r', integration: def.name, stage: 'x', attempt: 1, kind, at: at.toISOString(), data: {} }, head);

  it('calls an item with nothing after its head fresh', () => {
    expect(copyState(item, records, now)).toEqual({ state: 'fresh' });
  });

  it('sees an approval of this copy that nothing picked up yet, and how old it is', () => {
    const approval = later('review_approved', item.envelope.auditHead, new Date(now.getTime() - 20 * 60_000));
    expect(copyState(item, [...records, approval], now)).toMatchObject({ state: 'approved-pending', ageMinutes: 20 });
  });

  it('calls a copy whose decision went on stale', () => {
    const approval = later('review_approved', item.envelope.auditHead);
    const inferred = later('verified', headOf(approval));
    expect(copyState(item, [...records, approval, inferred], now)).toMatchObject({ state: 'moved-on', kinds: ['review_approved', 'verified'] });
  });

  it('calls a rejected item rejected', () => {
    expect(copyState(item, [...records, rejectionRecord(item, 'ana', 'spam', now)], now)).toMatchObject({ state: 'rejected' });
  });

  it('never resends for a sibling copy (the stage delivered twice) whose twin was approved', () => {
    const sibling: ReviewItem = { ...item, envelope: { ...item.envelope, auditHead: { seq: item.envelope.auditHead.seq, hash: GENESIS_HASH.replace(/0/g, 'a') } } };
    const approval = later('review_approved', item.envelope.auditHead);
    expect(copyState(sibling, [...records, approval], now)).toMatchObject({ state: 'moved-on' });
  });
});
