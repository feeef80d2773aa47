import { randomUUID } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { ConfigurationError, SeamworkError } from '../core/errors.js';
import type { QueueSender } from '../core/ports.js';
import { s3Client, sqsClient } from './clients.js';

/** SQS allows 256 KiB per message; past this the body goes to S3 and the message carries a pointer. */
export const INLINE_LIMIT_BYTES = 200 * 1024;

/**
 * What SQS refuses in a message body: anything but #x9 #xA #xD #x20–#xD7FF #xE000–#xFFFD, read one
 * UTF-16 unit at a time (no `u` flag), so each half of a surrogate pair matches as well as
 * U+FFFE, U+FFFF and lone surrogates. AWS accepts #x10000–#x10FFFF as pairs; the local emulator
 * (fauxqs 1.9.2) does not, so a body must carry none of these units to pass both.
 */
const SQS_UNSAFE_UNIT = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/g;

/**
 * Encodes a message body as JSON that every SQS accepts: `JSON.stringify`, then each UTF-16 unit
 * outside the SQS-safe set written as a `\uXXXX` escape. JSON only has such units inside strings
 * (JSON.stringify already escapes control characters and lone surrogates), so the text stays
 * valid JSON and `JSON.parse` returns the same value: an emoji travels as `\ud83d\ude00`.
 * The one home of this rule: every sender to SQS encodes with it.
 */
export function encodeMessageBody(body: unknown): string {
  const json = JSON.stringify(body);
  if (json === undefined) throw new TypeError('A queue message body must be JSON-serialisable; got undefined.');
  return json.replace(SQS_UNSAFE_UNIT, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

interface PayloadPointer {
  seamworkPayloadRef: { bucket: string; key: string; bytes: number };
}

/** Sends to queues by logical name, offloading large bodies to the payload bucket. */
export class SqsQueueSender implements QueueSender {
  constructor(private readonly urls: Record<string, string>, private readonly payloadBucket?: string) {}

  async send(queue: string, body: unknown, options: { delaySeconds?: number } = {}): Promise<void> {
    const url = this.urls[queue];
    if (!url) throw new ConfigurationError(`No URL is configured for queue "${queue}" (is its SEAMWORK_QUEUE_URL_* / SEAMWORK_DLQ_URL_* variable set?).`);
    let text = encodeMessageBody(body);
    const bytes = Buffer.byteLength(text);
    if (bytes > INLINE_LIMIT_BYTES) {
      if (!this.payloadBucket) throw new ConfigurationError(`A ${bytes}-byte message needs the payload bucket, and SEAMWORK_PAYLOAD_BUCKET is not set.`);
      const id = (body as { decisionId?: string }).decisionId ?? 'unknown';
      const key = `payloads/${queue}/${id}/${randomUUID()}.json`;
      await s3Client().send(new PutObjectCommand({ Bucket: this.payloadBucket, Key: key, Body: text, ContentType: 'application/json' }));
      text = encodeMessageBody({ seamworkPayloadRef: { bucket: this.payloadBucket, key, bytes } } satisfies PayloadPointer);
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
