import { makeStageHandler } from '../aws/sqs-stage-handler.js';
import { actStage } from '../core/stages/act.js';

/** Layer 5 Lambda: idempotent actions through the connectors. */
export const handler = makeStageHandler('act', (w) => (envelope) => actStage(envelope, { executor: w.executor, vault: w.vault, now: () => new Date() }));
