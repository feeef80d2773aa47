import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoTenantCapsStore } from '../../lambdas/aws/dynamo-stores.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { capsCommand } from '../../lib/cli/caps.js';
import { localSecret } from '../../lib/cli/start.js';
import { deliver, loadFixtures, vendorHeaders } from '../../lib/local/fixtures.js';
import { startTestStack } from '../support/local-stack.js';

async function capture(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  const code = await run();
  vi.restoreAllMocks();
  return { code, out: lines.join('\n') };
}

/** A tenant's caps raised at run time, no deploy: the next inference of that tenant uses them. */
describe('seamwork caps against the local stack', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  const ticket = (accountId: number) => {
    const b = JSON.parse(loadFixtures(supportTriage).find((f) => f.name === 'clean-billing-duplicate-charge')!.body);
    b.id = randomUUID();
    b.account_id = accountId;
    return JSON.stringify(b);
  };
  const send = async (accountId: number) => {
    const text = ticket(accountId);
    const res = await deliver(stack.webhookUrl('support-triage'), text, vendorHeaders(supportTriage, text, localSecret(stack, supportTriage)));
    return res.body.decisionId as string;
  };

  beforeAll(async () => {
    // A deployment cap no call fits under: without a tenant's own cap, everything waits in review.
    stack = await startTestStack({ env: { SEAMWORK_TENANT_DAILY_CAP_USD: '0.0005' } });
  }, 60_000);
  afterAll(async () => stack?.stop());
  afterEach(() => vi.restoreAllMocks());

  it('lets a tenant whose cap was raised act, while another tenant is still held at the deployment cap', async () => {
    const raised = 88_000_001;
    const set = await capture(() => capsCommand(['set', `zendesk:${raised}`, '--daily', '1', '--reason', 'pilot customer, approved by finance']));
    expect(set.out).toContain(`zendesk:${raised}: $1/day from the next inference`);
    const [a, b] = [await send(raised), await send(88_000_002)];
    await stack.drain();
    const sa = summariseDecision(await stack.records('support-triage', a));
    const sb = summariseDecision(await stack.records('support-triage', b));
    expect(sa.outcome).toBe('acted');
    expect(sb).toMatchObject({ outcome: 'review', code: 'COST_CAP_EXCEEDED' });
    // The cap decision names the tenant's own caps and who set them.
    const inferred = (await stack.records('support-triage', a)).find((r) => r.kind === 'inferred')!;
    expect(inferred.data.caps).toMatchObject({ tenantCaps: { tenantDailyUsd: 1, reason: 'pilot customer, approved by finance' } });
  });

  it('lists tenants with caps of their own, keeps every change, and refuses a change without a reason or with a bad amount', async () => {
    await capsCommand(['set', 'zendesk:77', '--monthly', '50', '--reason', 'seasonal peak']);
    await capsCommand(['clear', 'zendesk:77', '--reason', 'peak over']);
    const list = await capture(() => capsCommand(['list']));
    expect(list.out).toContain('deployment caps: tenant $0.0005/day');
    expect(list.out).not.toContain('zendesk:77 ');
    const history = (await new DynamoTenantCapsStore(stack.env.SEAMWORK_TABLE_LEDGER).list()).find((t) => t.tenant === 'zendesk:88000001');
    expect(history?.history).toHaveLength(1);
    await expect(capsCommand(['set', 'zendesk:1', '--daily', '5'])).rejects.toThrow(/needs --reason/);
    await expect(capsCommand(['set', 'zendesk:1', '--daily=-5', '--reason', 'oops'])).rejects.toThrow(/positive amount/);
    await expect(capsCommand(['set', 'zendesk:1', '--daily', 'lots', '--reason', 'oops'])).rejects.toThrow(/positive amount/);
    await expect(capsCommand(['set', 'zendesk:1', '--reason', 'nothing'])).rejects.toThrow(/--daily and\/or --monthly/);
  });
});
