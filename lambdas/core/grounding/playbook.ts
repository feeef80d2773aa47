import type { GroundingAction, GroundingCheckId, GroundingPolicy } from '../integration.js';
import { priceFor } from '../cost.js';
import { assertAbstainable } from './abstain.js';
import { UNCONFIRMED } from './finding.js';

/**
 * The ten-step anti-hallucination playbook (the reference text's, in its order), one file per
 * step in this folder. `verify` runs them in the order of {@link RUN_ORDER}; each integration's
 * `grounding` policy says which run, with what thresholds, and what a failure does.
 */
export const PLAYBOOK: ReadonlyArray<{ step: number; check: GroundingCheckId | 'abstain'; file: string; title: string; modelCall: boolean }> = [
  { step: 1, check: 'abstain', file: 'abstain.ts', title: 'Permission to abstain', modelCall: false },
  { step: 2, check: 'quotes-first', file: 'quotes-first.ts', title: 'Quotes first', modelCall: false },
  { step: 3, check: 'claim-pairing', file: 'claim-pairing.ts', title: 'Claim–quote pairing', modelCall: false },
  { step: 4, check: 'closed-book', file: 'closed-book.ts', title: 'Closed book', modelCall: false },
  { step: 5, check: 'citations', file: 'citations.ts', title: 'Citations API', modelCall: false },
  { step: 6, check: 'fresh-evaluator', file: 'fresh-evaluator.ts', title: 'Fresh-context evaluator', modelCall: true },
  { step: 7, check: 'quote-exists', file: 'quote-exists.ts', title: 'Deterministic citation check', modelCall: false },
  { step: 8, check: 'divergence', file: 'divergence.ts', title: 'Divergence canary', modelCall: true },
  { step: 9, check: 'source-whitelist', file: 'source-whitelist.ts', title: 'Source whitelist', modelCall: false },
  { step: 10, check: 'reasoning-first', file: 'reasoning-first.ts', title: 'Reasoning before claims', modelCall: false },
];

/** What a failure does when the policy does not say. */
export const DEFAULT_ON_FAIL: Record<GroundingCheckId, GroundingAction> = {
  'reasoning-first': 'review',
  'quotes-first': 'review',
  citations: 'retract',
  'source-whitelist': 'retract',
  'quote-exists': 'retract',
  'closed-book': 'retract',
  'fresh-evaluator': 'retract',
  'claim-pairing': 'retract',
  divergence: 'review',
};

/** The review code a blocking failure of each check carries (what `seamwork review approve` accepts). */
export const REVIEW_CODES: Record<GroundingCheckId | 'abstain' | 'unconfirmed', string> = {
  abstain: 'INSUFFICIENT_INFORMATION',
  'reasoning-first': 'REASONING_NOT_FIRST',
  'quotes-first': 'QUOTES_NOT_FIRST',
  citations: 'CITATION_UNMAPPED',
  'source-whitelist': 'SOURCE_NOT_TRUSTED',
  'quote-exists': 'QUOTE_NOT_FOUND',
  'closed-book': 'UNGROUNDED_CLAIM',
  'fresh-evaluator': 'EVALUATOR_UNSUPPORTED',
  'claim-pairing': 'UNSUPPORTED_CLAIM',
  divergence: 'DIVERGENT_SAMPLES',
  unconfirmed: UNCONFIRMED,
};

/** The action a policy gives a check. */
export function onFail(policy: GroundingPolicy, check: GroundingCheckId): GroundingAction {
  return policy.onFail?.[check] ?? DEFAULT_ON_FAIL[check];
}

/** Checks whose failure means the model stated something the sources do not back (not abstention, confidence or evidence count). */
export const HALLUCINATION_CHECKS: ReadonlySet<string> = new Set<string>(['reasoning-first', 'quotes-first', 'citations', 'source-whitelist', 'quote-exists', 'closed-book', 'fresh-evaluator', 'claim-pairing', 'divergence']);

/** Whether one check flags a hallucination: it failed or retracted something — not a grounding call that could not be made. */
export function flagsHallucination(c: { check: string; verdict: string; data?: Record<string, unknown> }): boolean {
  return HALLUCINATION_CHECKS.has(c.check) && (c.verdict === 'fail' || c.verdict === 'retracted') && c.data?.unconfirmed !== true;
}

/** Whether a decision's checks flag a hallucination. */
export function hallucinationFlagged(checks: ReadonlyArray<{ check: string; verdict: string; data?: Record<string, unknown> }>): boolean {
  return checks.some(flagsHallucination);
}

/**
 * Checks at definition time that an integration's grounding policy fits its output schema: the
 * abstention outcome and `missing_information` exist (step 1), the claims' `field` enum is exactly
 * `claimFields` (step 3), every field the policy names is in the schema, and at least one origin is
 * trusted (step 9). A mismatch is a programming error, thrown when the integration module loads.
 */
export function assertGroundingFits(name: string, policy: GroundingPolicy, jsonSchema: Record<string, unknown>, abstainOutcome: string): void {
  assertAbstainable(name, jsonSchema, abstainOutcome);
  const props = (jsonSchema.properties ?? {}) as Record<string, Record<string, any>>;
  const fail = (what: string) => {
    throw new Error(`Integration ${name}: ${what} (docs/grounding.md).`);
  };
  const fieldEnum: unknown[] | undefined = props.claims?.items?.properties?.field?.enum;
  if (!fieldEnum) fail('the output schema needs a "claims" list from claimsSchema() (grounding step 3)');
  if ([...fieldEnum!].sort().join() !== [...policy.claimFields].sort().join()) fail(`claims[].field offers ${fieldEnum!.join(', ')} but grounding.claimFields is ${policy.claimFields.join(', ')}`);
  const named = [...policy.claimFields, ...(policy.canary?.fields ?? [])];
  const unknown = named.filter((f) => !(f in props));
  if (unknown.length) fail(`the grounding policy names ${unknown.join(', ')}, which the output schema does not have`);
  if (!((policy.reasoningField ?? 'reasoning') in props)) fail(`the output schema has no "${policy.reasoningField ?? 'reasoning'}" field (grounding step 10)`);
  if (Object.keys(props)[0] !== (policy.reasoningField ?? 'reasoning')) fail(`"${policy.reasoningField ?? 'reasoning'}" must be the output schema's first property (grounding step 10)`);
  if (policy.trustedOrigins.length === 0) fail('grounding.trustedOrigins is empty, so no document could enter a prompt (grounding step 9)');
  for (const [name, step] of [['canary', policy.canary], ['evaluator', policy.evaluator]] as const) {
    if (step?.when === 'high-stakes' && !policy.highStakes) fail(`grounding.${name} runs for high-stakes decisions but the policy has no highStakes predicate, so it would never run`);
  }
  if (policy.evaluator?.model) {
    try {
      priceFor(policy.evaluator.model);
    } catch {
      fail(`grounding.evaluator.model ${policy.evaluator.model} has no price in lambdas/core/cost.ts, so no cap could hold its calls`);
    }
  }
}
