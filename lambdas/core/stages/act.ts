import type { Envelope } from '../envelope.js';
import { SeamworkError, toSeamworkError } from '../errors.js';
import type { ActionExecutor, ActionResult, TokenVault } from '../ports.js';
import type { StageOutcome } from './types.js';

/** Dependencies of the act stage. */
export interface ActDeps {
  executor: ActionExecutor;
  vault: TokenVault;
  now: () => Date;
}

/**
 * Layer 5: executes the verified decision's actions, each idempotent on (decision id, action).
 * Dry runs and shadow actions are recorded, never executed.
 */
export async function actStage(envelope: Envelope, deps: ActDeps): Promise<StageOutcome> {
  const verified = envelope.verified;
  if (!verified) {
    // Invariant 5: nothing unverified reaches an action.
    throw new SeamworkError('UNVERIFIED', `Decision ${envelope.decisionId} reached act without a verified decision.`, false);
  }
  const results: ActionResult[] = [];
  if (envelope.dryRun) {
    for (const a of verified.actions) results.push({ action: a.name, status: 'recorded', response: { params: a.params } });
  } else {
    const tokens = verified.actions.length > 0 ? await deps.vault.get(envelope.decisionId, deps.now()) : {};
    for (const action of verified.actions) {
      try {
        results.push(await deps.executor.execute(envelope.decisionId, action, tokens));
      } catch (caught) {
        // Keep what already ran in the record of the failure: the audit log must show it.
        const err = toSeamworkError(caught);
        throw new SeamworkError(err.code, err.message, err.retryable, { cause: err, detail: { ...err.detail, failedAction: action.name, completed: results } });
      }
    }
  }
  const shadow = (verified.shadowActions ?? []).map((a) => ({ action: a.name, status: 'recorded' as const, response: { params: a.params } }));
  return {
    kind: 'final',
    outcome: verified.source === 'ai' ? 'acted' : 'baseline',
    envelope,
    audit: { kind: 'acted', data: { source: verified.source, dryRun: envelope.dryRun ?? false, results, shadow } },
  };
}
