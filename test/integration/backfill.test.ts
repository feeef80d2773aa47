import { randomInt, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoCostLedger } from '../../lambdas/aws/dynamo-stores.js';
import { verifyChain, type AuditRecord } from '../../lambdas/core/audit-record.js';
import { capScopes, DEFAULT_CAPS } from '../../lambdas/core/caps.js';
import { toMicroUsd } from '../../lambdas/core/cost.js';
import { dryRunDecision } from '../../lambdas/core/eval/dry-run.js';
import { summariseDecision } from '../../lambdas/core/trace.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { backfillCommand } from '../../lib/cli/backfill.js';
import { readPayloads } from '../../lib/contracts-infer.js';
import { startTestStack } from '../support/local-stack.js';

/** Runs a CLI command function and returns its exit code and everything it printed. */
async function capture(run: () => Promise<number>): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void lines.push(a.join(' ')));
  try {
    return { code: await run(), out: lines.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}

const GOLDEN = readFileSync(supportTriage.eval.goldenPath, 'utf8').split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { body: Record<string, any> }).body);

/**
 * `count` captured ticket.created payloads from the golden bodies, with fresh event ids, fresh
 * ticket ids and one Zendesk account (so one tenant), written as a folder the way a capture
 * would leave them: most as single .json files, the rest as one .jsonl.
 */
type Usage = { costUsd: number; groundingCalls?: Array<{ costUsd: number }> };
/** The generation's own cost: the decision's cost less the calls grounding added (per call, as the ledger holds them). */
const generationUsd = (u: Usage) => (toMicroUsd(u.costUsd) - (u.groundingCalls ?? []).reduce((a, c) => a + toMicroUsd(c.costUsd), 0)) / 1e6;

function capturedFolder(count: number, accountId: number): { dir: string; ticketIds: number[] } {
  const dir = mkdtempSync(join(tmpdir(), 'seamwork-backfill-'));
  mkdirSync(dir, { recursive: true });
  const firstTicket = randomInt(100_000, 900_000);
  const bodies = Array.from({ length: count }, (_, i) => {
    const body = structuredClone(GOLDEN[i % GOLDEN.length]);
    body.id = randomUUID();
    body.account_id = accountId;
    body.detail.id = String(firstTicket + i);
    body.subject = `zen:ticket:${firstTicket + i}`;
    return body;
  });
  const inJsonl = Math.min(5, count);
  bodies.slice(0, count - inJsonl).forEach((b, i) => writeFileSync(join(dir, `event-${String(i).padStart(3, '0')}.json`), JSON.stringify(b, null, 2)));
  writeFileSync(join(dir, 'tail.jsonl'), bodies.slice(count - inJsonl).map((b) => JSON.stringify(b)).join('\n') + '\n');
  return { dir, ticketIds: bodies.map((b) => Number(b.detail.id)) };
}

describe('seamwork backfill against the local stack', () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  let ledger: DynamoCostLedger;
  const run = (args: string[]) => capture(() => backfillCommand(args, { stateDir: stack.stateDir, pollBaseMs: 5 }));
  const decisionsIn = (out: string): string[] => [...new Set(out.match(/dec_[0-9a-z]+/g) ?? [])];
  const chains = (ids: string[]): Promise<AuditRecord[][]> => Promise.all(ids.map((id) => stack.records(supportTriage.name, id)));

  beforeAll(async () => {
    stack = await startTestStack();
    ledger = new DynamoCostLedger(stack.env.SEAMWORK_TABLE_LEDGER);
  }, 120_000);
  afterAll(async () => stack?.stop());
  afterEach(() => vi.restoreAllMocks());

  describe('above the threshold: 25 events as one Message Batch', () => {
    const accountId = randomInt(10_000_000, 99_999_999);
    const tenant = `zendesk:${accountId}`;
    let folder: { dir: string; ticketIds: number[] };
    let result: { code: number; out: string };
    let statsBefore: ReturnType<NonNullable<typeof stack.model>['stats']>;
    let inferred: AuditRecord[];
    let records: AuditRecord[][];

    beforeAll(async () => {
      folder = capturedFolder(25, accountId);
      statsBefore = stack.model!.stats();
      result = await run(['support-triage', folder.dir, '--batch-over', '20']);
      await stack.drain();
      const ids = (await chains(decisionsIn(result.out))).filter((c) => c.some((r) => r.kind === 'inferred'));
      records = ids;
      inferred = records.map((c) => c.find((r) => r.kind === 'inferred')!);
    }, 180_000);

    it('sends one batch of 25 requests with a progress line; per-call requests only for the canary\'s second samples', () => {
      const stats = stack.model!.stats();

      expect(result.code).toBe(0);
      expect(result.out).toMatch(/backfill support-triage: 25 events, 25 to process → one Message Batch \(more than 20\)/);
      expect(result.out).toMatch(/batch msgbatch_[0-9a-f]{24} in_progress: \d+\/25 done/);
      expect(result.out).toMatch(/batch msgbatch_[0-9a-f]{24} ended: 25\/25 done/);
      expect(stats.batches.created - statsBefore.batches.created).toBe(1);
      expect(stats.batches.requests - statsBefore.batches.requests).toBe(25);
      // A high-stakes answer is only known once the batch returns: its second sample (step 8) is a per-call request.
      const canaries = inferred.flatMap((r) => ((r.data.groundingCalls ?? []) as Array<{ purpose: string; reservation?: string }>).filter((c) => c.purpose === 'canary' && c.reservation));
      expect(canaries.length).toBeGreaterThan(0);
      expect(stats.messages - statsBefore.messages).toBe(canaries.length);
    });

    it('audits each decision: accepted via backfill, validated, then inferred with usage, the batch id and the batch price basis', () => {
      const batchId = /batch (msgbatch_[0-9a-f]{24}) created/.exec(result.out)?.[1];

      expect(records).toHaveLength(25);
      for (const chain of records) {
        expect(verifyChain(chain).ok).toBe(true);
        const kinds = chain.map((r) => r.kind);
        expect(kinds.slice(0, 3)).toEqual(['accepted', 'validated', 'inferred']);
        expect(chain[0]).toMatchObject({ stage: 'backfill', data: { via: 'backfill', tenant } });
        const d = chain[2].data as Record<string, any>;
        expect(d.batch).toEqual({ id: batchId, customId: chain[0].decisionId });
        expect(d.price).toMatchObject({ basis: 'batch', batchDiscount: 0.5 });
        expect(d.usage.costUsd).toBeGreaterThan(0);
        expect(generationUsd(d.usage)).toBeCloseTo(d.price.perCallUsd * 0.5, 5); // whole micro-dollars once a grounding call is added
        expect(d.usage.reservedUsd).toBeGreaterThanOrEqual(d.usage.costUsd);
      }
    });

    it('leaves the ledger holding exactly the audited batch-price costs in every scope of the tenant', async () => {
      const audited = inferred.reduce((sum, r) => sum + toMicroUsd((r.data.usage as { costUsd: number }).costUsd), 0);
      const [tenantDay, tenantMonth] = capScopes(DEFAULT_CAPS, tenant, supportTriage.name, new Date());

      expect(audited).toBeGreaterThan(0);
      expect(await ledger.spent(tenantDay.key)).toBe(audited);
      expect(await ledger.spent(tenantMonth.key)).toBe(audited);
    });

    it('carries every decision on through verify to act as the per-call path would, and the Zendesk stand-in receives the ticket updates', async () => {
      const summaries = records.map(summariseDecision);
      const acted = summaries.filter((s) => s.outcome === 'acted');
      // The same bodies through the same stages with per-call inference (in memory, actions recorded).
      const model = new AnthropicModel({ baseURL: stack.model!.url, apiKey: 'local-reference-model' });
      const bodies = new Map(readPayloads(folder.dir).payloads.map((b) => [(b as { id: string }).id, b]));
      const perCall = await Promise.all(records.map((c) => dryRunDecision(supportTriage, `dry_${c[0].decisionId}`, JSON.stringify(bodies.get(String(c[0].data.vendorEventId))), { model })));

      expect(summaries.map((s) => s.outcome)).toEqual(perCall.map((r) => r.outcome));
      expect(summaries.map((s) => s.decision?.category)).toEqual(perCall.map((r) => summariseDecision(r.records).decision?.category));
      expect(acted.length).toBeGreaterThanOrEqual(15);
      for (const s of acted) expect(s.actions.map((a) => a.action)).toContain('zendesk.update_ticket');
      const updated = folder.ticketIds.filter((id) => stack.connectors.ticket(id)?.comments.some((c) => c.body.startsWith('Seamwork triage (automated)') && !c.public));
      expect(updated.length).toBe(acted.length);
    });

    it('reports the cost at the batch price against per-call pricing: a 50% saving on claude-haiku-4-5', () => {
      const batchUsd = inferred.reduce((s, r) => s + generationUsd(r.data.usage as Usage), 0);
      const perCallUsd = inferred.reduce((s, r) => s + (r.data.price as { perCallUsd: number }).perCallUsd, 0);
      const line = /cost \$([\d.]+) at the batch price vs \$([\d.]+) per call \(claude-haiku-4-5\): saved \$([\d.]+) \(([\d.]+)%\)/.exec(result.out);

      expect(line).not.toBeNull();
      expect(Number(line![1])).toBeCloseTo(batchUsd, 4); // the audit sums whole micro-dollars per call
      expect(Number(line![2])).toBeCloseTo(perCallUsd, 6);
      expect(Number(line![4])).toBe(50);
      expect(result.out).toMatch(/per call █{40} \$/);
      expect(result.out).toMatch(/batch {4}█{20}░{20} \$/);
    });

    it('treats a second run over the same folder as duplicates: no new batch, no new spend', async () => {
      const before = stack.model!.stats().batches.created;
      const spent = await ledger.spent(capScopes(DEFAULT_CAPS, tenant, supportTriage.name, new Date())[0].key);

      const again = await run(['support-triage', folder.dir, '--batch-over', '20']);

      expect(again.code).toBe(0);
      expect(again.out).toContain('duplicate 25');
      expect(stack.model!.stats().batches.created).toBe(before);
      expect(await ledger.spent(capScopes(DEFAULT_CAPS, tenant, supportTriage.name, new Date())[0].key)).toBe(spent);
    });
  });

  it('at or below the threshold posts each event to the webhook and the pipeline calls the model per event', async () => {
    const folder = capturedFolder(4, randomInt(10_000_000, 99_999_999));
    const before = stack.model!.stats();

    const result = await run(['support-triage', folder.dir, '--batch-over', '20']);
    await stack.drain();

    expect(result.code).toBe(0);
    expect(result.out).toContain('backfill support-triage: 4 events, 4 to process → the webhook (20 or fewer)');
    expect(result.out.match(/^\[\d\/4\] 202 dec_/gm)).toHaveLength(4);
    const after = stack.model!.stats();
    expect(after.batches.created).toBe(before.batches.created);
    const canaries = (await chains(decisionsIn(result.out))).flatMap((c) => ((c.find((r) => r.kind === 'inferred')?.data.groundingCalls ?? []) as Array<{ reservation?: string }>).filter((x) => x.reservation));
    expect(after.messages - before.messages).toBe(4 + canaries.length);
    const chainsOf = await chains(decisionsIn(result.out));
    expect(chainsOf).toHaveLength(4);
    for (const chain of chainsOf) {
      expect(chain[0]).toMatchObject({ stage: 'ingest', kind: 'accepted' });
      expect(chain.find((r) => r.kind === 'inferred')?.data.batch).toBeUndefined();
    }
  });

  it('refuses the events whose batch-price worst case would pass the tenant\'s daily cap, to review with the reason', async () => {
    const accountId = randomInt(10_000_000, 99_999_999);
    const tenant = `zendesk:${accountId}`;
    const [tenantDay] = capScopes(DEFAULT_CAPS, tenant, supportTriage.name, new Date());
    // Earlier spend today leaves $0.03 of the tenant's $5 day: room for a few worst cases only.
    const prior = tenantDay.capMicroUsd - 30_000;
    expect((await ledger.reserve([tenantDay], prior)).ok).toBe(true);
    const folder = capturedFolder(22, accountId);
    const reviewBefore = await stack.depth('review');

    const result = await run(['support-triage', folder.dir, '--batch-over', '20']);
    await stack.drain();

    const refusedLines = result.out.match(/^refused {2}dec_\S+ \(event [0-9a-f-]{36}\): Reserving the worst case \$[\d.]+ at the batch price would exceed the tenant-day cap tenant#zendesk:\d+#day#\S+ \(\$5, spent \$[\d.]+\)\.$/gm) ?? [];
    const batched = Number(/batched (\d+)/.exec(result.out)?.[1] ?? 0);
    expect(refusedLines.length).toBeGreaterThan(0);
    expect(batched).toBeGreaterThan(0);
    expect(refusedLines.length + batched).toBe(22);
    const all = await chains(decisionsIn(result.out));
    expect(all).toHaveLength(22);
    const refused = all.filter((c) => c.some((r) => r.kind === 'cost_refused'));
    expect(refused).toHaveLength(refusedLines.length);
    // Review holds the refused ones, and any batched one verify sent there.
    expect(await stack.depth('review')).toBe(reviewBefore + all.filter((c) => summariseDecision(c).outcome === 'review').length);
    for (const c of refused) expect(summariseDecision(c)).toMatchObject({ outcome: 'review', code: 'COST_CAP_EXCEEDED' });
    const audited = all.flatMap((c) => c.filter((r) => r.kind === 'inferred')).reduce((s, r) => s + toMicroUsd((r.data.usage as { costUsd: number }).costUsd), 0);
    expect(await ledger.spent(tenantDay.key)).toBe(prior + audited);
    expect(await ledger.spent(tenantDay.key)).toBeLessThanOrEqual(tenantDay.capMicroUsd);
  });

  it('plans without writing anything on --dry-run: validates, chooses the batch, prices the worst case both ways', async () => {
    const folder = capturedFolder(21, randomInt(10_000_000, 99_999_999));
    const before = stack.model!.stats();

    const result = await run(['support-triage', folder.dir, '--dry-run']);

    expect(result.code).toBe(0);
    expect(result.out).toContain('dry run: backfill support-triage: 21 events, 21 to process → would go through one Message Batch (more than 20)');
    expect(result.out).toMatch(/worst case \$[\d.]+ at the batch price \(50% off claude-haiku-4-5\) vs \$[\d.]+ per call/);
    expect(decisionsIn(result.out)).toEqual([]);
    expect(stack.model!.stats()).toEqual(before);
  });
});
