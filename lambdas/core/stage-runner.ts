import { headOf, sealRecord, type AuditRecord } from './audit-record.js';
import type { QueueStage } from './config-keys.js';
import type { Envelope, RejectionRecord } from './envelope.js';
import { SeamworkError, toSeamworkError } from './errors.js';
import { METRIC_UNITS, METRICS } from './metrics.js';
import type { AuditStore, MetricsSink, QueueSender } from './ports.js';
import { metricsOf } from './record-metrics.js';
import type { StageOutcome } from './stages/types.js';

/** Ports the runner needs around any stage. */
export interface RunnerPorts {
  audit: AuditStore;
  queues: QueueSender;
  metrics: MetricsSink;
  now: () => Date;
}

/** What the runner tells the event source: `done` deletes the message, `retry` leaves it for redelivery. */
export type RunResult = { status: 'done'; outcome?: string } | { status: 'retry'; error: SeamworkError };

/** A review-queue item: the envelope plus why a human must look. */
export type ReviewItem = Omit<RejectionRecord, 'retryable'> & { kind: 'review' };

/** A quarantine item: the envelope (raw body included) held by a drift policy, with the pointer. */
export type QuarantineItem = Omit<RejectionRecord, 'retryable'> & { kind: 'quarantine' };

/**
 * Runs one stage on one envelope with the same rules everywhere: the stage's audit record is
 * written before anything is handed on; a non-retryable error (or a retryable one on its last
 * delivery) parks the message in the stage's DLQ with a rejection record and an outcome record;
 * a retryable one is left for SQS to redeliver.
 */
export async function runStage(
  stage: QueueStage,
  envelope: Envelope,
  delivery: { attempt: number; maxReceiveCount: number },
  fn: (e: Envelope) => Promise<StageOutcome>,
  ports: RunnerPorts,
): Promise<RunResult> {
  ports = { ...ports, audit: metered(ports.audit, ports.metrics) };
  const seal = (kind: string, data: Record<string, unknown>, head = envelope.auditHead): AuditRecord =>
    sealRecord({ decisionId: envelope.decisionId, integration: envelope.integration, stage, attempt: delivery.attempt, kind, at: ports.now().toISOString(), data }, head);

  let out: StageOutcome;
  try {
    out = await fn(envelope);
  } catch (caught) {
    const err = toSeamworkError(caught);
    if (err.retryable && delivery.attempt < delivery.maxReceiveCount) {
      await ports.audit.append(seal('attempt_failed', { code: err.code, message: err.message, attempt: delivery.attempt, maxReceiveCount: delivery.maxReceiveCount }));
      return { status: 'retry', error: err };
    }
    await park(stage, envelope, err, delivery, seal, ports);
    return { status: 'done', outcome: 'dlq' };
  }

  try {
    return await handOn(stage, envelope, out, seal, ports);
  } catch (caught) {
    // The stage did its work but recording or handing it on failed. Before the last delivery,
    // SQS redelivers; on the last one, park it ourselves so the DLQ message says why.
    const err = toSeamworkError(caught);
    if (delivery.attempt < delivery.maxReceiveCount) throw err;
    await park(stage, envelope, new SeamworkError(err.code, `Handing on failed on the last delivery: ${err.message}`, err.retryable, { cause: err }), delivery, seal, ports);
    return { status: 'done', outcome: 'dlq' };
  }
}

/** Records the stage's outcome and sends the envelope where it goes next. */
async function handOn(
  stage: QueueStage,
  envelope: Envelope,
  out: StageOutcome,
  seal: (kind: string, data: Record<string, unknown>) => AuditRecord,
  ports: RunnerPorts,
): Promise<RunResult> {
  switch (out.kind) {
    case 'forward': {
      const rec = seal(out.audit.kind, out.audit.data);
      await ports.audit.append(rec);
      await ports.queues.send(out.to, { ...out.envelope, stage: out.to, auditHead: headOf(rec) } satisfies Envelope);
      return { status: 'done' };
    }
    case 'requeue': {
      const rec = seal(out.audit.kind, out.audit.data);
      await ports.audit.append(rec);
      await ports.queues.send(stage, { ...out.envelope, auditHead: headOf(rec) }, { delaySeconds: Math.min(900, out.delaySeconds) });
      return { status: 'done' };
    }
    case 'review': {
      const rec = seal(out.audit.kind, { ...out.audit.data, outcome: 'review', code: out.code, reason: out.reason });
      await ports.audit.append(rec);
      const item: ReviewItem = {
        kind: 'review', stage, integration: envelope.integration, decisionId: envelope.decisionId, code: out.code, reason: out.reason,
        at: ports.now().toISOString(), envelope: { ...out.envelope, auditHead: headOf(rec) },
      };
      await ports.queues.send('review', item);
      ports.metrics.add(METRICS.ReviewRouted);
      return { status: 'done', outcome: 'review' };
    }
    case 'quarantine': {
      const rec = seal(out.audit.kind, { ...out.audit.data, outcome: 'quarantine', code: out.code, reason: out.reason, pointer: out.pointer });
      await ports.audit.append(rec);
      const item: QuarantineItem = {
        kind: 'quarantine', stage, integration: envelope.integration, decisionId: envelope.decisionId, code: out.code, reason: out.reason,
        pointer: out.pointer, contractVersion: out.contractVersion, detail: out.audit.data, at: ports.now().toISOString(),
        envelope: { ...out.envelope, auditHead: headOf(rec) },
      };
      await ports.queues.send('quarantine', item);
      return { status: 'done', outcome: 'quarantine' };
    }
    case 'final': {
      await ports.audit.append(seal(out.audit.kind, { ...out.audit.data, outcome: out.outcome }));
      return { status: 'done', outcome: out.outcome };
    }
  }
}

/** Every record written also feeds the metrics, so dashboards agree with the audit log. */
function metered(audit: AuditStore, metrics: MetricsSink): AuditStore {
  return {
    append: async (record) => {
      await audit.append(record);
      for (const [name, value] of metricsOf(record)) metrics.add(name, value, METRIC_UNITS[name]);
    },
    listDecision: (integration, decisionId) => audit.listDecision(integration, decisionId),
  };
}

async function park(
  stage: QueueStage,
  envelope: Envelope,
  err: SeamworkError,
  delivery: { attempt: number; maxReceiveCount: number },
  seal: (kind: string, data: Record<string, unknown>) => AuditRecord,
  ports: RunnerPorts,
): Promise<void> {
  const reason = err.retryable ? `${err.message} (gave up after ${delivery.attempt} deliveries)` : err.message;
  const rec = seal('rejected', {
    outcome: 'dlq', code: err.code, reason, retryable: err.retryable, pointer: err.pointer ?? null, contractVersion: err.contractVersion ?? null, detail: err.detail ?? null,
  });
  await ports.audit.append(rec);
  const rejection: RejectionRecord = {
    stage, integration: envelope.integration, decisionId: envelope.decisionId, code: err.code, reason, retryable: err.retryable,
    ...(err.pointer !== undefined ? { pointer: err.pointer } : {}),
    ...(err.contractVersion !== undefined ? { contractVersion: err.contractVersion } : {}),
    ...(err.detail ? { detail: err.detail } : {}),
    at: ports.now().toISOString(),
    envelope: { ...envelope, auditHead: headOf(rec) },
  };
  await ports.queues.send(`${stage}-dlq`, rejection);
  ports.metrics.add(METRICS.DlqRouted);
}
