import { makeStageHandler } from '../aws/sqs-stage-handler.js';
import { DEFAULT_BREAKER } from '../core/breaker.js';
import { inferStage } from '../core/stages/infer.js';
import { RESERVATION_TTL_SECONDS } from '../core/time-budgets.js';

/** Layers 2 and 3 Lambda: path, prompt, cost caps, the model call. */
export const handler = makeStageHandler('infer', (w, metrics) => (envelope, memo) =>
  inferStage(envelope, {
    memo,
    integration: w.integration,
    flags: w.flags,
    ledger: w.ledger,
    model: w.model,
    now: () => new Date(),
    caps: w.config.caps,
    tenantCaps: w.tenantCaps,
    pacer: w.pacer,
    maxRateLimitRequeues: 5,
    reservationTtlSeconds: RESERVATION_TTL_SECONDS,
    breaker: { store: w.breaker, policy: DEFAULT_BREAKER, metrics },
  }),
);
