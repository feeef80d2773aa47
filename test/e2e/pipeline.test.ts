import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { headOf, verifyChain } from '../../lambdas/core/audit-record.js';
import type { CheckResult, Envelope } from '../../lambdas/core/envelope.js';
import type { ActionRequest } from '../../lambdas/core/integration.js';
import { containsPii } from '../../lambdas/core/redact.js';
import { promptText, type BuiltPrompt } from '../../lambdas/core/prompt.js';
import { renderTrace, summariseDecision } from '../../lambdas/core/trace.js';
import { replayDecision } from '../../lambdas/core/replay.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { getIntegration } from '../../lambdas/integrations/index.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { sendSamples, localSecret, type SampleResult } from '../../lib/cli/start.js';
import { deliver, loadFixtures, vendorHeaders } from '../../lib/local/fixtures.js';
import { startTestStack } from '../support/local-stack.js';
import { rawBodyOf } from '../support/raw-body.js';

type Stack = Awaited<ReturnType<typeof startTestStack>>;

/** A fresh copy of a fixture's body with a new vendor event id (and ticket id, when asked). */
function variant(fixture: string, ticketId?: string): string {
  const fx = loadFixtures(supportTriage).find((f) => f.name === fixture)!;
  const body = JSON.parse(fx.body);
  body.id = randomUUID();
  if (ticketId) {
    body.detail.id = ticketId;
    body.subject = `zen:ticket:${ticketId}`;
  }
  return JSON.stringify(body);
}

describe('the local pipeline, end to end', () => {
  let stack: Stack;
  let results: SampleResult[];

  beforeAll(async () => {
    stack = await startTestStack();
    results = await sendSamples(stack);
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it('answers every fixture at the door as the fixture expects', () => {
    for (const r of results) expect({ fixture: r.fixture, status: r.statuses[0] }).toEqual({ fixture: r.fixture, status: r.expect.status });
  });

  it('ends every accepted fixture in the outcome it expects', () => {
    const accepted = results.filter((r) => r.decisionId);
    expect(accepted.length).toBeGreaterThanOrEqual(8);
    for (const r of accepted) expect({ fixture: r.fixture, outcome: r.summary?.outcome }).toEqual({ fixture: r.fixture, outcome: r.expect.outcome });
  });

  it('ends each accepted event in exactly one place, and the queues agree (invariant 1)', async () => {
    const accepted = results.filter((r) => r.decisionId);
    const outcomes = accepted.map((r) => r.summary!.outcome);
    expect(outcomes.every((o) => ['acted', 'baseline', 'review', 'dlq'].includes(String(o)))).toBe(true);
    for (const r of accepted) {
      const records = await stack.records(r.integration, r.decisionId!);
      const chain = verifyChain(records).chain;
      expect(chain.filter((rec) => rec.data.outcome !== undefined)).toHaveLength(1);
    }
    const dlqTotal = (await stack.depth('validate-dlq')) + (await stack.depth('infer-dlq')) + (await stack.depth('verify-dlq')) + (await stack.depth('act-dlq'));
    expect(await stack.depth('review')).toBe(outcomes.filter((o) => o === 'review').length);
    expect(dlqTotal).toBe(outcomes.filter((o) => o === 'dlq').length);
    for (const q of ['validate', 'infer', 'verify', 'act'] as const) expect(await stack.depth(q)).toBe(0);
  });

  it('creates one decision for a duplicate delivery', () => {
    const dup = results.find((r) => r.integration === 'support-triage' && r.fixture === 'duplicate-delivery')!;
    expect(dup.statuses).toEqual([202, 200]);
    const zendeskForTicket = stack.connectors.requests().filter((q) => q.target === 'zendesk' && q.path === '/api/v2/tickets/48222.json');
    expect(zendeskForTicket).toHaveLength(1);
  });

  it('never puts raw PII into a prompt (invariant 4)', async () => {
    for (const r of results.filter((x) => x.integration === 'support-triage' && x.fixture.startsWith('pii-'))) {
      const records = await stack.records('support-triage', r.decisionId!);
      const raw = await rawBodyOf(stack.env.SEAMWORK_TABLE_VAULT, records);
      const description = JSON.parse(raw).detail.description as string;
      expect(containsPii(description).length).toBeGreaterThan(0); // the fixture really carries PII
      const inferred = records.find((x) => x.kind === 'inferred')!;
      const text = promptText({ request: (inferred.data.prompt as { request: BuiltPrompt['request'] }).request } as BuiltPrompt);
      expect(containsPii(text)).toEqual([]);
      expect(text).toMatch(/\[(EMAIL|PHONE|CARD)_1\]/);
    }
  });

  it('labels and comments on each triaged GitHub issue once, ignores bot, pull-request and ping deliveries, and restores nothing in public', async () => {
    const github = results.filter((r) => r.integration === 'github-issue-triage');
    expect(github.filter((r) => r.statuses[0] === 200).map((r) => r.fixture).sort()).toEqual(['bot-comment-ignored', 'issues-closed-ignored', 'ping-ignored', 'pr-comment-ignored']);
    const calls = stack.connectors.requests().filter((q) => q.target === 'github');
    for (const r of github.filter((x) => x.summary?.outcome === 'acted')) {
      const issueNumber = (JSON.parse(loadFixtures(getIntegration('github-issue-triage')!).find((f) => f.name === r.fixture)!.body) as { issue: { number: number } }).issue.number;
      const comments = calls.filter((q) => q.path === `/repos/inkwell-dev/inkwell/issues/${issueNumber}/comments`);
      expect(comments, r.fixture).toHaveLength(1); // once, even for the duplicate delivery
      expect(String((comments[0].body as { body: string }).body)).toContain('<!-- seamwork:github-issue-triage -->');
      expect(calls.filter((q) => q.path === `/repos/inkwell-dev/inkwell/issues/${issueNumber}/labels`), r.fixture).toHaveLength(1);
    }
    const pii = github.find((r) => r.fixture === 'pii-email-and-api-key')!;
    expect(pii.summary?.outcome).toBe('acted');
    for (const q of calls) expect(JSON.stringify(q.body)).not.toContain('priyanka.v@oldmail-example.com');
  });

  it('restores vault tokens only inside the Zendesk call, never in the audit or the queues', async () => {
    const r = results.find((x) => x.fixture === 'pii-email-address')!;
    const records = await stack.records('support-triage', r.decisionId!);
    const raw = await rawBodyOf(stack.env.SEAMWORK_TABLE_VAULT, records);
    const email = /[\w.+-]+@[\w-]+\.[\w.]+/.exec(JSON.parse(raw).detail.description)![0];
    const verified = records.find((x) => x.kind === 'verified')!;
    expect(JSON.stringify(verified.data.actions)).toContain('[EMAIL_1]'); // the action carries the token…
    expect(JSON.stringify(records.filter((x) => x.kind !== 'accepted'))).not.toContain(email); // …no record past ingest has the address
    const ticketId = JSON.parse(raw).detail.id;
    const update = stack.connectors.requests().find((q) => q.path === `/api/v2/tickets/${ticketId}.json`)!;
    expect(JSON.stringify(update.body)).toContain(email); // the connector call gets the original back
    expect(JSON.stringify(update.body)).not.toContain('[EMAIL_1]');
  });

  it('never sends a card number to a connector, and nothing restored to Slack', async () => {
    const r = results.find((x) => x.fixture === 'pii-card-number')!;
    const records = await stack.records('support-triage', r.decisionId!);
    const raw = JSON.parse(await rawBodyOf(stack.env.SEAMWORK_TABLE_VAULT, records));
    const digits = (raw.detail.description as string).replace(/\D/g, '');
    expect(digits).toContain('4111111111111111'); // the fixture carries the card
    for (const q of stack.connectors.requests()) expect(JSON.stringify(q.body).replace(/\D/g, '')).not.toContain('4111111111111111');
    for (const q of stack.connectors.requests().filter((x) => x.target === 'slack')) expect(JSON.stringify(q.body)).not.toMatch(/@[a-z0-9-]+\.[a-z]/i);
  });

  it('lets nothing unverified reach an action (invariant 5)', async () => {
    const acted = results.filter((r) => r.summary?.outcome === 'acted');
    for (const r of acted) {
      const records = await stack.records(r.integration, r.decisionId!);
      const checks = records.find((x) => x.kind === 'verified')!.data.checks as CheckResult[];
      // The schema, then the ten grounding steps in verify's order, then the evidence minimum and the confidence floor.
      expect(checks.map((c) => c.check)).toEqual([
        'output-schema', 'reasoning-first', 'quotes-first', 'citations', 'source-whitelist', 'quote-exists', 'closed-book', 'fresh-evaluator', 'claim-pairing', 'divergence', 'abstain', 'min-evidence', 'confidence-floor',
      ]);
      expect(checks.every((c) => c.verdict === 'pass' || c.verdict === 'retracted' || c.verdict === 'skipped')).toBe(true);
    }
    // One Zendesk update per acted decision, and none for anything else.
    expect(stack.connectors.requests().filter((q) => q.target === 'zendesk')).toHaveLength(acted.filter((r) => r.integration === 'support-triage').length);
  });

  it('sends a schema-breaking model answer to the verify DLQ and never to a connector', async () => {
    stack.model!.setFaults({ seed: 1, rates: { schema_break: 1 } });
    try {
      const before = stack.connectors.requests().length;
      const body = variant('clean-billing-duplicate-charge', '910001');
      const res = await deliver(stack.webhookUrl('support-triage'), body, vendorHeaders(supportTriage, body, localSecret(stack, supportTriage)));
      expect(res.status).toBe(202);
      await stack.drain();
      const s = summariseDecision(await stack.records('support-triage', String(res.body.decisionId)));
      expect(s.outcome).toBe('dlq');
      expect(s.code).toBe('OUTPUT_SCHEMA_VIOLATION');
      expect(stack.connectors.requests().length).toBe(before);
    } finally {
      stack.model!.setFaults({});
    }
  });

  it('retracts an invented quote, and sends the decision whose claim it supported to review instead of acting', async () => {
    stack.model!.setFaults({ seed: 2, rates: { invented_quote: 1 } });
    try {
      const body = variant('clean-account-locked-out', '910002');
      const res = await deliver(stack.webhookUrl('support-triage'), body, vendorHeaders(supportTriage, body, localSecret(stack, supportTriage)));
      await stack.drain();
      const records = await stack.records('support-triage', String(res.body.decisionId));
      const verified = records.find((x) => x.kind === 'verified')!;
      const checks = verified.data.checks as CheckResult[];
      expect(checks.find((c) => c.check === 'quote-exists')!.verdict).toBe('retracted');
      expect(checks.find((c) => c.check === 'claim-pairing')!.verdict).toBe('fail');
      expect(verified.data.outcome).toBe('review');
      expect((verified.data.retracted as Array<{ quote: string }>)[0].quote).toMatch(/promised a full refund/);
      expect((verified.data.retractedClaims as unknown[]).length).toBeGreaterThan(0);
      expect(stack.connectors.requests().find((q) => q.path === '/api/v2/tickets/910002.json')).toBeUndefined();
    } finally {
      stack.model!.setFaults({});
    }
  });

  it('runs no action twice when the act message is delivered twice (invariant 2)', async () => {
    const r = results.find((x) => x.fixture === 'clean-technical-urgent-outage')!;
    const records = await stack.records('support-triage', r.decisionId!);
    const verified = records.find((x) => x.kind === 'verified')!;
    const envelope: Envelope = {
      v: 1, decisionId: r.decisionId!, integration: 'support-triage', tenant: 't', vendorEventId: 'x', receivedAt: verified.at, stage: 'act',
      auditHead: headOf(verified),
      verified: { source: 'ai', decision: verified.data.decision as Record<string, unknown>, actions: verified.data.actions as ActionRequest[], retracted: [] },
    };
    const before = stack.connectors.requests().length;
    await Promise.all([1, 2].map(() => stack.enqueue('act', envelope)));
    await stack.drain();
    expect(stack.connectors.requests().length).toBe(before);
    // The act stage of this decision had committed: the redeliveries do no work and write nothing.
    const after = await stack.records('support-triage', r.decisionId!);
    expect(after.filter((x) => x.kind === 'acted')).toHaveLength(1);
    expect((after.find((x) => x.kind === 'acted')!.data.results as Array<{ status: string }>).map((x) => x.status)).toEqual(['executed', 'executed']);
    expect(after).toHaveLength(records.length);
  });

  it('runs each action once when two first deliveries of an act message race (invariant 2)', async () => {
    const r = results.find((x) => x.fixture === 'clean-technical-urgent-outage')!;
    const verified = (await stack.records('support-triage', r.decisionId!)).find((x) => x.kind === 'verified')!;
    const actions = (verified.data.actions as ActionRequest[]).map((a) => (a.connector === 'zendesk' ? { ...a, params: { ...a.params, ticketId: '910005' } } : a));
    const envelope: Envelope = {
      v: 1, decisionId: `dec_race${Date.now().toString(36)}`, integration: 'support-triage', tenant: 't', vendorEventId: 'race', receivedAt: verified.at, stage: 'act',
      auditHead: headOf(verified),
      verified: { source: 'ai', decision: verified.data.decision as Record<string, unknown>, actions, retracted: [] },
    };
    const slackBefore = stack.connectors.requests().filter((q) => q.target === 'slack').length;
    await Promise.all([1, 2].map(() => stack.enqueue('act', envelope)));
    await stack.drain();
    expect(stack.connectors.requests().filter((q) => q.path === '/api/v2/tickets/910005.json')).toHaveLength(1);
    expect(stack.connectors.requests().filter((q) => q.target === 'slack').length).toBe(slackBefore + 1);
  });

  it('reconstructs every decision from the audit log alone (invariant 6)', async () => {
    for (const r of results.filter((x) => x.decisionId)) {
      const records = await stack.records(r.integration, r.decisionId!);
      const s = summariseDecision(records);
      expect(s.chainOk).toBe(true);
      const accepted = records.find((x) => x.kind === 'accepted')!;
      const fx = loadFixtures(getIntegration(r.integration)!).find((f) => f.name === r.fixture)!;
      expect(await rawBodyOf(stack.env.SEAMWORK_TABLE_VAULT, records)).toBe(fx.body);
      // The audit log itself holds only ciphertext and the hash: erasing the key erases the body.
      expect(JSON.stringify(accepted.data)).not.toContain(JSON.parse(fx.body).detail?.description?.slice(0, 30) ?? '\u0000');
      const text = renderTrace(records);
      expect(text).toContain(`outcome  ${s.outcome}`);
      if (s.outcome === 'acted') {
        const inferred = records.find((x) => x.kind === 'inferred')!;
        expect(inferred.data.prompt).toBeDefined();
        expect((inferred.data.response as { toolInput?: unknown }).toolInput).toBeDefined();
        expect(records.find((x) => x.kind === 'acted')!.data.results).not.toHaveLength(0);
      }
    }
  });

  it('replays a decision from its audit records alone, with an identical prompt and no action (invariant 6)', async () => {
    const r = results.find((x) => x.fixture === 'pii-card-number')!;
    const before = stack.connectors.requests().length;
    const model = new AnthropicModel({ baseURL: stack.model!.url, apiKey: 'local' });
    const same = await replayDecision(supportTriage, await stack.records('support-triage', r.decisionId!), { model });
    expect(same.promptHashMatches).toBe(true);
    expect(same.replayed.outcome).toBe('acted');
    expect(same.differences).toEqual([]);
    const other = await replayDecision(supportTriage, await stack.records('support-triage', r.decisionId!), { model, modelId: 'claude-sonnet-4-5' });
    expect(other.replayModel).toBe('claude-sonnet-4-5');
    expect(other.promptHashMatches).toBe(false); // the model id is part of the request
    expect(stack.connectors.requests().length).toBe(before);
  });

  it('replays a windowed decision bit-exactly: the same cuts, the same documents, the same prompt', async () => {
    const body = JSON.parse(variant('clean-technical-urgent-outage'));
    body.detail.description = `${body.detail.description}\n\n${'Log line: export worker restarted after a timeout. '.repeat(600)}`;
    const text = JSON.stringify(body);
    const res = await deliver(stack.webhookUrl('support-triage'), text, vendorHeaders(supportTriage, text, localSecret(stack, supportTriage)));
    await stack.drain();
    const records = await stack.records('support-triage', res.body.decisionId as string);
    const window = records.find((r) => r.kind === 'validated')!.data.window as { dropped: Array<{ id: string; reason: string; keptRange: [number, number] }> };
    expect(window.dropped).toMatchObject([{ id: 'ticket.description', reason: 'truncated', keptRange: [0, expect.any(Number)] }]);
    const replay = await replayDecision(supportTriage, records, { model: new AnthropicModel({ baseURL: stack.model!.url, apiKey: 'local' }) });
    expect(replay.windowMatches).toBe(true);
    expect(replay.promptHashMatches).toBe(true);
  });

  it('detects a tampered audit record', async () => {
    const r = results.find((x) => x.summary?.outcome === 'acted')!;
    const records = await stack.records(r.integration, r.decisionId!);
    const tampered = records.map((x) => (x.kind === 'verified' ? { ...x, data: { ...x.data, decision: { ...(x.data.decision as object), priority: 'low' } } } : x));
    expect(verifyChain(tampered).ok).toBe(false);
  });

  it('returns an integration to its baseline with one flag flip, no restart (invariant 8)', async () => {
    writeFileSync(stack.flagsFile, JSON.stringify({ 'support-triage': { enabled: false, rolloutPercent: 100, mode: 'live' } }));
    await new Promise((res) => setTimeout(res, 1100)); // the flag client caches for one second
    const body = variant('clean-billing-duplicate-charge', '910003');
    const res = await deliver(stack.webhookUrl('support-triage'), body, vendorHeaders(supportTriage, body, localSecret(stack, supportTriage)));
    await stack.drain();
    const s = summariseDecision(await stack.records('support-triage', String(res.body.decisionId)));
    expect(s.path).toBe('baseline');
    expect(s.outcome).toBe('baseline');
    expect(s.tokens).toBeUndefined();
  });

  it('in shadow mode, runs the AI and records its actions while the baseline acts', async () => {
    writeFileSync(stack.flagsFile, JSON.stringify({ 'support-triage': { enabled: true, rolloutPercent: 100, mode: 'shadow' } }));
    await new Promise((res) => setTimeout(res, 1100));
    const body = variant('clean-technical-urgent-outage', '910004');
    const res = await deliver(stack.webhookUrl('support-triage'), body, vendorHeaders(supportTriage, body, localSecret(stack, supportTriage)));
    await stack.drain();
    const records = await stack.records('support-triage', String(res.body.decisionId));
    const s = summariseDecision(records);
    expect(s.path).toBe('shadow');
    expect(s.outcome).toBe('baseline');
    expect(s.tokens?.input).toBeGreaterThan(0); // the model was called
    const acted = records.find((x) => x.kind === 'acted')!;
    expect((acted.data.shadow as unknown[]).length).toBeGreaterThan(0); // the AI's actions were recorded
    const updates = stack.connectors.requests().filter((q) => q.path === '/api/v2/tickets/910004.json');
    expect(updates).toHaveLength(1); // only one update ran…
    const verified = records.find((x) => x.kind === 'verified')!;
    expect(verified.data.source).toBe('baseline'); // …and it was the baseline's decision
    const executed = (verified.data.actions as ActionRequest[]).find((a) => a.name === 'zendesk.update_ticket')!;
    // The note as the baseline wrote it, with the hidden marker that makes it exactly-once at Zendesk.
    expect((updates[0].body as { ticket: { comment: { body: string } } }).ticket.comment.body)
      .toBe(`${executed.params.internalNote}\n\n<!-- seamwork:seamwork:v1:${String(res.body.decisionId)}:zendesk.update_ticket -->`);
  });

  // Runs last on purpose: it reads the metrics of everything this file did, faults included.
  it('emits EMF metrics per stage that agree with what happened', () => {
    const docs = readFileSync(join(stack.stateDir, 'metrics.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const sums = new Map<string, number>();
    const stages = new Set<string>();
    for (const doc of docs) {
      const meta = doc._aws.CloudWatchMetrics[0];
      expect(meta.Namespace).toBe('Seamwork');
      stages.add(doc.stage);
      for (const m of meta.Metrics as Array<{ Name: string }>) {
        const v = doc[m.Name];
        sums.set(m.Name, (sums.get(m.Name) ?? 0) + (Array.isArray(v) ? v.reduce((a: number, b: number) => a + b, 0) : v));
      }
    }
    expect([...stages].sort()).toEqual(['act', 'infer', 'ingest', 'validate', 'verify']);
    expect(sums.get('WebhookAccepted')).toBeGreaterThanOrEqual(results.filter((r) => r.decisionId).length);
    expect(sums.get('WebhookRejected')).toBeGreaterThanOrEqual(4);
    expect(sums.get('DuplicateDelivery')).toBeGreaterThanOrEqual(1);
    expect(sums.get('PiiRedacted')).toBeGreaterThanOrEqual(3);
    expect(sums.get('ContractViolation')).toBeGreaterThanOrEqual(1);
    expect(sums.get('QuoteRetracted')).toBeGreaterThanOrEqual(1);
    expect(sums.get('SchemaFailure')).toBeGreaterThanOrEqual(1); // the schema-breaking answer above
    expect(sums.get('Abstained')).toBeGreaterThanOrEqual(1);
    expect(sums.get('TokensIn')).toBeGreaterThan(0);
    expect(sums.get('CostMicroUsd')).toBeGreaterThan(0);
    expect(sums.get('ActionExecuted')).toBeGreaterThanOrEqual(results.filter((r) => r.summary?.outcome === 'acted').length);
    expect(sums.get('StageRedelivered')).toBeGreaterThanOrEqual(2); // the act message delivered twice, above
    expect(sums.get('ShadowRecorded')).toBeGreaterThanOrEqual(1);
    expect(sums.get('PathBaseline')).toBeGreaterThanOrEqual(1);
  });
});
