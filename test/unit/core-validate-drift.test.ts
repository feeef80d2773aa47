import { describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../../lambdas/core/audit-record.js';
import type { DriftPolicy } from '../../lambdas/core/contracts/drift.js';
import type { Envelope } from '../../lambdas/core/envelope.js';
import { MemoryAuditStore, MemoryDriftStore, MemoryMetrics, MemoryQueues, MemoryTokenVault } from '../../lambdas/core/memory-ports.js';
import { metricsOf } from '../../lambdas/core/record-metrics.js';
import { runStage, type QuarantineItem } from '../../lambdas/core/stage-runner.js';
import { validateStage } from '../../lambdas/core/stages/validate.js';
import type { IntegrationDefinition } from '../../lambdas/core/integration.js';
import { loadGolden } from '../../lambdas/core/eval/run.js';
import { detectDrift } from '../../lambdas/core/contracts/drift.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { loadFixtures } from '../../lib/local/fixtures.js';

const now = () => new Date('2026-11-25T12:00:00Z');
const clean = JSON.parse(loadFixtures(supportTriage).find((f) => f.name === 'clean-billing-duplicate-charge')!.body);
const withPolicy = (drift: DriftPolicy): IntegrationDefinition => ({ ...supportTriage, contract: { ...supportTriage.contract, drift } });
const envelope = (body: unknown): Envelope => ({
  v: 1, decisionId: 'dec_drift', integration: supportTriage.name, tenant: 't', vendorEventId: 'e', receivedAt: now().toISOString(), stage: 'validate',
  auditHead: { seq: 0, hash: GENESIS_HASH }, raw: { body: JSON.stringify(body), headers: {} },
});

/** Runs validate through the stage runner, as the handler does, and returns what happened. */
async function run(body: unknown, policy: DriftPolicy) {
  const def = withPolicy(policy);
  const ports = { audit: new MemoryAuditStore(), queues: new MemoryQueues(), metrics: new MemoryMetrics(), now };
  const drift = new MemoryDriftStore();
  const result = await runStage('validate', envelope(body), { attempt: 1, maxReceiveCount: 3 }, (e) => validateStage(e, { integration: () => def, vault: new MemoryTokenVault(), drift, now, vaultTtlSeconds: 60 }), ports);
  const records = await ports.audit.listDecision(def.name, 'dec_drift');
  return { result, records, sent: ports.queues.sent, drift, metrics: records.flatMap(metricsOf) };
}

// Zendesk adds a field the contract has never seen, and a ticket status nobody declared.
const drifted = () => ({ ...clean, detail: { ...clean.detail, sla_policy: { id: 9 }, status: 'ARCHIVED' } });

describe('validate with drift', () => {
  it.each(Object.values(INTEGRATIONS).map((d) => [d.name, d] as const))('finds no drift in any %s golden example (the contract matches what the vendor sends)', (_name, def) => {
    for (const g of loadGolden(def.eval.goldenPath)) {
      expect(detectDrift(def.contract.schema, g.body, def.contract.drift, now()).findings, g.id).toEqual([]);
      expect(def.contract.schema.safeParse(g.body).success, g.id).toBe(true);
    }
  });

  it('finds no drift in any support-triage golden example or clean fixture (the contract matches what Zendesk sends)', () => {
    const bodies = [
      ...loadGolden(supportTriage.eval.goldenPath).map((g) => g.body),
      ...loadFixtures(supportTriage).filter((f) => f.expect.outcome && f.expect.outcome !== 'dlq').map((f) => JSON.parse(f.body)),
    ];
    for (const body of bodies) {
      expect(detectDrift(supportTriage.contract.schema, body, supportTriage.contract.drift, now()).findings, JSON.stringify(body).slice(0, 80)).toEqual([]);
    }
  });

  it('pass-and-report: processes the event and records each finding with its pointer, counted per field', async () => {
    const { result, records, sent, drift, metrics } = await run(drifted(), { default: 'pass-and-report' });
    expect(result).toEqual({ status: 'done' });
    expect(sent.map((s) => s.queue)).toEqual(['infer']);
    const validated = records.find((r) => r.kind === 'validated')!;
    const findings = (validated.data.drift as { findings: Array<{ kind: string; pointer: string }> }).findings;
    expect(findings.map((f) => [f.kind, f.pointer])).toEqual([['new_enum_value', '/detail/status'], ['unknown_field', '/detail/sla_policy']]);
    expect((await drift.list(supportTriage.name, '2026-11-01')).map((c) => [c.field, c.kind, c.count])).toEqual([
      ['/detail/status', 'new_enum_value', 1], ['/detail/sla_policy', 'unknown_field', 1],
    ]);
    expect(metrics).toContainEqual(['ContractDrift', 2]);
  });

  it('quarantine: holds the event, raw body included, in the quarantine queue with the pointer and a sentence', async () => {
    const { result, records, sent, metrics } = await run(drifted(), { default: 'pass-and-report', byKind: { new_enum_value: 'quarantine' } });
    expect(result).toEqual({ status: 'done', outcome: 'quarantine' });
    expect(sent.map((s) => s.queue)).toEqual(['quarantine']);
    const item = sent[0].body as QuarantineItem;
    expect(item).toMatchObject({ kind: 'quarantine', code: 'CONTRACT_DRIFT', pointer: '/detail/status', contractVersion: supportTriage.contract.version });
    expect(item.reason).toContain('/detail/status is "ARCHIVED", a value the contract does not list');
    expect(item.envelope.raw?.body).toBe(JSON.stringify(drifted()));
    expect(records.at(-1)).toMatchObject({ kind: 'quarantined', data: { outcome: 'quarantine' } });
    expect(metrics).toContainEqual(['ContractQuarantined', 1]);
  });

  it('reject: parks the event in the validate DLQ with the pointer, the contract version and the sentence', async () => {
    const { result, sent, records } = await run(drifted(), { default: 'reject' });
    expect(result).toEqual({ status: 'done', outcome: 'dlq' });
    expect(sent[0].queue).toBe('validate-dlq');
    expect(sent[0].body).toMatchObject({ code: 'CONTRACT_DRIFT', pointer: '/detail/status', contractVersion: supportTriage.contract.version });
    expect((sent[0].body as { reason: string }).reason).toContain('drift policy says reject: /detail/status is "ARCHIVED"');
    expect((sent[0].body as { reason: string }).reason).toContain('/detail/sla_policy (object) is not in the contract.');
    expect(records.at(-1)).toMatchObject({ kind: 'rejected', data: { outcome: 'dlq', code: 'CONTRACT_DRIFT' } });
  });

  it('rejects a parse failure whatever the policy, naming it in drift terms', async () => {
    const body = { ...clean, detail: { ...clean.detail, requester_id: null } };
    const { sent } = await run(body, { default: 'pass-and-report' });
    expect(sent[0].queue).toBe('validate-dlq');
    expect(sent[0].body).toMatchObject({ code: 'CONTRACT_VIOLATION', pointer: '/detail/requester_id' });
    expect((sent[0].body as { reason: string }).reason).toContain('/detail/requester_id is null; the contract requires a string.');
  });

  it('never quotes the payload in a refinement failure (a card number where the ticket subject goes)', async () => {
    const body = { ...clean, subject: 'zen:ticket:4111111111111111' };
    const { sent } = await run(body, { default: 'pass-and-report' });
    expect(sent[0].body).toMatchObject({ code: 'CONTRACT_VIOLATION', pointer: '/subject' });
    // The envelope keeps the raw body (that is what a redrive replays); the reason and detail must not quote it.
    const { envelope: _raw, ...rejection } = sent[0].body as Record<string, unknown>;
    expect(JSON.stringify(rejection)).not.toContain('4111111111111111');
  });

  it('lets an observed field change type without stopping the ticket', async () => {
    const body = { ...clean, detail: { ...clean.detail, is_public: 'yes' } };
    const { sent, records } = await run(body, { default: 'pass-and-report' });
    expect(sent.map((s) => s.queue)).toEqual(['infer']);
    expect(records.find((r) => r.kind === 'validated')!.data.drift).toMatchObject({ findings: [{ kind: 'type_changed', pointer: '/detail/is_public' }] });
  });

  it('rejects a batch with a sentence that says one record per decision', async () => {
    const { sent } = await run([clean, clean], { default: 'pass-and-report' });
    expect(sent[0].body).toMatchObject({ code: 'CARDINALITY_VIOLATION' });
    expect((sent[0].body as { reason: string }).reason).toContain('a batch (an array of 2)');
  });

  it('still processes the event when the drift store is down, and says so in the audit record', async () => {
    const def = withPolicy({ default: 'pass-and-report' });
    const failing = { record: async () => { throw new Error('throttled'); }, list: async () => [] };
    const out = await validateStage(envelope(drifted()), { integration: () => def, vault: new MemoryTokenVault(), drift: failing, now, vaultTtlSeconds: 60 });
    expect(out.kind).toBe('forward');
    expect(out.audit.data.driftStore).toBe('drift counts not recorded: throttled');
  });
});
