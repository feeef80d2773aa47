import { randomBytes } from 'node:crypto';
import { headOf, sealRecord, type AuditRecord } from '../../lambdas/core/audit-record.js';
import type { IndexedDecision } from '../../lambdas/core/audit/decision-index.js';
import { MemoryKeyRing } from '../../lambdas/core/audit/key-ring.js';
import type { AuditStore } from '../../lambdas/core/ports.js';

/** Every audit writer's name: the five stages, the operator (review, redrive) and the checkpointer. */
export const WRITERS = ['ingest', 'validate', 'infer', 'verify', 'act', 'operator', 'checkpointer'] as const;

/** Fresh random keys for every writer. */
export function writerKeys(): Record<(typeof WRITERS)[number], Buffer> {
  return Object.fromEntries(WRITERS.map((w) => [w, randomBytes(32)])) as Record<(typeof WRITERS)[number], Buffer>;
}

/** A key ring over {@link writerKeys}. */
export const keyRingOf = (keys: Record<string, Buffer>) => new MemoryKeyRing(keys);

/** The realistic log {@link buildAuditLog} writes: four decisions, retries in two of them, a review and a redrive. */
export interface BuiltLog {
  integration: string;
  /** Each decision's records in write order. */
  decisions: Record<'plain' | 'retried' | 'reviewed' | 'redriven', AuditRecord[]>;
  /** What the dedupe table would hold for them. */
  index: IndexedDecision[];
}

type StoreFor = (writer: string) => AuditStore;

/**
 * Writes decisions the way the stage runner does (one sealed record per stage attempt, a retry's
 * `attempt_failed` sibling linked to the same head, then its outcome), each writer through its own store.
 */
export async function buildAuditLog(storeFor: StoreFor, integration = 'support-triage'): Promise<BuiltLog> {
  let clock = Date.parse('2026-11-25T10:00:00.000Z');
  const chain = (decisionId: string) => {
    const records: AuditRecord[] = [];
    let head: AuditRecord | null = null;
    const write = async (writer: string, stage: string, attempt: number, kind: string, data: Record<string, unknown>, advance = true) => {
      clock += 1000;
      const record = sealRecord({ decisionId, integration, stage, attempt, kind, at: new Date(clock).toISOString(), data }, head && headOf(head));
      await storeFor(writer).append(record);
      records.push(record);
      if (advance) head = record;
      return record;
    };
    const failed = (stage: string, attempt: number) => write(stage, stage, attempt, 'attempt_failed', { code: 'MODEL_UNAVAILABLE', message: 'overloaded', attempt, maxReceiveCount: 3 }, false);
    return { records, write, failed };
  };

  const plain = chain('dec_plain');
  await plain.write('ingest', 'ingest', 1, 'accepted', { vendorEventId: 'evt-1', tenant: 'acme' });
  await plain.write('validate', 'validate', 1, 'validated', { contractVersion: '3' });
  await plain.failed('infer', 1);
  await plain.write('infer', 'infer', 2, 'inferred', { response: { toolInput: { priority: 'low' } } });
  await plain.write('verify', 'verify', 1, 'verified', { decision: { priority: 'low' }, checks: [] });
  await plain.write('act', 'act', 1, 'acted', { outcome: 'acted', results: [{ action: 'zendesk.update', status: 'executed' }] });

  const retried = chain('dec_retried');
  await retried.write('ingest', 'ingest', 1, 'accepted', { vendorEventId: 'evt-2', tenant: 'acme' });
  await retried.failed('validate', 1);
  await retried.failed('validate', 2);
  await retried.write('validate', 'validate', 3, 'validated', { contractVersion: '3' });
  await retried.write('infer', 'infer', 1, 'inferred', { response: { toolInput: { priority: 'urgent' } } });
  await retried.write('verify', 'verify', 1, 'verified', { decision: { priority: 'urgent' }, checks: [] });
  await retried.failed('act', 1);
  await retried.write('act', 'act', 2, 'acted', { outcome: 'acted', results: [{ action: 'slack.post', status: 'executed' }] });

  const reviewed = chain('dec_reviewed');
  await reviewed.write('ingest', 'ingest', 1, 'accepted', { vendorEventId: 'evt-3', tenant: 'globex' });
  await reviewed.write('validate', 'validate', 1, 'validated', { contractVersion: '3' });
  await reviewed.write('infer', 'infer', 1, 'cost_refused', { outcome: 'review', code: 'COST_CAP_EXCEEDED' });
  await reviewed.write('operator', 'review', 0, 'review_approved', { approvedBy: 'ops@example.com', reason: 'one-off' });
  await reviewed.write('infer', 'infer', 1, 'inferred', { response: { toolInput: { priority: 'high' } } });
  await reviewed.write('verify', 'verify', 1, 'verified', { decision: { priority: 'high' }, checks: [] });
  await reviewed.write('act', 'act', 1, 'acted', { outcome: 'acted', results: [] });

  const redriven = chain('dec_redriven');
  await redriven.write('ingest', 'ingest', 1, 'accepted', { vendorEventId: 'evt-4', tenant: 'acme' });
  await redriven.write('validate', 'validate', 1, 'rejected', { outcome: 'dlq', code: 'CONTRACT_VIOLATION' });
  await redriven.write('operator', 'validate', 0, 'redriven', { by: 'ops@example.com', from: 'validate-dlq' });
  await redriven.write('validate', 'validate', 1, 'validated', { contractVersion: '4' });
  await redriven.write('infer', 'infer', 1, 'inferred', { response: { toolInput: { priority: 'low' } } });
  await redriven.write('verify', 'verify', 1, 'verified', { decision: { priority: 'low' }, checks: [] });
  await redriven.write('act', 'act', 1, 'acted', { outcome: 'acted', results: [] });

  const decisions = { plain: plain.records, retried: retried.records, reviewed: reviewed.records, redriven: redriven.records };
  return { integration, decisions, index: Object.values(decisions).map((r) => ({ integration, decisionId: r[0].decisionId })) };
}
