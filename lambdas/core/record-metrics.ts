import type { AuditRecord } from './audit-record.js';
import type { CheckResult } from './envelope.js';
import { flagsHallucination, hallucinationFlagged } from './grounding/playbook.js';
import { METRICS, type MetricName } from './metrics.js';

/**
 * Layer 7 metrics derived from layer 6 records: every stage's metrics come from the audit
 * record it just wrote, so a dashboard can never disagree with the audit log.
 */
export function metricsOf(record: AuditRecord): Array<[MetricName, number]> {
  const d = record.data as Record<string, any>;
  const out: Array<[MetricName, number]> = [];
  const add = (name: MetricName, value = 1) => {
    if (value > 0) out.push([name, value]);
  };
  const pathMetric = (path: string | undefined) => add(path === 'ai' ? METRICS.PathAi : path === 'shadow' ? METRICS.PathShadow : METRICS.PathBaseline);

  // Drift is reported wherever validate recorded it: passed, quarantined or rejected.
  const drift = (d.drift?.findings ?? d.detail?.drift?.findings ?? []) as Array<{ migration?: { expired: boolean } }>;
  add(METRICS.ContractDrift, drift.filter((f) => !(f.migration && !f.migration.expired)).length);
  add(METRICS.MigrationWindowExpired, drift.filter((f) => f.migration?.expired).length);

  switch (record.kind) {
    case 'quarantined':
      add(METRICS.ContractQuarantined);
      break;
    case 'validated':
      add(METRICS.PiiRedacted, Object.values((d.redacted ?? {}) as Record<string, number>).reduce((a, b) => a + b, 0));
      add(METRICS.WindowTruncated, (d.window?.dropped?.length ?? 0) > 0 ? 1 : 0);
      break;
    case 'inferred':
      pathMetric(d.route?.path);
      add(METRICS.BreakerDiverted, d.route?.breaker === 'open' ? 1 : 0);
      add(METRICS.SourceRejected, (d.route?.lineage?.refused ?? []).length);
      if (typeof d.caps?.tenantCapUsedPercent === 'number') out.push([METRICS.TenantCapUsedPercent, d.caps.tenantCapUsedPercent]);
      if (d.usage) {
        add(METRICS.ModelCall);
        add(METRICS.TokensIn, d.usage.inputTokens);
        add(METRICS.TokensOut, d.usage.outputTokens);
        add(METRICS.CostMicroUsd, Math.ceil(d.usage.costUsd * 1e6));
      }
      if (d.shadowRefused) add(METRICS.CostCapRejected, d.shadowRefused.code === 'COST_CAP_EXCEEDED' ? 1 : 0);
      break;
    case 'cost_refused':
      pathMetric(d.route?.path);
      add(METRICS.CostCapRejected);
      break;
    case 'rate_limited':
      add(METRICS.ModelError);
      add(METRICS.ModelRetry);
      break;
    case 'verified': {
      const checks = (d.checks ?? []) as CheckResult[];
      const failed = (name: string) => checks.some((c) => c.check === name && c.verdict === 'fail');
      add(METRICS.QuoteRetracted, (d.retracted ?? []).length);
      add(METRICS.ClaimRetracted, (d.retractedClaims ?? []).length);
      // Rates (abstain, hallucination) are over the AI decisions judged — acting, or in shadow
      // (exactly when a rollout wants to watch them); the baseline is rules.
      const ai = d.source === 'ai' ? checks : d.shadow ? ((d.shadow.checks ?? []) as CheckResult[]) : undefined;
      if (ai) {
        const flagged = (name: string) => ai.some((c) => c.check === name && flagsHallucination(c));
        add(METRICS.DecisionJudged);
        add(METRICS.Abstained, ai.some((c) => c.check === 'abstain' && c.verdict === 'fail') ? 1 : 0);
        add(METRICS.HallucinationFlagged, hallucinationFlagged(ai) ? 1 : 0);
        add(METRICS.UngroundedClaim, flagged('closed-book') ? 1 : 0);
        add(METRICS.SourceRejected, flagged('source-whitelist') ? 1 : 0);
        add(METRICS.DivergenceDetected, flagged('divergence') ? 1 : 0);
        add(METRICS.EvaluatorUnsupported, flagged('fresh-evaluator') ? 1 : 0);
        add(METRICS.ReasoningOutOfOrder, flagged('reasoning-first') ? 1 : 0);
      }
      add(METRICS.LowConfidence, failed('confidence-floor') ? 1 : 0);
      add(METRICS.SchemaFailure, failed('output-schema') ? 1 : 0);
      break;
    }
    case 'acted': {
      const results = (d.results ?? []) as Array<{ status: string }>;
      add(METRICS.ActionExecuted, results.filter((r) => r.status === 'executed').length);
      add(METRICS.ActionDuplicateSuppressed, results.filter((r) => r.status === 'duplicate').length);
      add(METRICS.ActionReconciled, results.filter((r) => r.status === 'reconciled').length);
      add(METRICS.ShadowRecorded, (d.shadow ?? []).length);
      break;
    }
    case 'attempt_failed':
    case 'rejected': {
      const code = String(d.code ?? '');
      if (code === 'CONTRACT_VIOLATION' || code === 'CARDINALITY_VIOLATION' || code === 'CONTRACT_DRIFT') add(METRICS.ContractViolation);
      else if (code === 'OUTPUT_SCHEMA_VIOLATION') add(METRICS.SchemaFailure);
      else if (code.startsWith('MODEL_')) add(METRICS.ModelError);
      else if (code.startsWith('CONNECTOR_')) add(METRICS.ActionFailed);
      break;
    }
    default:
      break;
  }
  return out;
}
