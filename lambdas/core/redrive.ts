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
 *
 * Not every DLQ message is one Seamwork parked: SQS moves a message by itself when its last
 * delivery crashed or timed out, or when no delivery could read it. Such a message is the bare
 * envelope (or anything at all) with no rejection record; {@link explainUnrecorded} derives why it
 * is there from the decision's audit log, so it can be listed, explained and redriven like the others.
 */

/**
 * A parked message as the queue holds it: a rejection record, a quarantine item, a review item,
 * or one explained from the audit log (`parkedBy: 'sqs'`). Only an unreadable body has no envelope.
 */
export type ParkedItem = Omit<RejectionRecord, 'retryable' | 'envelope'> & {
  retryable?: boolean;
  kind?: string;
  envelope?: Envelope;
  /** `sqs`: SQS moved it to the DLQ by itself; the code and reason come from the audit log. */
  parkedBy?: 'sqs';
};

/** Codes of DLQ messages that carry no rejection record: SQS moved them there by itself. */
export const UNRECORDED_CODES = {
  /** SQS moved it after deliveries whose failures the audit log recorded. */
  sqsRedriven: 'SQS_REDRIVEN',
  /** SQS moved it and no delivery recorded a failure: the function crashed or timed out each time. */
  crashedOrTimedOut: 'CRASHED_OR_TIMED_OUT',
  /** The body is neither a rejection record nor a pipeline envelope. */
  unreadable: 'UNREADABLE_MESSAGE',
} as const;

/** A DLQ body as found: Seamwork's own parking, a bare envelope SQS moved, or something unreadable. */
export type DlqBody =
  | { kind: 'parked'; item: ParkedItem }
  | { kind: 'envelope'; envelope: Envelope }
  | { kind: 'unreadable'; text: string; decisionId?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Tells a rejection record from a bare envelope from anything else. */
export function classifyDlqBody(body: unknown): DlqBody {
  if (isObject(body) && typeof body.code === 'string' && isObject(body.envelope)) return { kind: 'parked', item: body as unknown as ParkedItem };
  if (isEnvelope(body)) return { kind: 'envelope', envelope: body };
  const text = typeof body === 'string' ? body : JSON.stringify(body) ?? String(body);
  const decisionId = isObject(body) && typeof body.decisionId === 'string' ? body.decisionId : undefined;
  return { kind: 'unreadable', text, decisionId };
}

function isEnvelope(body: unknown): body is Envelope {
  if (!isObject(body) || body.v !== 1 || typeof body.decisionId !== 'string' || typeof body.integration !== 'string') return false;
  const head = body.auditHead;
  return (QUEUE_STAGES as readonly unknown[]).includes(body.stage) && isObject(head) && typeof head.seq === 'number' && typeof head.hash === 'string';
}

/** The `attempt_failed` records of the deliveries of this very envelope: siblings right after its head. */
function failuresOf(envelope: Envelope, records: AuditRecord[]): AuditRecord[] {
  return records
    .filter((r) => r.kind === 'attempt_failed' && r.stage === envelope.stage && r.seq === envelope.auditHead.seq + 1)
    .sort((a, b) => a.attempt - b.attempt || a.at.localeCompare(b.at));
}

/**
 * The records that show a decision went on after it was parked: for a rejection record, every
 * record after the rejection; for a message SQS moved, every record after the envelope's head
 * except the failures of its own deliveries. An empty list means nothing picked it up since.
 */
export function recordsAfterParking(item: ParkedItem, records: AuditRecord[]): AuditRecord[] {
  const envelope = item.envelope;
  if (!envelope?.auditHead) return [];
  const failures = new Set(item.parkedBy === 'sqs' ? failuresOf(envelope, records) : []);
  return records.filter((r) => r.seq > envelope.auditHead.seq && !failures.has(r)).sort((a, b) => a.seq - b.seq);
}

/**
 * Explains a bare envelope SQS moved to a DLQ from its decision's audit log: the last recorded
 * failure of its deliveries (`SQS_REDRIVEN`), or none at all (`CRASHED_OR_TIMED_OUT`).
 * `maxReceiveCount` is the stage queue's redrive setting; `at` when the message was sent.
 */
export function explainUnrecorded(envelope: Envelope, records: AuditRecord[], opts: { maxReceiveCount: number; at: string }): ParkedItem {
  const n = opts.maxReceiveCount;
  const base = { stage: envelope.stage, integration: envelope.integration, decisionId: envelope.decisionId, at: opts.at, envelope, parkedBy: 'sqs' as const };
  const failures = failuresOf(envelope, records);
  const after = recordsAfterParking({ ...base, code: '', reason: '' }, records);
  const moved = `SQS moved it to the ${envelope.stage} DLQ after ${n} deliveries, with no rejection record`;
  if (after.length > 0) {
    return {
      ...base, code: UNRECORDED_CODES.sqsRedriven, detail: { deliveries: n, laterRecords: after.map((r) => r.kind) },
      reason: `${moved}; its stage wrote ${after.map((r) => r.kind).join(', ')} after it: a copy of a delivery that went on, or a stage that committed and could not hand on — a redrive sends it back as it was and the stage ledger finishes whichever it is.`,
    };
  }
  const last = failures.at(-1);
  if (last) {
    const code = String(last.data.code ?? 'UNKNOWN');
    const message = String(last.data.message ?? '');
    const silent = last.attempt < n
      ? `; ${last.attempt + 1 === n ? `delivery ${n}` : `deliveries ${last.attempt + 1}–${n}`} recorded nothing: the function crashed or timed out`
      : '; the last delivery did not park it itself (is the stage configured with a higher maxReceiveCount than its queue?)';
    return {
      ...base, code: UNRECORDED_CODES.sqsRedriven, detail: { deliveries: n, lastFailure: { code, message, attempt: last.attempt, at: last.at } },
      reason: `${moved}. The last failure recorded was ${code} on delivery ${last.attempt} of ${n}: ${message}${silent}.`,
    };
  }
  const latest = [...records].sort((a, b) => a.seq - b.seq || a.at.localeCompare(b.at)).at(-1);
  const known = latest ? `the last record is ${latest.kind} at ${latest.stage}, ${latest.at}` : 'the audit log holds no record of this decision';
  return {
    ...base, code: UNRECORDED_CODES.crashedOrTimedOut, detail: { deliveries: n },
    reason: `No outcome recorded at ${envelope.stage} after ${n} deliveries: the function crashed or timed out (${known}).`,
  };
}

/** Describes a DLQ body that is neither a rejection record nor an envelope: kept, never redriven. */
export function explainUnreadable(body: Extract<DlqBody, { kind: 'unreadable' }>, opts: { stage: QueueStage; at: string }): ParkedItem {
  const snippet = body.text.length > 120 ? `${body.text.slice(0, 120)}…` : body.text;
  return {
    stage: opts.stage, integration: '?', decisionId: body.decisionId ?? '?', at: opts.at, parkedBy: 'sqs', code: UNRECORDED_CODES.unreadable,
    reason: `SQS moved a body no delivery could read (neither a rejection record nor a pipeline envelope): ${JSON.stringify(snippet)}.`,
  };
}

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
    const parked = item.parkedBy === 'sqs' ? `where SQS moved it to the DLQ (${item.code})` : `which parked it with ${item.code}`;
    const note = to === 'infer' ? 'infer calls the model again (the spend counts against the caps)' : to === 'act' ? 'act runs each action at most once per decision' : 'verify is pure';
    return { ...base, verdict: 'redrive', why: `Back to ${to}, ${parked}; ${note}.` };
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
export function redriveEnvelope(item: ParkedItem & { envelope: Envelope }, from: string, by: string, at: Date): { record: AuditRecord; envelope: Envelope } {
  const record = sealRecord(
    {
      decisionId: item.decisionId, integration: item.integration, stage: item.envelope.stage, attempt: 0, kind: 'redriven', at: at.toISOString(),
      data: { from, by, previous: { code: item.code, reason: item.reason, at: item.at } },
    },
    item.envelope.auditHead,
  );
  return { record, envelope: { ...item.envelope, auditHead: headOf(record) } };
}
