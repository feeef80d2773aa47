import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../lambdas/aws/clients.js';
import { readMessageBody } from '../../lambdas/aws/sqs-queues.js';
import { ENV } from '../../lambdas/core/config-keys.js';
import type { RejectionRecord } from '../../lambdas/core/envelope.js';
import { QUEUES, dlqName, isParkingQueue, type QueueName } from '../topology.js';
import { cell } from './format.js';
import { useLocalState } from './state.js';

/**
 * `seamwork queues [<queue>]`: every queue's depth, or a peek at up to 10 messages of one queue
 * (the review queue, a DLQ): decision id, code and reason. Peeking does not consume: the
 * messages stay visible (VisibilityTimeout 0). A peek is still a receive and counts towards a
 * queue's maxReceiveCount: harmless for the review queue and the DLQs (which have none to speak of),
 * so the stage queues are refused.
 */
export async function queuesCommand(queue: string | undefined): Promise<number> {
  useLocalState();
  const urlOf = (name: string): string | undefined => {
    const base = name.replace(/-dlq$/, '');
    return process.env[name.endsWith('-dlq') ? ENV.dlqUrl(base) : ENV.queueUrl(base)];
  };
  const names = QUEUES.flatMap((q) => [q, dlqName(q)]);
  if (!queue) {
    for (const name of names) {
      const res = await sqsClient().send(new GetQueueAttributesCommand({ QueueUrl: urlOf(name), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }));
      const a = res.Attributes ?? {};
      console.log(`${cell(name, 14)} waiting ${cell(a.ApproximateNumberOfMessages ?? 0, 5)} in flight ${cell(a.ApproximateNumberOfMessagesNotVisible ?? 0, 5)} delayed ${a.ApproximateNumberOfMessagesDelayed ?? 0}`);
    }
    return 0;
  }
  if (!names.includes(queue)) {
    console.error(`No queue "${queue}" (queues: ${names.join(', ')}).`);
    return 2;
  }
  if (!queue.endsWith('-dlq') && !isParkingQueue(queue as QueueName)) {
    console.error(`Peeking at ${queue} would count as a delivery and push its messages towards the DLQ; peek at review, quarantine or a DLQ.`);
    return 2;
  }
  const res = await sqsClient().send(new ReceiveMessageCommand({ QueueUrl: urlOf(queue), MaxNumberOfMessages: 10, VisibilityTimeout: 0, WaitTimeSeconds: 0 }));
  const messages = res.Messages ?? [];
  if (messages.length === 0) console.log(`${queue} is empty.`);
  for (const m of messages) {
    const body = await readMessageBody<Partial<RejectionRecord> & { decisionId?: string; stage?: string }>({ body: m.Body ?? '{}' });
    console.log(`${cell(body.decisionId ?? '?', 26)} ${cell(body.stage ?? '', 9)} ${cell(body.code ?? '', 26)} ${body.reason ?? '(a stage envelope, not a rejection record)'}`);
  }
  return 0;
}
