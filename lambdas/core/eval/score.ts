import type { AuditRecord } from '../audit-record.js';
import type { CheckResult } from '../envelope.js';
import type { EvalField, GoldenExample, IntegrationDefinition } from '../integration.js';
import type { DryRunResult } from './dry-run.js';

/** Which layer a miss is charged to. */
export type FailedLayer = 'L1 validate' | 'L3 infer' | 'L4 schema' | 'L4 grounding' | 'L4 confidence' | 'L2/L3 model answer' | 'baseline rules' | 'L5 act';

/** One golden example, scored. */
export interface ExampleScore {
  id: string;
  outcome: DryRunResult['outcome'];
  fields: Record<string, { expected: unknown; actual: unknown; ok: boolean }>;
  grounded: boolean;
  abstained: boolean;
  expectedAbstain: boolean;
  failedLayer?: FailedLayer;
  reason?: string;
  tokens: { input: number; output: number };
  costUsd: number;
}

/** The eval report for one integration. */
export interface EvalReport {
  integration: string;
  model: string;
  path: 'ai' | 'baseline';
  examples: number;
  /** 0–100: mean per-field accuracy over every field and example. */
  score: number;
  fieldAccuracy: Record<string, number>;
  /** Share of decisions whose quotes were all found verbatim (no retraction). */
  groundingPassRate: number;
  abstain: { expected: number; correct: number; falseAbstain: number; missedAbstain: number };
  /** Examples whose model call failed (after its retries): a run with any is not a measurement. */
  modelFailures: number;
  tokens: { input: number; output: number };
  costUsd: number;
  misses: Array<Pick<ExampleScore, 'id' | 'failedLayer' | 'reason'> & { fields: string[] }>;
  results: ExampleScore[];
  at: string;
}

const byKind = (records: AuditRecord[], kind: string) => records.filter((r) => r.kind === kind).at(-1);

/** The decision the pipeline reached for an example: verified if it got that far, else the model's raw answer. */
export function decisionOf(res: DryRunResult): Record<string, unknown> | undefined {
  const verified = byKind(res.records, 'verified');
  const d = verified?.data.decision as Record<string, unknown> | undefined;
  if (d) return d;
  const inferred = byKind(res.records, 'inferred');
  if (!inferred) return undefined;
  const data = inferred.data as { response?: { toolInput?: Record<string, unknown> }; route?: { path?: string }; baselineDecision?: Record<string, unknown> };
  return data.route?.path === 'baseline' ? data.baselineDecision : data.response?.toolInput;
}

/** Compares one field. */
export function compareField(field: EvalField, expected: unknown, actual: unknown): boolean {
  if (field.compare === 'present') {
    const present = actual !== null && actual !== undefined && actual !== '';
    return present === Boolean(expected);
  }
  return expected === actual;
}

/** Scores one example from its dry run. */
export function scoreExample(def: IntegrationDefinition, ex: GoldenExample, res: DryRunResult): ExampleScore {
  const decision = decisionOf(res) ?? {};
  const checks = ((byKind(res.records, 'verified')?.data.checks as CheckResult[]) ?? []);
  const fields: ExampleScore['fields'] = {};
  for (const f of def.eval.fields) {
    const actual = decision[f.name];
    fields[f.name] = { expected: ex.expected[f.name], actual: actual ?? null, ok: compareField(f, ex.expected[f.name], actual) };
  }
  const abstained = decision.outcome === def.output.abstainOutcome;
  const expectedAbstain = ex.expected.outcome === def.output.abstainOutcome;
  const quote = checks.find((c) => c.check === 'quote-exists');
  const grounded = abstained || quote?.verdict === 'pass';
  const inferred = byKind(res.records, 'inferred')?.data as { usage?: { inputTokens: number; outputTokens: number; costUsd: number } } | undefined;
  const score: ExampleScore = {
    id: ex.id, outcome: res.outcome, fields, grounded, abstained, expectedAbstain,
    tokens: { input: inferred?.usage?.inputTokens ?? 0, output: inferred?.usage?.outputTokens ?? 0 },
    costUsd: inferred?.usage?.costUsd ?? 0,
  };
  const rejected = byKind(res.records, 'rejected');
  if (res.outcome === 'dlq') {
    // A decision that never came back earns nothing: no field counts as right by default.
    for (const f of Object.values(fields)) f.ok = false;
    const layer: FailedLayer = res.endedAt === 'validate' ? 'L1 validate' : res.endedAt === 'infer' ? 'L3 infer' : res.endedAt === 'verify' ? 'L4 schema' : 'L5 act';
    return { ...score, failedLayer: layer, reason: String(rejected?.data.reason ?? 'rejected') };
  }
  const wrong = Object.entries(fields).filter(([, v]) => !v.ok).map(([k]) => k);
  const inferredPath = (byKind(res.records, 'inferred')?.data.route as { path?: string } | undefined)?.path;
  if (wrong.length > 0) return { ...score, failedLayer: inferredPath === 'baseline' ? 'baseline rules' : 'L2/L3 model answer', reason: `wrong ${wrong.join(', ')}` };
  if (!grounded) return { ...score, failedLayer: 'L4 grounding', reason: quote?.detail ?? 'quotes not verified' };
  if (res.outcome === 'review' && !expectedAbstain) {
    const failed = checks.find((c) => c.verdict === 'fail');
    return { ...score, failedLayer: failed?.check === 'confidence-floor' ? 'L4 confidence' : 'L4 grounding', reason: failed?.detail ?? 'sent to review' };
  }
  return score;
}

/** Aggregates example scores into the report. */
export function aggregate(def: IntegrationDefinition, model: string, path: 'ai' | 'baseline', results: ExampleScore[], at: Date): EvalReport {
  const n = results.length || 1;
  const fieldAccuracy: Record<string, number> = {};
  for (const f of def.eval.fields) fieldAccuracy[f.name] = results.filter((r) => r.fields[f.name]?.ok).length / n;
  const accs = Object.values(fieldAccuracy);
  const score = Math.round((accs.reduce((a, b) => a + b, 0) / (accs.length || 1)) * 1000) / 10;
  return {
    integration: def.name, model, path, examples: results.length, score, fieldAccuracy,
    groundingPassRate: results.filter((r) => r.grounded).length / n,
    abstain: {
      expected: results.filter((r) => r.expectedAbstain).length,
      correct: results.filter((r) => r.outcome !== 'dlq' && r.abstained === r.expectedAbstain).length,
      falseAbstain: results.filter((r) => r.abstained && !r.expectedAbstain).length,
      missedAbstain: results.filter((r) => !r.abstained && r.expectedAbstain).length,
    },
    modelFailures: results.filter((r) => r.failedLayer === 'L3 infer').length,
    tokens: { input: results.reduce((a, r) => a + r.tokens.input, 0), output: results.reduce((a, r) => a + r.tokens.output, 0) },
    costUsd: results.reduce((a, r) => a + r.costUsd, 0),
    misses: results.filter((r) => r.failedLayer).map((r) => ({ id: r.id, failedLayer: r.failedLayer, reason: r.reason, fields: Object.entries(r.fields).filter(([, v]) => !v.ok).map(([k]) => k) })),
    results,
    at: at.toISOString(),
  };
}

/** The committed baseline an eval is compared with, for one model backend. */
export interface EvalBaseline {
  score: number;
  fieldAccuracy: Record<string, number>;
  model: string;
  at: string;
}

/**
 * The committed baseline file: one baseline per backend (`local-reference-model`,
 * `anthropic:claude-haiku-4-5`…), because a score only compares with the same model's.
 */
export type EvalBaselineFile = Record<string, EvalBaseline>;

/** Fails (returns a sentence) when the score dropped by more than `tolerancePoints` below the baseline. */
export function gate(report: EvalReport, baseline: EvalBaseline | undefined, tolerancePoints = 5): { ok: boolean; message: string } {
  if (!baseline) return { ok: true, message: `No committed baseline yet; score ${report.score}.` };
  const drop = Math.round((baseline.score - report.score) * 10) / 10;
  if (drop > tolerancePoints) return { ok: false, message: `Eval score ${report.score} is ${drop} points below the baseline ${baseline.score} (tolerance ${tolerancePoints}).` };
  return { ok: true, message: `Eval score ${report.score} vs baseline ${baseline.score} (${drop > 0 ? `-${drop}` : `+${-drop}`}), within tolerance ${tolerancePoints}.` };
}
