import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PRICES, UnknownModel, actualCostUsd, cachingSavingUsd, priceFor, toMicroUsd, worstCaseCostUsd } from '../../lambdas/core/cost.js';
import { SeamworkError } from '../../lambdas/core/errors.js';

describe('PRICES', () => {
  it('lists the published prices with their source', () => {
    expect(PRICES['claude-haiku-4-5']).toMatchObject({ inputPerMTok: 1, outputPerMTok: 5, cacheWritePerMTok: 1.25, cacheReadPerMTok: 0.1 });
    expect(PRICES['claude-sonnet-4-5']).toMatchObject({ inputPerMTok: 3, outputPerMTok: 15, cacheWritePerMTok: 3.75, cacheReadPerMTok: 0.3 });
    expect(PRICES['claude-opus-4-5']).toMatchObject({ inputPerMTok: 5, outputPerMTok: 25, cacheWritePerMTok: 6.25, cacheReadPerMTok: 0.5 });
    for (const price of Object.values(PRICES)) {
      expect(price.source).toMatch(/^https:\/\//);
      expect(price.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(price.batchDiscount).toBe(0.5);
    }
  });
});

describe('priceFor', () => {
  it('resolves a dated snapshot id to its alias', () => {
    expect(priceFor('claude-haiku-4-5-20251001')).toBe(PRICES['claude-haiku-4-5']);
  });

  it('refuses an unknown model with a non-retryable error naming it and the known ids', () => {
    let caught: unknown;
    try {
      priceFor('gpt-5');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnknownModel);
    expect(caught).toBeInstanceOf(SeamworkError);
    const err = caught as UnknownModel;
    expect(err.code).toBe('UNKNOWN_MODEL');
    expect(err.retryable).toBe(false);
    expect(err.message).toBe('No price is known for model "gpt-5"; known models: claude-haiku-4-5, claude-sonnet-4-5, claude-opus-4-5.');
  });
});

describe('worstCaseCostUsd', () => {
  it('prices all input and the full max_tokens of output', () => {
    expect(worstCaseCostUsd('claude-haiku-4-5', 1000, 500)).toBeCloseTo(0.0035, 12);
    expect(worstCaseCostUsd('claude-sonnet-4-5', 1_000_000, 1_000_000)).toBeCloseTo(18, 9);
  });

  it('prices input as cache writes when prompt caching is on', () => {
    expect(worstCaseCostUsd('claude-haiku-4-5', 1000, 0, { promptCaching: true })).toBeCloseTo(0.00125, 12);
  });

  it('is never below the actual cost of a call within its limits (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(PRICES)),
        fc.nat(200_000),
        fc.nat(200_000),
        fc.nat(8192),
        fc.nat(8192),
        (model, uncached, cached, maxTokens, output) => {
          fc.pre(output <= maxTokens);
          const worst = worstCaseCostUsd(model, uncached + cached, maxTokens, { promptCaching: true });
          const asWrites = actualCostUsd(model, { input_tokens: uncached, output_tokens: output, cache_creation_input_tokens: cached });
          const asReads = actualCostUsd(model, { input_tokens: uncached, output_tokens: output, cache_read_input_tokens: cached });
          expect(worst + 1e-12).toBeGreaterThanOrEqual(asWrites);
          expect(worst + 1e-12).toBeGreaterThanOrEqual(asReads);
        },
      ),
    );
  });
});

describe('actualCostUsd', () => {
  it('prices input, output, cache writes and cache reads separately', () => {
    const cost = actualCostUsd('claude-sonnet-4-5', {
      input_tokens: 1_000_000,
      output_tokens: 1_000_000,
      cache_creation_input_tokens: 1_000_000,
      cache_read_input_tokens: 1_000_000,
    });
    expect(cost).toBeCloseTo(3 + 15 + 3.75 + 0.3, 9);
  });

  it('treats null cache fields as zero', () => {
    expect(
      actualCostUsd('claude-haiku-4-5', { input_tokens: 100, output_tokens: 10, cache_creation_input_tokens: null, cache_read_input_tokens: null }),
    ).toBeCloseTo(0.00015, 12);
  });
});

describe('toMicroUsd', () => {
  it('rounds up to whole micro-dollars', () => {
    expect(toMicroUsd(0.0000001)).toBe(1);
    expect(toMicroUsd(0.0000011)).toBe(2);
    expect(toMicroUsd(0)).toBe(0);
  });

  it('does not round floating-point noise up', () => {
    expect(0.000123 * 1_000_000).not.toBe(123);
    expect(toMicroUsd(0.000123)).toBe(123);
    expect(toMicroUsd(0.1 + 0.2)).toBe(300_000);
    expect(toMicroUsd(worstCaseCostUsd('claude-haiku-4-5', 1000, 500))).toBe(3500);
  });

  it('refuses negative and non-finite amounts', () => {
    expect(() => toMicroUsd(-1)).toThrow(RangeError);
    expect(() => toMicroUsd(Number.NaN)).toThrow(RangeError);
  });

  it('is an integer never below the amount (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1000, noNaN: true }), (usd) => {
        const micro = toMicroUsd(usd);
        expect(Number.isInteger(micro)).toBe(true);
        expect(micro).toBeGreaterThanOrEqual(usd * 1_000_000 - 1e-6);
      }),
    );
  });
});

describe('cachingSavingUsd', () => {
  it('credits cache reads at input minus read price and debits cache writes at write minus input price', () => {
    // haiku: input $1, write $1.25, read $0.10 per MTok
    expect(cachingSavingUsd('claude-haiku-4-5', { input_tokens: 800, output_tokens: 100, cache_read_input_tokens: 1_000_000 })).toBeCloseTo(0.9, 9);
    expect(cachingSavingUsd('claude-haiku-4-5', { input_tokens: 800, output_tokens: 100, cache_creation_input_tokens: 1_000_000 })).toBeCloseTo(-0.25, 9);
    expect(cachingSavingUsd('claude-haiku-4-5', { input_tokens: 800, output_tokens: 100 })).toBe(0);
  });
});
