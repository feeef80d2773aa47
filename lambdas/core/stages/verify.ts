import type { CheckResult, Envelope, HumanApproval } from '../envelope.js';
import { OutputSchemaViolation, SeamworkError } from '../errors.js';
import { MAX_ACTIONS_PER_DECISION } from '../time-budgets.js';
import { verifyNumbers } from '../grounding/numbers-in-sources.js';
import { verifyQuotes } from '../grounding/quote-exists.js';
import type { Evidence, IntegrationDefinition, SourceDocument } from '../integration.js';
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
  /** Why it cannot act: schema failure → `dlq`, grounding/abstain/confidence → `review`. */
  blocked?: { to: 'dlq' | 'review'; code: string; reason: string; pointer?: string };
}

/**
 * Layer 4 checks on one decision: output schema, verbatim quotes (a claim without a found
 * quote is retracted), minimum evidence, abstention, confidence floor. Pure and synchronous.
 *
 * With `accept` (a person's approval from the review queue), a check that would send the decision
 * to review with one of the accepted codes is recorded as `overridden`, naming who and why, and the
 * remaining checks still run: a block the person did not see still blocks. An accepted abstention
 * makes no claims to weigh, so the evidence minimum and the confidence floor are skipped for it
 * (its quotes and numbers are still checked). A schema failure is never accepted.
 */
export function checkDecision(def: IntegrationDefinition, candidate: unknown, documents: SourceDocument[], accept?: HumanApproval): Verdict {
  const checks: CheckResult[] = [];
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
      checks,
      retracted: [],
      blocked: { to: 'dlq', code: 'OUTPUT_SCHEMA_VIOLATION', reason: checks[0].detail, pointer: toPointer(parsed.error.issues[0]?.path ?? []) },
    };
  }
  checks.push({ check: 'output-schema', verdict: 'pass', detail: 'Output matches the schema.' });
  const decision = { ...(parsed.data as Record<string, unknown>) };
  const policy = def.grounding;

  const abstained = decision.outcome === def.output.abstainOutcome;
  if (abstained && !accepted('INSUFFICIENT_INFORMATION', { check: 'abstain', verdict: 'fail', detail: `The model answered ${def.output.abstainOutcome}.`, data: { missing: decision.missing_information ?? [] } })) {
    return { decision, checks, retracted: [], blocked: { to: 'review', code: 'INSUFFICIENT_INFORMATION', reason: `The decision says ${def.output.abstainOutcome}; a human must look.` } };
  }
  const notForAbstention = (check: string): CheckResult => ({ check, verdict: 'skipped', detail: 'Does not apply to an abstention a person accepted.' });

  const evidence = (decision.evidence as Evidence[]) ?? [];
  const quotes = verifyQuotes(evidence, documents);
  const retracted: Evidence[] = quotes.unfound.map(({ quote, source }) => ({ quote, source }));
  if (quotes.unfound.length === 0) {
    checks.push({ check: 'quote-exists', verdict: 'pass', detail: evidence.length === 1 ? 'The quote appears verbatim in its source.' : `All ${evidence.length} quotes appear verbatim in their sources.` });
  } else {
    const unfound: CheckResult = {
      check: 'quote-exists',
      verdict: policy.onUnfoundQuote === 'retract' ? 'retracted' : 'fail',
      detail: `${quotes.unfound.length} of ${evidence.length} quotes were not found in the cited source${policy.onUnfoundQuote === 'retract' ? ' and were retracted' : ''}.`,
      data: { unfound: quotes.unfound },
    };
    if (policy.onUnfoundQuote === 'review' && !accepted('QUOTE_NOT_FOUND', unfound)) {
      return { decision, checks, retracted, blocked: { to: 'review', code: 'QUOTE_NOT_FOUND', reason: unfound.detail } };
    }
    if (policy.onUnfoundQuote === 'retract') checks.push(unfound);
    // Accepted or not, a quote that is not in its source never reaches an action.
    decision.evidence = quotes.found;
  }

  if (abstained) {
    checks.push(notForAbstention('min-evidence'));
  } else if (quotes.found.length < policy.minEvidence) {
    const detail = `${quotes.found.length} verified quote${quotes.found.length === 1 ? '' : 's'} remain; the policy needs ${policy.minEvidence}.`;
    if (!accepted('INSUFFICIENT_EVIDENCE', { check: 'min-evidence', verdict: 'fail', detail })) {
      return { decision, checks, retracted, blocked: { to: 'review', code: 'INSUFFICIENT_EVIDENCE', reason: detail } };
    }
  } else {
    checks.push({ check: 'min-evidence', verdict: 'pass', detail: `${quotes.found.length} verified quotes (policy: ${policy.minEvidence}).` });
  }

  if (policy.numbersInFields?.length) {
    const unsupported = verifyNumbers(Object.fromEntries(policy.numbersInFields.map((f) => [f, decision[f]])), documents);
    if (unsupported.length > 0) {
      const detail = `${unsupported.map((u) => `"${u.number}" in ${u.field}`).join(', ')} appear${unsupported.length === 1 ? 's' : ''} in no source document.`;
      if (!accepted('UNGROUNDED_NUMBER', { check: 'numbers-in-sources', verdict: 'fail', detail, data: { unsupported } })) {
        return { decision, checks, retracted, blocked: { to: 'review', code: 'UNGROUNDED_NUMBER', reason: detail } };
      }
    } else {
      checks.push({ check: 'numbers-in-sources', verdict: 'pass', detail: `Every number in ${policy.numbersInFields.join(', ')} appears in the sources.` });
    }
  }

  const confidence = Number(decision.confidence);
  if (abstained) {
    checks.push(notForAbstention('confidence-floor'));
  } else if (!(confidence >= policy.minConfidence)) {
    const detail = `Confidence ${confidence} is below the floor ${policy.minConfidence}.`;
    if (!accepted('LOW_CONFIDENCE', { check: 'confidence-floor', verdict: 'fail', detail })) {
      return { decision, checks, retracted, blocked: { to: 'review', code: 'LOW_CONFIDENCE', reason: detail } };
    }
  } else {
    checks.push({ check: 'confidence-floor', verdict: 'pass', detail: `Confidence ${confidence} ≥ ${policy.minConfidence}.` });
  }
  return { decision, checks, retracted };
}

/** Removes what must never reach an action (reasoning is audit-only). */
export function forAction(decision: Record<string, unknown>): Record<string, unknown> {
  const { reasoning: _reasoning, ...rest } = decision;
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
  if (path === 'ai') return { source: 'ai', verdict: checkDecision(def, envelope.aiDecision ?? {}, documents, accept) };
  const verdict = checkDecision(def, envelope.baselineDecision ?? {}, documents, accept);
  return path === 'shadow' ? { source: 'baseline', verdict, shadow: checkDecision(def, envelope.aiDecision ?? {}, documents) } : { source: 'baseline', verdict };
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
  const auditData: Record<string, unknown> = { path, source: actingSource, checks, retracted: verdict.retracted };
  if (humanApproval) auditData.humanApproval = humanApproval;
  if (shadow) auditData.shadow = { checks: shadow.checks, retracted: shadow.retracted, blocked: shadow.blocked ?? null };

  if (verdict.blocked) {
    const next = { ...rest, checks };
    if (verdict.blocked.to === 'review') {
      return { kind: 'review', envelope: next, code: verdict.blocked.code, reason: verdict.blocked.reason, audit: { kind: 'verified', data: auditData } };
    }
    throw new OutputSchemaViolation(verdict.blocked.reason, { pointer: verdict.blocked.pointer, detail: { checks } });
  }

  const decision = verdict.decision!;
  const actions = def.actions(forAction(decision), envelope.input);
  if (actions.length > MAX_ACTIONS_PER_DECISION) {
    throw new SeamworkError('TOO_MANY_ACTIONS', `${def.name} asked for ${actions.length} actions; at most ${MAX_ACTIONS_PER_DECISION} fit the act stage's time budget.`, false);
  }
  const shadowActions = shadow && !shadow.blocked ? def.actions(forAction(shadow.decision!), envelope.input) : undefined;
  const next: Envelope = {
    ...rest,
    stage: 'act',
    checks,
    verified: { source: actingSource, decision: forAction(decision), actions, retracted: verdict.retracted, ...(shadowActions ? { shadowActions } : {}) },
  };
  return { kind: 'forward', to: 'act', envelope: next, audit: { kind: 'verified', data: { ...auditData, decision, actions, shadowActions: shadowActions ?? null } } };
}
