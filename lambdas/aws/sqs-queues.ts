import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { ConfigurationError, SeamworkError } from '../core/errors.js';
import type { QueueSender } from '../core/ports.js';
import { s3Client, sqsClient } from './clients.js';

/** SQS allows 256 KiB per message; past this the body goes to S3 and the message carries a pointer. */
export const INLINE_LIMIT_BYTES = 200 * 1024;

interface PayloadPointer {
  seamworkPayloadRef: { bucket: string; key: string; bytes: number };
}

/** Sends to queues by logical name, offloading large bodies to the payload bucket. */
export class SqsQueueSender implements QueueSender {
  constructor(private readonly urls: Record<string, string>, private readonly payloadBucket?: string) {}

  async send(queue: string, body: unknown, options: { delaySeconds?: number } = {}): Promise<void> {
    const url = this.urls[queue];
    if (!url) throw new ConfigurationError(`No URL is configured for queue "${queue}" (is its SEAMWORK_QUEUE_URL_* / SEAMWORK_DLQ_URL_* variable set?).`);
    let text = JSON.stringify(body);
    const bytes = Buffer.byteLength(text);
    if (bytes > INLINE_LIMIT_BYTES) {
      if (!this.payloadBucket) throw new ConfigurationError(`A ${bytes}-byte message needs the payload bucket, and SEAMWORK_PAYLOAD_BUCKET is not set.`);
      const id = (body as { decisionId?: string }).decisionId ?? 'unknown';
      const key = `payloads/${queue}/${id}/${randomUUID()}.json`;
      await s3Client().send(new PutObjectCommand({ Bucket: this.payloadBucket, Key: key, Body: text, ContentType: 'application/json' }));
      text = JSON.stringify({ seamworkPayloadRef: { bucket: this.payloadBucket, key, bytes } } satisfies PayloadPointer);
    }
    try {
      await sqsClient().send(new SendMessageCommand({ QueueUrl: url, MessageBody: text, DelaySeconds: options.delaySeconds }));
    } catch (err) {
      throw new SeamworkError('QUEUE_SEND_FAILED', `Could not send to queue "${queue}": ${(err as Error).message}`, true, { cause: err });
    }
  }
}

/** Reads a queue message body, following an S3 pointer when the body was offloaded. */
export async function readMessageBody<T>(record: Pick<SQSRecord, 'body'>): Promise<T> {
  const parsed = JSON.parse(record.body) as T | PayloadPointer;
  if (parsed && typeof parsed === 'object' && 'seamworkPayloadRef' in parsed) {
    const ref = parsed.seamworkPayloadRef;
    const res = await s3Client().send(new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
    return JSON.parse(await res.Body!.transformToString('utf8')) as T;
  }
  return parsed as T;
}
