import {
  ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand,
  type Message, type MessageAttributeValue, type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { LOCAL_REGION } from './emulators.js';
import { createLambdaContext, invokeWithTimeout } from './lambda-context.js';

/** A queue stage's handler, as Lambda calls it from an SQS event source mapping. */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | void> | SQSBatchResponse | void;

/** Options for {@link startSqsPoller}. */
export interface SqsPollerOptions {
  queueUrl: string;
  handler: SqsHandler;
  /** Messages per invocation (ReceiveMessage allows at most 10). */
  batchSize: number;
  /** Visibility timeout requested on each receive; the queue's own setting when omitted. */
  visibilityTimeoutSeconds?: number;
  /** Function timeout: a longer invocation fails like a Lambda timeout. @default visibilityTimeoutSeconds ?? 30 */
  timeoutSeconds?: number;
  sqs: SQSClient;
  functionName: string;
  /** @default 512 */
  memoryMb?: number;
  /** Long-poll wait per receive; short so `stop()` is quick. @default 1 */
  waitTimeSeconds?: number;
  /**
   * Fault injection (chaos tests): this share of first deliveries is also put back on the queue as
   * a copy, as SQS's at-least-once delivery may do, so two consumers can get the same message.
   * Exactly that share, spread evenly (no draw), so a test can count on it.
   * @default none
   */
  duplicates?: { rate: number };
  /** Told about handler failures and SQS errors; the poller itself carries on. @default console.error */
  onError?: (error: unknown, info: { phase: 'receive' | 'invoke' | 'delete' | 'release'; functionName: string }) => void;
}

/** Counters since start. */
export interface SqsPollerStats {
  receives: number;
  emptyReceives: number;
  invocations: number;
  /** Messages deleted after a successful invocation. */
  deleted: number;
  /** Messages left on the queue for redelivery (thrown handler, timeout, or batch item failure). */
  failed: number;
  handlerErrors: number;
  /** Invocations that died of an injected crash (chaos tests). */
  crashes: number;
  /** Invocations stopped because they ran past their timeout (they would have been killed in Lambda). */
  expired: number;
  /** Copies sent to inject a duplicate delivery (chaos tests). */
  duplicatesInjected: number;
  /** Messages received for the first time (ApproximateReceiveCount 1), injected copies excluded. */
  firstDeliveries: number;
}

/** A running poller. */
export interface SqsPoller {
  /** Stops polling after the in-flight receive and invocation finish; no message is dropped. */
  stop(): Promise<void>;
  /** True when nothing is in flight and the last receive found the queue empty. */
  idle(): boolean;
  stats(): SqsPollerStats;
}

const MAX_RECEIVE_BATCH = 10;
/** Marks an injected duplicate (its value: the original's message id), so it is not copied again. */
const DUPLICATE_ATTRIBUTE = 'seamwork-duplicate-of';
const ERROR_BACKOFF_MS = 1000;

/**
 * Polls a queue and invokes a handler the way Lambda's SQS event source mapping does, with
 * ReportBatchItemFailures on: the same `SQSEvent` shape, successful messages deleted, failed
 * ones left to reappear after the visibility timeout (and reach the DLQ via the queue's
 * RedrivePolicy). One invocation at a time (reserved concurrency 1).
 */
export function startSqsPoller(opts: SqsPollerOptions): SqsPoller {
  const config = {
    ...opts,
    batchSize: Math.min(Math.max(1, opts.batchSize), MAX_RECEIVE_BATCH),
    timeoutSeconds: opts.timeoutSeconds ?? opts.visibilityTimeoutSeconds ?? 30,
    waitTimeSeconds: opts.waitTimeSeconds ?? 1,
    onError: opts.onError ?? ((error: unknown, info: { phase: string; functionName: string }) =>
      console.error(`[${info.functionName}] ${info.phase} failed:`, error)),
    queueArn: queueArnFromUrl(opts.queueUrl),
  };
  const stats: SqsPollerStats = { receives: 0, emptyReceives: 0, invocations: 0, deleted: 0, failed: 0, handlerErrors: 0, crashes: 0, expired: 0, duplicatesInjected: 0, firstDeliveries: 0 };
  let stopping = false;
  let duplicateCredit = 0;
  let busy = false;
  let lastReceiveEmpty = false;
  let wake: (() => void) | undefined;

  const sleep = (ms: number) => new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    wake = () => { clearTimeout(timer); resolve(); };
  });

  async function pollOnce(): Promise<void> {
    let messages: Message[];
    try {
      const out = await config.sqs.send(new ReceiveMessageCommand({
        QueueUrl: config.queueUrl,
        MaxNumberOfMessages: config.batchSize,
        WaitTimeSeconds: config.waitTimeSeconds,
        VisibilityTimeout: config.visibilityTimeoutSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }));
      messages = out.Messages ?? [];
    } catch (error) {
      config.onError(error, { phase: 'receive', functionName: config.functionName });
      await sleep(ERROR_BACKOFF_MS);
      return;
    }
    stats.receives++;
    lastReceiveEmpty = messages.length === 0;
    if (messages.length === 0) { stats.emptyReceives++; return; }
    if (stopping) { await release(messages); return; }
    busy = true;
    try {
      await duplicate(messages);
      await invoke(messages);
    } finally {
      busy = false;
    }
  }

  async function invoke(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, config.queueArn)) };
    const context = createLambdaContext(config);
    stats.invocations++;
    const run = invokeWithTimeout(() => config.handler(event, context), config.functionName, config.timeoutSeconds);
    let failedIds: Set<string>;
    try {
      failedIds = failuresFrom(await run.result, event);
    } catch (error) {
      stats.handlerErrors++;
      // An injected crash is the point of a chaos run, not news.
      if ((error as Error)?.name === 'SimulatedCrash') stats.crashes++;
      else if ((error as Error)?.name === 'InvocationExpired') stats.expired++;
      else config.onError(error, { phase: 'invoke', functionName: config.functionName });
      failedIds = new Set(event.Records.map((r) => r.messageId));
    }
    // A timed-out handler is still running in this process; let it finish before the next batch.
    await run.settled;
    stats.failed += failedIds.size;
    const done = messages.filter((m) => !failedIds.has(m.MessageId ?? ''));
    if (done.length > 0) await remove(done);
  }

  /** Sends a copy of the chosen first deliveries back to the queue: a duplicate another consumer may get at once. */
  async function duplicate(messages: Message[]): Promise<void> {
    const d = config.duplicates;
    for (const m of messages) {
      if (m.Attributes?.ApproximateReceiveCount !== '1' || m.MessageAttributes?.[DUPLICATE_ATTRIBUTE]) continue;
      stats.firstDeliveries++;
      if (!d || d.rate <= 0) continue;
      duplicateCredit += d.rate;
      if (duplicateCredit < 1) continue;
      duplicateCredit -= 1;
      try {
        await config.sqs.send(new SendMessageCommand({
          QueueUrl: config.queueUrl, MessageBody: m.Body ?? '', MessageAttributes: { [DUPLICATE_ATTRIBUTE]: { DataType: 'String', StringValue: m.MessageId ?? '' } },
        }));
        stats.duplicatesInjected++;
      } catch (error) {
        config.onError(error, { phase: 'receive', functionName: config.functionName });
      }
    }
  }

  async function remove(messages: Message[]): Promise<void> {
    try {
      const out = await config.sqs.send(new DeleteMessageBatchCommand({
        QueueUrl: config.queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }));
      stats.deleted += out.Successful?.length ?? 0;
      if (out.Failed?.length) {
        config.onError(new Error(`DeleteMessageBatch failed for ${out.Failed.length} message(s): ${JSON.stringify(out.Failed)}`),
          { phase: 'delete', functionName: config.functionName });
      }
    } catch (error) {
      config.onError(error, { phase: 'delete', functionName: config.functionName });
    }
  }

  /** Hands back messages received during shutdown so they are redelivered at once, not after the timeout. */
  async function release(messages: Message[]): Promise<void> {
    try {
      await config.sqs.send(new ChangeMessageVisibilityBatchCommand({
        QueueUrl: config.queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0 })),
      }));
    } catch (error) {
      config.onError(error, { phase: 'release', functionName: config.functionName });
    }
  }

  const loop = (async () => {
    while (!stopping) await pollOnce();
  })();

  return {
    stop: async () => {
      stopping = true;
      wake?.();
      await loop;
    },
    idle: () => !busy && lastReceiveEmpty,
    stats: () => ({ ...stats }),
  };
}

/**
 * Ids of the messages to leave on the queue, by Lambda's ReportBatchItemFailures rules: none for
 * an empty or absent response; the whole batch if the response names an id not in it, or is
 * not a batch response at all.
 */
function failuresFrom(response: SQSBatchResponse | void, event: SQSEvent): Set<string> {
  if (response === undefined || response === null) return new Set();
  const all = new Set(event.Records.map((r) => r.messageId));
  const failures = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return all;
  const ids = new Set<string>();
  for (const failure of failures) {
    const id = failure?.itemIdentifier;
    if (typeof id !== 'string' || !all.has(id)) return all;
    ids.add(id);
  }
  return ids;
}

/** The record Lambda builds from a received message. */
export function toRecord(message: Message, queueArn: string): SQSRecord {
  const attrs = message.Attributes ?? {};
  const attributes: SQSRecord['attributes'] = {
    ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
    SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
    SenderId: attrs.SenderId ?? 'AIDAIENQZJOLO23YVJ4VO',
    ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
  for (const key of ['AWSTraceHeader', 'SequenceNumber', 'MessageGroupId', 'MessageDeduplicationId', 'DeadLetterQueueSourceArn'] as const) {
    if (attrs[key] !== undefined) attributes[key] = attrs[key];
  }
  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes,
    messageAttributes: toLambdaAttributes(message.MessageAttributes),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: LOCAL_REGION,
  };
  if (message.MD5OfMessageAttributes) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

/** SQS API attribute values (`StringValue`, bytes) in Lambda's shape (`stringValue`, base64). */
function toLambdaAttributes(attributes: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    out[name] = {
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') } : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return out;
}

/** `http://host/<account>/<name>` → `arn:aws:sqs:<region>:<account>:<name>`. */
function queueArnFromUrl(queueUrl: string): string {
  const [account, name] = new URL(queueUrl).pathname.split('/').filter(Boolean);
  if (!account || !name) throw new Error(`not an SQS queue URL: ${queueUrl}`);
  return `arn:aws:sqs:${LOCAL_REGION}:${account}:${name}`;
}
