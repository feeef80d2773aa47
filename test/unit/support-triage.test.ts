import { existsSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Fixture, GoldenExample, SourceDocument } from '../../lambdas/core/integration.js';
import { triageActions } from '../../lambdas/integrations/support-triage/actions.js';
import { triageByKeywords } from '../../lambdas/integrations/support-triage/baseline.js';
import { CONTRACT_VERSION, TicketCreatedContract } from '../../lambdas/integrations/support-triage/contract.js';
import type { TicketInput } from '../../lambdas/integrations/support-triage/contract.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { CATEGORIES, PRIORITIES, TriageDecision } from '../../lambdas/integrations/support-triage/output.js';
import { loadFixtures as loadIntegrationFixtures } from '../../lib/local/fixtures.js';
import { loadGolden as loadGoldenSet } from '../../lambdas/core/eval/run.js';

const FixtureSchema = z.object({
  name: z.string().min(1),
  description: z.string().min(1),
  body: z.string(),
  signature: z.enum(['valid', 'bad', 'stale']),
  deliveries: z.number().int().min(1).optional(),
  expect: z.object({
    status: z.number().int(),
    outcome: z.enum(['acted', 'baseline', 'review', 'dlq']).optional(),
  }),
});

const GoldenSchema = z.object({
  id: z.string().min(1),
  body: z.unknown(),
  expected: z.object({
    outcome: z.enum(['triaged', 'insufficient_information']),
    category: z.enum(CATEGORIES),
    priority: z.enum(PRIORITIES),
    escalation_reason: z.boolean(),
  }),
  rationale: z.string().min(1),
});

// The same loaders `npm start` and `seamwork eval` use, so what is tested is what runs.
const loadFixtures = (): Fixture[] => loadIntegrationFixtures(supportTriage);
const loadGolden = (): GoldenExample[] => loadGoldenSet(supportTriage.eval.goldenPath);

function fixtureNamed(name: string): Fixture {
  const f = loadFixtures().find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${name}`);
  return f;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function luhnValid(digits: string): boolean {
  let sum = 0;
  [...digits].reverse().forEach((ch, i) => {
    let d = Number(ch);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  });
  return sum % 10 === 0;
}

/** Fixtures the contract must accept: valid JSON accepted at the door (not refused or ignored) and not meant for the DLQ. */
const contractCleanFixtures = () => loadFixtures().filter((f) => isJson(f.body) && f.expect.status === 202 && f.expect.outcome !== 'dlq');

function parseInput(raw: unknown): TicketInput {
  return TicketCreatedContract.parse(raw);
}

const decision = (over: Partial<TriageDecision> = {}): TriageDecision => ({
  reasoning: 'SECRET-REASONING: the customer sounds upset, I infer the plan is Enterprise',
  evidence: [{ quote: 'Our checkout is down', source: 'ticket.description' }],
  claims: [],
  outcome: 'triaged',
  summary: 'Checkout returns 503 for all customers.',
  category: 'technical',
  priority: 'urgent',
  escalation_reason: 'Production outage for all of the customer\'s users.',
  confidence: 0.9,
  missing_information: [],
  ...over,
});

describe('support-triage contract', () => {
  it('parses every fixture body the pipeline should accept into a TicketInput', () => {
    const fixtures = contractCleanFixtures();
    expect(fixtures.length).toBeGreaterThanOrEqual(8);
    for (const f of fixtures) {
      const result = TicketCreatedContract.safeParse(JSON.parse(f.body));
      expect(result.success, `${f.name}: ${result.error?.message}`).toBe(true);
    }
  });

  it('parses every golden body', () => {
    for (const g of loadGolden()) {
      const result = TicketCreatedContract.safeParse(g.body);
      expect(result.success, `${g.id}: ${result.error?.message}`).toBe(true);
    }
  });

  it('trims the payload to the fields the pipeline uses', () => {
    const input = parseInput(JSON.parse(fixtureNamed('clean-technical-urgent-outage').body));
    expect(input).toEqual({
      ticketId: '48212',
      accountId: 22129848,
      subject: 'Production down: API returning 503 for all requests',
      description: expect.stringContaining('returns 503 Service Unavailable'),
      requesterId: '9012384711388',
      tags: ['enterprise', 'api'],
      vendorPriority: 'urgent',
      createdAt: '2025-05-12T09:41:27Z',
      channel: 'web',
    });
  });

  it('rejects the contract-violation fixture with issue paths into detail', () => {
    const result = TicketCreatedContract.safeParse(JSON.parse(fixtureNamed('contract-violation-missing-description').body));
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('detail.description');
    expect(paths).toContain('detail.requester_id');
  });

  it('rejects another event type, a blank description and a subject naming another ticket', () => {
    const body = JSON.parse(fixtureNamed('clean-billing-duplicate-charge').body);
    const wrongType = { ...body, type: 'zen:event-type:ticket.comment_added' };
    const blank = { ...body, detail: { ...body.detail, description: '  \n ' } };
    const otherTicket = { ...body, subject: 'zen:ticket:1' };
    expect(TicketCreatedContract.safeParse(wrongType).error?.issues[0].path).toEqual(['type']);
    expect(TicketCreatedContract.safeParse(blank).error?.issues[0].path).toEqual(['detail', 'description']);
    expect(TicketCreatedContract.safeParse(otherTicket).error?.issues[0].path).toEqual(['subject']);
  });

  it('tolerates fields it does not use, added or missing', () => {
    const body = JSON.parse(fixtureNamed('clean-billing-duplicate-charge').body);
    const { brand_id: _brand, form_id: _form, custom_status: _status, ...detail } = body.detail;
    const drifted = { ...body, new_top_level: { x: 1 }, detail: { ...detail, sla_policy: 'gold' } };
    expect(TicketCreatedContract.safeParse(drifted).success).toBe(true);
  });

  it('is versioned', () => {
    expect(CONTRACT_VERSION).toMatch(/^zendesk\.ticket\.created\/2022-11-06#\d+$/);
    expect(supportTriage.contract.version).toBe(CONTRACT_VERSION);
  });
});

describe('support-triage output schema', () => {
  it('describes every enum with per-value cues in the reference-model convention', () => {
    const shape = TriageDecision.shape;
    for (const [field, values] of [
      ['outcome', ['triaged', 'insufficient_information']],
      ['category', CATEGORIES],
      ['priority', PRIORITIES],
    ] as const) {
      const text = shape[field].description ?? '';
      for (const v of values) expect(text, `${field}.${v}`).toMatch(new RegExp(`(^|\\s)${v}: [^:]*\\.`));
      expect(text).toMatch(/Default: \w+\.$/);
    }
  });

  it('turns into a JSON schema for the tool input with reasoning and evidence first', () => {
    const json = z.toJSONSchema(TriageDecision) as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(json.properties).slice(0, 2)).toEqual(['reasoning', 'evidence']);
    expect(json.required).toContain('escalation_reason');
  });

  it('rejects a summary over 280 characters and a confidence over 1', () => {
    expect(TriageDecision.safeParse(decision({ summary: 'x'.repeat(281) })).success).toBe(false);
    expect(TriageDecision.safeParse(decision({ confidence: 1.2 })).success).toBe(false);
  });
});

describe('support-triage baseline', () => {
  const inputs = (): Array<{ name: string; input: TicketInput }> => [
    ...contractCleanFixtures().map((f) => ({ name: f.name, input: parseInput(JSON.parse(f.body)) })),
    ...loadGolden().map((g) => ({ name: g.id, input: parseInput(g.body) })),
  ];

  it('returns schema-valid decisions whose evidence quotes are substrings of their documents', () => {
    for (const { name, input } of inputs()) {
      const docs = supportTriage.documents(input);
      const out = supportTriage.baseline(input, docs);
      expect(TriageDecision.safeParse(out).success, name).toBe(true);
      expect(out.reasoning.startsWith('baseline keyword rules:'), name).toBe(true);
      for (const e of out.evidence) {
        const doc = docs.find((d) => d.id === e.source);
        expect(doc, `${name}: source ${e.source}`).toBeDefined();
        expect(doc!.text.includes(e.quote), `${name}: ${e.quote}`).toBe(true);
      }
    }
  });

  it('abstains on a ticket that only says "help"', () => {
    const input = parseInput(JSON.parse(fixtureNamed('insufficient-information').body));
    const out = triageByKeywords(input, supportTriage.documents(input));
    expect(out.outcome).toBe('insufficient_information');
    expect(out.category).toBe('other');
    expect(out.escalation_reason).toBeNull();
  });

  it('marks an outage urgent with an escalation reason', () => {
    const input = parseInput(JSON.parse(fixtureNamed('clean-technical-urgent-outage').body));
    const out = triageByKeywords(input, supportTriage.documents(input));
    expect(out).toMatchObject({ outcome: 'triaged', category: 'technical', priority: 'urgent' });
    expect(out.escalation_reason).not.toBeNull();
    expect(out.evidence.length).toBeGreaterThanOrEqual(1);
  });

  it('does not count a negated keyword: "not urgent" stays normal', () => {
    const input = parseInput(JSON.parse(fixtureNamed('clean-shipping-tracking-stale').body));
    const out = triageByKeywords(input, supportTriage.documents(input));
    expect(out).toMatchObject({ category: 'shipping', priority: 'normal', escalation_reason: null });
  });

  it('always quotes verbatim from arbitrary text', () => {
    const words = fc.constantFrom('refund', 'error', 'login', 'package', 'outage', 'asap', 'the', 'it', 'Hello', 'broken.', 'no rush!', '\n', '  ');
    fc.assert(
      fc.property(fc.array(words, { maxLength: 40 }), fc.array(words, { minLength: 1, maxLength: 40 }), (subjectWords, bodyWords) => {
        const input: TicketInput = {
          ticketId: '1',
          accountId: 1,
          subject: subjectWords.join(' '),
          description: bodyWords.join(' '),
          requesterId: '2',
          tags: [],
          vendorPriority: null,
          createdAt: '2025-01-01T00:00:00Z',
          channel: 'web',
        };
        const docs: SourceDocument[] = supportTriage.documents(input);
        const out = triageByKeywords(input, docs);
        expect(TriageDecision.safeParse(out).success).toBe(true);
        for (const e of out.evidence) expect(docs.find((d) => d.id === e.source)!.text).toContain(e.quote);
      }),
    );
  });
});

describe('support-triage actions', () => {
  const input = parseInput(JSON.parse(fixtureNamed('clean-technical-urgent-outage').body));

  it('updates the ticket and alerts Slack for an urgent decision, never carrying the reasoning', () => {
    const d = decision();
    const actions = triageActions(d, input);
    expect(actions.map((a) => `${a.connector}:${a.name}`)).toEqual(['zendesk:zendesk.update_ticket', 'slack:slack.post_urgent']);
    expect(JSON.stringify(actions)).not.toContain('SECRET-REASONING');
    const update = actions[0].params as { ticketId: string; tags: string[]; priority: string; internalNote: string };
    expect(update.ticketId).toBe('48212');
    expect(update.tags).toEqual(expect.arrayContaining(['seamwork', 'category:technical']));
    expect(update.priority).toBe('urgent');
    expect(update.internalNote).toContain('Our checkout is down');
    expect(update.internalNote).toContain('0.90');
    expect(actions[1].params).toMatchObject({ channel: '#support-urgent' });
  });

  it('posts to Slack only when the priority is urgent', () => {
    for (const priority of ['low', 'normal', 'high'] as const) {
      const actions = triageActions(decision({ priority, escalation_reason: null }), input);
      expect(actions.map((a) => a.connector)).toEqual(['zendesk']);
      expect(JSON.stringify(actions)).not.toContain('SECRET-REASONING');
    }
  });

  it('produces no actions for an insufficient_information decision', () => {
    expect(triageActions(decision({ outcome: 'insufficient_information', priority: 'normal' }), input)).toEqual([]);
  });

  it('never leaks the baseline reasoning either', () => {
    for (const f of contractCleanFixtures()) {
      const i = parseInput(JSON.parse(f.body));
      const out = triageByKeywords(i, supportTriage.documents(i));
      for (const a of triageActions(out, i)) expect(JSON.stringify(a.params)).not.toContain(out.reasoning);
    }
  });
});

describe('support-triage fixtures', () => {
  const fixtures = loadFixtures();

  it('are at least 12 well-formed Fixtures with unique names matching their files', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
    for (const f of fixtures) expect(FixtureSchema.safeParse(f).success, f.name).toBe(true);
    expect(new Set(fixtures.map((f) => f.name)).size).toBe(fixtures.length);
    const files = readdirSync(supportTriage.fixturesDir).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(fixtures.map((f) => `${f.name}.json`).sort());
  });

  it('cover every rejection and outcome the pipeline must show', () => {
    const malformed = fixtures.filter((f) => f.expect.status === 400);
    expect(malformed.length).toBeGreaterThanOrEqual(1);
    expect(malformed.every((f) => !isJson(f.body))).toBe(true);
    expect(fixtures.some((f) => f.signature === 'bad' && f.expect.status === 401)).toBe(true);
    expect(fixtures.some((f) => f.signature === 'stale' && f.expect.status === 401)).toBe(true);
    const oversized = fixtures.filter((f) => f.expect.status === 413);
    expect(oversized.length).toBe(1);
    expect(Buffer.byteLength(oversized[0].body, 'utf8')).toBeGreaterThan(256 * 1024);
    expect(fixtures.some((f) => (f.deliveries ?? 1) > 1 && f.expect.status === 202 && f.expect.outcome)).toBe(true);
    expect(fixtures.some((f) => f.expect.status === 202 && f.expect.outcome === 'dlq' && isJson(f.body))).toBe(true);
    expect(fixtures.some((f) => f.expect.outcome === 'review')).toBe(true);
    const acted = fixtures.filter((f) => f.expect.outcome === 'acted' && f.signature === 'valid');
    expect(acted.length).toBeGreaterThanOrEqual(3);
  });

  it('include clean tickets of at least three categories, one of them an urgent outage', () => {
    const clean = fixtures.filter((f) => f.name.startsWith('clean-'));
    expect(clean.length).toBeGreaterThanOrEqual(3);
    const golden = clean.map((f) => parseInput(JSON.parse(f.body)));
    expect(golden.some((i) => i.vendorPriority === 'urgent' && /down/i.test(i.subject))).toBe(true);
  });

  it('include the PII the redaction layer must catch, and a number it must leave alone', () => {
    const all = fixtures.filter((f) => f.expect.status === 202 && isJson(f.body)).map((f) => f.body).join('\n');
    expect(all).toMatch(/[\w.+-]+@[\w-]+\.[a-z]{2,}/i);
    expect(all).toMatch(/\+44 \d{2} \d{4} \d{4}/);
    expect(all).toMatch(/\(555\) \d{3}-\d{4}/);
    const sixteen = [...all.matchAll(/\b\d{4}(?: ?\d{4}){3}\b/g)].map((m) => m[0].replace(/ /g, ''));
    expect(sixteen.some(luhnValid)).toBe(true);
    expect(sixteen.some((n) => !luhnValid(n))).toBe(true);
  });
});

describe('support-triage golden set', () => {
  const golden = loadGolden();

  it('has at least 30 well-formed examples with unique ids and unique event ids', () => {
    expect(golden.length).toBeGreaterThanOrEqual(30);
    for (const g of golden) expect(GoldenSchema.safeParse(g).success, g.id).toBe(true);
    expect(new Set(golden.map((g) => g.id)).size).toBe(golden.length);
    expect(new Set(golden.map((g) => supportTriage.source.eventId(g.body, {}))).size).toBe(golden.length);
  });

  it('has at least 4 abstentions, rated other / normal / no escalation', () => {
    const abstain = golden.filter((g) => g.expected.outcome === 'insufficient_information');
    expect(abstain.length).toBeGreaterThanOrEqual(4);
    for (const g of abstain) expect(g.expected).toEqual({ outcome: 'insufficient_information', category: 'other', priority: 'normal', escalation_reason: false });
  });

  it('covers every category and priority', () => {
    const triaged = golden.filter((g) => g.expected.outcome === 'triaged');
    expect(new Set(triaged.map((g) => g.expected.category))).toEqual(new Set(CATEGORIES));
    expect(new Set(triaged.map((g) => g.expected.priority))).toEqual(new Set(PRIORITIES));
  });
});

describe('supportTriage definition', () => {
  const body = JSON.parse(fixtureNamed('clean-billing-duplicate-charge').body);

  it('reads the event id and tenant from the raw body, and undefined from junk', () => {
    expect(supportTriage.source.eventId(body, {})).toBe(body.id);
    expect(supportTriage.source.tenant(body, {})).toBe('zendesk:22129848');
    expect(supportTriage.source.eventId({ id: 42 }, {})).toBeUndefined();
    expect(supportTriage.source.tenant('nope', {})).toBeUndefined();
  });

  it('builds subject and description documents pointing at the ticket', () => {
    const docs = supportTriage.documents(parseInput(body));
    expect(docs.map((d) => d.id)).toEqual(['ticket.subject', 'ticket.description']);
    expect(docs.every((d) => d.origin === 'zendesk:ticket/48211')).toBe(true);
  });

  it('keys canary buckets by requester and redacts subject and description', () => {
    expect(supportTriage.stickyKey(parseInput(body))).toContain('9012384711201');
    expect(supportTriage.redactFields).toEqual(['subject', 'description']);
  });

  it('points at files that exist', () => {
    expect(existsSync(supportTriage.eval.goldenPath)).toBe(true);
    expect(existsSync(supportTriage.fixturesDir)).toBe(true);
    expect(supportTriage.eval.baselinePath.endsWith('support-triage/eval-baseline.json')).toBe(true);
  });

  it('declares insufficient_information as the abstain outcome and tells the model it may use it', () => {
    expect(supportTriage.output.abstainOutcome).toBe('insufficient_information');
    expect(supportTriage.prompt.instructions).toContain('insufficient_information');
    expect(supportTriage.prompt.instructions).toMatch(/character for character/);
  });
});
