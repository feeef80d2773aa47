import Anthropic from '@anthropic-ai/sdk';
import type { BatchModelPort, BatchOutcome, BatchRequest, BatchStatus } from '../core/backfill.js';
import { ModelUnavailable, SeamworkError } from '../core/errors.js';
import type { ModelResult } from '../core/ports.js';
import { withRetries } from '../core/retry.js';
import { MODEL_CALL_TIMEOUT_MS, MODEL_MAX_RETRIES, MODEL_MAX_RETRY_WAIT_MS, MODEL_RETRY_BASE_MS, MODEL_RETRY_CAP_MS } from '../core/time-budgets.js';
import { classifyModelError, toModelError } from './anthropic.js';

/** Options of the Message Batches adapter. */
export interface AnthropicBatchModelOptions {
  /** The key, or a function that fetches it once before the first call. */
  apiKey?: string | (() => Promise<string>);
  /** Defaults to ANTHROPIC_BASE_URL (the local reference model) or the real API. */
  baseURL?: string;
  /** Retries of each HTTP call (create, retrieve, results) for 529/5xx/timeouts. @default MODEL_MAX_RETRIES */
  maxRetries?: number;
  /** Injected for tests: every wait (between polls and between retries). */
  sleep?: (ms: number) => Promise<void>;
  /** Per-request timeout. @default MODEL_CALL_TIMEOUT_MS */
  timeoutMs?: number;
  /** First wait between two polls; it doubles each poll. @default 1000 */
  pollBaseMs?: number;
  /** Longest wait between two polls. @default 60000 */
  pollCapMs?: number;
  /** Give up waiting for a batch after this long (the API expires a batch after 24 h). @default 25 h */
  maxWaitMs?: number;
  /** Injected for tests: the clock `maxWaitMs` is measured on. @default Date.now */
  clock?: () => number;
}

/** A batch did not end within the time the caller was prepared to wait. */
export class BatchWaitExceeded extends SeamworkError {
  readonly batchId: string;
  constructor(batchId: string, waitedMs: number) {
    super('BATCH_WAIT_EXCEEDED', `Message Batch ${batchId} had not ended after ${Math.round(waitedMs / 1000)} s; it is still processing at the API.`, true, { detail: { batchId } });
    this.batchId = batchId;
  }
}

/** The status a poll reports, in Seamwork's terms. */
function statusOf(batch: Anthropic.Messages.MessageBatch): BatchStatus {
  const c = batch.request_counts;
  const total = c.processing + c.succeeded + c.errored + c.canceled + c.expired;
  return { id: batch.id, status: batch.processing_status, total, done: total - c.processing, succeeded: c.succeeded, errored: c.errored, canceled: c.canceled, expired: c.expired };
}

/** A Messages API message as the same {@link ModelResult} that `AnthropicModel.invoke` returns. */
export function toModelResult(message: Anthropic.Message): ModelResult {
  const tool = message.content.find((c): c is Anthropic.ToolUseBlock => c.type === 'tool_use');
  const texts = message.content.filter((c): c is Anthropic.TextBlock => c.type === 'text');
  const text = texts.map((c) => c.text).join('\n');
  return {
    toolInput: tool?.input,
    ...(text ? { text } : {}),
    // Citations mode (grounding step 5): the cited text blocks, as the API located them.
    ...(texts.some((t) => t.citations?.length) ? { textBlocks: texts.map((t) => ({ text: t.text, citations: (t.citations ?? []) as unknown as Array<Record<string, unknown>> })) } : {}),
    messageId: message.id,
    stopReason: message.stop_reason,
    model: message.model,
    usage: {
      input_tokens: message.usage.input_tokens,
      output_tokens: message.usage.output_tokens,
      cache_creation_input_tokens: message.usage.cache_creation_input_tokens ?? 0,
      cache_read_input_tokens: message.usage.cache_read_input_tokens ?? 0,
    },
  };
}

/**
 * Layer 3 adapter over the Message Batches API of the real `@anthropic-ai/sdk`: submits many
 * built prompts as one batch (custom_id = the caller's id, e.g. the decision id), polls with
 * exponential backoff until it ends, and maps each result to the {@link ModelResult} a per-call
 * inference returns — or to a per-request error (errored, canceled, expired, missing), so one bad
 * request never sinks the rest. Each HTTP call goes through Seamwork's one retry loop (the SDK's
 * own retries are off); a 429 while polling waits retry-after and polls again.
 */
export class AnthropicBatchModel implements BatchModelPort {
  readonly id: string;
  /** Retries made by this adapter since it was created (tests and metrics). */
  retries = 0;
  private client?: Promise<Anthropic>;
  private readonly baseURL?: string;

  constructor(private readonly options: AnthropicBatchModelOptions = {}) {
    this.baseURL = options.baseURL ?? process.env.ANTHROPIC_BASE_URL ?? undefined;
    this.id = `anthropic-batch:${this.baseURL ?? 'api.anthropic.com'}`;
  }

  private sleep(ms: number): Promise<void> {
    return this.options.sleep ? this.options.sleep(ms) : new Promise((r) => setTimeout(r, ms));
  }

  private getClient(): Promise<Anthropic> {
    this.client ??= (async () => {
      const key = this.options.apiKey ?? process.env.ANTHROPIC_API_KEY;
      const apiKey = typeof key === 'function' ? await key() : key;
      if (!apiKey) throw new ModelUnavailable('No model API key: set ANTHROPIC_API_KEY, or anthropicApiKey in the secrets document.');
      return new Anthropic({ apiKey, baseURL: this.baseURL, maxRetries: 0, timeout: this.options.timeoutMs ?? MODEL_CALL_TIMEOUT_MS });
    })().catch((err) => {
      // A failed key fetch is not cached: the next call tries again.
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  /** One HTTP call through the one retry loop; failures mapped to Seamwork's errors. */
  private async call<T>(fn: (client: Anthropic) => Promise<T>): Promise<T> {
    try {
      const client = await this.getClient();
      return await withRetries(() => fn(client), {
        retries: this.options.maxRetries ?? MODEL_MAX_RETRIES, baseMs: MODEL_RETRY_BASE_MS, capMs: MODEL_RETRY_CAP_MS, maxRetryAfterMs: MODEL_MAX_RETRY_WAIT_MS,
        classify: classifyModelError, sleep: this.options.sleep, onRetry: () => (this.retries += 1),
      });
    } catch (err) {
      throw toModelError(err);
    }
  }

  async submit(requests: BatchRequest[]): Promise<BatchStatus> {
    const batch = await this.call((c) => c.messages.batches.create({
      requests: requests.map((r) => ({ custom_id: r.customId, params: r.prompt.request as unknown as Anthropic.MessageCreateParamsNonStreaming })),
    }));
    return statusOf(batch);
  }

  async wait(batchId: string, onProgress?: (status: BatchStatus) => void): Promise<BatchStatus> {
    const clock = this.options.clock ?? Date.now;
    const started = clock();
    const base = this.options.pollBaseMs ?? 1_000;
    const cap = this.options.pollCapMs ?? 60_000;
    const maxWait = this.options.maxWaitMs ?? 25 * 3600 * 1000;
    for (let poll = 0; ; poll++) {
      let status: BatchStatus;
      try {
        status = statusOf(await this.call((c) => c.messages.batches.retrieve(batchId)));
      } catch (err) {
        // Polling too fast is pacing, not failure: wait as asked and poll again.
        if ((err as SeamworkError).code !== 'MODEL_RATE_LIMITED') throw err;
        await this.sleep(Math.min(cap, ((err as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1) * 1000));
        continue;
      }
      onProgress?.(status);
      if (status.status === 'ended') return status;
      if (clock() - started >= maxWait) throw new BatchWaitExceeded(batchId, clock() - started);
      await this.sleep(Math.min(cap, base * 2 ** poll));
    }
  }

  async results(batchId: string, customIds: readonly string[]): Promise<BatchOutcome[]> {
    const lines = await this.call(async (c) => {
      const out: Anthropic.Messages.MessageBatchIndividualResponse[] = [];
      for await (const line of await c.messages.batches.results(batchId)) out.push(line);
      return out;
    });
    const byId = new Map(lines.map((l) => [l.custom_id, l.result]));
    return customIds.map((customId): BatchOutcome => {
      const result = byId.get(customId);
      if (!result) return { customId, ok: false, kind: 'missing', message: `Message Batch ${batchId} has no result for ${customId}.` };
      switch (result.type) {
        case 'succeeded':
          return { customId, ok: true, result: toModelResult(result.message) };
        case 'errored':
          return { customId, ok: false, kind: 'errored', errorType: result.error.error.type, message: result.error.error.message };
        case 'canceled':
          return { customId, ok: false, kind: 'canceled', message: `The request was canceled with Message Batch ${batchId} before it was processed.` };
        case 'expired':
          return { customId, ok: false, kind: 'expired', message: `Message Batch ${batchId} expired before the request was processed.` };
      }
    });
  }
}
