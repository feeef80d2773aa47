import Anthropic, {
  APIConnectionTimeoutError,
  BadRequestError,
  InternalServerError,
  OverloadedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { faultRoll, type FaultKind } from '../../lib/local/model-server/faults.js';
import { requestHash } from '../../lib/local/model-server/hash.js';
import { startModelServer, type ModelServer } from '../../lib/local/model-server/server.js';

// A generic triage-shaped output schema; the cue lists live in the descriptions, which is the
// only way the reference model learns what a value means.
const Triage = z.object({
  outcome: z.enum(['triaged', 'insufficient_information']),
  summary: z.string().max(120),
  category: z
    .enum(['billing', 'technical', 'account', 'other'])
    .describe('Ticket category. billing: invoice, refund, charged twice, payment. technical: error, crash, bug. account: password, login. Default: other.'),
  priority: z.enum(['low', 'normal', 'high', 'urgent']).describe('Priority. low: question, whenever. high: blocked, cannot work. urgent: outage, all users. Default: normal.'),
  escalation_reason: z.string().nullable(),
  confidence: z.number().min(0).max(1),
  evidence: z.array(z.object({ quote: z.string(), source: z.string() })).max(3),
  missing_information: z.array(z.string()),
});
type Triage = z.infer<typeof Triage>;

const triageTool: Anthropic.Tool = {
  name: 'record_triage',
  description: 'Record the triage decision.',
  input_schema: z.toJSONSchema(Triage) as Anthropic.Tool.InputSchema,
  strict: true,
};

const TICKET =
  'I was charged twice for my March invoice. Please refund the duplicate payment as soon as possible!\n' +
  'Also the export page shows an error and our whole team is blocked, we cannot work on month-end reports.';

function triageRequest(document: string, title = 'ticket-4711'): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model: 'claude-haiku-4-5',
    max_tokens: 1024,
    system: 'Triage the support ticket. Quote evidence verbatim.',
    tools: [triageTool],
    tool_choice: { type: 'tool', name: 'record_triage' },
    messages: [
      {
        role: 'user',
        content: [
          { type: 'document', title, source: { type: 'text', media_type: 'text/plain', data: document } },
          { type: 'text', text: 'Record the triage for the ticket above.' },
        ],
      },
    ],
  };
}

function toolInput(message: Anthropic.Message): unknown {
  const block = message.content.find((b) => b.type === 'tool_use');
  if (!block || block.type !== 'tool_use') throw new Error(`no tool_use block in ${JSON.stringify(message.content)}`);
  return block.input;
}

/** The first seed under which attempt 0 of this body faults and attempt 1 does not. */
function seedFailingOnlyFirstTry(body: unknown, rate: number): number {
  const hash = requestHash(body);
  for (let seed = 0; seed < 10_000; seed++) {
    if (faultRoll(seed, hash, 0) < rate && faultRoll(seed, hash, 1) >= rate) return seed;
  }
  throw new Error('no suitable seed found');
}

describe('local model server', () => {
  let server: ModelServer;
  let client: Anthropic;

  beforeAll(async () => {
    server = await startModelServer();
    client = new Anthropic({ apiKey: 'local', baseURL: server.url, maxRetries: 0 });
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => server.setFaults({}));

  describe('reference model over the Messages API', () => {
    it('answers a forced tool call with schema-valid input chosen by the description cues', async () => {
      const message = await client.messages.create(triageRequest(TICKET));

      const input = Triage.parse(toolInput(message));
      expect(message.stop_reason).toBe('tool_use');
      expect(message.model).toBe('claude-haiku-4-5');
      expect(message.id).toMatch(/^msg_[0-9a-f]+$/);
      expect(input.outcome).toBe('triaged');
      expect(input.category).toBe('billing');
      expect(input.priority).toBe('high');
      expect(input.summary).toBe('I was charged twice for my March invoice.');
      expect(input.confidence).toBeGreaterThan(0.55);
      expect(input.escalation_reason).toBe('Also the export page shows an error and our whole team is blocked, we cannot work on month-end reports.');
      expect(input.missing_information).toEqual([]);
    });

    it('quotes evidence verbatim from the documents, naming the document by its title', async () => {
      const input = Triage.parse(toolInput(await client.messages.create(triageRequest(TICKET))));

      expect(input.evidence.length).toBeGreaterThan(0);
      for (const e of input.evidence) {
        expect(TICKET).toContain(e.quote);
        expect(e.source).toBe('ticket-4711');
      }
      expect(input.evidence.map((e) => e.quote)).toContain('I was charged twice for my March invoice.');
    });

    it('abstains on a thin source: insufficient value, low confidence, no evidence, says what is missing', async () => {
      const input = Triage.parse(toolInput(await client.messages.create(triageRequest('Help, it does not go.'))));

      expect(input.outcome).toBe('insufficient_information');
      expect(input.confidence).toBe(0.2);
      expect(input.evidence).toEqual([]);
      expect(input.escalation_reason).toBeNull();
      expect(input.missing_information).toContain('a description of the problem');
    });

    it('reads <document id> tags in text blocks as sources and fills output_config structured output', async () => {
      const message = await client.messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 1024,
        output_config: { format: { type: 'json_schema', schema: z.toJSONSchema(Triage) as Record<string, unknown> } },
        messages: [{ role: 'user', content: `Triage this.\n<document id="mail-9">${TICKET}</document>` }],
      });

      const block = message.content[0];
      expect(block.type).toBe('text');
      const output = Triage.parse(JSON.parse(block.type === 'text' ? block.text : 'null'));
      expect(output.category).toBe('billing');
      expect(output.evidence[0].source).toBe('mail-9');
      expect(TICKET).toContain(output.evidence[0].quote);
    });

    it('cites the quoted sentence when a document has citations enabled', async () => {
      const message = await client.messages.create({
        model: 'claude-haiku-4-5',
        max_tokens: 256,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'document', title: 'policy', citations: { enabled: true }, source: { type: 'text', media_type: 'text/plain', data: TICKET } },
              { type: 'text', text: 'What does the customer want?' },
            ],
          },
        ],
      });

      const block = message.content[0];
      if (block.type !== 'text') throw new Error('expected a text block');
      const citation = block.citations?.[0];
      if (citation?.type !== 'char_location') throw new Error(`expected a char_location citation, got ${JSON.stringify(citation)}`);
      expect(TICKET.slice(citation.start_char_index, citation.end_char_index)).toBe(citation.cited_text);
      expect(block.text).toContain('not an LLM');
    });

    it('gives the same response to the same request', async () => {
      const first = await client.messages.create(triageRequest(TICKET));
      const second = await client.messages.create(triageRequest(TICKET));

      expect(second.id).toBe(first.id);
      expect(second.content).toEqual(first.content);
    });

    it('counts tokens as ceil(utf8 bytes / 4) per segment, matching the usage of a real call', async () => {
      const request = triageRequest(TICKET, 'ticket-count');
      const { max_tokens: _unused, ...countParams } = request;

      const counted = await client.messages.countTokens(countParams);
      const message = await client.messages.create(request);

      expect(counted.input_tokens).toBeGreaterThan(Math.ceil(Buffer.byteLength(TICKET) / 4));
      expect(message.usage.input_tokens).toBe(counted.input_tokens);
    });

    it('stops at max_tokens and says so', async () => {
      const message = await client.messages.create({ ...triageRequest(TICKET), max_tokens: 5 });

      expect(message.stop_reason).toBe('max_tokens');
      expect(message.usage.output_tokens).toBe(5);
    });

    it('reports a cache_control system prefix as cache creation first, then as a cache read', async () => {
      const request: Anthropic.MessageCreateParamsNonStreaming = {
        ...triageRequest(TICKET),
        system: [{ type: 'text', text: `Cached instructions ${'lorem ipsum '.repeat(100)}`, cache_control: { type: 'ephemeral' } }],
      };

      const first = await client.messages.create(request);
      const second = await client.messages.create(request);

      expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(0);
      expect(first.usage.cache_read_input_tokens).toBe(0);
      expect(second.usage.cache_creation_input_tokens).toBe(0);
      expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens);
      expect(second.usage.input_tokens).toBe(first.usage.input_tokens);
    });
  });

  describe('request validation', () => {
    it('answers 400 invalid_request_error when max_tokens is missing', async () => {
      const { max_tokens: _dropped, ...bad } = triageRequest(TICKET);

      const error = await client.messages.create(bad as Anthropic.MessageCreateParamsNonStreaming).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(BadRequestError);
      expect((error as BadRequestError).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
      expect((error as BadRequestError).message).toContain('max_tokens');
    });

    it('answers 401 authentication_error without an API key', async () => {
      const response = await fetch(`${server.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(triageRequest(TICKET)),
      });

      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    });

    it('serves health and round-trips the fault config, rejecting an invalid one', async () => {
      const health = await (await fetch(`${server.url}/health`)).json();
      const post = await fetch(`${server.url}/_seamwork/faults`, { method: 'POST', body: JSON.stringify({ seed: 7, rates: { overloaded: 0.25 } }) });
      const got = await (await fetch(`${server.url}/_seamwork/faults`)).json();
      const bad = await fetch(`${server.url}/_seamwork/faults`, { method: 'POST', body: JSON.stringify({ rates: { meteor: 1 } }) });

      expect(health).toEqual({ ok: true, model: 'seamwork-reference' });
      expect(post.status).toBe(200);
      expect(got).toEqual({ seed: 7, rates: { overloaded: 0.25 } });
      expect(bad.status).toBe(400);
    });
  });

  describe('HTTP faults', () => {
    const forced = (kind: FaultKind) => ({ headers: { 'x-seamwork-fault': kind } });

    it('rate_limit surfaces as RateLimitError with retry-after: 1', async () => {
      const error = await client.messages.create(triageRequest(TICKET), forced('rate_limit')).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(RateLimitError);
      expect((error as RateLimitError).headers?.get('retry-after')).toBe('1');
      expect((error as RateLimitError).error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    });

    it('overloaded surfaces as a 529 OverloadedError (an InternalServerError)', async () => {
      const error = await client.messages.create(triageRequest(TICKET), forced('overloaded')).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(OverloadedError);
      expect(error).toBeInstanceOf(InternalServerError);
      expect((error as OverloadedError).status).toBe(529);
    });

    it('server_error surfaces as a 500 InternalServerError with the api_error shape', async () => {
      const error = await client.messages.create(triageRequest(TICKET), forced('server_error')).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(InternalServerError);
      expect((error as InternalServerError).status).toBe(500);
      expect((error as InternalServerError).error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    });

    it('timeout holds the connection for timeoutMs, then answers 529', async () => {
      server.setFaults({ timeoutMs: 300 });

      const error = await client.messages.create(triageRequest(TICKET), forced('timeout')).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(OverloadedError);
    });

    it('timeout trips the client timeout when the hold is longer than the client waits', async () => {
      server.setFaults({ timeoutMs: 10_000 });

      const error = await client.messages.create(triageRequest(TICKET), { ...forced('timeout'), timeout: 200 }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(APIConnectionTimeoutError);
    });

    it('lets the SDK retry recover when only the first try is rate limited, waiting retry-after', async () => {
      const request = triageRequest(TICKET, 'ticket-retry');
      server.setFaults({ seed: seedFailingOnlyFirstTry(request, 0.5), rates: { rate_limit: 0.5 } });
      const retrying = new Anthropic({ apiKey: 'local', baseURL: server.url, maxRetries: 2 });
      const before = server.stats().byStatus;

      const started = performance.now();
      const message = await retrying.messages.create(request);
      const waited = performance.now() - started;

      const after = server.stats().byStatus;
      expect(Triage.parse(toolInput(message)).category).toBe('billing');
      expect((after['429'] ?? 0) - (before['429'] ?? 0)).toBe(1);
      expect((after['200'] ?? 0) - (before['200'] ?? 0)).toBe(1);
      // A lower bound only, so it cannot flake: without retry-after the SDK's first backoff is at
      // most 500 ms; honouring `retry-after: 1` means at least a second passed.
      expect(waited).toBeGreaterThanOrEqual(950);
    });

    it('lets the SDK retry recover when only the first try is overloaded', async () => {
      const request = triageRequest(TICKET, 'ticket-overloaded');
      server.setFaults({ seed: seedFailingOnlyFirstTry(request, 0.5), rates: { overloaded: 0.5 } });
      const retrying = new Anthropic({ apiKey: 'local', baseURL: server.url, maxRetries: 1 });
      const before = server.stats().byStatus;

      const message = await retrying.messages.create(request);

      const after = server.stats().byStatus;
      expect(message.stop_reason).toBe('tool_use');
      expect((after['529'] ?? 0) - (before['529'] ?? 0)).toBe(1);
    });

    it('does not fault at all with the default config', async () => {
      const before = server.stats();

      await client.messages.create(triageRequest(TICKET, 'ticket-clean'));

      const after = server.stats();
      expect(after.requests - before.requests).toBe(1);
      expect((after.byStatus['200'] ?? 0) - (before.byStatus['200'] ?? 0)).toBe(1);
    });
  });

  describe('output faults', () => {
    const faulted = async (kind: FaultKind) => {
      const response = await client.messages.create(triageRequest(TICKET), { headers: { 'x-seamwork-fault': kind } }).withResponse();
      expect(response.response.headers.get('x-seamwork-fault-applied')).toBe(kind);
      return response.data;
    };

    it('malformed_json replaces the tool call by a text block of broken JSON', async () => {
      const message = await faulted('malformed_json');

      const block = message.content[0];
      expect(message.stop_reason).toBe('end_turn');
      expect(block.type).toBe('text');
      expect(() => JSON.parse(block.type === 'text' ? block.text : '{}')).toThrow(SyntaxError);
    });

    it('schema_break produces tool input that fails the schema', async () => {
      const result = Triage.safeParse(toolInput(await faulted('schema_break')));

      expect(result.success).toBe(false);
    });

    it('invented_quote yields an evidence quote that is in no source', async () => {
      const input = toolInput(await faulted('invented_quote')) as Triage;

      expect(input.evidence.some((e) => !TICKET.includes(e.quote))).toBe(true);
    });

    it('invented_number puts a number that is not in the source into the free text, leaving the quotes verbatim', async () => {
      const clean = Triage.parse(toolInput(await client.messages.create(triageRequest(TICKET))));

      const input = Triage.parse(toolInput(await faulted('invented_number')));

      const numbers = input.summary.match(/\d+/g) ?? [];
      expect(numbers.length).toBeGreaterThan(0);
      expect(numbers.some((n) => !TICKET.includes(n))).toBe(true);
      expect(input.summary.startsWith(clean.summary)).toBe(true);
      expect(input.evidence).toEqual(clean.evidence);
      for (const e of input.evidence) expect(TICKET).toContain(e.quote);
    });

    it('divergent changes the first decision enum, skipping the abstention outcome, as a second sample might', async () => {
      const clean = Triage.parse(toolInput(await client.messages.create(triageRequest(TICKET))));

      const diverged = Triage.parse(toolInput(await faulted('divergent')));

      expect(diverged.outcome).toBe(clean.outcome);
      expect(diverged.category).not.toBe(clean.category);
      expect({ ...diverged, category: clean.category }).toEqual(clean);
    });
  });
});
