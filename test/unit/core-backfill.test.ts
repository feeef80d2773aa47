import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runBackfill, type BackfillDeps, type BatchModelPort, type BatchRequest, type BatchStatus } from '../../lambdas/core/backfill.js';
import { DEFAULT_CAPS } from '../../lambdas/core/caps.js';
import { actualCostUsd, toMicroUsd } from '../../lambdas/core/cost.js';
import type { Envelope } from '../../lambdas/core/envelope.js';
import { MemoryAuditStore, MemoryCostLedger, MemoryMetrics, MemoryQueues, MemoryTokenVault, StaticFlagSource } from '../../lambdas/core/memory-ports.js';
import type { DedupeClaim, DedupeStore } from '../../lambdas/core/ports.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';

const GOLDEN = readFileSync(supportTriage.eval.goldenPath, 'utf8').split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { body: Record<string, any> }).body);
const USAGE = { input_tokens: 900, output_tokens: 250, cache_creation_input_tokens: 0, cache_read_input_tokens: 600 };

/** Dedupe claims in memory (pending → enqueued), as the DynamoDB store keeps them. */
class MemoryDedupe implements DedupeStore {
  readonly claims = new Map<string, { decisionId: string; state: 'pending' | 'enqueued' }>();
  async claim(key: string, decisionId: string): Promise<DedupeClaim> {
    const c = this.claims.get(key);
    if (c) return { claimed: false, decisionId: c.decisionId, state: c.state };
    this.claims.set(key, { decisionId, state: 'pending' });
    return { claimed: true };
  }
  async confirm(key: string): Promise<void> {
    this.claims.get(key)!.state = 'enqueued';
  }
  async release(key: string, decisionId: string): Promise<void> {
    if (this.claims.get(key)?.decisionId === decisionId) this.claims.delete(key);
  }
}

/** A batch API that answers every request, except the custom ids told to fail. */
class FakeBatchModel implements BatchModelPort {
  readonly id = 'fake-batch';
  readonly submitted: BatchRequest[][] = [];
  constructor(private readonly behaviour: { failIds?: (ids: string[]) => string[]; submitError?: Error; waitError?: Error } = {}) {}
  private status(total: number, done: number, status: BatchStatus['status']): BatchStatus {
    return { id: 'msgbatch_fake', status, total, done, succeeded: done, errored: 0, canceled: 0, expired: 0 };
  }
  async submit(requests: BatchRequest[]): Promise<BatchStatus> {
    if (this.behaviour.submitError) throw this.behaviour.submitError;
    this.submitted.push(requests);
    return this.status(requests.length, 0, 'in_progress');
  }
  async wait(_id: string, onProgress?: (s: BatchStatus) => void): Promise<BatchStatus> {
    const total = this.submitted[0].length;
    onProgress?.(this.status(total, 1, 'in_progress'));
    if (this.behaviour.waitError) throw this.behaviour.waitError;
    onProgress?.(this.status(total, total, 'ended'));
    return this.status(total, total, 'ended');
  }
  async results(_id: string, customIds: readonly string[]) {
    const failing = new Set(this.behaviour.failIds?.([...customIds]) ?? []);
    return customIds.map((customId) =>
      failing.has(customId)
        ? { customId, ok: false as const, kind: 'errored' as const, errorType: 'overloaded_error', message: 'Overloaded' }
        : { customId, ok: true as const, result: { toolInput: { outcome: 'triaged' }, stopReason: 'tool_use', model: 'claude-haiku-4-5', usage: USAGE } },
    );
  }
}

function setup(batchModel: FakeBatchModel, flags = new StaticFlagSource({ [supportTriage.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } })) {
  let n = 0;
  const audit = new MemoryAuditStore();
  const queues = new MemoryQueues();
  const ledger = new MemoryCostLedger();
  const log: string[] = [];
  const deps: BackfillDeps = {
    integration: supportTriage, audit, queues, ledger, vault: new MemoryTokenVault(), dedupe: new MemoryDedupe(), flags, metrics: new MemoryMetrics(),
    batchModel, deliver: async () => ({ status: 500, body: {} }), caps: DEFAULT_CAPS, defaultTenant: 'default', now: () => new Date(), log: (l) => void log.push(l),
    vaultTtlSeconds: 3600, dedupeTtlSeconds: 3600, newDecisionId: () => `dec_${String(n++).padStart(3, '0')}`,
  };
  return { deps, audit, queues, ledger, log };
}

const events = (count: number) => GOLDEN.slice(0, count).map((b, i) => ({ source: `#${i + 1}`, body: { ...structuredClone(b), id: randomUUID() } }));
const spentOf = (ledger: MemoryCostLedger) => ledger.spent.get(`global#day#${new Date().toISOString().slice(0, 10)}`) ?? 0;

describe('runBackfill', () => {
  it('sends a request the batch errored on to the per-call path, released, and the rest on to verify at the batch price', async () => {
    const model = new FakeBatchModel({ failIds: (ids) => [ids[1]] });
    const { deps, audit, queues, ledger } = setup(model);

    const report = await runBackfill(events(3), deps, { batchOver: 2 });

    expect(report.mode).toBe('batch');
    expect(report.items.map((i) => i.outcome)).toEqual(['batched', 'per-call', 'batched']);
    const toVerify = queues.take('verify') as Envelope[];
    const toInfer = queues.take('infer') as Envelope[];
    expect(toVerify.map((e) => e.decisionId)).toEqual(['dec_000', 'dec_002']);
    expect(toInfer.map((e) => e.decisionId)).toEqual(['dec_001']);
    expect(toInfer[0].stage).toBe('infer');
    const failed = await audit.listDecision(supportTriage.name, 'dec_001');
    expect(failed.map((r) => r.kind)).toEqual(['accepted', 'validated', 'batch_item_failed']);
    expect(failed[2].data.reason).toContain('request errored (overloaded_error)');
    expect(toInfer[0].auditHead).toEqual({ seq: 2, hash: failed[2].hash });
    const batchCost = actualCostUsd('claude-haiku-4-5', USAGE, { batch: true });
    expect(toVerify[0].usage?.costUsd).toBe(batchCost);
    expect(spentOf(ledger)).toBe(2 * toMicroUsd(batchCost));
    expect(ledger.holds.size).toBe(0);
    expect(report.cost.savingPercent).toBe(50);
  });

  it('gives every reservation back and sends every event to the per-call path when the batch cannot be created', async () => {
    const { deps, audit, queues, ledger, log } = setup(new FakeBatchModel({ submitError: new Error('status 400: bad batch') }));

    const report = await runBackfill(events(3), deps, { batchOver: 2 });

    expect(report.items.map((i) => i.outcome)).toEqual(['per-call', 'per-call', 'per-call']);
    expect((queues.take('infer') as Envelope[]).map((e) => e.decisionId)).toEqual(['dec_000', 'dec_001', 'dec_002']);
    expect(queues.take('verify')).toEqual([]);
    expect(spentOf(ledger)).toBe(0);
    expect((await audit.listDecision(supportTriage.name, 'dec_000')).at(-1)?.kind).toBe('batch_failed');
    expect(log.join('\n')).toContain('batch not created: status 400: bad batch; 3 events go through the per-call path instead');
  });

  it('keeps the reservations and sends nothing on when the batch does not end while waiting', async () => {
    const { deps, queues, ledger } = setup(new FakeBatchModel({ waitError: new Error('still processing') }));

    const report = await runBackfill(events(3), deps, { batchOver: 2 });

    expect(report.unfinished).toEqual({ batchId: 'msgbatch_fake', reason: 'still processing' });
    expect(queues.take('verify')).toEqual([]);
    expect(queues.take('infer')).toEqual([]);
    expect(ledger.holds.size).toBe(3);
    expect(spentOf(ledger)).toBe(report.items.reduce((s, i) => s + toMicroUsd(i.reservedUsd ?? 0), 0));
  });

  it("holds a tenant to its own caps and prices the worst case on counted tokens, as infer does", async () => {
    const model = new FakeBatchModel();
    const { deps, audit, queues } = setup(model);
    deps.tenantCaps = async () => ({ tenantDailyUsd: 0.001, setBy: 'ops', setAt: '2026-11-25T00:00:00Z', reason: 'trial tenant' });
    deps.countTokens = async () => 1000;

    const report = await runBackfill(events(3), deps, { batchOver: 2 });

    expect(model.submitted).toEqual([]);
    expect(report.items.map((i) => i.outcome)).toEqual(['refused', 'refused', 'refused']);
    expect(report.items[0].reason).toMatch(/^Reserving the worst case \$0\.003185 at the batch price would exceed the tenant-day cap tenant#zendesk:\d+#day#\S+ \(\$0\.001, spent \$0\)\.$/);
    const refused = (await audit.listDecision(supportTriage.name, 'dec_000')).at(-1)!;
    expect(refused).toMatchObject({ kind: 'cost_refused', data: { outcome: 'review', code: 'COST_CAP_EXCEEDED', tenantCaps: { reason: 'trial tenant' }, preflight: { inputTokens: 1000, inputTokensCounted: true, priceBasis: 'batch' } } });
    expect(queues.take('review')).toHaveLength(3);
  });

  it('sends events off the AI path to infer without a batch', async () => {
    const model = new FakeBatchModel();
    const { deps, queues } = setup(model, new StaticFlagSource({ [supportTriage.name]: { enabled: false, rolloutPercent: 100, mode: 'live' } }));

    const report = await runBackfill(events(3), deps, { batchOver: 2 });

    expect(model.submitted).toEqual([]);
    expect(report.items.every((i) => i.outcome === 'per-call' && i.reason?.startsWith('baseline path: AI disabled by the kill switch'))).toBe(true);
    expect(queues.take('infer')).toHaveLength(3);
  });

  it('processes an event once even when the folder holds it twice, and ignores events the integration does not process', async () => {
    const model = new FakeBatchModel();
    const { deps } = setup(model);
    const [a, b] = events(2);
    const updated = { source: '#4', body: { ...structuredClone(GOLDEN[2]), id: randomUUID(), type: 'zen:event-type:ticket.status_changed' } };

    const report = await runBackfill([a, b, { ...a, source: '#3' }, updated], deps, { batchOver: 2 });

    expect(report.processable).toBe(3);
    expect(report.items.map((i) => i.outcome)).toEqual(['batched', 'batched', 'duplicate', 'ignored']);
    expect(report.items[2].reason).toContain(`event ${(a.body as { id: string }).id} is already decision dec_000`);
    expect(model.submitted[0]).toHaveLength(2);
  });
});
