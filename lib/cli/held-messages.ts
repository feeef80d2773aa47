import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { sqsClient } from '../../lambdas/aws/clients.js';
import { readMessageBody } from '../../lambdas/aws/sqs-queues.js';

/** A message received and held invisible while a command works on it. */
export interface HeldMessage<T> {
  url: string;
  receiptHandle: string;
  item: T;
  sentAt: Date;
}

/** Options of {@link holdEvery}. */
export interface HoldOptions<T> {
  /**
   * Turns a body that is not JSON into an item (a DLQ holds whatever SQS moved there); without it
   * such a body fails the whole read.
   */
  unreadable?: (body: string, error: Error) => T;
}

/**
 * Receives every message of a parked queue (a DLQ, review, quarantine), holding each invisible
 * for five minutes so a listing sees each once; the caller releases or deletes them.
 */
export async function holdEvery<T>(url: string, opts: HoldOptions<T> = {}): Promise<Array<HeldMessage<T>>> {
  const out: Array<HeldMessage<T>> = [];
  for (let empty = 0; empty < 2;) {
    const res = await sqsClient().send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 300, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['SentTimestamp'] }));
    const messages = res.Messages ?? [];
    if (messages.length === 0) {
      empty += 1;
      continue;
    }
    for (const m of messages) {
      const item = await readItem(m.Body ?? '{}', opts);
      out.push({ url, receiptHandle: m.ReceiptHandle!, item, sentAt: new Date(Number(m.Attributes?.SentTimestamp ?? Date.now())) });
    }
  }
  return out;
}

async function readItem<T>(body: string, opts: HoldOptions<T>): Promise<T> {
  try {
    return await readMessageBody<T>({ body });
  } catch (err) {
    // Only a body that is not JSON is handed to the caller; an unreachable payload bucket still fails.
    if (!opts.unreadable || !(err instanceof SyntaxError)) throw err;
    return opts.unreadable(body, err);
  }
}
