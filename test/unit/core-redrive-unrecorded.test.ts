import { describe, expect, it } from 'vitest';
import { headOf, sealRecord, type AuditRecord } from '../../lambdas/core/audit-record.js';
import type { Envelope } from '../../lambdas/core/envelope.js';
import { classifyDlqBody, explainUnreadable, explainUnrecorded, recordsAfterParking } from '../../lambdas/core/redrive.js';

const decisionId = 'dec_1';
const at = '2026-12-04T10:00:00.000Z';
const accepted = sealRecord({ decisionId, integration: 'support-triage', stage: 'ingest', attempt: 1, kind: 'accepted', at, data: {} }, null);
const envelope: Envelope = {
  v: 1, decisionId, integration: 'support-triage', tenant: 't', vendorEventId: 'e', receivedAt: at, stage: 'infer', auditHead: headOf(accepted),
};
const failure = (attempt: number, code = 'MODEL_UNAVAILABLE'): AuditRecord =>
  sealRecord({ decisionId, integration: 'support-triage', stage: 'infer', attempt, kind: 'attempt_failed', at, data: { code, message: `overloaded #${attempt}`, attempt, maxReceiveCount: 4 } }, envelope.auditHead);

describe('classifyDlqBody', () => {
  it('tells a rejection record, a bare envelope and anything else apart', () => {
    expect(classifyDlqBody({ code: 'X', envelope }).kind).toBe('parked');
    expect(classifyDlqBody(envelope).kind).toBe('envelope');
    expect(classifyDlqBody({ ...envelope, stage: 'review' })).toMatchObject({ kind: 'unreadable', decisionId });
    expect(classifyDlqBody('poison')).toEqual({ kind: 'unreadable', text: 'poison', decisionId: undefined });
  });
});

describe('explainUnrecorded', () => {
  it('names the last recorded failure and the deliveries that recorded nothing', () => {
    const item = explainUnrecorded(envelope, [accepted, failure(2, 'RATE_LIMITED'), failure(1)], { maxReceiveCount: 4, at });
    expect(item).toMatchObject({ code: 'SQS_REDRIVEN', parkedBy: 'sqs', stage: 'infer', envelope });
    expect(item.reason).toContain('The last failure recorded was RATE_LIMITED on delivery 2 of 4: overloaded #2; deliveries 3–4 recorded nothing: the function crashed or timed out.');
  });

  it('says the function crashed or timed out when no delivery recorded anything', () => {
    const item = explainUnrecorded(envelope, [accepted], { maxReceiveCount: 4, at });
    expect(item.code).toBe('CRASHED_OR_TIMED_OUT');
    expect(item.reason).toBe('No outcome recorded at infer after 4 deliveries: the function crashed or timed out (the last record is accepted at ingest, 2026-12-04T10:00:00.000Z).');
  });

  it('calls a copy whose decision went on a leftover, and the redrive sees what came after', () => {
    const done = sealRecord({ decisionId, integration: 'support-triage', stage: 'infer', attempt: 2, kind: 'inferred', at, data: {} }, envelope.auditHead);
    const item = explainUnrecorded(envelope, [accepted, failure(1), done], { maxReceiveCount: 4, at });
    expect(item.reason).toContain('its stage wrote inferred after it');
    expect(recordsAfterParking(item, [accepted, failure(1), done]).map((r) => r.kind)).toEqual(['inferred']);
  });
});

describe('recordsAfterParking', () => {
  it('ignores the failures of the deliveries SQS gave up on, but not those after a rejection record', () => {
    const records = [accepted, failure(1), failure(2)];
    expect(recordsAfterParking({ ...explainUnrecorded(envelope, records, { maxReceiveCount: 4, at }) }, records)).toEqual([]);
    expect(recordsAfterParking({ stage: 'infer', integration: 'support-triage', decisionId, code: 'X', reason: 'r', at, envelope }, records)).toHaveLength(2);
  });
});

describe('explainUnreadable', () => {
  it('quotes the start of the body', () => {
    const item = explainUnreadable({ kind: 'unreadable', text: 'x'.repeat(200) }, { stage: 'validate', at });
    expect(item).toMatchObject({ code: 'UNREADABLE_MESSAGE', decisionId: '?' });
    expect(item.envelope).toBeUndefined();
    expect(item.reason).toContain(`"${'x'.repeat(120)}…"`);
  });
});
