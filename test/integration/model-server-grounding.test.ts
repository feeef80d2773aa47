import Anthropic, { RateLimitError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FAULT_KINDS, type FaultKind } from '../../lib/local/model-server/faults.js';
import { normaliseText } from '../../lib/local/model-server/judge.js';
import { startModelServer, type FaultLogEntry, type ModelServer } from '../../lib/local/model-server/server.js';
import { countTokens } from '../../lib/local/model-server/tokens.js';

// A decision schema in the shape docs/grounding.md describes — reasoning, quotes with ids, claims
// naming the field they support, then the decision — without any integration's name in it.
const CLAIM_FIELDS = ['category', 'priority', 'escalation_reason'] as const;
const Decision = z.object({
  reasoning: z.string(),
  evidence: z.array(z.object({ id: z.string().regex(/^q[0-9]+$/).optional(), quote: z.string().min(1), source: z.string().min(1) })),
  claims: z.array(z.object({ field: z.enum(CLAIM_FIELDS), statement: z.string().min(1), quote_ids: z.array(z.string()) })).default([]),
  outcome: z.enum(['triaged', 'insufficient_information']),
  summary: z.string().max(40),
  category: z.enum(['billing', 'technical', 'account', 'other']).describe('Category. billing: invoice, refund, charged twice. technical: error, crash. account: password, login. Default: other.'),
  priority: z.enum(['low', 'normal', 'high', 'urgent']).describe('Priority. low: question. high: blocked, cannot work. urgent: outage, all users. Default: normal.'),
  escalation_reason: z.string().nullable(),
  confidence: z.number().min(0).max(1),
  missing_information: z.array(z.string()),
});
type Decision = z.infer<typeof Decision>;
const decisionSchema = z.toJSONSchema(Decision, { io: 'input' }) as Anthropic.Tool.InputSchema;

const SUBJECT = 'Duplicate charge on my March invoice';
const DESCRIPTION =
  'Hello team. I was charged twice for my March invoice and need a refund. ' +
  'Our whole team is blocked and cannot work on the month-end reports. ' +
  'We can\'t close the books — the export fails. Please help quickly.';
const DOCS = [
  { title: 'ticket.subject', text: SUBJECT },
  { title: 'ticket.description', text: DESCRIPTION },
];
const ALL_SOURCE_TEXT = `${SUBJECT}\n${DESCRIPTION}`;

interface Doc { title: string; text: string }

function decisionRequest(docs: Doc[] = DOCS, mode: 'quotes-first' | 'citations' = 'quotes-first'): Anthropic.MessageCreateParamsNonStreaming {
  const citations = mode === 'citations';
  return {
    model: 'claude-haiku-4-5',
    max_tokens: 2048,
    system: 'Triage the ticket.',
    tools: [{ name: 'record_decision', description: 'Record the decision.', input_schema: decisionSchema }],
    tool_choice: citations ? { type: 'auto' } : { type: 'tool', name: 'record_decision' },
    messages: [
      {
        role: 'user',
        content: [
          ...docs.map((d) => ({
            type: 'document' as const,
            title: d.title,
            context: `${d.title} (origin: test)`,
            source: { type: 'text' as const, media_type: 'text/plain' as const, data: d.text },
            ...(citations ? { citations: { enabled: true } } : {}),
          })),
          { type: 'text', text: 'Record the decision.' },
        ],
      },
    ],
  };
}

function toolInput(message: Anthropic.Message): Record<string, unknown> {
  const block = message.content.find((b) => b.type === 'tool_use');
  if (!block || block.type !== 'tool_use') throw new Error(`no tool_use block in ${JSON.stringify(message.content)}`);
  return block.input as Record<string, unknown>;
}

const normalisedSources = (docs: Doc[]) => docs.map((d) => normaliseText(d.text));
const inAnySource = (quote: string, docs: Doc[] = DOCS) => normalisedSources(docs).some((t) => t.includes(normaliseText(quote)));

describe('reference model: grounding wire conventions (docs/grounding.md)', () => {
  let server: ModelServer;
  let client: Anthropic;

  beforeAll(async () => {
    server = await startModelServer({ port: 0 });
    client = new Anthropic({ apiKey: 'local', baseURL: server.url, maxRetries: 0 });
  });
  afterAll(async () => {
    await server.stop();
  });
  beforeEach(() => server.setFaults({}));

  const create = (body: Anthropic.MessageCreateParamsNonStreaming, fault?: FaultKind) =>
    client.messages.create(body, fault ? { headers: { 'x-seamwork-fault': fault } } : undefined).withResponse();

  describe('quotes first and claims', () => {
    it('numbers the quotes q1, q2, … in order, each verbatim from the document it names', async () => {
      const input = Decision.parse(toolInput(await client.messages.create(decisionRequest())));

      expect(input.evidence.map((e) => e.id)).toEqual(input.evidence.map((_, i) => `q${i + 1}`));
      expect(input.evidence.length).toBeGreaterThanOrEqual(2);
      for (const e of input.evidence) expect(DOCS.find((d) => d.title === e.source)?.text).toContain(e.quote);
    });

    it('writes the claims after the rest but in the schema\'s key order, reasoning first', async () => {
      const raw = toolInput(await client.messages.create(decisionRequest()));

      expect(Object.keys(raw)).toEqual(['reasoning', 'evidence', 'claims', 'outcome', 'summary', 'category', 'priority', 'escalation_reason', 'confidence', 'missing_information']);
    });

    it('makes one claim per claimed field that holds a value, each citing the quote behind that field\'s decision', async () => {
      const input = Decision.parse(toolInput(await client.messages.create(decisionRequest())));
      const quote = (id: string) => input.evidence.find((e) => e.id === id)?.quote;
      const claimOf = (field: string) => input.claims.find((c) => c.field === field);

      expect(input.category).toBe('billing');
      expect(input.priority).toBe('high');
      expect(input.escalation_reason).not.toBeNull();
      expect(input.claims.map((c) => c.field)).toEqual(['category', 'priority', 'escalation_reason']);
      for (const c of input.claims) {
        expect(c.quote_ids).toHaveLength(1);
        expect(c.statement).toBe(quote(c.quote_ids[0]));
      }
      // Each claim cites the quote its own field was decided on, not simply the first quote.
      expect(claimOf('category')!.statement).toMatch(/invoice|refund|charged twice/);
      expect(claimOf('priority')!.statement).toMatch(/blocked|cannot work/);
      expect(claimOf('priority')!.quote_ids).not.toEqual(claimOf('category')!.quote_ids);
      // escalation_reason is free text: its claim cites the quote the value repeats.
      expect(input.escalation_reason).toContain(claimOf('escalation_reason')!.statement);
    });

    it('makes no claim for a field left null', async () => {
      const docs = [{ title: 'ticket.description', text: 'I have a question about my March invoice and the refund policy for annual plans, nothing urgent at all.' }];
      const input = Decision.parse(toolInput(await client.messages.create(decisionRequest(docs))));

      expect(input.escalation_reason).toBeNull();
      expect(input.claims.map((c) => c.field)).toEqual(['category', 'priority']);
    });

    it('writes reasoning that repeats no run of source text, even when a cue is a long source phrase', async () => {
      const Long = z.object({
        reasoning: z.string(),
        priority: z.enum(['normal', 'high']).describe('Priority. high: cannot work on the month-end reports. Default: normal.'),
      });
      const body = decisionRequest();
      body.tools = [{ name: 'record_decision', description: 'Record the decision.', input_schema: z.toJSONSchema(Long) as Anthropic.Tool.InputSchema }];
      const input = Long.parse(toolInput(await client.messages.create(body)));

      expect(input.priority).toBe('high');
      expect(input.reasoning).toContain('matched cannot_work_on_the_month-end_reports → priority=high');
      // An action may carry quotes; a reasoning that echoed one would look like a reasoning leak.
      for (let i = 0; i + 24 <= input.reasoning.length; i++) expect(ALL_SOURCE_TEXT).not.toContain(input.reasoning.slice(i, i + 24));
    });

    it('states no claim when abstaining', async () => {
      const input = Decision.parse(toolInput(await client.messages.create(decisionRequest([{ title: 'ticket.description', text: 'Help, it does not go.' }]))));

      expect(input.outcome).toBe('insufficient_information');
      expect(input.evidence).toEqual([]);
      expect(input.claims).toEqual([]);
    });
  });

  describe('citations mode', () => {
    it('writes one cited text block per claim before the tool call, each citation slicing its document exactly', async () => {
      const message = await client.messages.create(decisionRequest(DOCS, 'citations'));

      const texts = message.content.filter((b): b is Anthropic.TextBlock => b.type === 'text');
      const input = Decision.parse(toolInput(message));
      expect(message.stop_reason).toBe('tool_use');
      expect(message.content.at(-1)?.type).toBe('tool_use');
      expect(message.content.slice(0, -1).every((b) => b.type === 'text')).toBe(true);
      expect(texts.map((t) => t.text.split(':')[0])).toEqual(input.claims.map((c) => c.field));
      const indexes = new Set<number>();
      for (const t of texts) {
        expect(t.citations).toHaveLength(1);
        const c = t.citations![0];
        if (c.type !== 'char_location') throw new Error(`expected char_location, got ${c.type}`);
        const doc = DOCS[c.document_index];
        expect(c.document_title).toBe(doc.title);
        expect(doc.text.slice(c.start_char_index, c.end_char_index)).toBe(c.cited_text);
        expect(t.text).toBe(`${t.text.split(':')[0]}: ${c.cited_text}`);
        indexes.add(c.document_index);
      }
      // The claims cite both documents, one of them well inside its text: offsets are not all 0.
      expect([...indexes].sort()).toEqual([0, 1]);
      expect(texts.some((t) => (t.citations![0] as Anthropic.CitationCharLocation).start_char_index > 0)).toBe(true);
    });

    it('counts every block in output_tokens', async () => {
      const message = await client.messages.create(decisionRequest(DOCS, 'citations'));

      const texts = message.content.filter((b): b is Anthropic.TextBlock => b.type === 'text');
      expect(texts.length).toBeGreaterThan(0);
      const expected = countTokens(JSON.stringify(toolInput(message))) + texts.reduce((n, t) => n + countTokens(t.text), 0);
      expect(message.usage.output_tokens).toBe(expected);
    });

    it('malformed_json breaks the tool call but keeps the cited claims as they were', async () => {
      const body = decisionRequest(DOCS, 'citations');
      const clean = await client.messages.create(body);
      const { data } = await create(body, 'malformed_json');

      expect(data.stop_reason).toBe('end_turn');
      expect(data.content.slice(0, -1)).toEqual(clean.content.slice(0, -1));
      const last = data.content.at(-1)!;
      expect(last.type).toBe('text');
      expect(() => JSON.parse(last.type === 'text' ? last.text : '{}')).toThrow(SyntaxError);
    });

    it('stops at max_tokens in block order: a cut claim loses its citation and no tool call follows', async () => {
      const message = await client.messages.create({ ...decisionRequest(DOCS, 'citations'), max_tokens: 5 });

      expect(message.stop_reason).toBe('max_tokens');
      expect(message.usage.output_tokens).toBe(5);
      expect(message.content).toHaveLength(1);
      const block = message.content[0];
      if (block.type !== 'text') throw new Error('expected a text block');
      expect(block.text.startsWith('category: ')).toBe(true);
      expect(block.citations ?? null).toBeNull();
    });

    it('writes no cited text when the tool is forced, or when no document has citations enabled', async () => {
      const forced = await client.messages.create({ ...decisionRequest(DOCS, 'citations'), tool_choice: { type: 'tool', name: 'record_decision' } });
      const uncited = await client.messages.create({ ...decisionRequest(DOCS, 'quotes-first'), tool_choice: { type: 'auto' } });

      expect(forced.content.map((b) => b.type)).toEqual(['tool_use']);
      expect(uncited.content.map((b) => b.type)).toEqual(['tool_use']);
    });
  });

  describe('fresh-context evaluator', () => {
    const Verdicts = z.object({
      verdicts: z.array(z.object({ claim_id: z.string(), verdict: z.enum(['supported', 'unsupported']), quote: z.string() })),
    });
    const evaluatorRequest = (claims: Array<{ claim_id: string; field: string; statement: string }>, docs: Doc[] = DOCS): Anthropic.MessageCreateParamsNonStreaming => ({
      model: 'claude-haiku-4-5',
      max_tokens: 1024,
      system: 'You check claims against source documents.',
      tools: [{ name: 'record_verdicts', description: 'Record one verdict per claim.', input_schema: z.toJSONSchema(Verdicts) as Anthropic.Tool.InputSchema }],
      tool_choice: { type: 'tool', name: 'record_verdicts' },
      messages: [
        {
          role: 'user',
          content: [
            ...docs.map((d) => ({ type: 'document' as const, title: d.title, context: d.title, source: { type: 'text' as const, media_type: 'text/plain' as const, data: d.text } })),
            { type: 'document', title: 'claims', context: 'Claims to check (not a source)', source: { type: 'text', media_type: 'text/plain', data: claims.map((c) => JSON.stringify(c)).join('\n') } },
            { type: 'text', text: 'Judge every claim.' },
          ],
        },
      ],
    });

    const CLAIMS = [
      { claim_id: 'c1', field: 'priority', statement: 'Our whole team is blocked and cannot work on the month-end reports.' },
      { claim_id: 'c2', field: 'category', statement: 'The customer was promised a lifetime discount by the account manager.' },
      // Curly apostrophe, a hyphen for the em dash, a double space: the same sentence once normalised.
      { claim_id: 'c3', field: 'category', statement: 'We can’t close  the books - the export fails.' },
      // Four of five content words in one sentence (80%).
      { claim_id: 'c4', field: 'priority', statement: 'The whole team is blocked on quarterly reports' },
      // Two of six (33%).
      { claim_id: 'c5', field: 'priority', statement: 'The whole team is angry about quarterly invoices' },
      // Words that are only in the claims document itself, which is never a source.
      { claim_id: 'c6', field: 'category', statement: 'claim_id' },
    ];

    it('marks a copied sentence supported (quoting it) and an invented one unsupported (quoting nothing)', async () => {
      const out = Verdicts.parse(toolInput(await client.messages.create(evaluatorRequest(CLAIMS))));

      expect(out.verdicts.map((v) => [v.claim_id, v.verdict])).toEqual([
        ['c1', 'supported'],
        ['c2', 'unsupported'],
        ['c3', 'supported'],
        ['c4', 'supported'],
        ['c5', 'unsupported'],
        ['c6', 'unsupported'],
      ]);
      const byId = new Map(out.verdicts.map((v) => [v.claim_id, v]));
      expect(byId.get('c1')!.quote).toBe('Our whole team is blocked and cannot work on the month-end reports.');
      expect(byId.get('c3')!.quote).toBe('We can\'t close the books — the export fails.');
      expect(byId.get('c4')!.quote).toBe('Our whole team is blocked and cannot work on the month-end reports.');
      expect(byId.get('c2')!.quote).toBe('');
      for (const v of out.verdicts) if (v.verdict === 'supported') expect(DESCRIPTION).toContain(v.quote);
    });

    it('judges the same claims the same way every time, and each claim on its own', async () => {
      const a = await client.messages.create(evaluatorRequest(CLAIMS));
      const b = await client.messages.create(evaluatorRequest(CLAIMS));
      const alone = Verdicts.parse(toolInput(await client.messages.create(evaluatorRequest([CLAIMS[1]]))));

      expect(b.content).toEqual(a.content);
      expect(alone.verdicts).toEqual([{ claim_id: 'c2', verdict: 'unsupported', quote: '' }]);
    });

    it('judges against the sources it is given, not against what the generator saw', async () => {
      const out = Verdicts.parse(toolInput(await client.messages.create(evaluatorRequest([CLAIMS[0]], [{ title: 'ticket.subject', text: SUBJECT }]))));

      expect(out.verdicts).toEqual([{ claim_id: 'c1', verdict: 'unsupported', quote: '' }]);
    });
  });

  describe('grounding faults', () => {
    async function cleanAndFaulted(kind: FaultKind, body = decisionRequest()) {
      const clean = await client.messages.create(body);
      const { data, response } = await create(body, kind);
      expect(response.headers.get('x-seamwork-fault-applied')).toBe(kind);
      return { clean, faulted: data };
    }

    it('appends the new kinds after the existing ones, so existing cumulative rates keep their meaning', () => {
      expect(FAULT_KINDS).toEqual([
        'rate_limit', 'overloaded', 'server_error', 'timeout', 'malformed_json', 'schema_break', 'invented_quote', 'invented_number', 'divergent',
        'near_quote', 'phantom_source', 'off_whitelist_source', 'unpaired_claim', 'reasoning_last', 'bad_citation_offset',
      ]);
    });

    it('near_quote drops one middle word: close to the quote, but verbatim in no source', async () => {
      const { clean, faulted } = await cleanAndFaulted('near_quote');
      const before = Decision.parse(toolInput(clean)).evidence[0];
      const after = Decision.parse(toolInput(faulted)).evidence[0];

      expect(inAnySource(before.quote)).toBe(true);
      expect(inAnySource(after.quote)).toBe(false);
      expect(normaliseText(after.quote)).not.toBe(normaliseText(before.quote));
      const words = before.quote.split(/\s+/);
      const after_ = after.quote.split(/\s+/);
      expect(after_).toHaveLength(words.length - 1);
      const dropped = words.findIndex((w, i) => w !== after_[i]);
      expect(dropped).toBeGreaterThan(0);
      expect(dropped).toBeLessThan(words.length - 1);
      expect([...words.slice(0, dropped), ...words.slice(dropped + 1)]).toEqual(after_);
      expect({ id: after.id, source: after.source }).toEqual({ id: before.id, source: before.source });
    });

    it('near_quote changes the last letter\'s case of a quote shorter than three words', async () => {
      const docs = [{ title: 'note', text: 'Refund blocked.\nThe customer was charged twice for the March invoice and the team cannot work.' }];
      const { clean, faulted } = await cleanAndFaulted('near_quote', decisionRequest(docs));
      const before = Decision.parse(toolInput(clean)).evidence[0];
      const after = Decision.parse(toolInput(faulted)).evidence[0];

      expect(before.quote).toBe('Refund blocked.');
      expect(after.quote).toBe('Refund blockeD.');
      expect(inAnySource(after.quote, docs)).toBe(false);
    });

    it('phantom_source cites a document that was never provided, quote unchanged', async () => {
      const docs = [...DOCS, { title: 'attachment-1', text: 'Screenshot of the invoice page.' }];
      const { clean, faulted } = await cleanAndFaulted('phantom_source', decisionRequest(docs));
      const before = Decision.parse(toolInput(clean));
      const after = Decision.parse(toolInput(faulted));

      expect(docs.map((d) => d.title)).not.toContain(after.evidence[0].source);
      expect(after.evidence[0].source).toBe('attachment-2');
      expect(after.evidence[0].quote).toBe(before.evidence[0].quote);
      expect(after.evidence.slice(1)).toEqual(before.evidence.slice(1));
    });

    it('off_whitelist_source replaces the first quote by a plausible sentence from a web page, keeping its id', async () => {
      const { clean, faulted } = await cleanAndFaulted('off_whitelist_source');
      const before = Decision.parse(toolInput(clean));
      const after = Decision.parse(toolInput(faulted));

      expect(after.evidence[0]).toEqual({ id: before.evidence[0].id, quote: expect.any(String), source: 'https://en.wikipedia.org/wiki/Refund' });
      expect(inAnySource(after.evidence[0].quote)).toBe(false);
      expect(after.evidence.slice(1)).toEqual(before.evidence.slice(1));
    });

    it('unpaired_claim leaves the first claim citing no quote', async () => {
      const { clean, faulted } = await cleanAndFaulted('unpaired_claim');
      const before = Decision.parse(toolInput(clean));
      const after = Decision.parse(toolInput(faulted));

      expect(before.claims[0].quote_ids).toHaveLength(1);
      expect(after.claims[0]).toEqual({ ...before.claims[0], quote_ids: [] });
      expect(after.claims.slice(1)).toEqual(before.claims.slice(1));
    });

    it('unpaired_claim adds an unpaired claim when the model stated none', async () => {
      const docs = [{ title: 'ticket.description', text: 'Help, it does not go.' }];
      const after = Decision.parse(toolInput((await create(decisionRequest(docs), 'unpaired_claim')).data));

      expect(after.claims).toEqual([{ field: 'category', statement: 'Help, it does not go.', quote_ids: [] }]);
    });

    it('reasoning_last moves the reasoning to the end of the key order, value unchanged', async () => {
      const { clean, faulted } = await cleanAndFaulted('reasoning_last');
      const before = toolInput(clean);
      const after = toolInput(faulted);

      expect(Object.keys(before)[0]).toBe('reasoning');
      expect(Object.keys(after)).toEqual([...Object.keys(before).slice(1), 'reasoning']);
      expect(after).toEqual(before);
    });

    it('invented_number puts a number from no source into the summary and the first claim, quotes untouched', async () => {
      const { clean, faulted } = await cleanAndFaulted('invented_number');
      const before = Decision.parse(toolInput(clean));
      const after = Decision.parse(toolInput(faulted));

      const n = /\((\d+) affected\)$/.exec(after.summary)?.[1];
      expect(n).toBeDefined();
      expect(ALL_SOURCE_TEXT).not.toContain(n!);
      // Trimmed to the schema's maxLength (40), so the output stays valid and only the closed-book check can catch it.
      expect(after.summary).toHaveLength(40);
      expect(after.claims[0].statement).toBe(`${before.claims[0].statement} (${n} affected)`);
      expect(after.evidence).toEqual(before.evidence);
      expect(after.claims.slice(1)).toEqual(before.claims.slice(1));
    });

    it('divergent changes a decision field, never the abstention outcome', async () => {
      const { clean, faulted } = await cleanAndFaulted('divergent');
      const before = Decision.parse(toolInput(clean));
      const after = Decision.parse(toolInput(faulted));

      expect(after.outcome).toBe(before.outcome);
      expect(after.category).not.toBe(before.category);
      expect({ ...after, category: before.category }).toEqual(before);
    });

    it('invented_quote keeps the quote\'s id and source', async () => {
      const { clean, faulted } = await cleanAndFaulted('invented_quote');
      const before = Decision.parse(toolInput(clean)).evidence[0];
      const after = Decision.parse(toolInput(faulted)).evidence[0];

      expect(inAnySource(after.quote)).toBe(false);
      expect({ id: after.id, source: after.source }).toEqual({ id: before.id, source: before.source });
    });

    it('bad_citation_offset shifts the first citation by 7 characters in citations mode, cited text kept', async () => {
      const body = decisionRequest(DOCS, 'citations');
      const { clean, faulted } = await cleanAndFaulted('bad_citation_offset', body);
      const cites = (m: Anthropic.Message) => m.content.flatMap((b) => (b.type === 'text' ? (b.citations ?? []) : [])) as Anthropic.CitationCharLocation[];
      const [before, after] = [cites(clean), cites(faulted)];

      expect(after[0]).toEqual({ ...before[0], start_char_index: before[0].start_char_index + 7, end_char_index: before[0].end_char_index + 7 });
      expect(DOCS[after[0].document_index].text.slice(after[0].start_char_index, after[0].end_char_index)).not.toBe(after[0].cited_text);
      expect(after.slice(1)).toEqual(before.slice(1));
      expect(toolInput(faulted)).toEqual(toolInput(clean));
    });

    it('bad_citation_offset outside citations mode behaves like near_quote', async () => {
      const near = Decision.parse(toolInput((await create(decisionRequest(), 'near_quote')).data));
      const offset = Decision.parse(toolInput((await create(decisionRequest(), 'bad_citation_offset')).data));

      expect(offset.evidence).toEqual(near.evidence);
      expect(inAnySource(offset.evidence[0].quote)).toBe(false);
    });
  });

  describe('fault log', () => {
    it('logs each output fault with the id of the message it corrupted, and HTTP faults without one', async () => {
      const start = server.faultLog().length;
      const clean = await client.messages.create(decisionRequest());
      const { data: faulted, response } = await create(decisionRequest(), 'near_quote');
      const limited = await create(decisionRequest(), 'rate_limit').catch((e: unknown) => e);

      const log = server.faultLog().slice(start);
      expect(limited).toBeInstanceOf(RateLimitError);
      expect(response.headers.get('x-seamwork-fault-applied')).toBe('near_quote');
      expect(faulted.id).toMatch(/^msg_[0-9a-f]{24}$/);
      // A faulted reply has its own id, so a clean answer to the same body is never mistaken for it.
      expect(faulted.id).not.toBe(clean.id);
      expect(log.map(({ messageId, kind }) => ({ messageId, kind }))).toEqual([
        { messageId: faulted.id, kind: 'near_quote' },
        { messageId: '', kind: 'rate_limit' },
      ]);
      for (const e of log) expect(new Date(e.at).toISOString()).toBe(e.at);
      const served = (await (await fetch(`${server.url}/_seamwork/fault-log`)).json()) as FaultLogEntry[];
      expect(served.slice(start)).toEqual(log);
    });

    it('logs faults on batch requests too, by the id of the message in the result', async () => {
      const start = server.faultLog().length;
      const batch = await client.messages.batches.create(
        { requests: [{ custom_id: 'one', params: decisionRequest() }] },
        { headers: { 'x-seamwork-fault': 'unpaired_claim' } },
      );
      // The reference batch store reports in_progress once, then ended.
      for (let i = 0; i < 5 && (await client.messages.batches.retrieve(batch.id)).processing_status !== 'ended'; i++);
      const results = [];
      for await (const r of await client.messages.batches.results(batch.id)) results.push(r);

      const result = results[0].result;
      if (result.type !== 'succeeded') throw new Error(`expected a succeeded result, got ${result.type}`);
      expect(server.faultLog().slice(start).map(({ messageId, kind }) => ({ messageId, kind }))).toEqual([{ messageId: result.message.id, kind: 'unpaired_claim' }]);
    });

    it('injects the same faults into the same messages for the same seed, and others for another seed', async () => {
      const rates = { near_quote: 0.15, phantom_source: 0.15, off_whitelist_source: 0.15, unpaired_claim: 0.15, reasoning_last: 0.15, invented_number: 0.1 };
      const bodies = Array.from({ length: 24 }, (_, i) => decisionRequest([{ title: `ticket-${i}`, text: DESCRIPTION }]));
      const run = async (seed: number) => {
        server.setFaults({ seed, rates });
        const start = server.faultLog().length;
        const ids: string[] = [];
        for (const b of bodies) ids.push((await client.messages.create(b)).id);
        return { ids, log: server.faultLog().slice(start).map(({ messageId, kind }) => ({ messageId, kind })) };
      };

      const first = await run(3);
      const again = await run(3);
      const other = await run(4);

      expect(first.log.length).toBeGreaterThan(5);
      expect(new Set(first.log.map((e) => e.kind)).size).toBeGreaterThan(2);
      expect(again).toEqual(first);
      expect(other.log).not.toEqual(first.log);
      // Every logged id is the id of a reply the client received.
      for (const e of first.log) expect(first.ids).toContain(e.messageId);
    });
  });
});
