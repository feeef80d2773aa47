import { makeStageHandler } from '../aws/sqs-stage-handler.js';
import { validateStage } from '../core/stages/validate.js';
import { RETENTION_SECONDS } from '../core/time-budgets.js';

/** Layer 1 Lambda: contract, redaction, windowing. */
export const handler = makeStageHandler('validate', (w) => (envelope) =>
  validateStage(envelope, { integration: w.integration, vault: w.vault, drift: w.drift, now: () => new Date(), vaultTtlSeconds: RETENTION_SECONDS }),
);
