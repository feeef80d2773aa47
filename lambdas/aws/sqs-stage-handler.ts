import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { QueueStage } from '../core/config-keys.js';
import type { Envelope } from '../core/envelope.js';
import type { MetricsSink } from '../core/ports.js';
import { isDeadInvocation, runStage, type StepMemo } from '../core/stage-runner.js';
import type { StageOutcome } from '../core/stages/types.js';
import { PowertoolsMetricsSink } from './metrics.js';
import { readMessageBody } from './sqs-queues.js';
import { Wiring } from './wiring.js';

/**
 * Turns a core stage into an SQS Lambda handler with partial-batch semantics: each record is
 * run through the stage runner; retryable failures become batch item failures (SQS redelivers,
 * then redrives to the DLQ); everything else is done. Logs carry ids and codes, never payloads.
 */
export function makeStageHandler(stage: QueueStage, build: (w: Wiring, metrics: MetricsSink) => (e: Envelope, memo: StepMemo) => Promise<StageOutcome>) {
  let wiring: Wiring | undefined;
  let sink: PowertoolsMetricsSink | undefined;
  const logger = new Logger({ serviceName: 'seamwork', persistentKeys: { stage } });

  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    wiring ??= new Wiring();
    wiring.registerContext(context);
    sink ??= new PowertoolsMetricsSink(stage, wiring.config.metricsFile);
    const fn = build(wiring, sink);
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const [i, record] of event.Records.entries()) {
      const attempt = Number(record.attributes?.ApproximateReceiveCount ?? '1');
      let envelope: Envelope;
      try {
        envelope = await readMessageBody<Envelope>(record);
      } catch (err) {
        // An unreadable message cannot be processed by any retry: let SQS redrive it with the raw body intact.
        logger.error('unreadable queue message', { messageId: record.messageId, error: (err as Error).message });
        failures.push({ itemIdentifier: record.messageId });
        continue;
      }
      try {
        const remaining = wiring.remainingMs();
        const res = await runStage(stage, envelope, { attempt, maxReceiveCount: wiring.config.maxReceiveCount[stage] }, fn, {
          audit: wiring.auditFor(stage), queues: wiring.queues, metrics: sink, now: () => new Date(),
          // The lease ends with the invocation: past it, this delivery is dead for sure.
          ledger: wiring.stageLedger, ...(remaining !== undefined ? { leaseSeconds: Math.max(1, Math.ceil(remaining / 1000)) } : {}), faults: wiring.faults,
          // Waiting for a twin must leave time for the rest of the batch: at most half of what is
          // left per record still to run, and never more than 5 s.
          ...(remaining !== undefined ? { busyWaitMs: Math.max(0, Math.min(5_000, (remaining - 2_000) / (2 * (event.Records.length - i)))) } : {}),
          remainingMs: wiring.remainingMs,
        });
        if (res.status === 'retry') {
          // `message` is a key Powertools' logger reserves (and drops): the error goes under its own keys.
          logger.warn('stage failed, will retry', { decisionId: envelope.decisionId, code: res.error.code, reason: res.error.message, attempt });
          failures.push({ itemIdentifier: record.messageId });
        } else if (res.duplicate) {
          logger.info('stage already done for this decision: redelivery ignored', { decisionId: envelope.decisionId, integration: envelope.integration, outcome: res.outcome ?? null });
        } else if (res.outcome) {
          logger.info('decision outcome', { decisionId: envelope.decisionId, integration: envelope.integration, outcome: res.outcome });
        }
      } catch (err) {
        // A simulated crash kills the whole invocation, as a real one would.
        if (isDeadInvocation(err)) throw err;
        // The runner could not even record the failure (audit or queue down): redeliver.
        logger.error('stage runner failed', { decisionId: envelope.decisionId, reason: (err as Error).message });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    sink.flush();
    return { batchItemFailures: failures };
  };
}
