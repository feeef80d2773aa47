import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoCostLedger } from '../../lambdas/aws/dynamo-stores.js';
import { S3AuditStore } from '../../lambdas/aws/s3-audit-store.js';
import { SqsQueueSender } from '../../lambdas/aws/sqs-queues.js';
import { GENESIS_HASH } from '../../lambdas/core/audit-record.js';
import { capScopes, type CapsConfig } from '../../lambdas/core/caps.js';
import { toMicroUsd } from '../../lambdas/core/cost.js';
import type { Envelope } from '../../lambdas/core/envelope.js';
import { MemoryMetrics, MemoryTokenVault, StaticFlagSource } from '../../lambdas/core/memory-ports.js';
import { runStage } from '../../lambdas/core/stage-runner.js';
import { inferStage } from '../../lambdas/core/stages/infer.js';
import { validateStage } from '../../lambdas/core/stages/validate.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { loadFixtures } from '../../lib/local/fixtures.js';
import { startTestStack } from '../support/local-stack.js';

/**
 * Invariant 3 under real concurrency: 50 inferences at once, through the stage runner, against
 * the DynamoDB ledger (dynalite), the reference model over the real Anthropic SDK, the S3 audit
 * log and the SQS review queue — with an integration cap that lets only some of them through.
 */
const CALLS = 50;
const CAPS: CapsConfig = { tenantDailyUsd: 1, tenantMonthlyUsd: 10, integrationDailyUsd: 0.03, globalDailyUsd: 1 };

describe(`${CALLS} concurrent inferences against a cap that allows only some`, () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  const tenant = `tenant-${randomUUID().slice(0, 8)}`;
  let results: Array<{ decisionId: string; outcome?: string }> = [];
  let ledger: DynamoCostLedger;
  let audit: S3AuditStore;

  beforeAll(async () => {
    stack = await startTestStack();
    ledger = new DynamoCostLedger(stack.env.SEAMWORK_TABLE_LEDGER);
    audit = new S3AuditStore(stack.env.SEAMWORK_AUDIT_BUCKET);
    const queues = new SqsQueueSender(Object.fromEntries(Object.entries(stack.emulators.queueUrls).flatMap(([q, u]) => [[q, u.url], [`${q}-dlq`, u.dlqUrl]])), stack.env.SEAMWORK_PAYLOAD_BUCKET);
    const now = () => new Date();
    const ports = { audit, queues, metrics: new MemoryMetrics(), now };
    const fixture = loadFixtures(supportTriage).find((f) => f.name === 'clean-technical-urgent-outage')!;

    // Validated envelopes at the infer stage, one per ticket.
    const envelopes = await Promise.all(Array.from({ length: CALLS }, async (_, i) => {
      const body = JSON.parse(fixture.body);
      body.id = randomUUID();
      const start: Envelope = {
        v: 1, decisionId: `dec_cap${i.toString().padStart(2, '0')}${randomUUID().slice(0, 6)}`, integration: supportTriage.name, tenant, vendorEventId: body.id,
        receivedAt: now().toISOString(), stage: 'validate', auditHead: { seq: -1, hash: GENESIS_HASH }, raw: { body: JSON.stringify(body), headers: {} },
      };
      const out = await validateStage(start, { integration: () => supportTriage, vault: new MemoryTokenVault(), now, vaultTtlSeconds: 60 });
      if (out.kind !== 'forward') throw new Error('fixture did not validate');
      return { ...out.envelope, stage: 'infer' as const };
    }));

    const deps = {
      integration: () => supportTriage, ledger, now, caps: CAPS, maxRateLimitRequeues: 0,
      flags: new StaticFlagSource({ [supportTriage.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } }),
      model: new AnthropicModel({ baseURL: stack.model!.url, apiKey: 'local-reference-model' }),
    };
    const runs = await Promise.all(envelopes.map((e) => runStage('infer', e, { attempt: 1, maxReceiveCount: 4 }, (x) => inferStage(x, deps), ports)));
    results = envelopes.map((e, i) => ({ decisionId: e.decisionId, outcome: runs[i].status === 'done' ? runs[i].outcome : 'retry' }));
  }, 300_000);

  afterAll(async () => stack?.stop());

  it('calls the model for some and refuses the rest before the call', async () => {
    const summaries = await Promise.all(results.map((r) => audit.listDecision(supportTriage.name, r.decisionId).then(summariseDecision)));
    const called = summaries.filter((s) => s.costUsd !== undefined);
    // Refused before the call; a high-stakes answer whose second sample the caps refused was called, and is counted there.
    const refused = summaries.filter((s) => s.code === 'COST_CAP_EXCEEDED' && s.costUsd === undefined);
    expect(called.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(called.length + refused.length).toBe(CALLS);
    // One generation per called decision (one count_tokens each besides), plus the canary's second
    // sample for the high-stakes ones whose reservation the caps still allowed.
    const canaries = (await Promise.all(results.map((r) => audit.listDecision(supportTriage.name, r.decisionId))))
      .flatMap((recs) => ((recs.find((r) => r.kind === 'inferred')?.data.groundingCalls ?? []) as Array<{ reservation?: string }>).filter((c) => c.reservation));
    expect(stack.model!.stats().messages).toBe(called.length + canaries.length);
    // The pre-flight used the API's count of input tokens, not the estimate.
    const inferred = (await audit.listDecision(supportTriage.name, results[0].decisionId)).find((r) => r.kind === 'inferred' || r.kind === 'cost_refused')!;
    expect(inferred.data.preflight).toMatchObject({ inputTokensCounted: true });
  });

  it('never lets the ledger pass the cap, and holds exactly the audited actual costs in every scope', async () => {
    const summaries = await Promise.all(results.map((r) => audit.listDecision(supportTriage.name, r.decisionId).then(summariseDecision)));
    const actual = summaries.reduce((a, s) => a + (s.costUsd !== undefined ? toMicroUsd(s.costUsd) : 0), 0);
    const scopes = capScopes(CAPS, tenant, supportTriage.name, new Date());
    const integrationScope = scopes.find((s) => s.kind === 'integration-day')!;
    const spent = await ledger.spent(integrationScope.key);
    expect(spent).toBeLessThanOrEqual(integrationScope.capMicroUsd);
    expect(spent).toBe(actual);
    for (const scope of scopes) expect(await ledger.spent(scope.key), scope.kind).toBe(actual);
  });

  it('gives a crashed invocation\'s reservation back through the scheduled sweeper, so the budget is not held hostage', async () => {
    // Scopes of their own (another tenant and integration), so the cap spent above does not interfere.
    const scopes = capScopes(CAPS, `crash-${tenant}`, 'sweep-test', new Date());
    // An invocation reserves its worst case, then dies (a timeout) before reconciling.
    const r = await ledger.reserve(scopes, 5_000, { id: `crashed-${tenant}`, decisionId: 'dec_crashed', integration: 'sweep-test', tenant, ttlSeconds: 0, now: new Date(Date.now() - 1000) });
    expect(r.ok).toBe(true);
    for (const scope of scopes.filter((x) => x.kind !== 'global-day')) expect(await ledger.spent(scope.key), scope.kind).toBe(5_000);
    expect(await stack.sweep()).toEqual({ released: 1 });
    for (const scope of scopes.filter((x) => x.kind !== 'global-day')) expect(await ledger.spent(scope.key), scope.kind).toBe(0);
  });

  it('puts every refused inference in the review queue with the cap that refused it', async () => {
    const refused = (await Promise.all(results.map((r) => audit.listDecision(supportTriage.name, r.decisionId).then(summariseDecision)))).filter((s) => s.code === 'COST_CAP_EXCEEDED');
    expect(await stack.depth('review')).toBe(refused.length);
    for (const s of refused) {
      expect(s.outcome).toBe('review');
      expect(s.reason).toMatch(/would exceed the integration-day cap integration#support-triage#day#\d{4}-\d{2}-\d{2} \(\$0\.03, spent \$/);
    }
  });
});
