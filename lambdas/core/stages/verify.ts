import type { CheckResult, Envelope, GroundingEvidence, HumanApproval } from '../envelope.js';
import { OutputSchemaViolation, SeamworkError } from '../errors.js';
import { MAX_ACTIONS_PER_DECISION } from '../time-budgets.js';
import { checkAbstain } from '../grounding/abstain.js';
import { checkCitations, fromCitations, type MappedCitations } from '../grounding/citations.js';
import { checkClaimPairing, claimsOf } from '../grounding/claim-pairing.js';
import { checkClosedBook, freeTextOf } from '../grounding/closed-book.js';
import { outputJsonSchema } from '../prompt.js';
import { checkDivergence, wants } from '../grounding/divergence.js';
import type { Finding } from '../grounding/finding.js';
import { checkEvaluation } from '../grounding/fresh-evaluator.js';
import { onFail, REVIEW_CODES } from '../grounding/playbook.js';
import { checkQuotesExist } from '../grounding/quote-exists.js';
import { checkQuotesFirst } from '../grounding/quotes-first.js';
import { checkReasoningFirst, checkReasoningNeverActs } from '../grounding/reasoning-first.js';
import { checkCitedSources } from '../grounding/source-whitelist.js';
import type { Claim, Evidence, GroundingCheckId, IntegrationDefinition, SourceDocument } from '../integration.js';
import { toPointer } from './validate.js';
import type { IntegrationLookup, StageOutcome } from './types.js';

/** Dependencies of the verify stage. */
export interface VerifyDeps {
  integration: IntegrationLookup;
}

/** The verdict on one candidate decision. */
export interface Verdict {
  /** The decision after retractions; undefined when the schema failed. */
  decision?: Record<string, unknown>;
  checks: CheckResult[];
  retracted: Evidence[];
  /** Claims retracted (unpaired, ungrounded, or found unsupported by the evaluator). */
  retractedClaims: Claim[];
  /** Why it cannot act: schema failure or a `reject` policy → `dlq`; grounding/abstain/confidence → `review`. */
  blocked?: { to: 'dlq' | 'review'; code: string; reason: string; pointer?: string };
}

/** How a candidate is judged: whose decision it is, and what infer gathered for it. */
export interface JudgeOptions {
  /** A person's approval from the review queue. */
  accept?: HumanApproval;
  /** `baseline` decisions come from deterministic rules: the model-only steps are skipped. @default 'ai' */
  source?: 'ai' | 'baseline';
  grounding?: GroundingEvidence;
}

/** Checks that only make sense for a model's output. */
const MODEL_ONLY: ReadonlySet<string> = new Set(['reasoning-first', 'quotes-first', 'citations', 'fresh-evaluator', 'claim-pairing', 'divergence']);

/** Same claim (the evaluator and closed book name claims by value). */
const sameClaim = (a: Claim, b: Claim) => a.field === b.field && a.statement === b.statement && a.quote_ids.join() === b.quote_ids.join();
const sameQuote = (a: Evidence, b: Evidence) => a.quote === b.quote && a.source === b.source && a.id === b.id;

/**
 * Layer 4 on one decision: the output schema, then the grounding playbook (docs/grounding.md) in
 * this order — reasoning first (10), quotes first (2) or citations (5), source whitelist (9),
 * verbatim citations (7), closed book (4), fresh-context evaluator (6), claim pairing (3),
 * divergence canary (8), abstention (1) — then the evidence minimum and the confidence floor. Pure
 * and synchronous: the model calls of steps 6 and 8 were made at infer and arrive in `grounding`.
 *
 * Each failure does what the integration's policy says: `retract` drops what the check found
 * (a quote, a claim) and goes on — unless nothing can be dropped to fix it, then review; `review`
 * sends the decision to the review queue; `reject` parks it in the DLQ.
 *
 * With `accept` (a person's approval from the review queue), a check that would send the decision
 * to review with one of the accepted codes is recorded as `overridden`, naming who and why, and the
 * remaining checks still run: a block the person did not see still blocks. An accepted abstention
 * makes no claims to weigh, so the evidence minimum and the confidence floor are skipped for it
 * (its quotes are still checked). A schema failure is never accepted, nor a `reject`.
 */
export function checkDecision(def: IntegrationDefinition, candidate: unknown, documents: SourceDocument[], options: JudgeOptions = {}): Verdict {
  const { accept, source = 'ai', grounding = {} } = options;
  const checks: CheckResult[] = [];
  const retracted: Evidence[] = [];
  const retractedClaims: Claim[] = [];
  /** Records a failed check; true when a person accepted its code, so checking goes on. */
  const accepted = (code: string, failed: CheckResult): boolean => {
    if (!accept?.codes.includes(code)) {
      checks.push(failed);
      return false;
    }
    checks.push({
      ...failed,
      verdict: 'overridden',
      detail: `${failed.detail} Accepted by ${accept.approvedBy}: ${accept.reason}`,
      data: { ...failed.data, code, approvedBy: accept.approvedBy, reason: accept.reason, at: accept.at },
    });
    return true;
  };
  const parsed = def.output.schema.safeParse(candidate);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${toPointer(i.path) || '/'}: ${i.message}`);
    checks.push({ check: 'output-schema', verdict: 'fail', detail: `Output does not match the schema: ${issues.slice(0, 3).join('; ')}.`, data: { issues } });
    return {
      checks, retracted, retractedClaims,
      blocked: { to: 'dlq', code: 'OUTPUT_SCHEMA_VIOLATION', reason: checks[0].detail, pointer: toPointer(parsed.error.issues[0]?.path ?? []) },
    };
  }
  checks.push({ check: 'output-schema', verdict: 'pass', detail: 'Output matches the schema.' });
  const decision = { ...(parsed.data as Record<string, unknown>) };
  // Key order as the model wrote it (the parsed copy follows the schema's order instead).
  const raw = candidate && typeof candidate === 'object' ? (candidate as Record<string, unknown>) : {};
  const policy = def.grounding;
  const blocked = (to: 'dlq' | 'review', code: string, reason: string): Verdict => ({ decision, checks, retracted, retractedClaims, blocked: { to, code, reason } });

  let evidence = ((decision.evidence as Evidence[]) ?? []).slice();
  let claims = claimsOf(decision);

  /**
   * Applies the policy to one finding. Returns a Verdict when the decision stops here.
   */
  const apply = (f: Finding): Verdict | undefined => {
    const base: CheckResult = { check: f.check, step: f.step, verdict: 'pass', detail: f.detail, ...(f.data ? { data: f.data } : {}) };
    if (f.skipped) {
      checks.push({ ...base, verdict: 'skipped' });
      return undefined;
    }
    if (f.ok) {
      checks.push(base);
      return undefined;
    }
    const code = f.code ?? REVIEW_CODES[f.check];
    const action = f.check === 'abstain' ? 'review' : onFail(policy, f.check as GroundingCheckId);
    const drop = () => {
      if (f.retractQuotes?.length) {
        retracted.push(...f.retractQuotes);
        evidence = evidence.filter((e) => !f.retractQuotes!.some((r) => sameQuote(e, r)));
      }
      if (f.retractClaims?.length) {
        retractedClaims.push(...f.retractClaims);
        claims = claims.filter((c) => !f.retractClaims!.some((r) => sameClaim(c, r)));
      }
    };
    if (action === 'reject') {
      checks.push({ ...base, verdict: 'fail' });
      return blocked('dlq', 'GROUNDING_REJECTED', `${f.check} (step ${f.step}) failed and the policy rejects: ${f.detail}`);
    }
    if (action === 'retract' && !f.unretractable) {
      checks.push({ ...base, verdict: 'retracted' });
      drop();
      return undefined;
    }
    // Review (or a retract that dropping cannot satisfy). Whatever was found is dropped either
    // way: a quote that is not in its source never reaches an action, accepted or not.
    drop();
    if (!accepted(code, { ...base, verdict: 'fail' })) return blocked('review', code, f.detail);
    return undefined;
  };
  const notForBaseline = (check: string, step: number): Finding => ({ check: check as Finding['check'], step, ok: true, skipped: true, detail: 'The baseline is deterministic rules, not a model.' });
  const run = (check: string, step: number, f: () => Finding): Verdict | undefined => apply(source === 'baseline' && MODEL_ONLY.has(check) ? notForBaseline(check, step) : f());

  const reasoningField = policy.reasoningField ?? 'reasoning';
  let stop = run('reasoning-first', 10, () => checkReasoningFirst(raw, reasoningField));
  if (stop) return stop;

  const abstained = decision.outcome === def.output.abstainOutcome;

  let mapped: MappedCitations | undefined;
  if (policy.mode === 'citations' && source === 'ai') {
    mapped = fromCitations(grounding.citations ?? [], documents, policy.claimFields);
    evidence = mapped.evidence;
    claims = mapped.claims;
  }
  stop = run('quotes-first', 2, () => checkQuotesFirst(raw, policy.claimFields, policy.mode));
  if (stop) return stop;
  stop = run('citations', 5, () => checkCitations(policy.mode, grounding.citations, mapped));
  if (stop) return stop;
  stop = apply(checkCitedSources(evidence, documents, policy.trustedOrigins));
  if (stop) return stop;
  stop = apply(checkQuotesExist(evidence, documents).finding);
  if (stop) return stop;
  // Every free-text string that could reach an action: summary, comments, missing_information[], nested reasons.
  const closedFields = freeTextOf(decision, outputJsonSchema(def.output.schema), [reasoningField, 'evidence', 'claims']);
  stop = apply(checkClosedBook(source === 'ai' ? claims : [], closedFields, documents));
  if (stop) return stop;
  // What the policy asks of this decision (steps 6 and 8): asked for and missing fails.
  const asks = (step: { when: 'high-stakes' | 'always' } | undefined) => (source === 'ai' && !abstained ? wants(step, policy, decision) : { run: false, why: abstained ? 'an abstention' : 'not the model\'s decision' });
  stop = run('fresh-evaluator', 6, () => checkEvaluation(grounding.evaluator, claims.length || grounding.evaluator ? asks(policy.evaluator) : { run: false, why: 'the decision states no claims' }, documents));
  if (stop) return stop;
  // An abstention needs no claim for its fields, but any claim it does make must cite a verified quote.
  stop = run('claim-pairing', 3, () => checkClaimPairing(claims, evidence, decision, abstained ? [] : policy.claimFields));
  if (stop) return stop;
  stop = run('divergence', 8, () => checkDivergence(decision, grounding.canary, policy.canary?.fields ?? [], asks(policy.canary)));
  if (stop) return stop;
  // Step 1 last among the playbook: an abstention's quotes are still checked above, so one that
  // invents a quote is flagged as a hallucination, not only counted as an abstention.
  stop = apply(checkAbstain(decision, def.output.abstainOutcome));
  if (stop) return stop;

  decision.evidence = evidence;
  if (source === 'ai' || 'claims' in decision) decision.claims = claims;

  const notForAbstention = (check: string): CheckResult => ({ check, verdict: 'skipped', detail: 'Does not apply to an abstention a person accepted.' });
  if (abstained) {
    checks.push(notForAbstention('min-evidence'));
  } else if (evidence.length < policy.minEvidence) {
    const detail = `${evidence.length} verified quote${evidence.length === 1 ? '' : 's'} remain; the policy needs ${policy.minEvidence}.`;
    if (!accepted('INSUFFICIENT_EVIDENCE', { check: 'min-evidence', verdict: 'fail', detail })) return blocked('review', 'INSUFFICIENT_EVIDENCE', detail);
  } else {
    checks.push({ check: 'min-evidence', verdict: 'pass', detail: `${evidence.length} verified quotes (policy: ${policy.minEvidence}).` });
  }

  const confidence = Number(decision.confidence);
  if (abstained) {
    checks.push(notForAbstention('confidence-floor'));
  } else if (!(confidence >= policy.minConfidence)) {
    const detail = `Confidence ${confidence} is below the floor ${policy.minConfidence}.`;
    if (!accepted('LOW_CONFIDENCE', { check: 'confidence-floor', verdict: 'fail', detail })) return blocked('review', 'LOW_CONFIDENCE', detail);
  } else {
    checks.push({ check: 'confidence-floor', verdict: 'pass', detail: `Confidence ${confidence} ≥ ${policy.minConfidence}.` });
  }
  return { decision, checks, retracted, retractedClaims };
}

/** Removes what must never reach an action (reasoning is audit-only). */
export function forAction(decision: Record<string, unknown>, reasoningField = 'reasoning'): Record<string, unknown> {
  const { [reasoningField]: _reasoning, ...rest } = decision;
  return rest;
}

/** The verdicts verify reaches on an envelope: the acting decision's, and in shadow the AI's (recorded only). */
export interface EnvelopeJudgement {
  source: 'ai' | 'baseline';
  verdict: Verdict;
  /** Shadow only: the AI's verdict, never acted on (a person's approval does not apply to it). */
  shadow?: Verdict;
}

/**
 * Judges an envelope as the verify stage does, applying its `humanApproval` to the acting
 * decision only. Pure: `seamwork review` uses it to say what an approval would do.
 */
export function judgeEnvelope(def: IntegrationDefinition, envelope: Envelope): EnvelopeJudgement {
  const documents = envelope.documents ?? [];
  const path = envelope.path ?? 'baseline';
  const accept = envelope.humanApproval;
  const grounding = envelope.grounding;
  if (path === 'ai') return { source: 'ai', verdict: checkDecision(def, envelope.aiDecision ?? {}, documents, { accept, source: 'ai', grounding }) };
  const verdict = checkDecision(def, envelope.baselineDecision ?? {}, documents, { accept, source: 'baseline' });
  return path === 'shadow' ? { source: 'baseline', verdict, shadow: checkDecision(def, envelope.aiDecision ?? {}, documents, { source: 'ai', grounding }) } : { source: 'baseline', verdict };
}

/**
 * Layer 4 stage: on the AI path the model's output must pass every check to reach act; on
 * the baseline path the baseline's output passes the same checks; in shadow the AI is judged
 * and recorded while the baseline acts. A person's approval (`humanApproval`, from the review
 * queue) turns the blocks it names into `overridden` checks, once: it is not carried on.
 */
export async function verifyStage(envelope: Envelope, deps: VerifyDeps): Promise<StageOutcome> {
  const def = deps.integration(envelope.integration);
  const path = envelope.path ?? 'baseline';
  const { source: actingSource, verdict, shadow } = judgeEnvelope(def, envelope);
  const { humanApproval, ...rest } = envelope;
  const checks = verdict.checks;
  const auditData: Record<string, unknown> = { path, source: actingSource, checks, retracted: verdict.retracted, retractedClaims: verdict.retractedClaims };
  if (humanApproval) auditData.humanApproval = humanApproval;
  if (shadow) auditData.shadow = { checks: shadow.checks, retracted: shadow.retracted, retractedClaims: shadow.retractedClaims, blocked: shadow.blocked ?? null };

  if (verdict.blocked) {
    const next = { ...rest, checks };
    if (verdict.blocked.to === 'review') {
      return { kind: 'review', envelope: next, code: verdict.blocked.code, reason: verdict.blocked.reason, audit: { kind: 'verified', data: auditData } };
    }
    if (verdict.blocked.code === 'GROUNDING_REJECTED') throw new SeamworkError('GROUNDING_REJECTED', verdict.blocked.reason, false, { detail: { checks } });
    throw new OutputSchemaViolation(verdict.blocked.reason, { pointer: verdict.blocked.pointer, detail: { checks } });
  }

  const decision = verdict.decision!;
  const actions = def.actions(forAction(decision, def.grounding.reasoningField), envelope.input);
  if (actions.length > MAX_ACTIONS_PER_DECISION) {
    throw new SeamworkError('TOO_MANY_ACTIONS', `${def.name} asked for ${actions.length} actions; at most ${MAX_ACTIONS_PER_DECISION} fit the act stage's time budget.`, false);
  }
  // Step 10's other half: the reasoning stays in the audit record, never in an action.
  const leak = checkReasoningNeverActs(decision[def.grounding.reasoningField ?? 'reasoning'], actions);
  if (!leak.ok) throw new SeamworkError('GROUNDING_REJECTED', leak.detail, false, { detail: { checks } });
  const shadowActions = shadow && !shadow.blocked ? def.actions(forAction(shadow.decision!, def.grounding.reasoningField), envelope.input) : undefined;
  const next: Envelope = {
    ...rest,
    stage: 'act',
    checks,
    verified: { source: actingSource, decision: forAction(decision, def.grounding.reasoningField), actions, retracted: verdict.retracted, retractedClaims: verdict.retractedClaims, ...(shadowActions ? { shadowActions } : {}) },
  };
  return { kind: 'forward', to: 'act', envelope: next, audit: { kind: 'verified', data: { ...auditData, decision, actions, shadowActions: shadowActions ?? null } } };
}
