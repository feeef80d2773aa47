import { describe, expect, it } from 'vitest';
import { MemoryAuditStore, MemoryMetrics, MemoryQueues, MemoryTokenVault } from '../../lambdas/core/memory-ports.js';
import type { DedupeStore } from '../../lambdas/core/ports.js';
import { reverifyDelivery } from '../../lambdas/core/reverify.js';
import { ingestWebhook } from '../../lambdas/core/stages/ingest.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { loadFixtures, vendorHeaders } from '../../lib/local/fixtures.js';

const secret = 'reverify-test-secret-000001';
const body = loadFixtures(supportTriage).find((f) => f.name === 'clean-billing-duplicate-charge')!.body;
const at = new Date('2026-11-25T09:00:00Z');
const dedupe: DedupeStore = { claim: async () => ({ claimed: true }), confirm: async () => {}, release: async () => {} };

async function accepted() {
  const audit = new MemoryAuditStore();
  const vault = new MemoryTokenVault();
  const res = await ingestWebhook(
    { integration: supportTriage.name, body: Buffer.from(body), headers: vendorHeaders(supportTriage, body, secret, 'valid', at), method: 'POST', url: 'https://hooks.example.com/webhooks/support-triage' },
    { integration: () => supportTriage, secrets: async () => [secret], dedupe, vault, rawBodyTtlSeconds: 3600, audit, queues: new MemoryQueues(), metrics: new MemoryMetrics(), now: () => at, maxBodyBytes: 1 << 20, toleranceSeconds: 300, defaultTenant: 'd', dedupeTtlSeconds: 60 },
  );
  const decisionId = res.body.decisionId as string;
  const [record] = await audit.listDecision(supportTriage.name, decisionId);
  return { record, key: await vault.getBodyKey(decisionId, at) };
}

describe('reverifyDelivery', () => {
  it('re-verifies the vendor signature from the audit record alone, judged at the time of receipt', async () => {
    const { record, key } = await accepted();
    const r = reverifyDelivery(supportTriage, record, key, ['a-newer-secret-0000000001', secret]);
    expect(r.verdict).toBe('valid');
    expect(r.detail).toContain(`received at ${at.toISOString()}`);
  });

  it('says invalid when a stored header was altered, or the secret has been rotated out', async () => {
    const { record, key } = await accepted();
    const tampered = { ...record, data: { ...record.data, headers: { ...(record.data.headers as object), 'x-zendesk-webhook-signature-timestamp': '2026-11-25T09:00:01Z' } } };
    expect(reverifyDelivery(supportTriage, tampered, key, [secret]).verdict).toBe('invalid');
    expect(reverifyDelivery(supportTriage, record, key, ['only-the-rotated-in-secret-01']).verdict).toBe('invalid');
  });

  it('says unavailable once the body key has expired (crypto-shredded): only the hash remains', async () => {
    const { record } = await accepted();
    expect(reverifyDelivery(supportTriage, record, undefined, [secret])).toMatchObject({ verdict: 'unavailable' });
  });

  it('refuses a record that is not the accepted delivery', async () => {
    const { record, key } = await accepted();
    expect(reverifyDelivery(supportTriage, { ...record, kind: 'validated' }, key, [secret]).verdict).toBe('unavailable');
  });
});

describe('reverifyDelivery of a backfilled decision', () => {
  it('says there is no vendor signature to check, rather than calling it invalid', async () => {
    const { record, key } = await accepted();
    const backfilled = { ...record, data: { ...record.data, via: 'backfill' } };
    expect(reverifyDelivery(supportTriage, backfilled, key, [secret])).toMatchObject({ verdict: 'unavailable', detail: expect.stringContaining('seamwork backfill') });
  });
});
