import type { GroundingPolicy } from '../integration.js';
import { canonicalJson } from '../audit-record.js';
import { pass, skip, UNCONFIRMED, type Finding } from './finding.js';

/**
 * Step 8 — divergence canary. For decisions that match the integration's high-stakes predicate,
 * infer samples the same prompt a second time at a different temperature; the structured fields
 * of the two must agree. A divergence means the model is unsure in a way its confidence did not
 * say, so the decision goes to review (`DivergenceDetected` metric).
 */

/** Whether the canary (step 8) or the evaluator (step 6) runs for this decision, and why. */
export function wants(step: { when: 'high-stakes' | 'always' } | undefined, policy: GroundingPolicy, decision: Record<string, unknown>): { run: boolean; why: string } {
  if (!step) return { run: false, why: 'not in the policy' };
  if (step.when === 'always') return { run: true, why: 'every decision' };
  if (!policy.highStakes) return { run: false, why: 'the policy names no high-stakes predicate' };
  return policy.highStakes.test(decision) ? { run: true, why: `high stakes: ${policy.highStakes.describe}` } : { run: false, why: `not high stakes (${policy.highStakes.describe})` };
}

/** What infer recorded about the second sample. */
export type CanarySample =
  | { ran: true; decision: Record<string, unknown>; why: string }
  | { ran: false; why: string; failed?: string; capRefused?: boolean };

/**
 * Compares the named fields of the two samples (values compared as canonical JSON). `wanted` is
 * whether the policy asks for a second sample of this decision: one that was asked for and not
 * drawn fails, so no path (a batch, a replay) can skip the canary by leaving it out.
 */
export function checkDivergence(first: Record<string, unknown>, canary: CanarySample | undefined, fields: string[], wanted?: { run: boolean; why: string }): Finding {
  if (!canary) {
    if (wanted?.run) return { check: 'divergence', step: 8, ok: false, unretractable: true, code: UNCONFIRMED, detail: `The policy samples this decision twice (${wanted.why}) but no second sample was drawn.`, data: { unconfirmed: true } };
    return skip('divergence', 8, `No second sample: ${wanted?.why ?? 'not asked for'}.`);
  }
  if (!canary.ran) {
    if (canary.failed) return { check: 'divergence', step: 8, ok: false, unretractable: true, detail: canary.capRefused ? `The second sample (step 8) was refused by the caps: ${canary.failed} The high-stakes decision is unconfirmed.` : `The second sample could not be drawn (${canary.failed}), so a high-stakes decision is unconfirmed.`, data: { why: canary.why, unconfirmed: true }, code: canary.capRefused ? 'COST_CAP_EXCEEDED' : UNCONFIRMED };
    return skip('divergence', 8, `No second sample: ${canary.why}.`);
  }
  const differ = fields.filter((f) => canonicalJson(first[f] ?? null) !== canonicalJson(canary.decision[f] ?? null));
  if (differ.length === 0) return pass('divergence', 8, `Two samples agree on ${fields.join(', ')} (${canary.why}).`);
  return {
    check: 'divergence', step: 8, ok: false, unretractable: true,
    detail: `Two samples disagree on ${differ.map((f) => `${f} (${JSON.stringify(first[f] ?? null)} vs ${JSON.stringify(canary.decision[f] ?? null)})`).join(', ')}.`,
    data: { fields: differ, first: Object.fromEntries(differ.map((f) => [f, first[f] ?? null])), second: Object.fromEntries(differ.map((f) => [f, canary.decision[f] ?? null])), why: canary.why },
  };
}
