import Anthropic from '@anthropic-ai/sdk';
import { ModelRateLimited, ModelUnavailable, SeamworkError } from '../core/errors.js';
import type { ModelPort, ModelResult } from '../core/ports.js';
import type { BuiltPrompt } from '../core/prompt.js';
import { withRetries, type RetryVerdict } from '../core/retry.js';
import { toModelResult } from './anthropic-batch.js';
import { COUNT_TOKENS_TIMEOUT_MS, MODEL_CALL_TIMEOUT_MS, MODEL_MAX_RETRIES, MODEL_MAX_RETRY_WAIT_MS, MODEL_RETRY_BASE_MS, MODEL_RETRY_CAP_MS } from '../core/time-budgets.js';

/** Options of the Anthropic model adapter. */
export interface AnthropicModelOptions {
  /** The key, or a function that fetches it once (from Secrets Manager) before the first call. */
  apiKey?: string | (() => Promise<string>);
  /** Defaults to ANTHROPIC_BASE_URL (the local reference model) or the real API. */
  baseURL?: string;
  /** Retries of Seamwork's one loop for 529/5xx/timeouts (the SDK's own are off). @default MODEL_MAX_RETRIES */
  maxRetries?: number;
  /** Injected for tests: the wait between attempts. */
  sleep?: (ms: number) => Promise<void>;
  /** Per-attempt timeout. @default MODEL_CALL_TIMEOUT_MS */
  timeoutMs?: number;
}

/**
 * Layer 3 model adapter over the real `@anthropic-ai/sdk`. The SDK's retries are off and one
 * loop retries instead (lambdas/core/retry.ts: full jitter, retry-after honoured), so the two
 * never multiply: 529/5xx/timeouts/connection errors are retried, 429 is not (it becomes
 * ModelRateLimited at once and infer requeues the message with a delay), other 4xx fail at once.
 * What is left after the budget becomes ModelUnavailable (DLQ with the reason).
 */
export class AnthropicModel implements ModelPort {
  readonly id: string;
  /** Retries made by this adapter since it was created (tests and metrics). */
  retries = 0;
  private client?: Promise<Anthropic>;
  private readonly baseURL?: string;

  constructor(private readonly options: AnthropicModelOptions = {}) {
    this.baseURL = options.baseURL ?? process.env.ANTHROPIC_BASE_URL ?? undefined;
    this.id = `anthropic:${this.baseURL ?? 'api.anthropic.com'}`;
  }

  private async getClient(): Promise<Anthropic> {
    const key = this.options.apiKey ?? process.env.ANTHROPIC_API_KEY;
    const apiKey = typeof key === 'function' ? await key() : key;
    if (!apiKey) throw new ModelUnavailable('No model API key: set ANTHROPIC_API_KEY, or anthropicApiKey in the secrets document.');
    return new Anthropic({ apiKey, baseURL: this.baseURL, maxRetries: 0, timeout: this.options.timeoutMs ?? MODEL_CALL_TIMEOUT_MS });
  }

  /**
   * The request's input tokens as the API counts them (`POST /v1/messages/count_tokens`, free),
   * for the worst-case pre-flight: one try with a short timeout (the caller falls back to the estimate).
   */
  async countTokens(prompt: BuiltPrompt): Promise<number> {
    const { max_tokens: _m, temperature: _t, metadata: _md, stop_sequences: _s, ...params } = prompt.request as Record<string, unknown>;
    try {
      this.client ??= this.getClient().catch((err) => {
        this.client = undefined;
        throw err;
      });
      const client = await this.client;
      // One short try, no retries: infer falls back to the estimate, and the stage's time budget
      // must stay one model call's worth (test/unit/topology.test.ts).
      const res = await client.messages.countTokens(params as unknown as Anthropic.MessageCountTokensParams, { timeout: COUNT_TOKENS_TIMEOUT_MS, maxRetries: 0 });
      return res.input_tokens;
    } catch (err) {
      throw toModelError(err);
    }
  }

  async invoke(prompt: BuiltPrompt): Promise<ModelResult> {
    let message: Anthropic.Message;
    try {
      // A failed key fetch is not cached: the next invocation tries again.
      this.client ??= this.getClient().catch((err) => {
        this.client = undefined;
        throw err;
      });
      const client = await this.client;
      message = await withRetries(() => client.messages.create(prompt.request as unknown as Anthropic.MessageCreateParamsNonStreaming), {
        retries: this.options.maxRetries ?? MODEL_MAX_RETRIES, baseMs: MODEL_RETRY_BASE_MS, capMs: MODEL_RETRY_CAP_MS, maxRetryAfterMs: MODEL_MAX_RETRY_WAIT_MS,
        classify: classifyModelError, sleep: this.options.sleep,
        onRetry: () => (this.retries += 1),
      });
    } catch (err) {
      throw toModelError(err);
    }
    return { ...toModelResult(message), requestId: (message as { _request_id?: string | null })._request_id ?? undefined };
  }
}

/** Which SDK failures the one loop retries: 529, 5xx, timeouts and dropped connections — never 429 or another 4xx. */
export function classifyModelError(err: unknown): RetryVerdict {
  if (err instanceof Anthropic.APIConnectionError) return { retry: true }; // includes timeouts
  if (err instanceof Anthropic.APIError && typeof err.status === 'number' && err.status >= 500) {
    const after = Number(err.headers?.get?.('retry-after'));
    return { retry: true, ...(Number.isFinite(after) && after > 0 ? { retryAfterMs: after * 1000 } : {}) };
  }
  return { retry: false };
}

/** Maps SDK errors to Seamwork's retry semantics. */
export function toModelError(err: unknown): SeamworkError {
  if (err instanceof SeamworkError) return err;
  if (err instanceof Anthropic.RateLimitError) {
    const header = Number(err.headers?.get?.('retry-after'));
    return new ModelRateLimited(`The model rate-limited the call: ${err.message}`, Number.isFinite(header) && header > 0 ? header : 10, { cause: err });
  }
  if (err instanceof Anthropic.APIError) {
    return new ModelUnavailable(`The model call failed after the retry budget (status ${err.status ?? 'none'}): ${err.message}`, { cause: err, detail: { status: err.status ?? null } });
  }
  return new ModelUnavailable(`The model call failed: ${(err as Error).message}`, { cause: err });
}
