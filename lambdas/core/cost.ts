import { SeamworkError } from './errors.js';

/**
 * Layer 3 cost arithmetic: a per-model price table, the worst-case pre-flight, the actual cost
 * from the API's `usage`, and the conversion to the integer micro-dollars the ledger stores.
 * Prices are USD per million tokens (MTok).
 */

/** Prices of one model, USD per million tokens. */
export interface ModelPrice {
  inputPerMTok: number;
  outputPerMTok: number;
  /** 5-minute cache write (1.25× input); the 1-hour TTL costs more (2×) and is not used. */
  cacheWritePerMTok: number;
  /** Cache hits and refreshes (0.1× input). */
  cacheReadPerMTok: number;
  /** Fraction taken off every price by the Message Batches API (0.5 = half price). */
  batchDiscount: number;
  /** Date (YYYY-MM-DD) the prices were checked against the source. */
  asOf: string;
  /** Where the prices come from. */
  source: string;
}

const SOURCE = 'https://platform.claude.com/docs/en/about-claude/pricing';
const AS_OF = '2026-11-25';

/**
 * Known models by API alias. Checked on {@link AS_OF} against Anthropic's pricing page
 * ({@link SOURCE}, "Model pricing" table: base input, 5m cache writes, cache hits, output;
 * "Batch processing": 50% off). Update the table, `asOf` and the tests together.
 */
export const PRICES: Record<string, ModelPrice> = {
  'claude-haiku-4-5': {
    inputPerMTok: 1,
    outputPerMTok: 5,
    cacheWritePerMTok: 1.25,
    cacheReadPerMTok: 0.1,
    batchDiscount: 0.5,
    asOf: AS_OF,
    source: SOURCE,
  },
  'claude-sonnet-4-5': {
    inputPerMTok: 3,
    outputPerMTok: 15,
    cacheWritePerMTok: 3.75,
    cacheReadPerMTok: 0.3,
    batchDiscount: 0.5,
    asOf: AS_OF,
    source: SOURCE,
  },
  'claude-opus-4-5': {
    inputPerMTok: 5,
    outputPerMTok: 25,
    cacheWritePerMTok: 6.25,
    cacheReadPerMTok: 0.5,
    batchDiscount: 0.5,
    asOf: AS_OF,
    source: SOURCE,
  },
};

/** The model id is not in {@link PRICES}: without a price no cap can be enforced, so the call is refused. */
export class UnknownModel extends SeamworkError {
  readonly model: string;
  constructor(model: string) {
    super(
      'UNKNOWN_MODEL',
      `No price is known for model "${model}"; known models: ${Object.keys(PRICES).join(', ')}.`,
      false,
      { detail: { model, known: Object.keys(PRICES) } },
    );
    this.model = model;
  }
}

/**
 * Price of a model. Accepts the alias (`claude-haiku-4-5`) and dated snapshot ids
 * (`claude-haiku-4-5-20251001`), since the API reports the snapshot in `message.model`.
 *
 * @throws UnknownModel for anything else.
 */
export function priceFor(model: string): ModelPrice {
  if (Object.prototype.hasOwnProperty.call(PRICES, model)) return PRICES[model];
  const alias = model.replace(/-\d{8}$/, '');
  if (alias !== model && Object.prototype.hasOwnProperty.call(PRICES, alias)) return PRICES[alias];
  throw new UnknownModel(model);
}

/** Options of {@link worstCaseCostUsd}. */
export interface WorstCaseOptions {
  /**
   * The prompt carries `cache_control`, so every input token may be billed as a cache write
   * (1.25× input) on a cold cache. @default false
   */
  promptCaching?: boolean;
  /** The call goes through the Message Batches API: every price less `batchDiscount`. @default false */
  batch?: boolean;
}

/**
 * Most a call can cost: every input token billed (at the cache-write price when prompt caching
 * is on) and the full `maxTokens` of output. The budget is reserved for this before the call.
 */
export function worstCaseCostUsd(model: string, inputTokens: number, maxTokens: number, options: WorstCaseOptions = {}): number {
  const price = priceFor(model);
  const inputRate = options.promptCaching ? Math.max(price.cacheWritePerMTok, price.inputPerMTok) : price.inputPerMTok;
  return ((inputTokens * inputRate + maxTokens * price.outputPerMTok) / 1_000_000) * (options.batch ? 1 - price.batchDiscount : 1);
}

/** The `usage` block of a Messages API response (fields as the API names them). */
export interface ModelUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Options of {@link actualCostUsd}. */
export interface ActualCostOptions {
  /** The call went through the Message Batches API: every price (cache included) less `batchDiscount`. @default false */
  batch?: boolean;
}

/**
 * What a call actually cost, from its `usage`. `input_tokens` excludes cached tokens, which the
 * API reports separately as cache writes and reads, so the three are priced independently.
 */
export function actualCostUsd(model: string, usage: ModelUsage, options: ActualCostOptions = {}): number {
  const price = priceFor(model);
  return (
    ((usage.input_tokens * price.inputPerMTok +
      usage.output_tokens * price.outputPerMTok +
      (usage.cache_creation_input_tokens ?? 0) * price.cacheWritePerMTok +
      (usage.cache_read_input_tokens ?? 0) * price.cacheReadPerMTok) /
      1_000_000) *
    (options.batch ? 1 - price.batchDiscount : 1)
  );
}

/**
 * USD → integer micro-dollars, rounded up so the ledger never under-counts spend. Values within
 * floating-point noise of an integer (0.000123 × 1e6 = 123.00000000000001) round to it rather than up.
 *
 * @throws RangeError for a negative or non-finite amount: that is a bug, not a cost.
 */
export function toMicroUsd(usd: number): number {
  if (!Number.isFinite(usd) || usd < 0) throw new RangeError(`Cannot convert ${usd} USD to micro-dollars.`);
  const scaled = usd * 1_000_000;
  const nearest = Math.round(scaled);
  return Math.abs(scaled - nearest) < 1e-6 ? nearest : Math.ceil(scaled);
}

/**
 * What prompt caching saved on a call compared with sending the same tokens uncached: reads are
 * billed at a tenth of the input price, writes at 1.25×, so the first call of a prefix costs a
 * little more and every later one much less. Negative on a pure cache write.
 */
export function cachingSavingUsd(model: string, usage: ModelUsage): number {
  const price = priceFor(model);
  const reads = usage.cache_read_input_tokens ?? 0;
  const writes = usage.cache_creation_input_tokens ?? 0;
  return (reads * (price.inputPerMTok - price.cacheReadPerMTok) - writes * (price.cacheWritePerMTok - price.inputPerMTok)) / 1_000_000;
}

/**
 * The usage record an `inferred` audit record carries: tokens, cost, caching's saving, the
 * reservation. `discount` is the batch discount when the call was priced as part of a batch.
 */
export function usageRecord(result: { model: string; usage: ModelUsage }, pricedAs: string, costUsd: number, reservedUsd: number, discount = 0) {
  return {
    model: result.model,
    inputTokens: result.usage.input_tokens,
    outputTokens: result.usage.output_tokens,
    cacheReadTokens: result.usage.cache_read_input_tokens ?? 0,
    cacheWriteTokens: result.usage.cache_creation_input_tokens ?? 0,
    costUsd,
    cacheSavingUsd: cachingSavingUsd(pricedAs, result.usage) * (1 - discount),
    reservedUsd,
  };
}
