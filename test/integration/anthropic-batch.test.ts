import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ModelUnavailable } from '../../lambdas/core/errors.js';
import { buildPrompt, type BuiltPrompt } from '../../lambdas/core/prompt.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { AnthropicBatchModel, BatchWaitExceeded } from '../../lambdas/model/anthropic-batch.js';
import { startModelServer, type ModelServer } from '../../lib/local/model-server/server.js';

const TICKETS = [
  'I was charged twice for my March invoice and need a refund of the duplicate payment, please.',
  'The export page shows an error 500 and our whole team is blocked; we cannot work on the reports.',
  'Since this morning the dashboard is down for all users: a complete outage of the reporting service.',
];

const promptFor = (text: string): BuiltPrompt =>
  buildPrompt(supportTriage, [{ id: 'description', title: 'Ticket description', text, origin: 'zendesk:ticket/1' }]);

describe('AnthropicBatchModel over the real SDK and the local Message Batches API', () => {
  let server: ModelServer;
  let waits: number[];
  const adapter = (extra: ConstructorParameters<typeof AnthropicBatchModel>[0] = {}) =>
    new AnthropicBatchModel({ baseURL: server.url, apiKey: 'local-reference-model', sleep: async (ms) => void waits.push(ms), ...extra });

  beforeAll(async () => {
    server = await startModelServer();
  });
  afterAll(async () => server.stop());
  beforeEach(() => {
    waits = [];
    server.setBatchProcessing({ inProgressRetrieves: 1 });
  });

  it('submits built prompts, polls until the batch ends, and maps each result to what a per-call invoke returns', async () => {
    const model = adapter();
    const prompts = TICKETS.map(promptFor);
    const progress: string[] = [];

    const created = await model.submit(prompts.map((prompt, i) => ({ customId: `dec_${i}`, prompt })));
    const ended = await model.wait(created.id, (s) => progress.push(`${s.status} ${s.done}/${s.total}`));
    const outcomes = await model.results(created.id, ['dec_2', 'dec_0', 'dec_1']);
    const direct = await Promise.all(prompts.map((p) => new AnthropicModel({ baseURL: server.url, apiKey: 'local' }).invoke(p)));

    expect(created).toMatchObject({ status: 'in_progress', total: 3, done: 0 });
    expect(progress).toEqual(['in_progress 1/3', 'ended 3/3']);
    expect(ended).toMatchObject({ status: 'ended', succeeded: 3, errored: 0 });
    expect(outcomes.map((o) => o.customId)).toEqual(['dec_2', 'dec_0', 'dec_1']);
    const byId = Object.fromEntries(outcomes.map((o) => [o.customId, o]));
    direct.forEach((d, i) => {
      const o = byId[`dec_${i}`];
      if (!o.ok) throw new Error(`dec_${i} failed: ${o.message}`);
      expect(o.result.toolInput).toEqual(d.toolInput);
      expect(o.result.stopReason).toBe('tool_use');
      expect(o.result.model).toBe(supportTriage.model.id);
      expect(o.result.usage.output_tokens).toBe(d.usage.output_tokens);
      // The same prompt costs the same tokens; only the cache split may differ (the prefix is shared).
      const total = (u: typeof d.usage) => u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
      expect(total(o.result.usage)).toBe(total(d.usage));
    });
    expect((byId.dec_0 as { result: { toolInput: { category: string } } }).result.toolInput.category).toBe('billing');
  });

  it('waits longer between polls each time, up to the cap', async () => {
    server.setBatchProcessing({ inProgressRetrieves: 4 });
    const model = adapter({ pollBaseMs: 500, pollCapMs: 3_000 });
    const created = await model.submit([{ customId: 'one', prompt: promptFor(TICKETS[0]) }]);

    await model.wait(created.id);

    expect(waits).toEqual([500, 1_000, 2_000, 3_000]);
  });

  it('reports a request the API errored on per item, and keeps the others', async () => {
    const model = adapter();
    const bad = promptFor(TICKETS[1]);
    const broken = { ...bad, request: { ...bad.request, max_tokens: 0 } };

    const created = await model.submit([{ customId: 'good', prompt: promptFor(TICKETS[0]) }, { customId: 'bad', prompt: broken }]);
    await model.wait(created.id);
    const [good, failed, missing] = await model.results(created.id, ['good', 'bad', 'nobody']);

    expect(good.ok).toBe(true);
    expect(failed).toMatchObject({ ok: false, kind: 'errored', errorType: 'invalid_request_error', message: 'max_tokens: must be a positive integer' });
    expect(missing).toMatchObject({ ok: false, kind: 'missing' });
  });

  it('gives up waiting after maxWaitMs with BatchWaitExceeded, naming the batch', async () => {
    server.setBatchProcessing({ inProgressRetrieves: 100 });
    let now = 0;
    const model = adapter({ maxWaitMs: 10_000, clock: () => now, sleep: async (ms) => void (now += ms) });
    const created = await model.submit([{ customId: 'slow', prompt: promptFor(TICKETS[2]) }]);

    const error = await model.wait(created.id).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(BatchWaitExceeded);
    expect((error as BatchWaitExceeded).batchId).toBe(created.id);
    expect((error as BatchWaitExceeded).retryable).toBe(true);
  });

  it('fails a malformed batch at once as ModelUnavailable, without retrying a 400', async () => {
    const model = adapter();

    const error = await model.submit([]).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelUnavailable);
    expect((error as Error).message).toContain('status 400');
    expect(model.retries).toBe(0);
  });
});
