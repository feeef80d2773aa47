import type { AuditRecord } from '../audit-record.js';
import { GENESIS_HASH } from '../audit-record.js';
import type { QueueStage } from '../config-keys.js';
import type { Envelope } from '../envelope.js';
import type { IntegrationDefinition } from '../integration.js';
import { MemoryAuditStore, MemoryCostLedger, MemoryMetrics, MemoryQueues, MemoryTokenVault, RecordingExecutor, StaticFlagSource } from '../memory-ports.js';
import type { FlagSource, ModelPort } from '../ports.js';
import { runStage } from '../stage-runner.js';
import { actStage } from '../stages/act.js';
import { inferStage } from '../stages/infer.js';
import { verifyStage } from '../stages/verify.js';
import { validateStage } from '../stages/validate.js';

/** The result of one decision run through the real stages with actions recorded, not executed. */
export interface DryRunResult {
  decisionId: string;
  outcome: 'acted' | 'baseline' | 'review' | 'dlq' | 'quarantine';
  /** Stage where it ended. */
  endedAt: QueueStage;
  records: AuditRecord[];
}

/** Options of a dry run. */
export interface DryRunOptions {
  model: ModelPort;
  /** Flags; default: the integration on the AI path at 100%. */
  flags?: FlagSource;
  /** Tenant daily cap. @default 1000 */
  tenantDailyCapUsd?: number;
  now?: () => Date;
}

/**
 * Runs validate → infer → verify → act (dry run) on one raw body in memory, through the same
 * stage runner as the Lambdas, so the eval measures the integration, not the model alone.
 */
export async function dryRunDecision(def: IntegrationDefinition, decisionId: string, rawBody: string, opts: DryRunOptions & { headers?: Record<string, string> }): Promise<DryRunResult> {
  const now = opts.now ?? (() => new Date());
  const headers = opts.headers ?? {};
  // The door's routing too: a delivery ingest would acknowledge as `ignored` never enters the stages.
  if (def.source.eventType) {
    const type = def.source.eventType(safeJson(rawBody), headers);
    if (type === undefined || !(def.source.events ?? []).includes(type)) {
      throw new Error(`${decisionId}: ingest would ignore this delivery (event type ${type ?? 'unknown'}; ${def.name} processes ${(def.source.events ?? []).join(', ')}); a golden example must be one the integration processes.`);
    }
  }
  return dryRunFrom(def, {
    v: 1, decisionId, integration: def.name, tenant: 'eval', vendorEventId: decisionId, receivedAt: now().toISOString(), stage: 'validate',
    auditHead: { seq: -1, hash: GENESIS_HASH }, raw: { body: rawBody, headers }, dryRun: true,
  }, opts);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Runs the stages from the envelope's stage on, in memory, actions recorded (replay starts at infer). */
export async function dryRunFrom(def: IntegrationDefinition, start: Envelope, opts: DryRunOptions): Promise<DryRunResult> {
  const now = opts.now ?? (() => new Date());
  const decisionId = start.decisionId;
  const audit = new MemoryAuditStore();
  const queues = new MemoryQueues();
  const vault = new MemoryTokenVault();
  const ports = { audit, queues, metrics: new MemoryMetrics(), now };
  const flags = opts.flags ?? new StaticFlagSource({ [def.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } });
  const integration = () => def;
  const stages: Record<QueueStage, (e: Envelope) => Promise<import('../stages/types.js').StageOutcome>> = {
    validate: (e) => validateStage(e, { integration, vault, now, vaultTtlSeconds: 3600 }),
    infer: (e) => inferStage(e, { integration, flags, ledger: new MemoryCostLedger(), model: opts.model, now, caps: { tenantDailyUsd: opts.tenantDailyCapUsd ?? 1000, tenantMonthlyUsd: 100_000, integrationDailyUsd: 100_000, globalDailyUsd: 100_000 }, maxRateLimitRequeues: 0 }),
    verify: (e) => verifyStage(e, { integration }),
    act: (e) => actStage(e, { executor: new RecordingExecutor(), vault, now }),
  };

  let envelope: Envelope = { ...start, dryRun: true };
  for (;;) {
    const stage = envelope.stage;
    const res = await runStage(stage, envelope, { attempt: 1, maxReceiveCount: 1 }, stages[stage], ports);
    const records = await audit.listDecision(def.name, decisionId);
    if (res.status === 'retry') throw new Error(`unreachable: a dry run has one delivery (${res.error.message})`);
    if (res.outcome) return { decisionId, outcome: res.outcome as DryRunResult['outcome'], endedAt: stage, records };
    const next = queues.sent.shift();
    if (!next) throw new Error(`Stage ${stage} of ${decisionId} neither forwarded nor ended.`);
    if (next.queue === stage) return { decisionId, outcome: 'dlq', endedAt: stage, records }; // requeue: not in a dry run
    envelope = { ...(next.body as Envelope), dryRun: true };
  }
}
