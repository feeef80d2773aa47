import { GENESIS_HASH, verifyChain, type AuditRecord } from './audit-record.js';
import type { Envelope } from './envelope.js';
import { dryRunFrom, type DryRunResult } from './eval/dry-run.js';
import { decisionOf } from './eval/score.js';
import type { IntegrationDefinition, SourceDocument } from './integration.js';
import { StaticFlagSource } from './memory-ports.js';
import type { ModelPort } from './ports.js';
import { summariseDecision } from './trace.js';
import { windowDocuments } from './window.js';

/** A decision replayed from its audit records against a model, actions suppressed. */
export interface ReplayResult {
  decisionId: string;
  originalModel?: string;
  replayModel: string;
  /** Whether the rebuilt prompt hashes to the audited one (layer 2 is deterministic). */
  promptHashMatches: boolean | null;
  /**
   * Whether windowing the audited (redacted) input again gives exactly the audited documents and
   * cuts: the window the model saw is reproducible from the audit log alone.
   */
  windowMatches: boolean;
  original: { outcome?: string; decision?: Record<string, unknown> };
  replayed: { outcome: DryRunResult['outcome']; reason?: string; decision?: Record<string, unknown>; records: AuditRecord[] };
  /** Fields whose values differ between the original and the replay. */
  differences: Array<{ field: string; original: unknown; replayed: unknown }>;
}

/**
 * Rebuilds the infer-stage envelope from the audit log alone (the validated, redacted, windowed
 * documents) and runs infer → verify → act as a dry run on the AI path, optionally with another
 * model. The original decision is untouched and no action runs.
 */
export async function replayDecision(
  def: IntegrationDefinition,
  records: AuditRecord[],
  opts: { model: ModelPort; modelId?: string },
): Promise<ReplayResult> {
  const chain = verifyChain(records);
  if (!chain.ok) throw new Error(`The audit chain of this decision does not verify (${chain.problems.join('; ')}); refusing to replay it.`);
  const validated = chain.chain.find((r) => r.kind === 'validated');
  if (!validated) throw new Error('This decision never passed validation, so there is nothing to replay (see its trace).');
  const accepted = chain.chain.find((r) => r.kind === 'accepted');
  const replayDef: IntegrationDefinition = opts.modelId ? { ...def, model: { ...def.model, id: opts.modelId } } : def;
  const decisionId = validated.decisionId;
  const start: Envelope = {
    v: 1, decisionId, integration: def.name, tenant: String(accepted?.data.tenant ?? 'replay'), vendorEventId: String(accepted?.data.vendorEventId ?? decisionId),
    receivedAt: accepted?.at ?? validated.at, stage: 'infer', auditHead: { seq: -1, hash: GENESIS_HASH },
    input: validated.data.input, contractVersion: String(validated.data.contractVersion), documents: validated.data.documents as SourceDocument[], dryRun: true,
  };
  const rewindowed = windowDocuments(def.documents(validated.data.input), Number((validated.data.window as { budgetTokens?: number } | undefined)?.budgetTokens ?? def.windowTokens));
  const windowMatches =
    JSON.stringify(rewindowed.documents) === JSON.stringify(validated.data.documents) &&
    JSON.stringify(rewindowed.dropped) === JSON.stringify((validated.data.window as { dropped?: unknown } | undefined)?.dropped ?? []);
  const flags = new StaticFlagSource({ [def.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } });
  const res = await dryRunFrom(replayDef, start, { model: opts.model, flags });

  const original = summariseDecision(records);
  const originalPrompt = chain.chain.find((r) => r.kind === 'inferred' || r.kind === 'cost_refused')?.data.prompt as { hash?: string } | undefined;
  const replayPrompt = res.records.find((r) => r.kind === 'inferred' || r.kind === 'cost_refused')?.data.prompt as { hash?: string } | undefined;
  const replayedDecision = decisionOf(res);
  const fields = new Set([...Object.keys(original.decision ?? {}), ...Object.keys(replayedDecision ?? {})]);
  fields.delete('reasoning');
  const differences = [...fields]
    .filter((f) => JSON.stringify(original.decision?.[f]) !== JSON.stringify(replayedDecision?.[f]))
    .map((f) => ({ field: f, original: original.decision?.[f], replayed: replayedDecision?.[f] }));
  const originalUsage = chain.chain.find((r) => r.kind === 'inferred')?.data.usage as { model?: string } | undefined;
  return {
    decisionId,
    originalModel: originalUsage?.model,
    replayModel: replayDef.model.id,
    windowMatches,
    promptHashMatches: originalPrompt?.hash && replayPrompt?.hash ? originalPrompt.hash === replayPrompt.hash : null,
    original: { outcome: original.outcome, decision: original.decision },
    replayed: { outcome: res.outcome, reason: res.records.at(-1)?.data.reason as string | undefined, decision: replayedDecision, records: res.records },
    differences,
  };
}
