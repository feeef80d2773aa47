import { describe, expect, it } from 'vitest';
import { actualCostUsd, PRICES, worstCaseCostUsd } from '../../lambdas/core/cost.js';

describe('batch price (cost.ts)', () => {
  const usage = { input_tokens: 1200, output_tokens: 300, cache_creation_input_tokens: 800, cache_read_input_tokens: 4000 };

  it('charges every token class of a batched call at the price less batchDiscount', () => {
    const perCall = actualCostUsd('claude-haiku-4-5', usage);
    const batch = actualCostUsd('claude-haiku-4-5', usage, { batch: true });

    // 1200×$1 + 300×$5 + 800×$1.25 + 4000×$0.1 per MTok = $0.0041; half of it in a batch.
    expect(perCall).toBeCloseTo(0.0041, 12);
    expect(batch).toBeCloseTo(0.00205, 12);
    expect(batch).toBe(perCall * (1 - PRICES['claude-haiku-4-5'].batchDiscount));
  });

  it('prices the worst case of a batched call at the batch price, prompt caching included', () => {
    const perCall = worstCaseCostUsd('claude-sonnet-4-5', 2000, 1024, { promptCaching: true });
    const batch = worstCaseCostUsd('claude-sonnet-4-5', 2000, 1024, { promptCaching: true, batch: true });

    // 2000×$3.75 + 1024×$15 per MTok.
    expect(perCall).toBeCloseTo(0.02286, 12);
    expect(batch).toBeCloseTo(0.01143, 12);
  });

  it('leaves the per-call price unchanged when batch is not asked for', () => {
    expect(actualCostUsd('claude-opus-4-5', usage, { batch: false })).toBe(actualCostUsd('claude-opus-4-5', usage));
    expect(worstCaseCostUsd('claude-opus-4-5', 10, 10, {})).toBe(worstCaseCostUsd('claude-opus-4-5', 10, 10));
  });
});
