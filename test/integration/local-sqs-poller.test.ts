import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  GetQueueAttributesCommand, PurgeQueueCommand, ReceiveMessageCommand, SQSClient, SendMessageBatchCommand, SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { STAGE_SPECS, QUEUES } from '../../lib/topology.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators, type Emulators } from '../../lib/local/emulators.js';
import { startSqsPoller, type SqsPoller } from '../../lib/local/sqs-poller.js';

/** Polls `check` until it returns a value, or fails after `ms`. */
async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('startSqsPoller', () => {
  let emulators: Emulators;
  let sqs: SQSClient;
  let poller: SqsPoller | undefined;
  const errors: unknown[] = [];

  beforeAll(async () => {
    // One-second visibility timeout so redelivery and redrive happen within a test.
    emulators = await startEmulators({ visibilityTimeoutSeconds: 1 });
    sqs = new SQSClient({
      region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: emulators.endpoints.sqs, useQueueUrlAsEndpoint: false,
    });
  });

  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
    errors.length = 0;
    for (const q of QUEUES) {
      await sqs.send(new PurgeQueueCommand({ QueueUrl: emulators.queueUrls[q].url }));
      await sqs.send(new PurgeQueueCommand({ QueueUrl: emulators.queueUrls[q].dlqUrl }));
    }
  });

  afterAll(async () => {
    sqs?.destroy();
    await emulators?.stop();
  });

  const start = (queue: keyof typeof STAGE_SPECS, handler: (e: SQSEvent) => unknown) => {
    poller = startSqsPoller({
      queueUrl: emulators.queueUrls[queue].url,
      handler: async (event) => handler(event) as never,
      batchSize: STAGE_SPECS[queue].batchSize,
      timeoutSeconds: STAGE_SPECS[queue].timeoutSeconds,
      sqs,
      functionName: `seamwork-${queue}`,
      onError: (error) => errors.push(error),
    });
    return poller;
  };

  async function depth(url: string): Promise<number> {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({
      QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }));
    return Number(Attributes?.ApproximateNumberOfMessages) + Number(Attributes?.ApproximateNumberOfMessagesNotVisible);
  }

  it('builds the SQS event the way the Lambda event source mapping does', async () => {
    const seen: SQSRecord[] = [];
    start('validate', (event) => { seen.push(...event.Records); });
    await sqs.send(new SendMessageCommand({
      QueueUrl: emulators.queueUrls.validate.url,
      MessageBody: '{"hello":"world"}',
      MessageAttributes: {
        integration: { DataType: 'String', StringValue: 'zendesk' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from('bytes') },
      },
    }));
    const [record] = await waitFor(() => (seen.length > 0 ? seen : undefined));
    expect(record.body).toBe('{"hello":"world"}');
    expect(record.eventSource).toBe('aws:sqs');
    expect(record.eventSourceARN).toBe(emulators.queueUrls.validate.arn);
    expect(record.awsRegion).toBe('us-east-1');
    expect(record.messageId).toMatch(/\S/);
    expect(record.receiptHandle).toMatch(/\S/);
    expect(record.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(record.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThan(0);
    expect(record.messageAttributes.integration).toEqual({
      stringValue: 'zendesk', stringListValues: [], binaryListValues: [], dataType: 'String',
    });
    expect(record.messageAttributes.blob.binaryValue).toBe(Buffer.from('bytes').toString('base64'));
  });

  it('redrives a message the handler always fails to the DLQ after maxReceiveCount deliveries', async () => {
    const receiveCounts: string[] = [];
    start('validate', (event) => {
      receiveCounts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
      throw new Error('always fails');
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: emulators.queueUrls.validate.url, MessageBody: 'poison' }));

    const dead = await waitFor(async () => {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: emulators.queueUrls.validate.dlqUrl, WaitTimeSeconds: 1 }));
      return out.Messages?.length ? out.Messages : undefined;
    }, 20_000);

    expect(dead.map((m) => m.Body)).toEqual(['poison']);
    const max = STAGE_SPECS.validate.maxReceiveCount;
    expect(receiveCounts).toEqual(Array.from({ length: max }, (_, i) => String(i + 1)));
    expect(errors).toHaveLength(max);
    expect(await depth(emulators.queueUrls.validate.url)).toBe(0);
  });

  it('deletes only the messages not reported as batch item failures', async () => {
    const deliveries = new Map<string, number>();
    start('verify', (event) => {
      for (const r of event.Records) deliveries.set(r.body, (deliveries.get(r.body) ?? 0) + 1);
      return { batchItemFailures: event.Records.filter((r) => r.body.startsWith('bad')).map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await sqs.send(new SendMessageBatchCommand({
      QueueUrl: emulators.queueUrls.verify.url,
      Entries: ['good-1', 'bad-1', 'good-2', 'bad-2'].map((body, i) => ({ Id: String(i), MessageBody: body })),
    }));

    // Both bad messages end in the DLQ after their redeliveries; the good ones never come back.
    const dead = await waitFor(async () => {
      const out = await sqs.send(new ReceiveMessageCommand({
        QueueUrl: emulators.queueUrls.verify.dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30,
      }));
      const bodies = (out.Messages ?? []).map((m) => m.Body);
      return bodies.length > 0 ? bodies : undefined;
    }, 20_000);
    const more = await waitFor(async () => {
      if (dead.length >= 2) return [];
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: emulators.queueUrls.verify.dlqUrl, WaitTimeSeconds: 1 }));
      return out.Messages?.length ? out.Messages.map((m) => m.Body) : undefined;
    }, 20_000);

    expect([...dead, ...more].sort()).toEqual(['bad-1', 'bad-2']);
    expect(deliveries.get('good-1')).toBe(1);
    expect(deliveries.get('good-2')).toBe(1);
    expect(deliveries.get('bad-1')).toBe(STAGE_SPECS.verify.maxReceiveCount);
    expect(poller?.stats().deleted).toBe(2);
  });

  it('leaves the whole batch when a failure names a message that is not in it', async () => {
    const deliveries: string[] = [];
    start('act', (event) => {
      deliveries.push(...event.Records.map((r) => `${r.body}@${r.attributes.ApproximateReceiveCount}`));
      return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: emulators.queueUrls.act.url, MessageBody: 'm' }));
    await waitFor(() => (deliveries.includes('m@2') ? true : undefined));
    expect(poller?.stats().deleted).toBe(0);
  });

  it('lets the in-flight invocation finish and delete its messages before stop resolves', async () => {
    let finished = false;
    let started = false;
    start('infer', async () => {
      started = true;
      await new Promise((r) => setTimeout(r, 500));
      finished = true;
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: emulators.queueUrls.infer.url, MessageBody: 'slow' }));
    await waitFor(() => (started ? true : undefined));

    await poller?.stop();

    expect(finished).toBe(true);
    expect(poller?.stats().deleted).toBe(1);
    expect(await depth(emulators.queueUrls.infer.url)).toBe(0);
  });

  it('long-polls an empty queue instead of spinning, and reports idle', async () => {
    const p = start('validate', () => undefined);
    await new Promise((r) => setTimeout(r, 2_500));
    expect(p.stats().receives).toBeGreaterThan(0);
    expect(p.stats().receives).toBeLessThanOrEqual(4);
    expect(p.idle()).toBe(true);
  });

  it('fails an invocation that outlasts the function timeout, like Lambda', async () => {
    poller = startSqsPoller({
      queueUrl: emulators.queueUrls.review.url,
      handler: () => new Promise((r) => setTimeout(r, 1_500)),
      batchSize: 1, timeoutSeconds: 0.2, sqs, functionName: 'seamwork-review-test',
      onError: (error) => errors.push(error),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: emulators.queueUrls.review.url, MessageBody: 'slow' }));
    await waitFor(() => (errors.length > 0 ? true : undefined));
    expect(String(errors[0])).toMatch(/Task timed out after 0\.20 seconds/);
    expect(poller.stats().deleted).toBe(0);
  });
});
