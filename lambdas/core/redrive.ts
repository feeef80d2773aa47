import { headOf, sealRecord, type AuditRecord } from './audit-record.js';
import { QUEUE_STAGES, type QueueStage } from './config-keys.js';
import type { Envelope, RejectionRecord } from './envelope.js';
import { toSeamworkError } from './errors.js';
import { MemoryTokenVault } from './memory-ports.js';
import type { IntegrationDefinition } from './integration.js';
import { contractFingerprint } from './contracts/drift.js';
import { validateStage } from './stages/validate.js';
import { RETENTION_SECONDS } from './time-budgets.js';

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

/**
 * Margin kept before the retention horizon: a redriven decision must finish while its
 * idempotency keys and vault tokens (kept {@link RETENTION_SECONDS}) still exist.
 */
export const REDRIVE_MARGIN_SECONDS = 2 * 86_400;

/**
 * Decides whether a parked item can be redriven now. Pure apart from `def`: nothing is written.
 * `def` is the integration as this process has it — for a CLI, the operator's checkout, which the
 * deployed validate stage re-checks anyway.
 */
export async function planRedrive(item: ParkedItem, def: IntegrationDefinition | undefined, now: Date): Promise<RedrivePlan> {
  const envelope = item.envelope;
  const to = envelope?.stage;
  const base = { decisionId: item.decisionId, integration: item.integration, to: to ?? 'validate' } as const;
  if (!envelope || !to || !(QUEUE_STAGES as readonly string[]).includes(to)) {
    return { ...base, verdict: 'keep', why: 'The message carries no pipeline envelope to redrive.' };
  }
  if (!def) return { ...base, verdict: 'keep', why: `No integration named "${item.integration}" is deployed any more.` };
  const ageSeconds = (now.getTime() - Date.parse(envelope.receivedAt)) / 1000;
  if (ageSeconds > RETENTION_SECONDS - REDRIVE_MARGIN_SECONDS) {
    return {
      ...base, verdict: 'keep',
      why: `Received ${Math.floor(ageSeconds / 86_400)} days ago: its idempotency keys and vault tokens (kept ${RETENTION_SECONDS / 86_400} days) are gone or about to be, so a replay could act twice. Handle it by hand from its trace (a vendor resend is answered \`duplicate\` while its event id is remembered: 7 days, 90 for GitHub and Shopify).`,
    };
  }
  if (to !== 'validate') {
    const note = to === 'infer' ? 'infer calls the model again (the spend counts against the caps)' : to === 'act' ? 'act runs each action at most once per decision' : 'verify is pure';
    return { ...base, verdict: 'redrive', why: `Back to ${to}, which parked it with ${item.code}; ${note}.` };
  }
  if (!envelope.raw) return { ...base, verdict: 'keep', why: 'The envelope has no raw body left to re-validate.' };
  const rejectedUnder = item.detail?.contractFingerprint;
  const current = contractFingerprint(def.contract);
  if (typeof rejectedUnder === 'string' && rejectedUnder === current) {
    return { ...base, verdict: 'keep', why: `The contract and its drift policy are unchanged since this was parked (${def.contract.version}, fingerprint ${current}): update one of them, or declare a migration window, first.` };
  }
  try {
    const out = await validateStage({ ...envelope, decisionId: `${envelope.decisionId}-redrive-check` }, {
      integration: () => def, vault: new MemoryTokenVault(), now: () => now, vaultTtlSeconds: 60,
    });
    if (out.kind === 'quarantine') return { ...base, verdict: 'keep', why: `Still held by the drift policy: ${out.reason}` };
    return { ...base, verdict: 'redrive', why: `Passes contract ${def.contract.version} now (fingerprint ${current}; the deployed validate stage checks again).` };
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
