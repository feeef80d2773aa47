import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCostLedger } from '../../lambdas/aws/dynamo-stores.js';
import { burnRateThresholdMicroUsd, capScopes, DEFAULT_CAPS } from '../../lambdas/core/caps.js';
import { toMicroUsd, worstCaseCostUsd } from '../../lambdas/core/cost.js';
import { buildPrompt } from '../../lambdas/core/prompt.js';
import { estimateTokens } from '../../lambdas/core/tokens.js';
import { summariseDecision, type DecisionSummary } from '../../lambdas/core/trace.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { localSecret } from '../../lib/cli/start.js';
import { deliver, loadFixtures, vendorHeaders } from '../../lib/local/fixtures.js';
import { startTestStack } from '../support/local-stack.js';

/**
 * The field report's runaway story, end to end on the local stack: a tenant's upstream starts
 * sending ten times its usual events. Spend stops at the cap (within what was in flight when it
 * was reached), the surplus waits in the review queue with the reason, the burn-rate metric
 * crosses the alarm's threshold, and nothing is lost.
 */
const USUAL = 5;
const RUNAWAY = USUAL * 10;
// An urgent outage is high stakes: each decision is two calls, the answer and the canary's second sample.
const TENANT_DAILY_USD = 0.06;
const GLOBAL_DAILY_USD = 0.15; // burn-rate threshold: 3 × 0.15 / 24 = $0.01875 in an hour

describe('a runaway upstream: ten times the usual events', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  const account = 55_000_000 + Math.floor(Math.random() * 1_000_000);
  const tenant = `zendesk:${account}`;
  let summaries: DecisionSummary[] = [];
  let accepted = 0;

  beforeAll(async () => {
    stack = await startTestStack({ env: { SEAMWORK_TENANT_DAILY_CAP_USD: String(TENANT_DAILY_USD), SEAMWORK_GLOBAL_DAILY_CAP_USD: String(GLOBAL_DAILY_USD) } });
    const fixture = loadFixtures(supportTriage).find((f) => f.name === 'clean-technical-urgent-outage')!;
    const send = async (i: number) => {
      const body = JSON.parse(fixture.body);
      body.id = randomUUID();
      body.account_id = account;
      body.detail.id = String(90_000 + i);
      body.subject = `zen:ticket:${90_000 + i}`;
      const text = JSON.stringify(body);
      const res = await deliver(stack.webhookUrl('support-triage'), text, vendorHeaders(supportTriage, text, localSecret(stack, supportTriage)));
      return res;
    };
    const responses = await Promise.all(Array.from({ length: RUNAWAY }, (_, i) => send(i)));
    accepted = responses.filter((r) => r.status === 202).length;
    await stack.drain(240_000);
    summaries = await Promise.all(responses.map((r) => stack.records('support-triage', String(r.body.decisionId)).then(summariseDecision)));
  }, 300_000);

  afterAll(async () => stack?.stop());

  it('accepts every event and loses none: each ends acted or in review, and the queues agree', async () => {
    expect(accepted).toBe(RUNAWAY);
    const acted = summaries.filter((s) => s.outcome === 'acted').length;
    const review = summaries.filter((s) => s.outcome === 'review').length;
    expect(acted + review).toBe(RUNAWAY);
    expect(acted).toBeGreaterThanOrEqual(USUAL); // the usual volume fits under the cap
    expect(await stack.depth('review')).toBe(review);
    for (const q of ['validate-dlq', 'infer-dlq', 'verify-dlq', 'act-dlq'] as const) expect(await stack.depth(q), q).toBe(0);
  });

  it('stops spend at the cap: never above it, and short of it only by what was in flight when it was reached', async () => {
    const ledger = new DynamoCostLedger(stack.env.SEAMWORK_TABLE_LEDGER);
    const scope = capScopes({ ...DEFAULT_CAPS, tenantDailyUsd: TENANT_DAILY_USD }, tenant, supportTriage.name, new Date())[0];
    const spent = await ledger.spent(scope.key);
    const audited = summaries.reduce((a, s) => a + (s.costUsd !== undefined ? toMicroUsd(s.costUsd) : 0), 0);
    expect(spent).toBe(audited);
    expect(spent).toBeLessThanOrEqual(toMicroUsd(TENANT_DAILY_USD));
    const prompt = buildPrompt(supportTriage, [{ id: 'ticket.description', title: 'Ticket description', text: 'x'.repeat(600), origin: 'zendesk:ticket/1' }]);
    const worst = toMicroUsd(worstCaseCostUsd(supportTriage.model.id, estimateTokens(JSON.stringify(prompt.request)), supportTriage.model.maxTokens, { promptCaching: true }));
    // The local stack runs two infer pollers: at most two worst cases can be in flight.
    expect(toMicroUsd(TENANT_DAILY_USD) - spent).toBeLessThan(3 * worst);
  });

  it('sends the surplus to review with the cap that refused it', () => {
    const refused = summaries.filter((s) => s.outcome === 'review');
    expect(refused.length).toBeGreaterThan(RUNAWAY / 2);
    for (const s of refused) {
      expect(s.code).toBe('COST_CAP_EXCEEDED');
      expect(s.reason).toContain(`tenant-day cap tenant#${tenant}#day#`);
    }
  });

  it('drives the burn-rate metric past the alarm threshold the stack deploys', () => {
    const file = join(stack.stateDir, 'metrics.ndjson');
    expect(existsSync(file)).toBe(true);
    const burned = readFileSync(file, 'utf8').split('\n').filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      // Two invocations sharing one sink flush together: a metric then holds an array of values.
      .flatMap((doc) => [doc.CostMicroUsd ?? []].flat() as number[])
      .reduce((a, v) => a + v, 0);
    expect(burned).toBeGreaterThanOrEqual(burnRateThresholdMicroUsd(GLOBAL_DAILY_USD));
  });

  it('reports the tenant\'s cap as nearly spent, past the per-tenant alarm\'s 80%', () => {
    const docs = readFileSync(join(stack.stateDir, 'metrics.ndjson'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const fullest = Math.max(0, ...docs.map((d) => (typeof d.TenantCapUsedPercent === 'number' ? d.TenantCapUsedPercent : Array.isArray(d.TenantCapUsedPercent) ? Math.max(...(d.TenantCapUsedPercent as number[])) : 0)));
    expect(fullest).toBeGreaterThanOrEqual(80);
    expect(fullest).toBeLessThanOrEqual(100);
  });
});
