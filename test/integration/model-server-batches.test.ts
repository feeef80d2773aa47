import Anthropic, { BadRequestError, NotFoundError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startModelServer, type ModelServer } from '../../lib/local/model-server/server.js';

const Triage = z.object({
  category: z.enum(['billing', 'technical', 'account', 'other']).describe('Ticket category. billing: invoice, refund, charged twice. technical: error, crash. Default: other.'),
  priority: z.enum(['low', 'normal', 'high', 'urgent']).describe('Priority. high: blocked, cannot work. urgent: outage. Default: normal.'),
  evidence: z.array(z.object({ quote: z.string(), source: z.string() })).max(3),
});

const triageTool: Anthropic.Tool = { name: 'record_triage', description: 'Record the triage decision.', input_schema: z.toJSONSchema(Triage) as Anthropic.Tool.InputSchema };

function triageRequest(document: string): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model: 'claude-haiku-4-5',
    max_tokens: 512,
    system: 'Triage the support ticket. Quote evidence verbatim.',
    tools: [triageTool],
    tool_choice: { type: 'tool', name: 'record_triage' },
    messages: [{ role: 'user', content: [{ type: 'document', title: 'ticket', source: { type: 'text', media_type: 'text/plain', data: document } }, { type: 'text', text: 'Record the triage.' }] }],
  };
}

const TICKETS = [
  'I was charged twice for my March invoice and need a refund for the duplicate payment please.',
  'The export page shows an error and the whole team is blocked, we cannot work on the reports today.',
  'Our dashboard is down for all users since this morning, a full outage of the reporting service.',
];

/** Every line of a batch's results. */
async function allResults(client: Anthropic, id: string): Promise<Anthropic.Messages.MessageBatchIndividualResponse[]> {
  const out: Anthropic.Messages.MessageBatchIndividualResponse[] = [];
  for await (const line of await client.messages.batches.results(id)) out.push(line);
  return out;
}

describe('local model server: Message Batches API', () => {
  let server: ModelServer;
  let client: Anthropic;

  beforeAll(async () => {
    server = await startModelServer();
    client = new Anthropic({ apiKey: 'local', baseURL: server.url, maxRetries: 0 });
  });
  afterAll(async () => server.stop());
  beforeEach(() => {
    server.setFaults({});
    server.setBatchProcessing({ inProgressRetrieves: 1 });
  });

  it('creates a batch in progress, reports partial counts on the first retrieve, then ends with a results URL', async () => {
    const requests = TICKETS.map((t, i) => ({ custom_id: `ticket-${i}`, params: triageRequest(t) }));

    const created = await client.messages.batches.create({ requests });
    const first = await client.messages.batches.retrieve(created.id);
    const second = await client.messages.batches.retrieve(created.id);

    expect(created).toMatchObject({ type: 'message_batch', processing_status: 'in_progress', results_url: null, ended_at: null, request_counts: { processing: 3, succeeded: 0, errored: 0 } });
    expect(created.id).toMatch(/^msgbatch_[0-9a-f]{24}$/);
    expect(first.processing_status).toBe('in_progress');
    expect(first.request_counts).toEqual({ processing: 2, succeeded: 1, errored: 0, canceled: 0, expired: 0 });
    expect(second.processing_status).toBe('ended');
    expect(second.request_counts).toEqual({ processing: 0, succeeded: 3, errored: 0, canceled: 0, expired: 0 });
    expect(second.results_url).toBe(`${server.url}/v1/messages/batches/${created.id}/results`);
    expect(Date.parse(second.expires_at) - Date.parse(second.created_at)).toBe(24 * 3600 * 1000);
  });

  it('answers each request exactly as POST /v1/messages answers it, keyed by custom_id', async () => {
    const requests = TICKETS.map((t, i) => ({ custom_id: `same-${i}`, params: triageRequest(t) }));
    const batch = await client.messages.batches.create({ requests });
    while ((await client.messages.batches.retrieve(batch.id)).processing_status !== 'ended');

    const lines = await allResults(client, batch.id);
    const direct = await Promise.all(TICKETS.map((t) => client.messages.create(triageRequest(t))));

    expect(lines.map((l) => l.custom_id)).toEqual(['same-0', 'same-1', 'same-2']);
    lines.forEach((line, i) => {
      expect(line.result.type).toBe('succeeded');
      const message = (line.result as Anthropic.Messages.MessageBatchSucceededResult).message;
      const { _request_id: _ignored, ...plain } = direct[i] as Anthropic.Message & { _request_id?: string };
      expect(message).toEqual(plain);
    });
    const categories = lines.map((l) => Triage.parse(((l.result as Anthropic.Messages.MessageBatchSucceededResult).message.content[0] as Anthropic.ToolUseBlock).input).category);
    expect(categories).toEqual(['billing', 'technical', 'other']);
  });

  it('reports a request whose params the Messages API would refuse as errored, without failing the batch', async () => {
    const { max_tokens: _dropped, ...noMaxTokens } = triageRequest(TICKETS[0]);
    const batch = await client.messages.batches.create({
      requests: [
        { custom_id: 'good', params: triageRequest(TICKETS[1]) },
        { custom_id: 'bad', params: noMaxTokens as Anthropic.MessageCreateParamsNonStreaming },
      ],
    });
    await client.messages.batches.retrieve(batch.id);
    const ended = await client.messages.batches.retrieve(batch.id);

    const lines = await allResults(client, batch.id);

    expect(ended.request_counts).toMatchObject({ succeeded: 1, errored: 1, processing: 0 });
    expect(lines.find((l) => l.custom_id === 'good')?.result.type).toBe('succeeded');
    expect(lines.find((l) => l.custom_id === 'bad')?.result).toMatchObject({
      type: 'errored',
      error: { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } },
    });
  });

  it('turns an injected HTTP fault into an errored result of the same error type', async () => {
    const batch = await client.messages.batches.create(
      { requests: [{ custom_id: 'overloaded', params: triageRequest(TICKETS[0]) }] },
      { headers: { 'x-seamwork-fault': 'overloaded' } },
    );
    await client.messages.batches.retrieve(batch.id);
    await client.messages.batches.retrieve(batch.id);

    const [line] = await allResults(client, batch.id);

    expect(line.result).toMatchObject({ type: 'errored', error: { error: { type: 'overloaded_error' } } });
  });

  it('refuses a malformed batch with 400 invalid_request_error in the API error shape', async () => {
    const cases: Array<[unknown, string]> = [
      [{ requests: [] }, 'requests: List should have at least 1 item'],
      [{ requests: [{ custom_id: 'has space', params: triageRequest(TICKETS[0]) }] }, "requests.0.custom_id: String should match pattern"],
      [{ requests: [{ custom_id: 'a', params: triageRequest(TICKETS[0]) }, { custom_id: 'a', params: triageRequest(TICKETS[1]) }] }, "requests.1.custom_id: 'a' is a duplicate"],
      [{ requests: [{ custom_id: 'a' }] }, 'requests.0.params: Field required'],
    ];
    for (const [body, message] of cases) {
      const error = await client.messages.batches.create(body as Anthropic.Messages.BatchCreateParams).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      expect((error as BadRequestError).message).toContain(message);
    }
  });

  it('answers 404 for an unknown batch and 400 for the results of one still in progress', async () => {
    server.setBatchProcessing({ inProgressRetrieves: 5 });
    const batch = await client.messages.batches.create({ requests: [{ custom_id: 'x', params: triageRequest(TICKETS[0]) }] });

    const unknown = await client.messages.batches.retrieve('msgbatch_000000000000000000000000').catch((e: unknown) => e);
    const early = await fetch(`${server.url}/v1/messages/batches/${batch.id}/results`, { headers: { 'x-api-key': 'local' } });

    expect(unknown).toBeInstanceOf(NotFoundError);
    expect(early.status).toBe(400);
    expect(await early.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining('still in_progress') } });
  });

  it('keeps a batch in progress until its minimum processing time has passed', async () => {
    let clock = new Date('2026-11-25T10:00:00Z');
    const timed = await startModelServer({ batches: { inProgressRetrieves: 0, minProcessingMs: 60_000 }, now: () => clock });
    const c = new Anthropic({ apiKey: 'local', baseURL: timed.url, maxRetries: 0 });
    try {
      const batch = await c.messages.batches.create({ requests: [{ custom_id: 'x', params: triageRequest(TICKETS[0]) }] });
      const before = await c.messages.batches.retrieve(batch.id);
      clock = new Date('2026-11-25T10:01:00Z');
      const after = await c.messages.batches.retrieve(batch.id);

      expect(before.processing_status).toBe('in_progress');
      expect(after.processing_status).toBe('ended');
      expect(after.ended_at).toBe('2026-11-25T10:01:00.000Z');
    } finally {
      await timed.stop();
    }
  });

  it('counts batches and their requests in stats, apart from POST /v1/messages calls', async () => {
    const before = server.stats();
    const { max_tokens: _dropped, ...invalid } = triageRequest(TICKETS[0]);
    const batch = await client.messages.batches.create({
      requests: [...TICKETS.map((t, i) => ({ custom_id: `s-${i}`, params: triageRequest(`${t} (stats)`) })), { custom_id: 's-bad', params: invalid as Anthropic.MessageCreateParamsNonStreaming }],
    });
    await client.messages.batches.retrieve(batch.id);
    await client.messages.batches.retrieve(batch.id);
    await allResults(client, batch.id);

    const after = server.stats();

    expect(after.batches.created - before.batches.created).toBe(1);
    expect(after.batches.requests - before.batches.requests).toBe(4);
    expect(after.batches.succeeded - before.batches.succeeded).toBe(3);
    expect(after.batches.errored - before.batches.errored).toBe(1);
    expect(after.messages).toBe(before.messages);
    // create, two retrieves, and the results call (which the SDK precedes with one more retrieve)
    expect(after.requests - before.requests).toBe(5);
  });
});
