import { describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../../lambdas/core/audit-record.js';
import type { Envelope } from '../../lambdas/core/envelope.js';
import { ConnectorRejected, ConnectorUnavailable, SeamworkError } from '../../lambdas/core/errors.js';
import { actionKey, ExactlyOnceExecutor, type ConnectorPort } from '../../lambdas/core/exactly-once.js';
import { seededFaults } from '../../lambdas/core/faults.js';
import type { ActionRequest } from '../../lambdas/core/integration.js';
import { MemoryActionLedger, MemoryStageLedger } from '../../lambdas/core/memory-ledgers.js';
import { MemoryAuditStore, MemoryMetrics, MemoryQueues, MemoryTokenVault } from '../../lambdas/core/memory-ports.js';
import { actStage } from '../../lambdas/core/stages/act.js';
import type { ModelPort, ModelResult } from '../../lambdas/core/ports.js';
import { InvocationExpired, runStage, SimulatedCrash, type RunnerPorts } from '../../lambdas/core/stage-runner.js';
import { memoModel } from '../../lambdas/core/stages/model-memo.js';
import type { StageOutcome } from '../../lambdas/core/stages/types.js';
import type { BuiltPrompt } from '../../lambdas/core/prompt.js';

const now = () => new Date('2026-12-04T12:00:00Z');
const envelope = (over: Partial<Envelope> = {}): Envelope => ({
  v: 1, decisionId: 'dec_once', integration: 'support-triage', tenant: 't1', vendorEventId: 'e1', receivedAt: now().toISOString(), stage: 'verify',
  auditHead: { seq: 2, hash: 'a'.repeat(64) }, ...over,
});
const ports = (over: Partial<RunnerPorts> = {}): RunnerPorts & { audit: MemoryAuditStore; queues: MemoryQueues; metrics: MemoryMetrics; ledger: MemoryStageLedger } =>
  ({ audit: new MemoryAuditStore(), queues: new MemoryQueues(), metrics: new MemoryMetrics(), now, ledger: new MemoryStageLedger(), busyWaitMs: 0, ...over }) as never;
const forward = (e: Envelope): StageOutcome => ({ kind: 'forward', to: 'act', envelope: { ...e, stage: 'act' }, audit: { kind: 'verified', data: { ok: true } } });

describe('runStage with a stage ledger', () => {
  it('does nothing again when a message is redelivered after its stage completed, and says so in a metric', async () => {
    const p = ports();
    let runs = 0;
    const fn = async (e: Envelope) => { runs++; return forward(e); };
    await runStage('verify', envelope(), { attempt: 1, maxReceiveCount: 3 }, fn, p);
    const again = await runStage('verify', envelope(), { attempt: 2, maxReceiveCount: 3 }, fn, p);
    expect(again).toMatchObject({ status: 'done', duplicate: true });
    expect(runs).toBe(1);
    expect(p.queues.sent.filter((m) => m.queue === 'act')).toHaveLength(1);
    expect(await p.audit.listDecision('support-triage', 'dec_once')).toHaveLength(1);
    expect(p.metrics.counts.get('StageRedelivered')).toBe(1);
  });

  it('applies the committed records and messages again after a crash between commit and hand-on, without running the stage', async () => {
    let clock = now().getTime();
    const faults = seededFaults({ seed: 1, crash: { 'after-commit': 1 } });
    const p = ports({ faults, now: () => new Date(clock), leaseSeconds: 60 });
    let runs = 0;
    const fn = async (e: Envelope) => { runs++; return forward(e); };
    await expect(runStage('verify', envelope(), { attempt: 1, maxReceiveCount: 3 }, fn, p)).rejects.toBeInstanceOf(SimulatedCrash);
    expect(p.queues.sent).toHaveLength(0);
    // While the dead delivery's lease runs, a duplicate does not apply it, and stays on the queue.
    expect(await runStage('verify', envelope(), { attempt: 1, maxReceiveCount: 3 }, fn, p)).toMatchObject({ status: 'retry', error: { code: 'STAGE_APPLYING' } });
    expect(p.queues.sent).toHaveLength(0);
    clock += 61_000;
    await runStage('verify', envelope(), { attempt: 2, maxReceiveCount: 3 }, fn, p);
    expect(runs).toBe(1);
    const [sent] = p.queues.take('act') as Envelope[];
    const records = await p.audit.listDecision('support-triage', 'dec_once');
    expect(records).toHaveLength(1);
    expect(sent.auditHead).toEqual({ seq: records[0].seq, hash: records[0].hash });
  });

  it('lets a delivery run again once a crashed holder\'s lease ran out, and keeps one outcome', async () => {
    let clock = now().getTime();
    const faults = seededFaults({ seed: 1, crash: { 'after-stage-work': 1 } });
    const p = ports({ faults, now: () => new Date(clock), leaseSeconds: 60 });
    let runs = 0;
    const fn = async (e: Envelope) => { runs++; return forward(e); };
    await expect(runStage('verify', envelope(), { attempt: 1, maxReceiveCount: 3 }, fn, p)).rejects.toBeInstanceOf(SimulatedCrash);
    const busy = await runStage('verify', envelope(), { attempt: 2, maxReceiveCount: 3 }, fn, p);
    expect(busy.status).toBe('retry');
    clock += 61_000;
    await runStage('verify', envelope(), { attempt: 3, maxReceiveCount: 3 }, fn, p);
    expect(runs).toBe(2);
    expect(p.queues.take('act')).toHaveLength(1);
    expect(await p.audit.listDecision('support-triage', 'dec_once')).toHaveLength(1);
  });

  it('still runs a retry after a recorded retryable failure', async () => {
    const p = ports();
    let runs = 0;
    const fn = async (e: Envelope) => {
      runs++;
      if (runs === 1) throw new SeamworkError('CONNECTOR_UNAVAILABLE', 'zendesk 503', true);
      return forward(e);
    };
    expect((await runStage('verify', envelope(), { attempt: 1, maxReceiveCount: 3 }, fn, p)).status).toBe('retry');
    expect((await runStage('verify', envelope(), { attempt: 2, maxReceiveCount: 3 }, fn, p)).status).toBe('done');
    expect(runs).toBe(2);
    expect((await p.audit.listDecision('support-triage', 'dec_once')).map((r) => r.kind)).toEqual(expect.arrayContaining(['attempt_failed', 'verified']));
  });

  it('parks a message once: a redelivery of a rejected one sends no second DLQ message', async () => {
    const p = ports();
    const fn = async (): Promise<StageOutcome> => { throw new SeamworkError('CONTRACT_VIOLATION', 'bad', false); };
    await runStage('validate', envelope({ stage: 'validate' }), { attempt: 1, maxReceiveCount: 3 }, fn, p);
    await runStage('validate', envelope({ stage: 'validate' }), { attempt: 2, maxReceiveCount: 3 }, fn, p);
    expect(p.queues.take('validate-dlq')).toHaveLength(1);
    expect((await p.audit.listDecision('support-triage', 'dec_once')).filter((r) => r.kind === 'rejected')).toHaveLength(1);
  });

  it('runs a stage again for a new chain position (a requeue or a redrive is new work)', async () => {
    const p = ports();
    let runs = 0;
    const fn = async (e: Envelope) => { runs++; return forward(e); };
    await runStage('verify', envelope(), { attempt: 1, maxReceiveCount: 3 }, fn, p);
    await runStage('verify', envelope({ auditHead: { seq: 3, hash: 'b'.repeat(64) } }), { attempt: 1, maxReceiveCount: 3 }, fn, p);
    expect(runs).toBe(2);
  });

  it('lets the next delivery apply at once a commit its committer could not hand on', async () => {
    const p = ports({ leaseSeconds: 600 });
    let fail = true;
    const queues = p.queues;
    p.queues = { send: async (q: string, b: unknown, o?: { delaySeconds?: number }) => { if (fail) throw new SeamworkError('QUEUE_SEND_FAILED', 'SQS down', true); return queues.send(q, b, o); } } as MemoryQueues;
    let runs = 0;
    const fn = async (e: Envelope) => { runs++; return forward(e); };
    await expect(runStage('verify', envelope(), { attempt: 1, maxReceiveCount: 3 }, fn, p)).rejects.toThrow('SQS down');
    fail = false;
    // Long before the 600 s lease would lapse: the committer gave its lease back.
    expect(await runStage('verify', envelope(), { attempt: 2, maxReceiveCount: 3 }, fn, p)).toMatchObject({ status: 'done', duplicate: true });
    expect(runs).toBe(1);
    expect(queues.take('act')).toHaveLength(1);
  });

  it('keeps a billed step and goes on when the ledger cannot store it, rather than bill it again', async () => {
    const p = ports();
    p.ledger.remember = async () => { throw new SeamworkError('STORE_UNAVAILABLE', 'throttled', true); };
    const model = { id: 'm', calls: 0, async invoke(): Promise<ModelResult> { this.calls++; return { toolInput: {}, stopReason: 'tool_use', model: 'm', usage: { input_tokens: 1, output_tokens: 1 } }; } };
    const fn = async (e: Envelope, memo: Parameters<Parameters<typeof runStage>[3]>[1]) => {
      await memoModel(model, memo).invoke({ request: { model: 'm', max_tokens: 1, messages: [] }, hash: 'h', promptVersion: 'v' } as unknown as BuiltPrompt);
      return forward(e);
    };
    expect((await runStage('infer', envelope({ stage: 'infer' }), { attempt: 1, maxReceiveCount: 4 }, fn, p)).status).toBe('done');
    expect(model.calls).toBe(1);
    expect(p.metrics.counts.get('StepMemoFailed')).toBe(1);
  });

  it('stops an invocation past its timeout before it commits, as Lambda would have killed it, and lets the next delivery run', async () => {
    let left = 1_000;
    const p = ports({ remainingMs: () => left });
    const fn = async (e: Envelope) => { left = 0; return forward(e); };
    await expect(runStage('verify', envelope(), { attempt: 1, maxReceiveCount: 3 }, fn, p)).rejects.toBeInstanceOf(InvocationExpired);
    expect(p.queues.sent).toHaveLength(0);
    expect(await p.audit.listDecision('support-triage', 'dec_once')).toHaveLength(0);
    p.ledger.items.forEach((item) => { item.leaseUntil = 0; });
    left = 1_000;
    expect((await runStage('verify', envelope(), { attempt: 2, maxReceiveCount: 3 }, async (e) => forward(e), p)).status).toBe('done');
    expect(p.queues.take('act')).toHaveLength(1);
  });

  it('keeps one outcome when two deliveries race', async () => {
    const p = ports({ busyWaitMs: 2_000 });
    let runs = 0;
    const fn = async (e: Envelope) => { runs++; await new Promise((r) => setTimeout(r, 50)); return forward(e); };
    const results = await Promise.all([1, 2, 3].map((attempt) => runStage('verify', envelope({ auditHead: { seq: 0, hash: GENESIS_HASH } }), { attempt, maxReceiveCount: 3 }, fn, p)));
    expect(runs).toBe(1);
    expect(results.filter((r) => r.status === 'done' && !r.duplicate)).toHaveLength(1);
    expect(p.queues.take('act')).toHaveLength(1);
  });
});

describe('memoModel', () => {
  class CountingModel implements ModelPort {
    readonly id = 'counting';
    calls = 0;
    async invoke(): Promise<ModelResult> {
      this.calls++;
      return { toolInput: { ok: true }, stopReason: 'tool_use', model: 'counting', usage: { input_tokens: 10, output_tokens: 5 } };
    }
  }
  const prompt = { request: { model: 'm', max_tokens: 10, messages: [] }, hash: 'h', promptVersion: 'v' } as unknown as BuiltPrompt;

  it('replays a billed answer to a later attempt of the stage instead of calling the model again', async () => {
    const p = ports({ faults: seededFaults({ seed: 1, crash: { 'after-stage-work': 1 } }) });
    const model = new CountingModel();
    const fn = async (e: Envelope, memo: Parameters<Parameters<typeof runStage>[3]>[1]) => {
      const r = await memoModel(model, memo).invoke(prompt);
      return { ...forward(e), audit: { kind: 'inferred', data: { replayed: r.replayed ?? false } } };
    };
    await expect(runStage('infer', envelope({ stage: 'infer' }), { attempt: 1, maxReceiveCount: 4 }, fn, p)).rejects.toBeInstanceOf(SimulatedCrash);
    p.ledger.items.forEach((item) => { item.leaseUntil = 0; });
    await runStage('infer', envelope({ stage: 'infer' }), { attempt: 2, maxReceiveCount: 4 }, fn, p);
    expect(model.calls).toBe(1);
    const [record] = await p.audit.listDecision('support-triage', 'dec_once');
    expect(record.data.replayed).toBe(true);
    expect(p.metrics.counts.get('StepReplayed')).toBe(1);
  });
});

/** A vendor stand-in in memory: commits, and can fail after committing. */
class FlakyVendor implements ConnectorPort {
  readonly effects: string[] = [];
  failAfterCommit = 0;
  failBefore = 0;
  reconciles = 0;
  async execute(_a: ActionRequest, ctx: { idempotencyKey: string }): Promise<Record<string, unknown>> {
    if (this.failBefore > 0) { this.failBefore--; throw new ConnectorUnavailable('vendor 503 before commit'); }
    this.effects.push(ctx.idempotencyKey);
    if (this.failAfterCommit > 0) { this.failAfterCommit--; throw new ConnectorUnavailable('vendor timed out after commit'); }
    return { status: 201 };
  }
  async reconcile(_a: ActionRequest, ctx: { idempotencyKey: string }) {
    this.reconciles++;
    return this.effects.includes(ctx.idempotencyKey) ? { found: true as const, response: { status: 200, found: 'marker' } } : { found: false as const };
  }
}

describe('ExactlyOnceExecutor', () => {
  const action: ActionRequest = { name: 'github.create_comment', connector: 'github', params: { body: 'hi' } };

  it('reconciles a vendor that committed and then failed, and does not send again', async () => {
    const vendor = new FlakyVendor();
    vendor.failAfterCommit = 1;
    const ex = new ExactlyOnceExecutor({ ledger: new MemoryActionLedger(), connector: vendor, now, leaseMs: () => 1000 });
    await expect(ex.execute('dec_1', action, {})).rejects.toBeInstanceOf(ConnectorUnavailable);
    const res = await ex.execute('dec_1', action, {});
    expect(res.status).toBe('reconciled');
    expect(vendor.effects).toEqual([actionKey('dec_1', action)]);
  });

  it('sends once more when the vendor shows the earlier attempt did not commit', async () => {
    const vendor = new FlakyVendor();
    vendor.failBefore = 1;
    const ex = new ExactlyOnceExecutor({ ledger: new MemoryActionLedger(), connector: vendor, now, leaseMs: () => 1000 });
    await expect(ex.execute('dec_2', action, {})).rejects.toBeInstanceOf(ConnectorUnavailable);
    expect((await ex.execute('dec_2', action, {})).status).toBe('executed');
    expect(vendor.effects).toHaveLength(1);
    expect(vendor.reconciles).toBe(1);
  });

  it('reconciles after a crash between the vendor call and the ledger, once the dead attempt\'s lease ran out', async () => {
    let clock = now().getTime();
    const vendor = new FlakyVendor();
    const ledger = new MemoryActionLedger();
    const crashing = new ExactlyOnceExecutor({ ledger, connector: vendor, now: () => new Date(clock), leaseMs: () => 60_000, faults: seededFaults({ seed: 1, crash: { 'after-vendor-call': 1 } }) });
    await expect(crashing.execute('dec_3', action, {})).rejects.toBeInstanceOf(SimulatedCrash);
    const next = new ExactlyOnceExecutor({ ledger, connector: vendor, now: () => new Date(clock), leaseMs: () => 60_000 });
    await expect(next.execute('dec_3', action, {})).rejects.toMatchObject({ code: 'ACTION_IN_PROGRESS', retryable: true });
    clock += 61_000;
    expect((await next.execute('dec_3', action, {})).status).toBe('reconciled');
    expect((await next.execute('dec_3', action, {})).status).toBe('duplicate');
    expect(vendor.effects).toHaveLength(1);
  });

  it('sends again without reconciling after the vendor refused the action outright (nothing was committed)', async () => {
    const vendor = new FlakyVendor();
    let refuse = true;
    const refusing: ConnectorPort = {
      execute: async (a, ctx) => { if (refuse) { refuse = false; throw new ConnectorRejected('zendesk refused the action with 422'); } return vendor.execute(a, ctx); },
      reconcile: (a, ctx) => vendor.reconcile(a, ctx),
    };
    const ex = new ExactlyOnceExecutor({ ledger: new MemoryActionLedger(), connector: refusing, now, leaseMs: () => 1000 });
    await expect(ex.execute('dec_5', action, {})).rejects.toBeInstanceOf(ConnectorRejected);
    expect((await ex.execute('dec_5', action, {})).status).toBe('executed');
    expect(vendor.reconciles).toBe(0);
  });

  it('keeps the result of an action that completed, for the record of a later attempt', async () => {
    const vendor = new FlakyVendor();
    const ex = new ExactlyOnceExecutor({ ledger: new MemoryActionLedger(), connector: vendor, now, leaseMs: () => 1000 });
    await ex.execute('dec_4', action, {});
    expect(await ex.execute('dec_4', action, {})).toEqual({ action: action.name, status: 'duplicate', response: { status: 201 } });
  });
});

describe('a redrive of an act message', () => {
  it('runs nothing twice at the vendor after the actions ran, whatever function runs it (keys carry no function name)', async () => {
    const vendor = new FlakyVendor();
    const ledger = new MemoryActionLedger();
    const action: ActionRequest = { name: 'github.create_comment', connector: 'github', params: { body: 'hi' } };
    const act = (e: Envelope) => actStage(e, {
      // A new executor each time: a new deploy of the act function, with the same ledger.
      executor: new ExactlyOnceExecutor({ ledger, connector: vendor, now, leaseMs: () => 1000 }), vault: new MemoryTokenVault(), now,
    });
    const p = ports();
    const e = envelope({ stage: 'act', verified: { source: 'ai', decision: {}, actions: [action], retracted: [] } });
    await runStage('act', e, { attempt: 1, maxReceiveCount: 5 }, act, p);
    // `seamwork dlq redrive` appends a `redriven` record: a new chain position, so the stage runs again.
    await runStage('act', { ...e, auditHead: { seq: 9, hash: 'c'.repeat(64) } }, { attempt: 1, maxReceiveCount: 5 }, act, p);
    const acted = (await p.audit.listDecision('support-triage', 'dec_once')).filter((r) => r.kind === 'acted');
    expect(acted.map((r) => (r.data.results as Array<{ status: string }>).map((x) => x.status))).toEqual([['executed'], ['duplicate']]);
    expect(vendor.effects).toHaveLength(1);
  });
});
