import { describe, expect, it } from 'vitest';
import { ACT_WORST_MS, MODEL_CALL_WORST_MS } from '../../lambdas/core/time-budgets.js';
import { STAGE_SPECS } from '../../lib/topology.js';

describe('topology time budgets', () => {
  it.each(Object.values(STAGE_SPECS))('gives $stage a visibility timeout of at least six times its function timeout (AWS guidance)', (spec) => {
    expect(spec.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * spec.timeoutSeconds);
  });

  it('lets the infer function outlast a model call with every retry it may make', () => {
    expect(STAGE_SPECS.infer.timeoutSeconds * 1000).toBeGreaterThan(STAGE_SPECS.infer.batchSize * MODEL_CALL_WORST_MS);
  });

  it('lets the act function outlast every action of its batch timing out', () => {
    expect(STAGE_SPECS.act.timeoutSeconds * 1000).toBeGreaterThan(STAGE_SPECS.act.batchSize * ACT_WORST_MS);
  });
});
