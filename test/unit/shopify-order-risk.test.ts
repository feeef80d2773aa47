import { existsSync, readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { detectDrift } from '../../lambdas/core/contracts/drift.js';
import { dryRunDecision } from '../../lambdas/core/eval/dry-run.js';
import { loadBaselines, loadGolden as loadGoldenSet, runEval } from '../../lambdas/core/eval/run.js';
import { gate } from '../../lambdas/core/eval/score.js';
import type { Fixture, GoldenExample } from '../../lambdas/core/integration.js';
import { MemoryAuditStore, MemoryMetrics, MemoryQueues, MemoryTokenVault, StaticFlagSource } from '../../lambdas/core/memory-ports.js';
import type { DedupeClaim, DedupeStore, ModelPort } from '../../lambdas/core/ports.js';
import type { Envelope } from '../../lambdas/core/envelope.js';
import { ingestWebhook, type IngestDeps } from '../../lambdas/core/stages/ingest.js';
import { containsPii, newRedactionState, redactFields } from '../../lambdas/core/redact.js';
import { ACTION_POST_ALERT, ACTION_TAG_ORDER, alertText, orderRiskActions } from '../../lambdas/integrations/shopify-order-risk/actions.js';
import { screenByRules } from '../../lambdas/integrations/shopify-order-risk/baseline.js';
import { CONTRACT_VERSION, MoneyString, OrderCreatedContract } from '../../lambdas/integrations/shopify-order-risk/contract.js';
import type { OrderInput } from '../../lambdas/integrations/shopify-order-risk/contract.js';
import { DOC_NOTE, FACT_DOCS } from '../../lambdas/integrations/shopify-order-risk/documents.js';
import { EVENTS, shopifyOrderRisk } from '../../lambdas/integrations/shopify-order-risk/index.js';
import { OrderRiskDecision, RECOMMENDATIONS, RISK_SIGNALS } from '../../lambdas/integrations/shopify-order-risk/output.js';
import { moneyUnits, sumMoney, timesMoney } from '../../lambdas/integrations/shopify-order-risk/signals.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { loadFixtures as loadIntegrationFixtures, vendorHeaders } from '../../lib/local/fixtures.js';
import { startModelServer, type ModelServer } from '../../lib/local/model-server/index.js';

const def = shopifyOrderRisk;
const now = new Date('2026-11-25T12:00:00Z');

// The same loaders `npm start` and `seamwork eval` use, so what is tested is what runs.
const loadFixtures = (): Fixture[] => loadIntegrationFixtures(def);
const loadGolden = (): GoldenExample[] => loadGoldenSet(def.eval.goldenPath);

const FixtureSchema = z.object({
  name: z.string().min(1),
  description: z.string().min(1),
  body: z.string(),
  headers: z.record(z.string(), z.string()),
  signature: z.enum(['valid', 'bad', 'none']),
  deliveries: z.number().int().min(1).optional(),
  expect: z.object({ status: z.number().int(), outcome: z.enum(['acted', 'baseline', 'review', 'dlq']).optional() }),
});

const GoldenSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  headers: z.object({
    'x-shopify-topic': z.literal('orders/create'),
    'x-shopify-shop-domain': z.string().regex(/\.myshopify\.com$/),
    'x-shopify-event-id': z.string().min(1),
    'x-shopify-webhook-id': z.string().min(1),
    'x-shopify-api-version': z.literal('2025-07'),
  }).loose(),
  body: z.record(z.string(), z.unknown()),
  expected: z.object({ outcome: z.enum(['assessed', 'insufficient_information']), recommendation: z.enum(RECOMMENDATIONS) }).strict(),
  rationale: z.string().min(40),
});

function fixtureNamed(name: string): Fixture {
  const f = loadFixtures().find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${name}`);
  return f;
}

function goldenNamed(id: string): GoldenExample {
  const g = loadGolden().find((x) => x.id === id);
  if (!g) throw new Error(`no golden example ${id}`);
  return g;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Fixtures the contract must accept: one JSON object the pipeline does not expect to reject at validate. */
const contractCleanFixtures = () => loadFixtures().filter((f) => isObject(parseJson(f.body)) && f.expect.outcome !== 'dlq');

/** What validate hands on: the contract's input with the integration's redaction applied. */
function redactedInput(raw: unknown): OrderInput {
  return redactFields(OrderCreatedContract.parse(raw), def.redactFields, newRedactionState());
}

/** Every order body the tests know, with a name. */
const allBodies = (): Array<{ name: string; body: Record<string, unknown> }> => [
  ...contractCleanFixtures().map((f) => ({ name: f.name, body: JSON.parse(f.body) as Record<string, unknown> })),
  ...loadGolden().map((g) => ({ name: g.id, body: g.body as Record<string, unknown> })),
];

const decision = (over: Partial<OrderRiskDecision> = {}): OrderRiskDecision => ({
  reasoning: 'SECRET-REASONING: the buyer is probably a reseller',
  evidence: [{ quote: 'Billing and shipping addresses are in different countries.', source: 'order.addresses' }],
  claims: [],
  outcome: 'assessed',
  recommendation: 'review',
  summary: 'Order #3002 ships to another state on a new account.',
  risk_signals: ['new_customer_account', 'billing_shipping_address_mismatch'],
  alternatives_considered: [
    { recommendation: 'approve', why_not: 'The record is minutes old.' },
    { recommendation: 'cancel', why_not: 'No known fraud pattern holds.' },
  ],
  confidence: 0.72,
  missing_information: [],
  ...over,
});

describe('shopify-order-risk contract', () => {
  it('parses every fixture body the pipeline should accept and every golden body', () => {
    const bodies = allBodies();
    expect(bodies.length).toBeGreaterThanOrEqual(40);
    for (const { name, body } of bodies) {
      const result = OrderCreatedContract.safeParse(body);
      expect(result.success, `${name}: ${result.error?.message}`).toBe(true);
    }
  });

  it('finds no drift in any golden example or clean fixture except the one that adds a top-level field', () => {
    for (const { name, body } of allBodies()) {
      const findings = detectDrift(def.contract.schema, body, def.contract.drift, now).findings;
      if (name === 'unknown-top-level-field') {
        expect(findings.map((f) => [f.kind, f.pointer])).toEqual([['unknown_field', '/estimated_delivery_window']]);
      } else {
        expect(findings, name).toEqual([]);
      }
    }
  });

  it('reports the new top-level field under pass-and-report, and the order still parses', () => {
    const body = JSON.parse(fixtureNamed('unknown-top-level-field').body);
    const report = detectDrift(def.contract.schema, body, def.contract.drift, now);
    expect(report.action).toBe('pass-and-report');
    expect(OrderCreatedContract.safeParse(body).success).toBe(true);
  });

  it('reports a changed field the integration does not read as drift without stopping the order', () => {
    const body = JSON.parse(fixtureNamed('clean-approve-repeat-customer').body);
    const drifted = { ...body, financial_status: 'disputed', confirmation_number: 42, customer: { ...body.customer, state: 'suspended' } };
    const findings = detectDrift(def.contract.schema, drifted, def.contract.drift, now).findings;
    expect(new Set(findings.map((f) => `${f.kind} ${f.pointer}`))).toEqual(new Set(['type_changed /confirmation_number', 'new_enum_value /customer/state', 'new_enum_value /financial_status']));
    const input = OrderCreatedContract.parse(drifted);
    expect(input.financialStatus).toBe('unknown');
    expect(input.customer?.state).toBe('unknown');
  });

  it('rejects the contract-violation fixture at /total_price: money must be a decimal string', () => {
    const result = OrderCreatedContract.safeParse(JSON.parse(fixtureNamed('contract-violation-total-price-not-money').body));
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('/'))).toContain('total_price');
  });

  it('accepts money as Shopify writes it and nothing else', () => {
    for (const ok of ['1249.00', '0.00', '12', '0.5', '19.9999']) expect(MoneyString.safeParse(ok).success, ok).toBe(true);
    for (const bad of ['1,249.00', '$12.00', '-5.00', '12.', '.50', '1e3', ' 12.00', '12.00001', 12]) expect(MoneyString.safeParse(bad).success, String(bad)).toBe(false);
  });

  it('computes with money exactly, never through binary floating point', () => {
    expect(moneyUnits('0.10') + moneyUnits('0.20')).toBe(moneyUnits('0.30'));
    expect(sumMoney(['0.10', '0.20', '1249.00'])).toBe('1249.30');
    expect(timesMoney('100.00', 8)).toBe('800.00');
    expect(timesMoney('19.99', 3)).toBe('59.97');
  });

  it('rejects an order whose gid names another order, or whose shop money is in another currency', () => {
    const body = JSON.parse(fixtureNamed('clean-approve-repeat-customer').body);
    const otherGid = { ...body, admin_graphql_api_id: 'gid://shopify/Order/1' };
    const otherCurrency = { ...body, currency: 'EUR' };
    expect(OrderCreatedContract.safeParse(otherGid).error?.issues[0].path).toEqual(['admin_graphql_api_id']);
    expect(OrderCreatedContract.safeParse(otherCurrency).error?.issues[0].path).toEqual(['total_price_set', 'shop_money', 'currency_code']);
  });

  it('keeps no personal data in the input: addresses become countries and comparisons, email a domain class', () => {
    const raw = JSON.parse(fixtureNamed('pii-heavy-note').body);
    const input = redactedInput(raw);
    const text = JSON.stringify(input);
    expect(containsPii(text)).toEqual([]);
    for (const personal of [raw.billing_address.address1, raw.shipping_address.address1, raw.billing_address.zip, raw.customer.phone, raw.client_details.browser_ip, raw.customer.last_name]) {
      expect(text).not.toContain(personal);
    }
    expect(input).toMatchObject({
      orderGid: raw.admin_graphql_api_id,
      billing: { countryCode: 'US', freightForwarder: false },
      shipping: { countryCode: 'US', freightForwarder: false },
      addressesMatch: false,
      recipientDiffers: true,
      email: { given: true, disposable: false },
      customer: { id: raw.customer.id, state: 'enabled', verifiedEmail: true },
    });
  });

  it('derives forwarder, throwaway inbox and matching addresses from the raw order', () => {
    const reship = OrderCreatedContract.parse(goldenNamed('reshipper-new-account-high-value-overnight').body);
    const cashout = OrderCreatedContract.parse(goldenNamed('gift-card-cashout-throwaway-inbox').body);
    const repeat = OrderCreatedContract.parse(goldenNamed('domestic-repeat-customer-small').body);
    expect(reship.shipping?.freightForwarder).toBe(true);
    expect(reship.billing?.freightForwarder).toBe(false);
    expect(cashout.email.disposable).toBe(true);
    expect(repeat).toMatchObject({ addressesMatch: true, recipientDiffers: false, email: { disposable: false } });
  });

  it('is versioned', () => {
    expect(CONTRACT_VERSION).toMatch(/^shopify\.orders\.create\/2025-07#\d+$/);
    expect(def.contract.version).toBe(CONTRACT_VERSION);
    expect(def.contract.drift).toEqual({ default: 'pass-and-report' });
  });
});

describe('shopify-order-risk source', () => {
  const { source } = def;

  it('dedupes on X-Shopify-Event-Id, falls back to X-Shopify-Webhook-Id, and finds none in blank headers', () => {
    expect(source.eventId({}, { 'x-shopify-event-id': 'evt-1', 'x-shopify-webhook-id': 'wh-1' })).toBe('evt-1');
    expect(source.eventId({}, { 'x-shopify-webhook-id': 'wh-1' })).toBe('wh-1');
    expect(source.eventId({}, { 'x-shopify-event-id': '  ', 'x-shopify-webhook-id': '' })).toBeUndefined();
    expect(source.eventId({ id: 42 }, {})).toBeUndefined();
  });

  it('reads the tenant from the shop domain and refuses anything else', () => {
    expect(source.tenant({}, { 'x-shopify-shop-domain': 'Northwind-Outfitters.myshopify.com' })).toBe('shopify:northwind-outfitters.myshopify.com');
    expect(source.tenant({}, { 'x-shopify-shop-domain': 'evil.example.com' })).toBeUndefined();
    expect(source.tenant({}, {})).toBeUndefined();
  });

  it('routes by X-Shopify-Topic: orders/create is processed, orders/updated is not', () => {
    expect(source.events).toEqual(['orders/create']);
    expect(EVENTS).toEqual(source.events);
    const updated = fixtureNamed('orders-updated-topic-ignored');
    const created = fixtureNamed('clean-approve-repeat-customer');
    const typeOf = (f: Fixture) => source.eventType!(JSON.parse(f.body), f.headers ?? {});
    expect(typeOf(created)).toBe('orders/create');
    expect(typeOf(updated)).toBe('orders/updated');
    expect(source.events).not.toContain(typeOf(updated));
    expect(updated.expect).toEqual({ status: 200 });
    for (const g of loadGolden()) expect(source.events).toContain(source.eventType!(g.body, g.headers ?? {}));
  });

  it('is signed the Shopify way with its own secret', () => {
    expect(source).toMatchObject({ vendor: 'shopify', signature: 'shopify', secretName: 'shopify-order-risk' });
  });
});

describe('shopify-order-risk documents', () => {
  it('never hold raw personal data: no email, phone, card, IBAN or IP, no street, postcode or name from an address', () => {
    for (const { name, body } of allBodies()) {
      const docs = def.documents(redactedInput(body));
      const text = docs.map((d) => d.text).join('\n');
      expect(containsPii(text), name).toEqual([]);
      for (const key of ['billing_address', 'shipping_address'] as const) {
        const a = body[key] as Record<string, string | null> | null;
        if (!a) continue;
        for (const part of [a.address1, a.zip, a.last_name]) if (part) expect(text, `${name}: ${key}`).not.toContain(part);
      }
      const ip = (body.client_details as { browser_ip?: string } | null)?.browser_ip;
      if (ip) expect(text, name).not.toContain(ip);
    }
  });

  it('turn the PII-heavy note into tokens the model can still read', () => {
    const docs = def.documents(redactedInput(JSON.parse(fixtureNamed('pii-heavy-note').body)));
    const note = docs.find((d) => d.id === DOC_NOTE)!;
    expect(note.text).toMatch(/\[PHONE_1\].*\[PHONE_2\].*\[EMAIL_1\]/s);
    expect(note.text).not.toMatch(/555|example\.com/);
  });

  it('state one fact per line, each ending with a full stop, with amounts as Shopify sent them', () => {
    const raw = goldenNamed('mismatch-high-value-first-order-overnight').body as Record<string, unknown>;
    const docs = def.documents(redactedInput(raw));
    expect(docs.map((d) => d.id)).toEqual(['order.summary', 'order.addresses', 'order.customer', 'order.signals']);
    for (const d of docs) for (const line of d.text.split('\n')) expect(line, d.id).toMatch(/\.$/);
    const all = docs.map((d) => d.text).join('\n');
    expect(all).toContain(`Order total: ${raw.total_price} USD.`);
    expect(all).toContain('Billing and shipping addresses differ but are in the same country.');
    expect(all).toContain('The customer record was created 4 minutes before this order.');
    expect(all).toContain("The order total is above the store's high-value threshold of 500.00 USD.");
  });

  it('name a known fraud pattern as a fact when one holds, and only then', () => {
    const text = (id: string) => def.documents(redactedInput(goldenNamed(id).body)).map((d) => d.text).join('\n');
    expect(text('reshipper-new-account-high-value-overnight')).toContain('Known fraud pattern (reshipping fraud)');
    expect(text('gift-card-cashout-throwaway-inbox')).toContain('Known fraud pattern (gift-card cash-out)');
    expect(text('expat-long-standing-uses-forwarder')).not.toContain('Known fraud pattern');
    expect(text('expat-long-standing-uses-forwarder')).toContain('looks like a freight forwarder');
  });

  it('put the customer note last, and only when there is one', () => {
    const withNote = def.documents(redactedInput(goldenNamed('gift-to-mom-different-state').body));
    const without = def.documents(redactedInput(goldenNamed('domestic-repeat-customer-small').body));
    expect(withNote.at(-1)).toMatchObject({ id: DOC_NOTE, text: 'Happy birthday Mom! Please include a gift receipt and no prices.' });
    expect(without.some((d) => d.id === DOC_NOTE)).toBe(false);
    expect(Math.max(...withNote.map((d) => d.priority ?? 0))).toBe(withNote.find((d) => d.id === DOC_NOTE)!.priority);
  });
});

describe('shopify-order-risk output schema', () => {
  it('describes every enum with per-value cues in the reference-model convention', () => {
    const shape = OrderRiskDecision.shape;
    for (const [field, values] of [['outcome', ['assessed', 'insufficient_information']], ['recommendation', RECOMMENDATIONS]] as const) {
      const text = shape[field].description ?? '';
      for (const v of values) expect(text, `${field}.${v}`).toMatch(new RegExp(`(^|\\s)${v}: [^:]*\\.`));
      expect(text).toMatch(/Default: \w+\.$/);
    }
  });

  it('turns into a tool schema with reasoning and evidence first and the alternatives required', () => {
    const json = z.toJSONSchema(OrderRiskDecision) as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(json.properties).slice(0, 2)).toEqual(['reasoning', 'evidence']);
    expect(json.required).toEqual(expect.arrayContaining(['recommendation', 'confidence', 'alternatives_considered', 'risk_signals']));
  });

  it('refuses alternatives that repeat the chosen recommendation or each other', () => {
    expect(OrderRiskDecision.safeParse(decision()).success).toBe(true);
    const repeat = decision({ alternatives_considered: [{ recommendation: 'review', why_not: 'x' }] });
    const twice = decision({ alternatives_considered: [{ recommendation: 'cancel', why_not: 'x' }, { recommendation: 'cancel', why_not: 'y' }] });
    expect(OrderRiskDecision.safeParse(repeat).error?.issues[0].path).toEqual(['alternatives_considered', 0, 'recommendation']);
    expect(OrderRiskDecision.safeParse(twice).error?.issues[0].path).toEqual(['alternatives_considered', 1, 'recommendation']);
  });

  it('takes risk signals only from the fixed list', () => {
    expect(OrderRiskDecision.safeParse(decision({ risk_signals: ['looks shady' as never] })).success).toBe(false);
    expect(OrderRiskDecision.safeParse(decision({ risk_signals: [...RISK_SIGNALS] })).success).toBe(true);
  });
});

describe('shopify-order-risk baseline', () => {
  const screen = (raw: unknown) => {
    const input = redactedInput(raw);
    return screenByRules(input, def.documents(input));
  };

  it('returns schema-valid decisions whose evidence quotes are lines of their documents', () => {
    for (const { name, body } of allBodies()) {
      const input = redactedInput(body);
      const docs = def.documents(input);
      const out = screenByRules(input, docs);
      expect(OrderRiskDecision.safeParse(out).success, name).toBe(true);
      expect(out.reasoning.startsWith('baseline rules:'), name).toBe(true);
      expect(out.evidence.length, name).toBeGreaterThanOrEqual(1);
      for (const e of out.evidence) expect(docs.find((d) => d.id === e.source)?.text.split('\n'), `${name}: ${e.quote}`).toContain(e.quote);
    }
  });

  it('reviews an address mismatch on a high-value first order', () => {
    expect(screen(goldenNamed('mismatch-high-value-first-order-overnight').body)).toMatchObject({ outcome: 'assessed', recommendation: 'review' });
  });

  it('recommends cancelling the known fraud patterns, and lists the two other options', () => {
    for (const id of ['reshipper-new-account-high-value-overnight', 'gift-card-cashout-throwaway-inbox', 'throwaway-inbox-high-value-drone-elsewhere']) {
      const out = screen(goldenNamed(id).body);
      expect(out.recommendation, id).toBe('cancel');
      expect(out.alternatives_considered.map((a) => a.recommendation)).toEqual(['approve', 'review']);
      expect(out.evidence[0].quote).toMatch(/^Known fraud pattern/);
    }
  });

  it('approves ordinary orders, including a long-standing expat shipping to a forwarder', () => {
    for (const id of ['domestic-repeat-customer-small', 'gift-to-mom-different-state', 'expat-long-standing-uses-forwarder', 'pos-sale-in-person-no-customer']) {
      expect(screen(goldenNamed(id).body), id).toMatchObject({ outcome: 'assessed', recommendation: 'approve' });
    }
  });

  it('abstains when there is nothing to assess, with review as the recommendation', () => {
    const out = screen(JSON.parse(fixtureNamed('insufficient-information-no-buyer-no-address').body));
    expect(out).toMatchObject({ outcome: 'insufficient_information', recommendation: 'review', alternatives_considered: [] });
    expect(out.missing_information.length).toBeGreaterThan(0);
  });

  it('always quotes verbatim and stays schema-valid whatever the order looks like', () => {
    const base = redactedInput(goldenNamed('domestic-repeat-customer-small').body);
    const address = fc.option(fc.record({ countryCode: fc.option(fc.constantFrom('US', 'CA', 'DE'), { nil: null }), freightForwarder: fc.boolean() }), { nil: null });
    fc.assert(
      fc.property(
        fc.record({
          total: fc.integer({ min: 0, max: 500_000 }).map((c) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`),
          customer: fc.option(fc.record({ minutesOld: fc.integer({ min: 0, max: 3_000_000 }), verified: fc.boolean() }), { nil: null }),
          billing: address, shipping: address, match: fc.option(fc.boolean(), { nil: null }), disposable: fc.boolean(),
          giftCards: fc.integer({ min: 0, max: 10 }), source: fc.constantFrom('web', 'pos', 'shopify_draft_order', '6167201'), express: fc.boolean(),
        }),
        (o) => {
          const createdAt = '2026-11-03T09:14:22-05:00';
          const input: OrderInput = {
            ...base,
            sourceName: o.source,
            totals: { ...base.totals, total: o.total, subtotal: o.total },
            lineItems: [{ title: 'Gift Card', variantTitle: null, quantity: Math.max(1, o.giftCards), price: '100.00', giftCard: o.giftCards > 0, requiresShipping: o.giftCards === 0 }],
            shippingLines: o.express ? [{ title: 'Overnight', code: null, price: '45.00' }] : [],
            customer: o.customer ? { id: 1, createdAt: new Date(Date.parse(createdAt) - o.customer.minutesOld * 60_000).toISOString(), state: 'disabled', verifiedEmail: o.customer.verified } : null,
            createdAt,
            email: { given: true, disposable: o.disposable },
            billing: o.billing, shipping: o.shipping,
            addressesMatch: o.billing && o.shipping ? o.match ?? false : null,
            recipientDiffers: null,
          };
          const docs = def.documents(input);
          const out = screenByRules(input, docs);
          expect(OrderRiskDecision.safeParse(out).success).toBe(true);
          for (const e of out.evidence) expect(docs.find((d) => d.id === e.source)!.text).toContain(e.quote);
          expect(containsPii(docs.map((d) => d.text).join('\n'))).toEqual([]);
        },
      ),
    );
  });
});

describe('shopify-order-risk actions', () => {
  const input = redactedInput(JSON.parse(fixtureNamed('clear-review-mismatch-high-value-first-order').body));

  it('tags an approved order and posts nothing', () => {
    const actions = orderRiskActions(decision({ recommendation: 'approve', alternatives_considered: [] }), input);
    expect(actions).toEqual([{ name: ACTION_TAG_ORDER, connector: 'shopify', params: { orderGid: input.orderGid, tags: ['seamwork-risk:approve'] } }]);
    expect(input.orderGid).toBe(`gid://shopify/Order/${input.orderId}`);
  });

  it('never cancels: a cancel recommendation is a tag and an alert that says nothing was cancelled', () => {
    const actions = orderRiskActions(decision({ recommendation: 'cancel', alternatives_considered: [] }), input);
    expect(actions.map((a) => `${a.connector}:${a.name}`)).toEqual(['shopify:shopify.add_order_tags', 'slack:slack.post_order_risk']);
    expect(actions[0].params).toEqual({ orderGid: input.orderGid, tags: ['seamwork-risk:cancel'] });
    expect(String(actions[1].params.text)).toContain('Nothing was cancelled');
    for (const recommendation of RECOMMENDATIONS) {
      for (const a of orderRiskActions(decision({ recommendation, alternatives_considered: [] }), input)) {
        expect([ACTION_TAG_ORDER, ACTION_POST_ALERT]).toContain(a.name);
        expect(Object.keys(a.params).sort()).toEqual(a.name === ACTION_TAG_ORDER ? ['orderGid', 'tags'] : ['text']);
        expect(a.restore).toBeUndefined();
      }
    }
  });

  it('alerts Slack for review and cancel with the order name, total and recommendation, never the reasoning', () => {
    const text = String(orderRiskActions(decision(), input)[1].params.text);
    expect(text).toContain(`Order ${input.name} (${input.totals.total} USD)`);
    expect(text).toContain('REVIEW');
    expect(text).toContain('Billing and shipping addresses are in different countries.');
    expect(text).toContain('new_customer_account');
    expect(text).not.toContain('SECRET-REASONING');
  });

  it('keeps personal data out of the Slack text: never quotes the customer note or typed titles', () => {
    const raw = JSON.parse(fixtureNamed('pii-heavy-note').body);
    const pii = redactedInput(raw);
    const note = def.documents(pii).find((d) => d.id === DOC_NOTE)!.text.split('\n')[0];
    const d = decision({
      evidence: [{ quote: note, source: DOC_NOTE }, { quote: '1 × Trailscope 10x42 Binoculars at 179.00 USD each.', source: 'order.summary' }, { quote: 'The customer record was created 530 days before this order.', source: 'order.customer' }],
    });
    const text = alertText(d, pii);
    expect(text).not.toContain(note.slice(0, 20));
    expect(text).not.toContain('Binoculars');
    expect(text).toContain('530 days');
    expect(containsPii(text)).toEqual([]);
    for (const personal of [raw.customer.first_name, raw.customer.last_name, raw.customer.email, raw.shipping_address.address1]) expect(text).not.toContain(personal);
    expect(FACT_DOCS).not.toContain(DOC_NOTE);
    expect(alertText(decision({ evidence: [{ quote: note, source: DOC_NOTE }] }), pii)).not.toContain('Evidence');
  });

  it('produces no actions for an insufficient_information decision', () => {
    expect(orderRiskActions(decision({ outcome: 'insufficient_information', alternatives_considered: [] }), input)).toEqual([]);
  });
});

describe('shopify-order-risk fixtures', () => {
  const fixtures = loadFixtures();

  it('are at least 12 well-formed Fixtures with unique names matching their files', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
    for (const f of fixtures) expect(FixtureSchema.safeParse(f).success, f.name).toBe(true);
    expect(new Set(fixtures.map((f) => f.name)).size).toBe(fixtures.length);
    const files = readdirSync(def.fixturesDir).filter((f) => f.endsWith('.json')).sort();
    expect(files).toEqual(fixtures.map((f) => `${f.name}.json`).sort());
  });

  it('cover every rejection and outcome the pipeline must show', () => {
    const by = (name: string) => fixtureNamed(name);
    expect(by('bad-signature')).toMatchObject({ signature: 'bad', expect: { status: 401 } });
    expect(by('missing-signature')).toMatchObject({ signature: 'none', expect: { status: 401 } });
    expect(parseJson(by('malformed-json').body)).toBeUndefined();
    expect(by('malformed-json').expect).toEqual({ status: 400 });
    const batch = parseJson(by('batch-array-of-two-orders').body);
    expect(Array.isArray(batch) && batch.length === 2).toBe(true);
    expect(by('batch-array-of-two-orders').expect).toEqual({ status: 400 });
    expect(by('duplicate-delivery')).toMatchObject({ deliveries: 2, expect: { status: 202, outcome: 'acted' } });
    expect(by('contract-violation-total-price-not-money').expect).toEqual({ status: 202, outcome: 'dlq' });
    expect(by('insufficient-information-no-buyer-no-address').expect).toEqual({ status: 202, outcome: 'review' });
    expect(by('missing-event-and-webhook-id').expect).toEqual({ status: 400 });
    expect(def.source.eventId({}, by('missing-event-and-webhook-id').headers ?? {})).toBeUndefined();
    expect(def.source.eventId({}, by('webhook-id-fallback').headers ?? {})).toBe(by('webhook-id-fallback').headers!['x-shopify-webhook-id']);
    expect(fixtures.filter((f) => f.expect.outcome === 'acted' && f.signature === 'valid').length).toBeGreaterThanOrEqual(5);
  });

  it('include the personal data redaction must catch: emails, phones and an IBAN in the note', () => {
    const body = JSON.parse(fixtureNamed('pii-heavy-note').body);
    const note = `${body.note} ${body.note_attributes.map((a: { value: string }) => a.value).join(' ')}`;
    expect(note).toMatch(/[\w.+-]+@[\w-]+\.[a-z]{2,}/i);
    expect(note).toMatch(/\+1 \d{3} \d{3} \d{4}/);
    expect(note).toMatch(/\(\d{3}\) \d{3}-\d{4}/);
    expect(note).toMatch(/\bDE\d{2}(?: \d{4}){4} \d{2}\b/);
  });

  it('carry Shopify headers, and the duplicate delivery keeps one event id', () => {
    for (const f of fixtures) expect(f.headers?.['x-shopify-shop-domain'], f.name).toMatch(/\.myshopify\.com$/);
    expect(fixtureNamed('duplicate-delivery').headers?.['x-shopify-event-id']).toBeTruthy();
  });

  it('reach the outcome they expect on the baseline path (no model), through the real stages', async () => {
    const noModel: ModelPort = { id: 'none', invoke: () => Promise.reject(new Error('the baseline path must not call the model')) };
    const flags = new StaticFlagSource({});
    for (const f of fixtures.filter((x) => x.expect.status === 202)) {
      const res = await dryRunDecision(def, `dec-${f.name}`, f.body, { model: noModel, flags, now: () => now, headers: f.headers });
      const expected = f.expect.outcome === 'acted' ? 'baseline' : f.expect.outcome;
      expect(res.outcome, f.name).toBe(expected);
    }
  });
});

/** Dedupe with the two-phase claim semantics of the DynamoDB store, in memory. */
class MemoryDedupe implements DedupeStore {
  private readonly items = new Map<string, { decisionId: string; state: 'pending' | 'enqueued' }>();
  async claim(key: string, decisionId: string): Promise<DedupeClaim> {
    const cur = this.items.get(key);
    if (cur) return { claimed: false, decisionId: cur.decisionId, state: cur.state };
    this.items.set(key, { decisionId, state: 'pending' });
    return { claimed: true };
  }
  async confirm(key: string, decisionId: string) {
    const cur = this.items.get(key);
    if (cur?.decisionId === decisionId) cur.state = 'enqueued';
  }
  async release(key: string, decisionId: string) {
    if (this.items.get(key)?.decisionId === decisionId) this.items.delete(key);
  }
}

describe('shopify-order-risk at the door (ingest, Shopify signatures)', () => {
  const secret = 'shopify-order-risk-unit-secret';

  it('answers every fixture delivery with the status it expects; repeats are duplicates, accepted orders carry the shop as tenant', async () => {
    for (const f of loadFixtures()) {
      const queues = new MemoryQueues();
      const deps: IngestDeps = {
        integration: (n) => (n === def.name ? def : undefined), secrets: async () => [secret], dedupe: new MemoryDedupe(), vault: new MemoryTokenVault(), rawBodyTtlSeconds: 3600,
        audit: new MemoryAuditStore(), queues, metrics: new MemoryMetrics(), now: () => now,
        maxBodyBytes: 256 * 1024, toleranceSeconds: 300, defaultTenant: 'default', dedupeTtlSeconds: 3600,
      };
      const headers = vendorHeaders(def, f.body, secret, f.signature, now, { headers: f.headers });
      const answers = [];
      for (let i = 0; i < (f.deliveries ?? 1); i++) answers.push(await ingestWebhook({ integration: def.name, body: Buffer.from(f.body), headers }, deps));
      expect(answers[0].status, `${f.name}: ${JSON.stringify(answers[0].body)}`).toBe(f.expect.status);
      for (const repeat of answers.slice(1)) expect(repeat, f.name).toMatchObject({ status: 200, body: { status: 'duplicate' } });
      const accepted = queues.take('validate') as Envelope[];
      expect(accepted.length, f.name).toBe(f.expect.status === 202 ? 1 : 0);
      if (accepted[0]) expect(accepted[0].tenant).toBe('shopify:northwind-outfitters.myshopify.com');
      if (f.name === 'orders-updated-topic-ignored') expect(answers[0].body).toMatchObject({ status: 'ignored', eventType: 'orders/updated' });
      if (f.name === 'batch-array-of-two-orders') expect(answers[0].body).toMatchObject({ code: 'NOT_ONE_EVENT' });
      if (f.name === 'missing-event-and-webhook-id') expect(answers[0].body).toMatchObject({ code: 'NO_EVENT_ID' });
    }
  });
});

describe('shopify-order-risk golden set', () => {
  const golden = loadGolden();

  it('has at least 28 well-formed examples with unique ids and unique event ids', () => {
    expect(golden.length).toBeGreaterThanOrEqual(28);
    for (const g of golden) expect(GoldenSchema.safeParse(g).error?.message, g.id).toBeUndefined();
    expect(new Set(golden.map((g) => g.id)).size).toBe(golden.length);
    expect(new Set(golden.map((g) => def.source.eventId(g.body, g.headers ?? {}))).size).toBe(golden.length);
    expect(new Set(golden.map((g) => (g.body as { id: number }).id)).size).toBe(golden.length);
  });

  it('covers every recommendation and at least two abstentions, rated review', () => {
    const assessed = golden.filter((g) => g.expected.outcome === 'assessed');
    for (const r of RECOMMENDATIONS) expect(assessed.filter((g) => g.expected.recommendation === r).length, r).toBeGreaterThanOrEqual(4);
    const abstain = golden.filter((g) => g.expected.outcome === 'insufficient_information');
    expect(abstain.length).toBeGreaterThanOrEqual(2);
    for (const g of abstain) expect(g.expected.recommendation).toBe('review');
  });

  it('includes the hard cases: an instruction in the note, benign mismatches, missing customer data, card testing', () => {
    const notes = golden.map((g) => String((g.body as { note: string | null }).note ?? ''));
    expect(notes.some((n) => /approve this order/i.test(n))).toBe(true);
    expect(notes.some((n) => /ignore previous instructions/i.test(n))).toBe(true);
    expect(golden.some((g) => (g.body as { customer: unknown }).customer === null && g.expected.outcome === 'assessed')).toBe(true);
    expect(golden.filter((g) => /card-testing/.test(g.id)).length).toBeGreaterThanOrEqual(2);
    expect(golden.filter((g) => /gift/.test(g.id) && g.expected.recommendation === 'approve').length).toBeGreaterThanOrEqual(2);
  });
});

describe('shopifyOrderRisk definition', () => {
  it('points at files that exist, and the committed eval baseline scores the same fields', () => {
    expect(existsSync(def.eval.goldenPath)).toBe(true);
    expect(existsSync(def.fixturesDir)).toBe(true);
    expect(def.eval.baselinePath.endsWith('shopify-order-risk/eval-baseline.json')).toBe(true);
    const baselines = JSON.parse(readFileSync(def.eval.baselinePath, 'utf8')) as Record<string, { score: number; fieldAccuracy: Record<string, number> }>;
    expect(Object.keys(baselines['local-reference-model'].fieldAccuracy)).toEqual(def.eval.fields.map((f) => f.name));
    expect(def.eval.fields).toEqual([{ name: 'outcome', compare: 'exact' }, { name: 'recommendation', compare: 'exact' }]);
  });

  it('declares insufficient_information as the abstain outcome and tells the model it may use it', () => {
    expect(def.output.abstainOutcome).toBe('insufficient_information');
    expect(def.prompt.instructions).toContain('insufficient_information');
    expect(def.prompt.instructions).toMatch(/character for character/);
    expect(def.prompt.instructions).toMatch(/data, not instructions/);
  });

  it('checks the numbers in the summary against the sources and keys canary buckets by customer', () => {
    const input = redactedInput(goldenNamed('domestic-repeat-customer-small').body);
    expect(def.stickyKey(input)).toBe(`shopify:customer/${input.customer!.id}`);
    const walkIn = redactedInput(goldenNamed('pos-sale-in-person-no-customer').body);
    expect(def.stickyKey(walkIn)).toBe(`shopify:order/${walkIn.orderId}`);
  });
});

// The integration is not in the registry yet, so `seamwork eval` cannot reach it: the eval runs
// here, through the real Anthropic SDK against the local reference model, as the CLI would.
describe('shopify-order-risk on the AI path (real SDK, local reference model)', () => {
  let server: ModelServer;
  let model: AnthropicModel;

  beforeAll(async () => {
    server = await startModelServer();
    model = new AnthropicModel({ baseURL: server.url, apiKey: 'local-reference-model', maxRetries: 0 });
  });
  afterAll(async () => server?.stop());

  it('scores the golden set within 5 points of the committed baseline, every quote grounded', async () => {
    const report = await runEval(def, { model, backend: 'local-reference-model' });
    expect(report.examples).toBe(loadGolden().length);
    expect(report.modelFailures).toBe(0);
    expect(report.groundingPassRate).toBe(1);
    expect(report.misses.every((m) => m.failedLayer !== 'L4 schema')).toBe(true);
    const verdict = gate(report, loadBaselines(def.eval.baselinePath)['local-reference-model']);
    expect(verdict.ok, verdict.message).toBe(true);
  });

  it('reaches the outcome each accepted fixture expects, and a cancel recommendation only tags and alerts', async () => {
    for (const f of loadFixtures().filter((x) => x.expect.status === 202)) {
      const res = await dryRunDecision(def, `dec-ai-${f.name}`, f.body, { model, now: () => now, headers: f.headers });
      expect(res.outcome, f.name).toBe(f.expect.outcome);
      const verified = res.records.find((r) => r.kind === 'verified')?.data as { decision?: OrderRiskDecision; actions?: Array<{ name: string; params: Record<string, unknown> }> } | undefined;
      for (const a of verified?.actions ?? []) expect([ACTION_TAG_ORDER, ACTION_POST_ALERT], f.name).toContain(a.name);
      if (f.name.startsWith('cancel-worthy')) {
        expect(verified?.decision?.recommendation).toBe('cancel');
        expect(verified?.actions?.[0].params.tags).toEqual(['seamwork-risk:cancel']);
      }
    }
  });
});
