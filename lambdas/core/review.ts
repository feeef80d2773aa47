import { headOf, sealRecord, type AuditRecord } from './audit-record.js';
import type { Envelope, HumanApproval } from './envelope.js';
import type { IntegrationDefinition } from './integration.js';
import { REDRIVE_MARGIN_SECONDS } from './redrive.js';
import type { ReviewItem } from './stage-runner.js';
import { forAction, judgeEnvelope } from './stages/verify.js';
import { REVIEW_CODES as GROUNDING_REVIEW_CODES } from './grounding/playbook.js';
import { RETENTION_SECONDS } from './time-budgets.js';

/**
 * Working the review queue (`seamwork review approve|reject`): what an approval sends where, the
 * audit records of a person's decision, and how to tell a fresh review item from a stale copy.
 * Pure: the CLI holds the messages, writes the records and sends.
 *
 * - A cost-cap refusal (`COST_CAP_EXCEEDED`, at infer) is approved with a one-off cap raise: the
 *   envelope goes back to infer with `capOverride`, which infer audits and consumes.
 * - A verify block (abstention, unfound quote, too little evidence, a number from nowhere, low
 *   confidence) is approved by accepting the decision as it stands: the envelope goes back to
 *   verify with `humanApproval`, naming the codes the person accepted; verify records those
 *   checks as `overridden` and hands the decision to act. A schema failure is never in review
 *   (it is parked in the DLQ) and is never accepted.
 * - A rejection closes the item: nothing is executed. The decision's final outcome stays `review`
 *   (invariant 1: every accepted event ends in exactly one of acted, baseline, review, dlq,
 *   quarantine); the final record says who rejected it and why.
 */

/** The review code of a cost-cap refusal at infer: approving it grants a one-off cap raise. */
export const COST_CAP_CODE = 'COST_CAP_EXCEEDED';

/** The codes verify sends to review: approving one accepts the decision as it stands. */
export const VERIFY_REVIEW_CODES: readonly string[] = [...Object.values(GROUNDING_REVIEW_CODES), 'INSUFFICIENT_EVIDENCE', 'LOW_CONFIDENCE'];

/** Every code a review item can carry. */
export const REVIEW_CODES: readonly string[] = [COST_CAP_CODE, ...VERIFY_REVIEW_CODES];

/** Largest cap raise one approval may grant, in USD: a slipped digit must not become a blank cheque. */
export const MAX_EXTRA_USD = 100;

/** How long a recorded approval may wait to be picked up before a rerun treats it as never sent. */
export const STALE_APPROVAL_MINUTES = 15;

/** Audit record kind of an approval, chained to the review item's head before the envelope is sent. */
export const REVIEW_APPROVED = 'review_approved';

/** Audit record kind of a rejection: the decision's final record (outcome `review`). */
export const REVIEW_REJECTED = 'review_rejected';

/** The one-off cap raise an approval of a cost-cap refusal carries to infer. */
export type CapOverride = NonNullable<Envelope['capOverride']>;

/** What an approval carries back into the pipeline: a cap raise for infer, or an acceptance for verify. */
export type ApprovalOverride = { capOverride: CapOverride } | { humanApproval: HumanApproval };

/** What a person asks for when approving. */
export interface ApprovalRequest {
  approvedBy: string;
  reason: string;
  /** The cap raise, for a cost-cap refusal only. */
  extraUsd?: number;
  at: Date;
}

/** What approving one review item would do, or why it cannot be approved. */
export type ApprovalPlan =
  | {
      verdict: 'approve';
      code: string;
      /** The stage the envelope goes back to. */
      to: 'infer' | 'verify';
      override: ApprovalOverride;
      /** A sentence: what happens next. */
      why: string;
      /** A sentence when the approval may not get the decision through (a raise below the worst case). */
      warning?: string;
    }
  /** `usage`: the command was called wrongly for this item (a missing or stray --extra-usd). */
  | { verdict: 'refuse'; code: string; usage: boolean; why: string };

/** The worst case infer pre-flighted for the refusal this item records, from its audit record. */
export function refusedWorstCaseUsd(item: ReviewItem, records: AuditRecord[]): number | undefined {
  const head = item.envelope?.auditHead;
  const refused = records.find((r) => r.kind === 'cost_refused' && head && r.hash === head.hash);
  const worst = (refused?.data.preflight as { worstCaseUsd?: unknown } | undefined)?.worstCaseUsd;
  return typeof worst === 'number' ? worst : undefined;
}

/** `$0.0123`: dollars to the micro-dollar, never in exponent form. */
const usd = (n: number): string => `$${Number(n.toFixed(6))}`;

/**
 * Decides what approving `item` does. `records` (the decision's audit chain) lets a cost-cap
 * approval compare the raise with the refused worst case; the plan is the same without them.
 */
export function planApproval(item: ReviewItem, def: IntegrationDefinition | undefined, request: ApprovalRequest, records: AuditRecord[] = []): ApprovalPlan {
  const code = item.code;
  const refuse = (why: string, usage = false): ApprovalPlan => ({ verdict: 'refuse', code, usage, why });
  const envelope = item.envelope;
  if (!envelope?.auditHead) return refuse('The message carries no pipeline envelope to send back.');
  if (!request.reason.trim()) return refuse('An approval needs --reason: say why, for the audit log.', true);
  if (!def) return refuse(`No integration named "${item.integration}" is deployed any more.`);
  const ageSeconds = (request.at.getTime() - Date.parse(envelope.receivedAt)) / 1000;
  if (ageSeconds > RETENTION_SECONDS - REDRIVE_MARGIN_SECONDS) {
    return refuse(`Received ${Math.floor(ageSeconds / 86_400)} days ago: its idempotency keys and vault tokens (kept ${RETENTION_SECONDS / 86_400} days) are gone or about to be, so acting now could act twice. Reject it and handle the ticket by hand from its trace.`);
  }
  const at = request.at.toISOString();

  if (code === COST_CAP_CODE) {
    const worst = refusedWorstCaseUsd(item, records);
    const hint = worst === undefined ? '' : ` The refused worst case was ${usd(worst)}; a raise of at least that gets it past any cap.`;
    const extra = request.extraUsd;
    if (extra === undefined) return refuse(`${code} needs --extra-usd <USD>: how much to raise every cap for this decision's next inference (at most ${MAX_EXTRA_USD}).${hint}`, true);
    if (!Number.isFinite(extra) || extra <= 0 || extra > MAX_EXTRA_USD) return refuse(`--extra-usd is a positive number of dollars, at most ${MAX_EXTRA_USD}; got ${extra}.`, true);
    const capOverride: CapOverride = { approvedBy: request.approvedBy, at, reason: request.reason, extraUsd: extra };
    return {
      verdict: 'approve', code, to: 'infer', override: { capOverride },
      why: `Back to infer with a one-off raise of every cap by ${usd(extra)} for this decision (the model is called again; the spend counts against the caps; infer audits the override and does not carry it on).`,
      ...(worst !== undefined && extra < worst ? { warning: `The raise ${usd(extra)} is below the refused worst case ${usd(worst)}: the same cap may refuse it again.` } : {}),
    };
  }

  if (VERIFY_REVIEW_CODES.includes(code)) {
    if (request.extraUsd !== undefined) return refuse(`--extra-usd is for ${COST_CAP_CODE} items only; ${code} was blocked at verify, and approving it accepts the decision as it stands.`, true);
    // The approval covers the block the person saw — this item's code — and nothing else: verify
    // stops at the first block, so another one behind it has not been shown to anyone yet. If one
    // is there, the decision goes back to review with it (a second approval, after reading it).
    const probe: HumanApproval = { approvedBy: request.approvedBy, at, reason: request.reason, codes: [code] };
    const judged = judgeEnvelope(def, { ...envelope, stage: 'verify', humanApproval: probe });
    if (!judged.verdict.decision || judged.verdict.blocked?.to === 'dlq') {
      return refuse(`Verify would still block it (${judged.verdict.blocked?.code ?? 'no decision'}): ${judged.verdict.blocked?.reason ?? 'there is nothing to accept'} A schema failure or a rejecting policy is never accepted.`);
    }
    const retracted = judged.verdict.retracted.length;
    const kept = retracted ? `; ${retracted} retracted quote${retracted === 1 ? '' : 's'} stay retracted` : '';
    if (judged.verdict.blocked) {
      return {
        verdict: 'approve', code, to: 'verify', override: { humanApproval: probe },
        why: `Back to verify with ${code} accepted${kept}.`,
        warning: `Verify will then hold it again for ${judged.verdict.blocked.code}, which nobody has accepted yet: ${judged.verdict.blocked.reason} It comes back to the review queue with that code.`,
      };
    }
    const actions = def.actions(forAction(judged.verdict.decision, def.grounding.reasoningField), envelope.input);
    return {
      verdict: 'approve', code, to: 'verify', override: { humanApproval: probe },
      why: `Back to verify, accepted as it stands (${code} recorded as overridden); act runs ${actions.map((a) => a.name).join(', ') || 'no actions'}${kept}.`,
    };
  }
  return refuse(`${code} is not a code an approval can resolve (${REVIEW_CODES.join(', ')}); reject it and handle the decision by hand.`);
}

/** The envelope an approval sends: addressed to its stage, carrying the override, linked to `head`. */
function approvedEnvelope(item: ReviewItem, to: 'infer' | 'verify', override: ApprovalOverride, head: AuditRecord): Envelope {
  const { capOverride: _c, humanApproval: _h, ...rest } = item.envelope;
  return { ...rest, ...override, stage: to, auditHead: headOf(head) };
}

/** The `review_approved` record, chained to the item's head, and the envelope to send, linked to it. */
export function approvalRecord(item: ReviewItem, plan: ApprovalPlan & { verdict: 'approve' }, at: Date): { record: AuditRecord; envelope: Envelope } {
  const override = 'capOverride' in plan.override ? plan.override.capOverride : plan.override.humanApproval;
  const record = sealRecord(
    {
      decisionId: item.decisionId, integration: item.integration, stage: 'review', attempt: 0, kind: REVIEW_APPROVED, at: at.toISOString(),
      data: { approvedBy: override.approvedBy, reason: override.reason, code: item.code, to: plan.to, override: plan.override, previous: { stage: item.stage, code: item.code, reason: item.reason, at: item.at } },
    },
    item.envelope.auditHead,
  );
  return { record, envelope: approvedEnvelope(item, plan.to, plan.override, record) };
}

/**
 * The envelope of an approval that was recorded but never sent (a run that stopped in between):
 * what that record says, linked to it. Not a second approval.
 */
export function resumeApproval(item: ReviewItem, record: AuditRecord): Envelope {
  const to = record.data.to === 'infer' ? 'infer' : 'verify';
  return approvedEnvelope(item, to, record.data.override as ApprovalOverride, record);
}

/**
 * The `review_rejected` record: final, outcome `review` (the item was reviewed and closed; nothing
 * was executed), naming who rejected it and why.
 */
export function rejectionRecord(item: ReviewItem, rejectedBy: string, reason: string, at: Date): AuditRecord {
  return sealRecord(
    {
      decisionId: item.decisionId, integration: item.integration, stage: 'review', attempt: 0, kind: REVIEW_REJECTED, at: at.toISOString(),
      data: {
        outcome: 'review', resolution: 'rejected', code: item.code, reason: `Rejected by ${rejectedBy}: ${reason}`, rejectedBy, rejectReason: reason,
        previous: { stage: item.stage, code: item.code, reason: item.reason, at: item.at },
      },
    },
    item.envelope.auditHead,
  );
}

/** Where a review message stands against its decision's audit chain. */
export type CopyState =
  /** Nothing happened after the item: it can be approved or rejected. */
  | { state: 'fresh' }
  /** Only an approval of this very copy follows: sent and not picked up yet, or never sent (a run that stopped). */
  | { state: 'approved-pending'; record: AuditRecord; ageMinutes: number }
  /** A rejection follows: this copy outlived the run that rejected it. */
  | { state: 'rejected'; record: AuditRecord }
  /**
   * The decision went on after the item (approved and picked up, or a sibling copy — the stage
   * delivered twice — was handled): a stale copy, to remove, never to send.
   */
  | { state: 'moved-on'; first: AuditRecord; kinds: string[] };

/** Classifies a review message by the records written after its head (stale-copy protection). */
export function copyState(item: ReviewItem, records: AuditRecord[], now: Date): CopyState {
  const head = item.envelope?.auditHead;
  const later = head ? records.filter((r) => r.seq > head.seq).sort((a, b) => a.seq - b.seq) : [];
  if (later.length === 0) return { state: 'fresh' };
  const first = later[0];
  if (first.kind === REVIEW_REJECTED) return { state: 'rejected', record: first };
  if (later.length === 1 && first.kind === REVIEW_APPROVED && first.prevHash === head!.hash) return { state: 'approved-pending', record: first, ageMinutes: (now.getTime() - Date.parse(first.at)) / 60_000 };
  return { state: 'moved-on', first, kinds: later.map((r) => r.kind) };
}
