import { makeStageHandler } from '../aws/sqs-stage-handler.js';
import { verifyStage } from '../core/stages/verify.js';

/** Layer 4 Lambda: output schema and grounding checks. */
export const handler = makeStageHandler('verify', (w) => (envelope) => verifyStage(envelope, { integration: w.integration }));
