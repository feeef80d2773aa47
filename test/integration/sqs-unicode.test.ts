import { randomUUID } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqsClient } from '../../lambdas/aws/clients.js';
import { INLINE_LIMIT_BYTES, SqsQueueSender, readMessageBody } from '../../lambdas/aws/sqs-queues.js';
import { ENV } from '../../lambdas/core/config-keys.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { localSecret } from '../../lib/cli/start.js';
import { deliver, loadFixtures, vendorHeaders } from '../../lib/local/fixtures.js';
import { startTestStack } from '../support/local-stack.js';

/** An emoji (U+1F600), a CJK Extension B character (U+20000), and BMP text for contrast. */
const NON_BMP = '😀 \u{20000}';

describe('queue bodies with characters outside the Basic Multilingual Plane', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;

  beforeAll(async () => {
    stack = await startTestStack();
  }, 120_000);
  afterAll(async () => stack?.stop());

  /** Receives the one message of a queue nobody polls (a DLQ), deleting it. */
  const receiveOne = async (url: string): Promise<string> => {
    const res = await sqsClient().send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
    const [m] = res.Messages ?? [];
    expect(m?.Body).toBeDefined();
    await sqsClient().send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }));
    return m.Body!;
  };

  it('is what the emulator refuses when sent as plain JSON (the fault this guards against)', async () => {
    const url = stack.emulators.queueUrls.act.dlqUrl;
    await expect(sqsClient().send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify({ s: NON_BMP }) })))
      .rejects.toThrow(/Invalid characters/);
  });

  it('sends a ticket-like envelope with an emoji and U+20000 through the SQS client and receives it intact', async () => {
    const url = stack.emulators.queueUrls.act.dlqUrl;
    const envelope = {
      v: 1, decisionId: `dec_${randomUUID()}`, integration: 'support-triage', stage: 'validate',
      raw: { body: JSON.stringify({ subject: `Refund ${NON_BMP}`, description: 'Merci 🙏, 中文 𠀀𠀁' }), headers: {} },
      input: { subject: `Refund ${NON_BMP}`, lone: '\uD800', nonCharacters: '\uFFFE\uFFFF' },
    };
    await new SqsQueueSender({ 'act-dlq': url }).send('act-dlq', envelope);
    const body = await receiveOne(url);
    expect(await readMessageBody({ body })).toEqual(envelope);
  });

  it('offloads a large body with non-BMP characters to S3 and reads it back intact', async () => {
    const url = stack.emulators.queueUrls.act.dlqUrl;
    const big = { decisionId: `dec_${randomUUID()}`, text: NON_BMP.repeat(Math.ceil(INLINE_LIMIT_BYTES / 8)) };
    await new SqsQueueSender({ 'act-dlq': url }, stack.env[ENV.PAYLOAD_BUCKET]).send('act-dlq', big);
    const body = await receiveOne(url);
    expect(JSON.parse(body)).toHaveProperty('seamworkPayloadRef');
    expect(await readMessageBody({ body })).toEqual(big);
  });

  it('accepts a webhook whose ticket carries an emoji and U+20000 (202) and the decision reaches an outcome', async () => {
    const body = JSON.parse(loadFixtures(supportTriage).find((f) => f.name === 'clean-billing-duplicate-charge')!.body);
    body.id = randomUUID();
    body.detail.subject = `Refund for duplicate annual renewal ${NON_BMP}`;
    body.detail.description = `${body.detail.description as string}\n\nSent from my phone 📱 𠀀`;
    const text = JSON.stringify(body);
    const res = await deliver(stack.webhookUrl('support-triage'), text, vendorHeaders(supportTriage, text, localSecret(stack, supportTriage)));
    expect(res.status).toBe(202);
    await stack.drain();
    const summary = summariseDecision(await stack.records('support-triage', res.body.decisionId as string));
    expect(summary.outcome).toMatch(/acted|baseline|review/);
    expect(await stack.depth('validate-dlq')).toBe(0);
  });
});
