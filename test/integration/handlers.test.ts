import { randomUUID } from 'node:crypto';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoCostLedger } from '../../lambdas/aws/dynamo-stores.js';
import type { RejectionRecord } from '../../lambdas/core/envelope.js';
import { toMicroUsd } from '../../lambdas/core/cost.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { localSecret } from '../../lib/cli/start.js';
import { deliver, loadFixtures, vendorHeaders } from '../../lib/local/fixtures.js';
import { startTestStack } from '../support/local-stack.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

const TENANT_CAP_USD = 0.012;

let nextAccount = 50_000_000;

/** A clean ticket with fresh ids (and its own tenant, so spend caps do not leak between tests). */
function ticket(opts: { ticketId: string; accountId?: number; fixture?: string }): string {
  const fx = loadFixtures(supportTriage).find((f) => f.name === (opts.fixture ?? 'clean-billing-duplicate-charge'))!;
  const body = JSON.parse(fx.body);
  body.id = randomUUID();
  body.detail.id = opts.ticketId;
  body.subject = `zen:ticket:${opts.ticketId}`;
  body.account_id = opts.accountId ?? nextAccount++;
  return JSON.stringify(body);
}

describe('the handlers on the emulators, with the real SDKs', () => {
  let stack: Stack;
  let sqs: SQSClient;
  const send = async (body: string, headers?: Record<string, string>, integration = 'support-triage') =>
    deliver(stack.webhookUrl(integration), body, headers ?? vendorHeaders(supportTriage, body, localSecret(stack, supportTriage)));
  const outcomeOf = async (decisionId: unknown) => summariseDecision(await stack.records('support-triage', String(decisionId)));

  beforeAll(async () => {
    stack = await startTestStack({ env: { SEAMWORK_TENANT_DAILY_CAP_USD: String(TENANT_CAP_USD), SEAMWORK_MAX_RECEIVE_COUNT_ACT: '3' } });
    sqs = new SQSClient({ endpoint: stack.emulators.endpoints.sqs, region: 'us-east-1', credentials: { accessKeyId: 'l', secretAccessKey: 'l' }, useQueueUrlAsEndpoint: false });
  }, 60_000);
  afterAll(async () => {
    sqs?.destroy();
    await stack?.stop();
  });
  beforeEach(() => {
    stack.model!.setFaults({});
    stack.connectors.reset();
  });

  describe('ingest', () => {
    it('refuses an unsigned request with 401 and says which header is missing', async () => {
      const res = await send(ticket({ ticketId: '7001' }), { 'content-type': 'application/json' });
      expect(res.status).toBe(401);
      expect(String(res.body.reason)).toMatch(/x-zendesk-webhook-signature/);
    });

    it('answers 404 for an integration that is not deployed', async () => {
      const res = await send('{}', {}, 'no-such-integration');
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('UNKNOWN_INTEGRATION');
    });

    it('refuses a signed batch where one event is expected, with 400', async () => {
      const body = JSON.stringify([JSON.parse(ticket({ ticketId: '7002' })), JSON.parse(ticket({ ticketId: '7003' }))]);
      const res = await send(body);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('NOT_ONE_EVENT');
    });

    it('answers a repeat of the same vendor event with 200 duplicate and the first decision id', async () => {
      const body = ticket({ ticketId: '7004' });
      const first = await send(body);
      const second = await send(body);
      expect(first.status).toBe(202);
      expect(second).toEqual({ status: 200, body: { status: 'duplicate', decisionId: first.body.decisionId } });
      await stack.drain();
    });
  });

  it('carries a body past the SQS message limit by reference through S3, and windows it for the model', async () => {
    const body = JSON.parse(ticket({ ticketId: '7005' }));
    body.detail.description = `My card was charged twice for the same invoice. ${'Here is the full export of my billing history, line by line. '.repeat(3800)}`;
    const text = JSON.stringify(body);
    expect(Buffer.byteLength(text)).toBeGreaterThan(210 * 1024); // over the inline limit, under the 256 KiB door
    const res = await send(text);
    expect(res.status).toBe(202);
    await stack.drain();
    const listed = await new S3Client({ endpoint: stack.emulators.endpoints.s3, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'l', secretAccessKey: 'l' } })
      .send(new ListObjectsV2Command({ Bucket: stack.env.SEAMWORK_PAYLOAD_BUCKET, Prefix: `payloads/validate/${res.body.decisionId}/` }));
    expect((listed.Contents ?? []).length).toBeGreaterThan(0);
    const records = await stack.records('support-triage', String(res.body.decisionId));
    const validated = records.find((r) => r.kind === 'validated')!;
    expect((validated.data.window as { dropped: unknown[] }).dropped.length).toBeGreaterThan(0);
    // It reached the model stage with the windowed documents (this file's tenant cap may then refuse the
    // larger prompt, which is the cap working); nothing was lost to the size.
    expect(records.some((r) => r.stage === 'infer')).toBe(true);
    expect(['acted', 'review']).toContain((await outcomeOf(res.body.decisionId)).outcome);
  });

  describe('infer', () => {
    it('never lets a tenant spend past its daily cap; the refused wait in review with the reason', async () => {
      const accountId = 99_000_001;
      const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => send(ticket({ ticketId: String(7100 + i), accountId })).then((r) => r.body.decisionId)));
      await stack.drain();
      const summaries = await Promise.all(ids.map(outcomeOf));
      const acted = summaries.filter((s) => s.outcome === 'acted');
      const refused = summaries.filter((s) => s.code === 'COST_CAP_EXCEEDED');
      expect(refused.length).toBeGreaterThan(0);
      // A refusal comes before the generation, or before the canary's second sample of a
      // high-stakes answer (the answer's cost is then spent, and audited).
      expect(acted.length + refused.length).toBe(8);
      for (const s of refused) expect(s.outcome).toBe('review');
      const ledger = new DynamoCostLedger(stack.env.SEAMWORK_TABLE_LEDGER);
      const spent = await ledger.spent(`tenant#zendesk:${accountId}#day#${new Date().toISOString().slice(0, 10)}`);
      expect(spent).toBeGreaterThan(0);
      expect(spent).toBeLessThanOrEqual(toMicroUsd(TENANT_CAP_USD));
      // Reservations were reconciled: the ledger holds exactly the audited actual costs.
      expect(spent).toBe(summaries.reduce((a, s) => a + (s.costUsd !== undefined ? toMicroUsd(s.costUsd) : 0), 0));
    });

    it('puts a rate-limited call back on its queue with a delay, then completes it', async () => {
      stack.model!.setFaults({ seed: 4, rates: { rate_limit: 1 } });
      const res = await send(ticket({ ticketId: '7201' }));
      const until = Date.now() + 20_000;
      let requeued = false;
      while (!requeued && Date.now() < until) {
        requeued = (await stack.records('support-triage', String(res.body.decisionId))).some((r) => r.kind === 'rate_limited');
        if (!requeued) await new Promise((r) => setTimeout(r, 200));
      }
      expect(requeued).toBe(true);
      stack.model!.setFaults({});
      await stack.drain(30_000);
      expect((await outcomeOf(res.body.decisionId)).outcome).toBe('acted');
    }, 40_000);
  });

  describe('act', () => {
    it('retries an action after a 503 and performs it exactly once', async () => {
      stack.connectors.failNext('zendesk', 1, 503);
      const res = await send(ticket({ ticketId: '7301' }));
      await stack.drain();
      const records = await stack.records('support-triage', String(res.body.decisionId));
      expect(records.some((r) => r.kind === 'attempt_failed' && r.stage === 'act')).toBe(true);
      expect((await outcomeOf(res.body.decisionId)).outcome).toBe('acted');
      const ok = stack.connectors.requests().filter((q) => q.path === '/api/v2/tickets/7301.json' && q.status === 200);
      expect(ok).toHaveLength(1);
    });

    it('parks an action the connector refuses for good in the act DLQ with a readable reason', async () => {
      stack.connectors.failNext('zendesk', 1, 422);
      const res = await send(ticket({ ticketId: '7302' }));
      await stack.drain();
      const s = await outcomeOf(res.body.decisionId);
      expect(s.outcome).toBe('dlq');
      expect(s.code).toBe('CONNECTOR_REJECTED');
      const msg = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.emulators.queueUrls.act.dlqUrl, MaxNumberOfMessages: 10 }));
      const rejection = (msg.Messages ?? []).map((m) => JSON.parse(m.Body!) as RejectionRecord).find((r) => r.decisionId === res.body.decisionId)!;
      expect(rejection).toMatchObject({ stage: 'act', integration: 'support-triage', code: 'CONNECTOR_REJECTED', retryable: false });
      expect(rejection.reason).toMatch(/zendesk refused the action with 422/);
    });

    it('gives up after the stage maxReceiveCount and parks the message itself, saying so', async () => {
      stack.connectors.failNext('zendesk', 10, 503);
      const res = await send(ticket({ ticketId: '7303' }));
      await stack.drain(30_000);
      const s = await outcomeOf(res.body.decisionId);
      expect(s.outcome).toBe('dlq');
      expect(s.reason).toMatch(/gave up after 3 deliveries/);
    }, 40_000);
  });
});
