import { describe, expect, it } from 'vitest';
import { METRICS, METRIC_UNITS } from '../../lambdas/core/metrics.js';

describe('METRICS', () => {
  it('names each metric by its key', () => {
    for (const [key, name] of Object.entries(METRICS)) expect(name).toBe(key);
  });

  it('gives every metric a unit and no unit to an unknown metric', () => {
    expect(Object.keys(METRIC_UNITS).sort()).toEqual(Object.values(METRICS).sort());
    expect(METRIC_UNITS[METRICS.ModelLatency]).toBe('Milliseconds');
    expect(METRIC_UNITS[METRICS.CostMicroUsd]).toBe('Count');
  });

  it('includes the vocabulary the pipeline and alarms rely on', () => {
    const required = [
      'WebhookAccepted', 'WebhookRejected', 'DuplicateDelivery', 'ContractViolation', 'PiiRedacted', 'WindowTruncated',
      'ModelCall', 'ModelError', 'ModelRetry', 'TokensIn', 'TokensOut', 'CostMicroUsd', 'CostCapRejected', 'SchemaFailure',
      'QuoteRetracted', 'Abstained', 'LowConfidence', 'ReviewRouted', 'ActionExecuted', 'ActionDuplicateSuppressed',
      'ActionFailed', 'ShadowRecorded', 'DlqRouted', 'PathAi', 'PathBaseline', 'PathShadow',
    ];
    expect(Object.keys(METRICS)).toEqual(expect.arrayContaining(required));
  });

  it('keeps names within the CloudWatch EMF name rules', () => {
    for (const name of Object.values(METRICS)) expect(name).toMatch(/^[A-Za-z][A-Za-z0-9]{0,254}$/);
  });
});
