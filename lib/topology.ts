import { ENV, PARKING_QUEUES, QUARANTINE_QUEUE, QUEUE_STAGES, REVIEW_QUEUE, type QueueStage } from '../lambdas/core/config-keys.js';

/**
 * The one declaration of Seamwork's topology. The CDK stack (lib/cloud) and the local stack
 * (lib/local) are both built from it, so what runs locally is what deploys.
 */

/** A queue stage's Lambda: which queue feeds it and what it may send to. */
export interface StageSpec {
  stage: QueueStage;
  /** Handler source file, relative to the repo root; exports `handler`. */
  entry: string;
  /** Seconds a received message stays invisible; > the function timeout. */
  visibilityTimeoutSeconds: number;
  /** Deliveries before SQS redrives a message to the DLQ. */
  maxReceiveCount: number;
  /** Function timeout in seconds. */
  timeoutSeconds: number;
  /** SQS batch size for the event source mapping / local poller. */
  batchSize: number;
  memoryMb: number;
  /** Queues this stage sends to (queue stages or `review`). */
  sendsTo: Array<QueueStage | typeof REVIEW_QUEUE | typeof QUARANTINE_QUEUE>;
  /** Tables it reads/writes, by logical name. */
  tables: Array<keyof typeof TABLES>;
  /** Whether it reads the flags profile. */
  readsFlags: boolean;
  /** Whether it calls the model (needs the model API key). */
  callsModel: boolean;
  /** Whether it calls connectors (needs connector credentials). */
  callsConnectors: boolean;
}

/** DynamoDB tables: partition key `pk`, sort key where noted, TTL attribute `expiresAt` (epoch seconds). */
export const TABLES = {
  dedupe: { envKey: ENV.TABLE_DEDUPE, sortKey: false },
  ledger: { envKey: ENV.TABLE_LEDGER, sortKey: false },
  idempotency: { envKey: ENV.TABLE_IDEMPOTENCY, sortKey: false },
  vault: { envKey: ENV.TABLE_VAULT, sortKey: false },
  /** Contract drift counts: pk `<integration>#<contract version>`, sk `<day>#<field>#<kind>`. */
  drift: { envKey: ENV.TABLE_DRIFT, sortKey: true },
} as const;
export type TableName = keyof typeof TABLES;

/** S3 buckets. The audit bucket is write-once (Object Lock in AWS, Seamwork's guard locally). */
export const BUCKETS = {
  audit: { envKey: ENV.AUDIT_BUCKET, objectLock: true },
  payload: { envKey: ENV.PAYLOAD_BUCKET, objectLock: false },
} as const;
export type BucketName = keyof typeof BUCKETS;

/** The HTTP ingest function. */
export const INGEST = {
  entry: 'lambdas/handlers/ingest.ts',
  route: '/webhooks/{integration}',
  timeoutSeconds: 10,
  memoryMb: 256,
  maxBodyBytes: 256 * 1024,
  sendsTo: ['validate'] as QueueStage[],
  tables: ['dedupe', 'vault', 'idempotency'] as TableName[],
} as const;

/** The scheduled sweeper: gives back cost reservations of invocations that died before reconciling. */
export const SWEEPER = {
  entry: 'lambdas/handlers/sweep.ts',
  scheduleMinutes: 5,
  timeoutSeconds: 60,
  memoryMb: 256,
  tables: ['ledger'] as TableName[],
} as const;

/** The audit checkpointer: a signed, chained checkpoint of the audit log on a schedule (docs/audit.md). */
export const CHECKPOINTER = {
  entry: 'lambdas/handlers/checkpoint.ts',
  scheduleMinutes: 15,
  timeoutSeconds: 300,
  memoryMb: 512,
} as const;

/** The queue stages, in pipeline order. */
export const STAGE_SPECS: Record<QueueStage, StageSpec> = {
  validate: {
    stage: 'validate', entry: 'lambdas/handlers/validate.ts', visibilityTimeoutSeconds: 120, maxReceiveCount: 3,
    timeoutSeconds: 20, batchSize: 10, memoryMb: 512, sendsTo: ['infer', QUARANTINE_QUEUE], tables: ['vault', 'drift', 'idempotency'],
    readsFlags: false, callsModel: false, callsConnectors: false,
  },
  infer: {
    // One message per invocation: the model call's worst case (retries included) must fit the timeout.
    stage: 'infer', entry: 'lambdas/handlers/infer.ts', visibilityTimeoutSeconds: 1440, maxReceiveCount: 4,
    timeoutSeconds: 240, batchSize: 1, memoryMb: 512, sendsTo: ['verify', 'infer', REVIEW_QUEUE], tables: ['ledger', 'idempotency'],
    readsFlags: true, callsModel: true, callsConnectors: false,
  },
  verify: {
    stage: 'verify', entry: 'lambdas/handlers/verify.ts', visibilityTimeoutSeconds: 120, maxReceiveCount: 3,
    timeoutSeconds: 20, batchSize: 10, memoryMb: 512, sendsTo: ['act', REVIEW_QUEUE], tables: ['ledger', 'idempotency'],
    readsFlags: false, callsModel: false, callsConnectors: false,
  },
  act: {
    // One decision per invocation: a timeout mid-batch would let in-progress idempotency records lapse.
    stage: 'act', entry: 'lambdas/handlers/act.ts', visibilityTimeoutSeconds: 360, maxReceiveCount: 5,
    timeoutSeconds: 60, batchSize: 1, memoryMb: 512, sendsTo: [], tables: ['idempotency', 'vault'],
    readsFlags: false, callsModel: false, callsConnectors: true,
  },
};

/**
 * The parking queues (review, quarantine): read by people and their tools, so a message is
 * received many times without anything being wrong (SQS's maximum receive count before its DLQ),
 * and kept as long as SQS allows.
 */
export const REVIEW_SPEC = { visibilityTimeoutSeconds: 300, maxReceiveCount: 1000, retentionDays: 14, oldestAgeAlarmHours: 24 } as const;

/** Every queue Seamwork declares, with its DLQ: the four stage queues, review and quarantine. */
export const QUEUES = [...QUEUE_STAGES, ...PARKING_QUEUES] as const;
export type QueueName = (typeof QUEUES)[number];

/** Name of the DLQ of a queue. */
export const dlqName = (queue: QueueName): string => `${queue}-dlq`;

/** AppConfig names for the flags. */
export const FLAGS = {
  application: 'seamwork',
  environment: 'live',
  profile: 'integration-flags',
} as const;

/** Whether a queue is read by people (review, quarantine) rather than by a stage. */
export function isParkingQueue(queue: QueueName): queue is (typeof PARKING_QUEUES)[number] {
  return (PARKING_QUEUES as readonly string[]).includes(queue);
}

/** Visibility timeout and redrive count of a queue, from the topology. */
export function queueSettings(queue: QueueName): { visibilityTimeoutSeconds: number; maxReceiveCount: number } {
  if (isParkingQueue(queue)) return { visibilityTimeoutSeconds: REVIEW_SPEC.visibilityTimeoutSeconds, maxReceiveCount: REVIEW_SPEC.maxReceiveCount };
  const spec = STAGE_SPECS[queue];
  return { visibilityTimeoutSeconds: spec.visibilityTimeoutSeconds, maxReceiveCount: spec.maxReceiveCount };
}
