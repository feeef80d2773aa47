import Anthropic from '@anthropic-ai/sdk';
import { ModelRateLimited, ModelUnavailable, SeamworkError } from '../core/errors.js';
import type { ModelPort, ModelResult } from '../core/ports.js';
import type { BuiltPrompt } from '../core/prompt.js';
import { MODEL_CALL_TIMEOUT_MS, MODEL_MAX_RETRIES } from '../core/time-budgets.js';

/** Options of the Anthropic model adapter. */
export interface AnthropicModelOptions {
  /** The key, or a function that fetches it once (from Secrets Manager) before the first call. */
  apiKey?: string | (() => Promise<string>);
  /** Defaults to ANTHROPIC_BASE_URL (the local reference model) or the real API. */
  baseURL?: string;
  /** The one retry loop for 5xx/529/timeouts: the SDK's, with backoff. @default MODEL_MAX_RETRIES */
  maxRetries?: number;
  /** Per-attempt timeout. @default MODEL_CALL_TIMEOUT_MS */
  timeoutMs?: number;
}

/**
 * Layer 3 model adapter over the real `@anthropic-ai/sdk`. Retries are the SDK's own (bounded,
 * exponential, honouring retry-after), so Seamwork does not multiply them; what is left after
 * that budget becomes a Seamwork error: 429 → ModelRateLimited (requeued with a delay),
 * anything else → ModelUnavailable (DLQ with the reason).
 */
export class AnthropicModel implements ModelPort {
  readonly id: string;
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
    return new Anthropic({ apiKey, baseURL: this.baseURL, maxRetries: this.options.maxRetries ?? MODEL_MAX_RETRIES, timeout: this.options.timeoutMs ?? MODEL_CALL_TIMEOUT_MS });
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
      message = await client.messages.create(prompt.request as unknown as Anthropic.MessageCreateParamsNonStreaming);
    } catch (err) {
      throw toModelError(err);
    }
    const tool = message.content.find((c): c is Anthropic.ToolUseBlock => c.type === 'tool_use');
    const text = message.content.filter((c): c is Anthropic.TextBlock => c.type === 'text').map((c) => c.text).join('\n');
    return {
      toolInput: tool?.input,
      ...(text ? { text } : {}),
      stopReason: message.stop_reason,
      model: message.model,
      requestId: (message as { _request_id?: string | null })._request_id ?? undefined,
      usage: {
        input_tokens: message.usage.input_tokens,
        output_tokens: message.usage.output_tokens,
        cache_creation_input_tokens: message.usage.cache_creation_input_tokens ?? 0,
        cache_read_input_tokens: message.usage.cache_read_input_tokens ?? 0,
      },
    };
  }
}

/** Maps SDK errors to Seamwork's retry semantics. */
export function toModelError(err: unknown): SeamworkError {
  if (err instanceof SeamworkError) return err;
  if (err instanceof Anthropic.RateLimitError) {
    const header = Number(err.headers?.get?.('retry-after'));
    return new ModelRateLimited(`The model rate-limited the call after the retry budget: ${err.message}`, Number.isFinite(header) && header > 0 ? header : 10, { cause: err });
  }
  if (err instanceof Anthropic.APIError) {
    return new ModelUnavailable(`The model call failed after the retry budget (status ${err.status ?? 'none'}): ${err.message}`, { cause: err, detail: { status: err.status ?? null } });
  }
  return new ModelUnavailable(`The model call failed: ${(err as Error).message}`, { cause: err });
}
