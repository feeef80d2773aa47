import { makeStageHandler } from '../aws/sqs-stage-handler.js';
import { DEFAULT_BREAKER, qualityFailureOf, recordSignal } from '../core/breaker.js';
import { toSeamworkError } from '../core/errors.js';
import { verifyStage } from '../core/stages/verify.js';

/**
 * Layer 4 Lambda: output schema and grounding checks. Quality failures of the AI path (a schema
 * break, a retracted quote, a number from nowhere) also count against the integration's circuit
 * breaker; the breaker never decides this decision's fate, so its errors are ignored here.
 */
export const handler = makeStageHandler('verify', (w, metrics) => async (envelope) => {
  // A decision a person approved was already counted the first time it failed.
  const note = (failed: boolean) =>
    failed && envelope.path === 'ai' && !envelope.humanApproval ? recordSignal(w.breaker, envelope.integration, 'quality_failure', DEFAULT_BREAKER, new Date(), metrics).catch(() => undefined) : undefined;
  try {
    const out = await verifyStage(envelope, { integration: w.integration });
    await note(qualityFailureOf(out));
    return out;
  } catch (err) {
    await note(qualityFailureOf(undefined, toSeamworkError(err)));
    throw err;
  }
});
