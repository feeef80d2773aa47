import { headOf, sealRecord, type AuditRecord } from './audit-record.js';
import { QUEUE_STAGES, type QueueStage } from './config-keys.js';
import type { Envelope, RejectionRecord } from './envelope.js';
import { toSeamworkError } from './errors.js';
import { MemoryTokenVault } from './memory-ports.js';
import type { IntegrationDefinition } from './integration.js';
import { validateStage } from './stages/validate.js';

/**
 * Redrive: put what a DLQ or the quarantine queue holds back into the pipeline, after an
 * engineer fixed what stopped it (a contract, a connector, a credential).
 *
 * Events parked at validate are re-validated first against the contract as it is now, so
 * `seamwork dlq redrive` after a contract fix replays exactly the events the fix lets through and
 * leaves the rest parked with the new reason. Events parked later (a connector outage at act)
 * go back to the stage that parked them; every stage after validate is idempotent.
 * A redrive is recorded in the decision's audit chain before the envelope is sent.
 */

/** A parked message as the queue holds it: a rejection record, a quarantine item, or a review item. */
export type ParkedItem = Omit<RejectionRecord, 'retryable'> & { retryable?: boolean; kind?: string };

/** What redriving one parked item would do. */
export interface RedrivePlan {
  decisionId: string;
  integration: string;
  /** The stage the envelope goes back to. */
  to: QueueStage;
  verdict: 'redrive' | 'keep';
  /** A sentence: why it would pass now, or why it stays. */
  why: string;
}

/** Decides whether a parked item can be redriven now. Pure apart from `def`: nothing is written. */
export async function planRedrive(item: ParkedItem, def: IntegrationDefinition | undefined, now: Date): Promise<RedrivePlan> {
  const envelope = item.envelope;
  const to = envelope?.stage;
  const base = { decisionId: item.decisionId, integration: item.integration, to: to ?? 'validate' } as const;
  if (!envelope || !to || !(QUEUE_STAGES as readonly string[]).includes(to)) {
    return { ...base, verdict: 'keep', why: 'The message carries no pipeline envelope to redrive.' };
  }
  if (!def) return { ...base, verdict: 'keep', why: `No integration named "${item.integration}" is deployed any more.` };
  if (to !== 'validate') {
    return { ...base, verdict: 'redrive', why: `Back to ${to}, which parked it with ${item.code}; the stages after validate are idempotent.` };
  }
  if (!envelope.raw) return { ...base, verdict: 'keep', why: 'The envelope has no raw body left to re-validate.' };
  try {
    const out = await validateStage({ ...envelope, decisionId: `${envelope.decisionId}-redrive-check` }, {
      integration: () => def, vault: new MemoryTokenVault(), now: () => now, vaultTtlSeconds: 60,
    });
    if (out.kind === 'quarantine') return { ...base, verdict: 'keep', why: `Still held by the drift policy: ${out.reason}` };
    return { ...base, verdict: 'redrive', why: `Passes contract ${def.contract.version} now.` };
  } catch (err) {
    return { ...base, verdict: 'keep', why: `Still rejected: ${toSeamworkError(err).message}` };
  }
}

/** The audit record of a redrive and the envelope to send, linked to it. */
export function redriveEnvelope(item: ParkedItem, from: string, by: string, at: Date): { record: AuditRecord; envelope: Envelope } {
  const record = sealRecord(
    {
      decisionId: item.decisionId, integration: item.integration, stage: item.envelope.stage, attempt: 0, kind: 'redriven', at: at.toISOString(),
      data: { from, by, previous: { code: item.code, reason: item.reason, at: item.at } },
    },
    item.envelope.auditHead,
  );
  return { record, envelope: { ...item.envelope, auditHead: headOf(record) } };
}
