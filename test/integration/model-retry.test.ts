import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRateLimited, ModelUnavailable } from '../../lambdas/core/errors.js';
import { buildPrompt } from '../../lambdas/core/prompt.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { startModelServer, type ModelServer } from '../../lib/local/model-server/server.js';

/** The adapter's one retry loop over the real SDK (whose own retries are off), against the local model server's faults. */
describe('model retries: one loop, not two', () => {
  let server: ModelServer;
  const prompt = buildPrompt(supportTriage, [{ id: 'ticket.description', title: 'Description', text: 'The export fails with error E42 since Monday. Please help.', origin: 'zendesk:ticket/1' }]);
  const model = () => new AnthropicModel({ baseURL: server.url, apiKey: 'local', sleep: async () => {} });

  beforeAll(async () => {
    server = await startModelServer();
  });
  afterAll(async () => server?.stop());

  it('makes exactly four requests for a model that stays overloaded (one try, three retries), then gives up', async () => {
    server.setFaults({ seed: 1, rates: { overloaded: 1 } });
    const before = server.stats().requests;
    const m = model();
    await expect(m.invoke(prompt)).rejects.toBeInstanceOf(ModelUnavailable);
    expect(server.stats().requests - before).toBe(4);
    expect(m.retries).toBe(3);
  });

  it('makes exactly one request for a 429 and hands it back as a rate limit (the queue paces it)', async () => {
    server.setFaults({ seed: 1, rates: { rate_limit: 1 } });
    const before = server.stats().requests;
    await expect(model().invoke(prompt)).rejects.toBeInstanceOf(ModelRateLimited);
    expect(server.stats().requests - before).toBe(1);
  });

  it('answers normally without faults, in one request', async () => {
    server.setFaults({});
    const before = server.stats().requests;
    const res = await model().invoke(prompt);
    expect(res.toolInput).toBeDefined();
    expect(server.stats().requests - before).toBe(1);
  });
});

describe('counted input tokens for the pre-flight', () => {
  let server: ModelServer;
  beforeAll(async () => {
    server = await startModelServer();
  });
  afterAll(async () => server?.stop());

  it('counts through count_tokens, and the count covers what the call then bills', async () => {
    const prompt = buildPrompt(supportTriage, [{ id: 'ticket.description', title: 'Description', text: 'My card was charged twice this month. Please refund one charge.', origin: 'zendesk:ticket/1' }]);
    const model = new AnthropicModel({ baseURL: server.url, apiKey: 'local', sleep: async () => {} });
    const counted = await model.countTokens(prompt);
    const res = await model.invoke(prompt);
    const billed = res.usage.input_tokens + (res.usage.cache_read_input_tokens ?? 0) + (res.usage.cache_creation_input_tokens ?? 0);
    expect(counted).toBeGreaterThan(0);
    expect(counted).toBeGreaterThanOrEqual(billed);
  });
});
