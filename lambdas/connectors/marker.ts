import { ConnectorRejected, SeamworkError } from '../core/errors.js';

/**
 * The marker an action leaves at the vendor so a later attempt can find it (read-before-write
 * reconciliation): an HTML comment carrying the action's idempotency key, invisible in GitHub's
 * rendered Markdown, and one line at the end of a Zendesk internal note (agents only).
 */
export function actionMarker(idempotencyKey: string): string {
  assertMarkerKey(idempotencyKey);
  return `<!-- seamwork:${idempotencyKey} -->`;
}

/** Whether a vendor's text carries the marker of exactly this key (a longer key sharing the prefix does not match). */
export function hasActionMarker(text: unknown, idempotencyKey: string): boolean {
  return typeof text === 'string' && text.includes(actionMarker(idempotencyKey));
}

// Letters, digits and `:._/+=-`, without `--` (which would end the HTML comment early).
const MARKER_KEY = /^[A-Za-z0-9:._/+=-]{1,200}$/;

/** Refuses a key that could not be written into, or found again in, a marker. */
export function assertMarkerKey(idempotencyKey: string): void {
  if (typeof idempotencyKey !== 'string' || !MARKER_KEY.test(idempotencyKey) || idempotencyKey.includes('--')) {
    throw new ConnectorRejected(`Idempotency key "${String(idempotencyKey).slice(0, 80)}" cannot be a marker: use 1 to 200 of A-Z a-z 0-9 : . _ / + = - without "--".`);
  }
}

/** How far before `notBefore` a look-up starts: vendor clocks and ours disagree by this much at most. */
export const RECONCILE_CLOCK_SKEW_MS = 5 * 60_000;

/** The earliest vendor time a look-up must cover, or undefined when the action gives no bound. */
export function lookBackStart(notBefore: Date | undefined): Date | undefined {
  return notBefore && new Date(notBefore.getTime() - RECONCILE_CLOCK_SKEW_MS);
}

/**
 * A look-up read as much vendor history as it may without finding the marker or reaching the
 * time the action could first have been sent, so it cannot say the action never happened. Not
 * retryable: re-sending could duplicate the action, and a retry would read the same history.
 */
export class ReconcileInconclusive extends SeamworkError {
  constructor(message: string, detail: Record<string, unknown> = {}) {
    super('RECONCILE_INCONCLUSIVE', message, false, { detail });
  }
}

/** What a look-up found: the earlier attempt's effect, or nothing (safe to execute). */
export type ReconcileResult = { found: true; response: Record<string, unknown> } | { found: false };
