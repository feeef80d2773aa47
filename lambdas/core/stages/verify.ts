import type { CheckResult, Envelope } from '../envelope.js';
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
 */
export function checkDecision(def: IntegrationDefinition, candidate: unknown, documents: SourceDocument[]): Verdict {
  const checks: CheckResult[] = [];
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

  if (decision.outcome === def.output.abstainOutcome) {
    checks.push({ check: 'abstain', verdict: 'fail', detail: `The model answered ${def.output.abstainOutcome}.`, data: { missing: decision.missing_information ?? [] } });
    return { decision, checks, retracted: [], blocked: { to: 'review', code: 'INSUFFICIENT_INFORMATION', reason: `The decision says ${def.output.abstainOutcome}; a human must look.` } };
  }

  const evidence = (decision.evidence as Evidence[]) ?? [];
  const quotes = verifyQuotes(evidence, documents);
  const retracted: Evidence[] = quotes.unfound.map(({ quote, source }) => ({ quote, source }));
  if (quotes.unfound.length === 0) {
    checks.push({ check: 'quote-exists', verdict: 'pass', detail: evidence.length === 1 ? 'The quote appears verbatim in its source.' : `All ${evidence.length} quotes appear verbatim in their sources.` });
  } else {
    checks.push({
      check: 'quote-exists',
      verdict: policy.onUnfoundQuote === 'retract' ? 'retracted' : 'fail',
      detail: `${quotes.unfound.length} of ${evidence.length} quotes were not found in the cited source${policy.onUnfoundQuote === 'retract' ? ' and were retracted' : ''}.`,
      data: { unfound: quotes.unfound },
    });
    if (policy.onUnfoundQuote === 'review') {
      return { decision, checks, retracted, blocked: { to: 'review', code: 'QUOTE_NOT_FOUND', reason: checks.at(-1)!.detail } };
    }
    decision.evidence = quotes.found;
  }

  if (quotes.found.length < policy.minEvidence) {
    checks.push({ check: 'min-evidence', verdict: 'fail', detail: `${quotes.found.length} verified quote${quotes.found.length === 1 ? '' : 's'} remain; the policy needs ${policy.minEvidence}.` });
    return { decision, checks, retracted, blocked: { to: 'review', code: 'INSUFFICIENT_EVIDENCE', reason: checks.at(-1)!.detail } };
  }
  checks.push({ check: 'min-evidence', verdict: 'pass', detail: `${quotes.found.length} verified quotes (policy: ${policy.minEvidence}).` });

  if (policy.numbersInFields?.length) {
    const unsupported = verifyNumbers(Object.fromEntries(policy.numbersInFields.map((f) => [f, decision[f]])), documents);
    if (unsupported.length > 0) {
      checks.push({
        check: 'numbers-in-sources', verdict: 'fail',
        detail: `${unsupported.map((u) => `"${u.number}" in ${u.field}`).join(', ')} appear${unsupported.length === 1 ? 's' : ''} in no source document.`,
        data: { unsupported },
      });
      return { decision, checks, retracted, blocked: { to: 'review', code: 'UNGROUNDED_NUMBER', reason: checks.at(-1)!.detail } };
    }
    checks.push({ check: 'numbers-in-sources', verdict: 'pass', detail: `Every number in ${policy.numbersInFields.join(', ')} appears in the sources.` });
  }

  const confidence = Number(decision.confidence);
  if (!(confidence >= policy.minConfidence)) {
    checks.push({ check: 'confidence-floor', verdict: 'fail', detail: `Confidence ${confidence} is below the floor ${policy.minConfidence}.` });
    return { decision, checks, retracted, blocked: { to: 'review', code: 'LOW_CONFIDENCE', reason: checks.at(-1)!.detail } };
  }
  checks.push({ check: 'confidence-floor', verdict: 'pass', detail: `Confidence ${confidence} ≥ ${policy.minConfidence}.` });
  return { decision, checks, retracted };
}

/** Removes what must never reach an action (reasoning is audit-only). */
function forAction(decision: Record<string, unknown>): Record<string, unknown> {
  const { reasoning: _reasoning, ...rest } = decision;
  return rest;
}

/**
 * Layer 4 stage: on the AI path the model's output must pass every check to reach act; on
 * the baseline path the baseline's output passes the same checks; in shadow the AI is judged
 * and recorded while the baseline acts.
 */
export async function verifyStage(envelope: Envelope, deps: VerifyDeps): Promise<StageOutcome> {
  const def = deps.integration(envelope.integration);
  const documents = envelope.documents ?? [];
  const path = envelope.path ?? 'baseline';

  const aiVerdict = path === 'baseline' ? undefined : checkDecision(def, envelope.aiDecision ?? {}, documents);
  const actingSource: 'ai' | 'baseline' = path === 'ai' ? 'ai' : 'baseline';
  const verdict = actingSource === 'ai' ? aiVerdict! : checkDecision(def, envelope.baselineDecision ?? {}, documents);
  const checks = verdict.checks;
  const auditData: Record<string, unknown> = { path, source: actingSource, checks, retracted: verdict.retracted };
  if (path === 'shadow') auditData.shadow = { checks: aiVerdict!.checks, retracted: aiVerdict!.retracted, blocked: aiVerdict!.blocked ?? null };

  if (verdict.blocked) {
    const next = { ...envelope, checks };
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
  const shadowActions = path === 'shadow' && aiVerdict && !aiVerdict.blocked ? def.actions(forAction(aiVerdict.decision!), envelope.input) : undefined;
  const next: Envelope = {
    ...envelope,
    stage: 'act',
    checks,
    verified: { source: actingSource, decision: forAction(decision), actions, retracted: verdict.retracted, ...(shadowActions ? { shadowActions } : {}) },
  };
  return { kind: 'forward', to: 'act', envelope: next, audit: { kind: 'verified', data: { ...auditData, decision, actions, shadowActions: shadowActions ?? null } } };
}
