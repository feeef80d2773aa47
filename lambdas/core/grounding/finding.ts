import type { Claim, Evidence, GroundingCheckId } from '../integration.js';

/**
 * What one grounding check found, before the policy decides what it does. Every check under
 * lambdas/core/grounding/ is a pure function returning one of these: `ok`, a sentence a person
 * understands, the evidence for it, and — when the check can be satisfied by dropping something —
 * what to retract.
 */
export interface Finding {
  check: GroundingCheckId | 'abstain';
  /** Playbook step, 1-10. */
  step: number;
  ok: boolean;
  /** `skipped` checks did not apply (mode, path, policy) and say why. */
  skipped?: boolean;
  detail: string;
  data?: Record<string, unknown>;
  /** Quotes the check found wanting; retracting them satisfies it. */
  retractQuotes?: Evidence[];
  /** Claims the check found wanting; retracting them satisfies it. */
  retractClaims?: Claim[];
  /**
   * Set when dropping something cannot fix the failure (a free-text field with a number from
   * nowhere, a field left without any supported claim): under a `retract` policy it still blocks.
   */
  unretractable?: boolean;
  /** The review code when it blocks, if not the check's own (a call the caps refused: COST_CAP_EXCEEDED, so an approval with --extra-usd re-runs infer). */
  code?: string;
}

/**
 * The review code of a decision a grounding call could not confirm (the call failed, or was never
 * made): not a hallucination — the metrics and the breaker do not count it as one.
 */
export const UNCONFIRMED = 'GROUNDING_UNCONFIRMED';

/** A passing finding. */
export const pass = (check: Finding['check'], step: number, detail: string, data?: Record<string, unknown>): Finding => ({ check, step, ok: true, detail, ...(data ? { data } : {}) });

/** A check that did not apply, with why. */
export const skip = (check: Finding['check'], step: number, detail: string): Finding => ({ check, step, ok: true, skipped: true, detail });

/** `n thing` / `n things`. */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
