import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lambdas/aws/clients.js';
import { ENV } from '../../lambdas/core/config-keys.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { localSecret } from '../../lib/cli/start.js';
import { deliver, loadFixtures, vendorHeaders } from '../../lib/local/fixtures.js';
import { INGEST } from '../../lib/topology.js';
import { startTestStack } from '../support/local-stack.js';

/**
 * A webhook just under the size limit is accepted once and decided: its acceptance commit holds
 * the body twice (sealed in the record, as text in the validate message), more than a DynamoDB
 * item holds, so the stage ledger keeps it in the payload bucket.
 */
describe('a webhook just under the body limit', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  beforeAll(async () => {
    stack = await startTestStack();
  }, 60_000);
  afterAll(async () => stack?.stop());

  it('is accepted, decided, and deduped on a retry', async () => {
    const body = JSON.parse(loadFixtures(supportTriage).find((f) => f.name === 'clean-billing-duplicate-charge')!.body);
    body.id = `large-${Date.now()}`;
    // Incompressible text, as a pasted log or attachment would be.
    const filler = Array.from({ length: 40_000 }, (_, i) => ((i * 2_654_435_761) >>> 0).toString(36)).join(' ');
    body.detail.description = `${body.detail.description}\n\n${filler}`.slice(0, INGEST.maxBodyBytes - 6_000);
    const text = JSON.stringify(body);
    expect(Buffer.byteLength(text)).toBeGreaterThan(200 * 1024);
    expect(Buffer.byteLength(text)).toBeLessThan(INGEST.maxBodyBytes);
    const send = () => deliver(stack.webhookUrl('support-triage'), text, vendorHeaders(supportTriage, text, localSecret(stack, supportTriage)));
    const res = await send();
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await stack.drain();
    const summary = summariseDecision(await stack.records('support-triage', String(res.body.decisionId)));
    expect(['acted', 'baseline', 'review']).toContain(summary.outcome);
    expect(await send()).toMatchObject({ status: 200, body: { status: 'duplicate', decisionId: res.body.decisionId } });
    // The acceptance commit went to the payload bucket: it is what made this size acceptable.
    const listed = await s3Client().send(new ListObjectsV2Command({ Bucket: stack.env[ENV.PAYLOAD_BUCKET], Prefix: 'payloads/stage-commits/' }));
    expect(listed.KeyCount ?? 0).toBeGreaterThanOrEqual(1);
  });
});
