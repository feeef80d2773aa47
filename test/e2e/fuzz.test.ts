import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../lambdas/core/faults.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { githubIssueTriage } from '../../lambdas/integrations/github-issue-triage/index.js';
import { shopifyOrderRisk } from '../../lambdas/integrations/shopify-order-risk/index.js';
import type { IntegrationDefinition } from '../../lambdas/core/integration.js';
import { signRequest } from '../../lambdas/core/signature/index.js';
import { signZendesk } from '../../lambdas/core/signature/zendesk.js';
import { localSecret } from '../../lib/cli/start.js';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../lib/local/emulators.js';
import { loadFixtures } from '../../lib/local/fixtures.js';
import { INGEST } from '../../lib/topology.js';
import { startTestStack } from '../support/local-stack.js';

/**
 * Bad input at the door, at volume: 10,000 malformed, truncated, oversized, wrongly encoded and
 * wrongly signed requests over real HTTP (Zendesk's scheme in depth, GitHub's and Shopify's
 * signature failures beside it). Every one must get a 4xx with a reason, or be accepted
 * and then end in the DLQ with a rejection record; no handler may crash, nothing may reach the
 * model, and the accepted count must equal the sum of the outcomes.
 */

const TOTAL = 10_000;
const SEED = Number(process.env.SEAMWORK_FUZZ_SEED ?? 20261125);

/** mulberry32 (lambdas/core/faults.ts): small, seedable, good enough to pick cases reproducibly. */
const rng = seededRandom;

type Case = { kind: string; path: string; body: Buffer; headers: Record<string, string>; expect: number };

const template = JSON.parse(loadFixtures(supportTriage).find((f) => f.name === 'clean-billing-duplicate-charge')!.body);

// Each mutation breaks a field the contract enforces, so an accepted case can never reach the model.
const VIOLATIONS: Array<(b: any) => void> = [
  (b) => delete b.detail.description,
  (b) => (b.detail.description = '   '),
  (b) => (b.detail.requester_id = 12345),
  (b) => (b.detail.requester_id = null),
  (b) => (b.detail = 'not an object'),
  (b) => (b.subject = 'zen:ticket:999999999'),
  (b) => (b.detail.created_at = 'yesterday'),
  (b) => (b.account_id = -1),
  (b) => (b.detail.id = 'abc'),
  (b) => (b.detail.priority = 'CRITICAL'),
  (b) => (b.detail.tags = 'urgent'),
];

/** Signature failures under another vendor's scheme (GitHub's and Shopify's headers and encodings). */
function otherVendorCases(def: IntegrationDefinition, secret: string, now: Date, random: () => number): Array<[string, number, () => Case]> {
  const fx = loadFixtures(def).find((f) => f.signature === 'valid' && f.expect.outcome === 'acted')!;
  const path = `/webhooks/${def.name}`;
  const headersFor = (body: Buffer, mode: 'valid' | 'bad' | 'none') => ({
    'content-type': 'application/json', ...fx.headers, ...signRequest(def.source.signature, { body, secret, now }, mode),
  });
  const [sigHeader] = def.source.signature === 'github' ? ['x-hub-signature-256'] : ['x-shopify-hmac-sha256'];
  const body = () => Buffer.from(fx.body);
  return [
    [`${def.name} bad-secret`, 400, () => ({ kind: `${def.name} bad-secret`, path, body: body(), headers: headersFor(body(), 'bad'), expect: 401 })],
    [`${def.name} no-signature`, 200, () => ({ kind: `${def.name} no-signature`, path, body: body(), headers: headersFor(body(), 'none'), expect: 401 })],
    [`${def.name} tampered`, 300, () => {
      const b = body();
      const headers = headersFor(b, 'valid');
      const at = Math.floor(random() * b.length);
      b[at] = b[at] ^ (1 + Math.floor(random() * 254));
      return { kind: `${def.name} tampered`, path, body: b, headers, expect: 401 };
    }],
    [`${def.name} garbled-signature`, 200, () => ({
      kind: `${def.name} garbled-signature`, path, body: body(),
      headers: { ...headersFor(body(), 'valid'), [sigHeader]: ['', 'sha256=', 'sha1=abc', 'sha256=' + 'g'.repeat(64), '====', 'x'.repeat(5000)][Math.floor(random() * 6)] },
      expect: 401,
    })],
  ];
}

function buildCases(secrets: Record<string, string>, now: Date): Case[] {
  const secret = secrets[supportTriage.name];
  const random = rng(SEED);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const ts = (offsetMs = 0) => new Date(now.getTime() + offsetMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const signed = (body: Buffer, at = ts(), key = secret) => ({ 'content-type': 'application/json', 'x-zendesk-webhook-signature': signZendesk(body, at, key), 'x-zendesk-webhook-signature-timestamp': at });
  const fresh = () => {
    const b = structuredClone(template);
    b.id = randomUUID();
    return b;
  };
  const path = '/webhooks/support-triage';
  const json = (v: unknown) => Buffer.from(JSON.stringify(v));
  const plan: Array<[string, number, () => Case]> = [
    ['bad-secret', 500, () => { const body = json(fresh()); return { kind: 'bad-secret', path, body, headers: signed(body, ts(), `${secret}-rotated-out`), expect: 401 }; }],
    ['no-signature', 300, () => ({ kind: 'no-signature', path, body: json(fresh()), headers: { 'content-type': 'application/json' }, expect: 401 })],
    ['stale', 700, () => { const body = json(fresh()); return { kind: 'stale', path, body, headers: signed(body, ts(-(301 + Math.floor(random() * 86_400)) * 1000)), expect: 401 }; }],
    ['future', 300, () => { const body = json(fresh()); return { kind: 'future', path, body, headers: signed(body, ts((301 + Math.floor(random() * 86_400)) * 1000)), expect: 401 }; }],
    ['garbled-signature', 300, () => { const body = json(fresh()); return { kind: 'garbled-signature', path, body, headers: { ...signed(body), 'x-zendesk-webhook-signature': pick(['', ' ', 'sha256=abc', 'AAAA', '\u00ff\u00fe', Buffer.from(randomUUID()).toString('base64'), 'x'.repeat(5000)]) }, expect: 401 }; }],
    ['garbled-timestamp', 300, () => { const body = json(fresh()); return { kind: 'garbled-timestamp', path, body, headers: { ...signed(body), 'x-zendesk-webhook-signature-timestamp': pick(['yesterday', '1716900000', '2026-13-45T99:99:99Z', '', 'NaN', '2026-11-25']) }, expect: 401 }; }],
    ['tampered', 400, () => {
      const body = json(fresh());
      const headers = signed(body);
      const at = Math.floor(random() * body.length);
      body[at] = body[at] ^ (1 + Math.floor(random() * 254));
      return { kind: 'tampered', path, body, headers, expect: 401 };
    }],
    ['truncated', 800, () => { const full = json(fresh()); const body = full.subarray(0, Math.floor(random() * (full.length - 1))); return { kind: 'truncated', path, body, headers: signed(body), expect: 400 }; }],
    ['empty', 300, () => { const body = Buffer.alloc(0); return { kind: 'empty', path, body, headers: signed(body), expect: 400 }; }],
    ['oversized', 200, () => {
      const b = fresh();
      b.detail.description = 'x'.repeat(INGEST.maxBodyBytes + Math.floor(random() * 10_000));
      const body = json(b);
      return { kind: 'oversized', path, body, headers: signed(body), expect: 413 };
    }],
    // Sent as octet-stream so the API hands the Lambda the bytes as they are (base64), as API Gateway
    // does for binary media; under a text content type the bytes would be altered in transit and
    // fail the signature instead (also a 4xx, but not the refusal this case is about).
    ['latin-1', 400, () => { const b = fresh(); b.detail.description = 'Café déjà vu: the invoice is wrong.'; const body = Buffer.from(JSON.stringify(b), 'latin1'); return { kind: 'latin-1', path, body, headers: { ...signed(body), 'content-type': 'application/octet-stream' }, expect: 400 }; }],
    ['utf-16', 200, () => { const body = Buffer.from(JSON.stringify(fresh()), 'utf16le'); return { kind: 'utf-16', path, body, headers: signed(body), expect: 400 }; }],
    ['random-bytes', 300, () => { const body = Buffer.from(Array.from({ length: 1 + Math.floor(random() * 2000) }, () => Math.floor(random() * 256))); return { kind: 'random-bytes', path, body, headers: { ...signed(body), 'content-type': 'application/octet-stream' }, expect: 400 }; }],
    ['not-an-object', 500, () => { const body = json(pick<unknown>([[fresh(), fresh()], [], 42, 'ticket', null, true, [fresh()]])); return { kind: 'not-an-object', path, body, headers: signed(body), expect: 400 }; }],
    ['no-event-id', 400, () => { const b = fresh(); if (random() < 0.5) delete b.id; else b.id = pick<unknown>(['', 42, null, {}]); const body = json(b); return { kind: 'no-event-id', path, body, headers: signed(body), expect: 400 }; }],
    ['unknown-integration', 300, () => { const body = json(fresh()); return { kind: 'unknown-integration', path: `/webhooks/${pick(['nope', 'support_triage', 'SUPPORT-TRIAGE', '..%2f..%2fetc'])}`, body, headers: signed(body), expect: 404 }; }],
    ['contract-violation', 1500, () => { const b = fresh(); pick(VIOLATIONS)(b); const body = json(b); return { kind: 'contract-violation', path, body, headers: signed(body), expect: 202 }; }],
    // A byte order mark is tolerated at the door (and dropped), so these must end like any other violation.
    ['bom-contract-violation', 100, () => { const b = fresh(); pick(VIOLATIONS)(b); const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), json(b)]); return { kind: 'bom-contract-violation', path, body, headers: signed(body), expect: 202 }; }],
    ...otherVendorCases(githubIssueTriage, secrets[githubIssueTriage.name], now, random),
    ...otherVendorCases(shopifyOrderRisk, secrets[shopifyOrderRisk.name], now, random),
  ];
  expect(plan.reduce((n, [, count]) => n + count, 0)).toBe(TOTAL);
  const cases = plan.flatMap(([, count, make]) => Array.from({ length: count }, make));
  // Interleave the kinds so accepted events and refusals hit the stack at the same time.
  for (let i = cases.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [cases[i], cases[j]] = [cases[j], cases[i]];
  }
  return cases;
}

describe(`fuzzing the webhook endpoint with ${TOTAL.toLocaleString('en')} bad requests (seed ${SEED})`, () => {
  let stack: Awaited<ReturnType<typeof startTestStack>>;
  const answers: Array<{ c: Case; status: number; body: Record<string, unknown> }> = [];
  let modelRequestsBefore = 0;

  beforeAll(async () => {
    stack = await startTestStack();
    modelRequestsBefore = stack.model!.stats().requests;
    const cases = buildCases(Object.fromEntries([supportTriage, githubIssueTriage, shopifyOrderRisk].map((d) => [d.name, localSecret(stack, d)])), new Date());
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++];
        const res = await fetch(`${stack.apiUrl}${c.path}`, { method: 'POST', headers: c.headers, body: c.body });
        const text = await res.text();
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          body = { unparseable: text.slice(0, 200) };
        }
        answers.push({ c, status: res.status, body });
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await stack.drain(300_000);
  }, 900_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers every request, none with a 5xx', () => {
    expect(answers).toHaveLength(TOTAL);
    const serverErrors = answers.filter((a) => a.status >= 500);
    expect(serverErrors.map((a) => `${a.c.kind} → ${a.status} ${JSON.stringify(a.body)}`).slice(0, 5)).toEqual([]);
  });

  it('refuses each kind of bad request with its status and a code and reason a sender can act on', () => {
    const wrong = answers.filter((a) => a.status !== a.c.expect);
    expect(wrong.map((a) => `${a.c.kind}: expected ${a.c.expect}, got ${a.status} ${JSON.stringify(a.body).slice(0, 200)}`).slice(0, 5)).toEqual([]);
    expect(answers.filter((a) => a.c.kind === 'latin-1').every((a) => a.body.code === 'NOT_UTF8')).toBe(true);
    for (const a of answers.filter((x) => x.status >= 400)) {
      expect(typeof a.body.code === 'string' && (a.body.code as string).length > 0, `${a.c.kind} has a code`).toBe(true);
      expect(typeof a.body.reason === 'string' && (a.body.reason as string).length > 10, `${a.c.kind} has a reason`).toBe(true);
    }
  });

  it('sends nothing to the model and crashes no handler', () => {
    expect(stack.model!.stats().requests - modelRequestsBefore).toBe(0);
    const stats = stack.pollerStats();
    expect(Object.values(stats).reduce((n, s) => n + s.handlerErrors, 0)).toBe(0);
    expect(stats.infer.invocations).toBe(0);
  });

  it('ends every accepted request in the validate DLQ, and the accepted count equals the sum of the outcomes', async () => {
    const accepted = answers.filter((a) => a.status === 202);
    expect(accepted.length).toBe(1600);
    const outcomes = {
      validateDlq: await stack.depth('validate-dlq'),
      quarantine: await stack.depth('quarantine'),
      review: await stack.depth('review'),
      infer: await stack.depth('infer'),
      inferDlq: await stack.depth('infer-dlq'),
      verify: await stack.depth('verify'),
      act: await stack.depth('act'),
    };
    expect(outcomes).toEqual({ validateDlq: accepted.length, quarantine: 0, review: 0, infer: 0, inferDlq: 0, verify: 0, act: 0 });
  });

  it('leaves a rejection record with a pointer for accepted requests (a sample of 50, BOM-prefixed ones included)', async () => {
    const all = answers.filter((a) => a.status === 202);
    const accepted = [...all.filter((a) => a.c.kind === 'bom-contract-violation').slice(0, 10), ...all.slice(0, 40)];
    for (const a of accepted) {
      const records = await stack.records('support-triage', a.body.decisionId as string);
      expect(records.map((r) => r.kind)).toEqual(['accepted', 'rejected']);
      expect(records[1].data).toMatchObject({ outcome: 'dlq', contractVersion: supportTriage.contract.version });
      expect(['CONTRACT_VIOLATION', 'CONTRACT_DRIFT']).toContain(records[1].data.code);
      expect(typeof records[1].data.pointer).toBe('string');
      expect(records[1].data.reason).not.toContain('not valid JSON');
    }
  });

  it('carries the JSON pointer and contract version in the DLQ messages themselves', async () => {
    const sqs = new SQSClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: stack.emulators.endpoints.sqs });
    const res = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.emulators.queueUrls.validate.dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    sqs.destroy();
    expect(res.Messages?.length).toBeGreaterThan(0);
    for (const m of res.Messages ?? []) {
      const r = JSON.parse(m.Body!);
      expect(r).toMatchObject({ stage: 'validate', contractVersion: supportTriage.contract.version });
      expect(r.reason).toMatch(/does not match contract|drifted/);
    }
  });
});
