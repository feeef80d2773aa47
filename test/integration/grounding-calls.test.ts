import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dryRunDecision } from '../../lambdas/core/eval/dry-run.js';
import { renderTrace } from '../../lambdas/core/trace.js';
import type { Evidence, GoldenExample, IntegrationDefinition } from '../../lambdas/core/integration.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { startModelServer, type ModelServer } from '../../lib/local/model-server/index.js';

/**
 * Grounding adds a model call only when the policy asks for one: the divergence canary's second
 * sample for high-stakes decisions, and the fresh-context evaluator where an integration has one.
 * Counted at the local model server (real SDK, real HTTP) over every golden example.
 */
let server: ModelServer;
let model: AnthropicModel;

beforeAll(async () => {
  server = await startModelServer({ port: 0 });
  model = new AnthropicModel({ apiKey: 'local', baseURL: server.url });
});
afterAll(async () => server?.stop());

const golden = (def: IntegrationDefinition): GoldenExample[] =>
  readFileSync(def.eval.goldenPath, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as GoldenExample);

/** Runs one example and counts the Messages API calls it made. */
async function callsFor(def: IntegrationDefinition, g: GoldenExample) {
  const before = server.stats().messages;
  const res = await dryRunDecision(def, `dec-${g.id}`, JSON.stringify(g.body), { model, headers: g.headers });
  const inferred = res.records.find((r) => r.kind === 'inferred');
  return { calls: server.stats().messages - before, res, decision: inferred?.data.response ? ((inferred.data.response as { toolInput?: Record<string, unknown> }).toolInput ?? {}) : undefined };
}

describe('model calls per decision', () => {
  for (const def of Object.values(INTEGRATIONS)) {
    it(`${def.name}: one call, plus the canary and evaluator only where the policy's high-stakes predicate holds`, async () => {
      const seen = new Set<number>();
      const p = def.grounding;
      for (const g of golden(def)) {
        const { calls, decision } = await callsFor(def, g);
        const d = decision ?? {};
        const qualifies = def.output.schema.safeParse(d).success && d.outcome !== def.output.abstainOutcome;
        const high = p.highStakes?.test(d) ?? false;
        const expected = 1 + (qualifies && p.canary && (p.canary.when === 'always' || high) ? 1 : 0) + (qualifies && p.evaluator && (p.evaluator.when === 'always' || high) ? 1 : 0);
        expect({ example: g.id, calls }).toEqual({ example: g.id, calls: expected });
        seen.add(calls);
      }
      // The golden sets hold both kinds of decision, so neither branch passes vacuously.
      expect(seen.has(1)).toBe(true);
      expect(seen.has(1 + (p.canary ? 1 : 0) + (p.evaluator ? 1 : 0))).toBe(true);
    }, 60_000);
  }

  it('makes exactly one call per decision when the policy asks for neither', async () => {
    const plain = { ...supportTriage, grounding: { ...supportTriage.grounding, canary: undefined, evaluator: undefined } };
    for (const g of golden(plain).slice(0, 15)) expect((await callsFor(plain, g)).calls).toBe(1);
  });
});

describe('the fresh-context evaluator and the canary, through the real SDK', () => {
  it('records the evaluator\'s verdicts and the second sample, and acts when both agree', async () => {
    const def = INTEGRATIONS['shopify-order-risk'];
    const g = golden(def).find((x) => (x.expected as { recommendation?: string }).recommendation === 'cancel')!;
    const { res, calls } = await callsFor(def, g);
    expect(calls).toBe(3);
    const verified = res.records.find((r) => r.kind === 'verified')!;
    const checks = verified.data.checks as Array<{ check: string; verdict: string; detail: string }>;
    expect(checks.find((c) => c.check === 'fresh-evaluator')).toMatchObject({ verdict: 'pass' });
    expect(checks.find((c) => c.check === 'divergence')).toMatchObject({ verdict: 'pass' });
    const inferred = res.records.find((r) => r.kind === 'inferred')!;
    const extra = inferred.data.groundingCalls as Array<{ purpose: string; prompt: { request: { system: Array<{ text: string }> } }; usage: { costUsd: number } }>;
    expect(extra.map((c) => c.purpose)).toEqual(['canary', 'evaluator']);
    // The evaluator saw none of the generator's instructions.
    expect(JSON.stringify(extra[1].prompt.request)).not.toContain(def.prompt.instructions.slice(0, 50));
    // Their cost is in the decision's cost.
    const usage = inferred.data.usage as { costUsd: number; groundingCalls: Array<{ costUsd: number }> };
    expect(usage.groundingCalls).toHaveLength(2);
    expect(usage.costUsd).toBeGreaterThan(usage.groundingCalls[0].costUsd + usage.groundingCalls[1].costUsd);
    // `seamwork trace` tells the story: both calls, their tokens and cost.
    const trace = renderTrace(res.records);
    expect(trace).toMatch(/grounding call canary \(claude-haiku-4-5\): \d+ in \/ \d+ out tokens, \$0\.\d{6}/);
    expect(trace).toMatch(/grounding call evaluator \(claude-haiku-4-5\)/);
    expect(trace).toMatch(/check fresh-evaluator: pass/);
  });

  it('sends a decision to review when the second sample diverges', async () => {
    const def = INTEGRATIONS['shopify-order-risk'];
    const g = golden(def).find((x) => (x.expected as { recommendation?: string }).recommendation === 'cancel')!;
    // Every answer diverges the same way; the canary's request differs only in temperature, so
    // set the fault on, run, and compare the two samples the audit recorded.
    server.setFaults({ seed: 3, rates: { divergent: 0.5 } });
    try {
      let diverged = 0;
      for (let i = 0; i < 8 && diverged === 0; i++) {
        const { res } = await callsFor(def, { ...g, id: `${g.id}-${i}` });
        const verified = res.records.find((r) => r.kind === 'verified');
        const div = (verified?.data.checks as Array<{ check: string; verdict: string }> | undefined)?.find((c) => c.check === 'divergence');
        if (div?.verdict === 'fail') {
          diverged += 1;
          expect(res.outcome).toBe('review');
          expect(verified!.data.code).toBe('DIVERGENT_SAMPLES');
        }
      }
      expect(diverged).toBe(1);
    } finally {
      server.setFaults({});
    }
  });
});

describe('citations mode, through the real SDK', () => {
  const cited = { ...supportTriage, grounding: { ...supportTriage.grounding, mode: 'citations' as const } };

  it('builds evidence from the API\'s citation locations and acts on a clean answer', async () => {
    const g = golden(cited).find((x) => x.id === 'invoice-wrong-company-name') ?? golden(cited)[0];
    const { res } = await callsFor(cited, g);
    const inferred = res.records.find((r) => r.kind === 'inferred')!;
    const request = (inferred.data.prompt as { request: { tool_choice: unknown; messages: Array<{ content: Array<{ type: string; citations?: unknown }> }> } }).request;
    expect(request.tool_choice).toEqual({ type: 'auto' });
    expect(request.messages[0].content.filter((c) => c.type === 'document').every((c) => JSON.stringify(c.citations) === '{"enabled":true}')).toBe(true);
    const verified = res.records.find((r) => r.kind === 'verified')!;
    const checks = verified.data.checks as Array<{ check: string; verdict: string }>;
    expect(checks.find((c) => c.check === 'citations')!.verdict).toBe('pass');
    expect(res.outcome).toBe('acted');
    const evidence = (verified.data.decision as { evidence: Evidence[] }).evidence;
    expect(evidence.length).toBeGreaterThan(0);
    for (const e of evidence) {
      expect(e.id).toMatch(/^c\d+$/);
      expect(e.location).toBeDefined();
    }
  });

  it('retracts a citation whose offsets do not hold the quoted text', async () => {
    server.setFaults({ seed: 1, rates: { bad_citation_offset: 1 } });
    try {
      const g = golden(cited).find((x) => x.id === 'invoice-wrong-company-name') ?? golden(cited)[0];
      const { res } = await callsFor(cited, { ...g, id: `${g.id}-offset` });
      const verified = res.records.find((r) => r.kind === 'verified')!;
      const quote = (verified.data.checks as Array<{ check: string; verdict: string; detail: string }>).find((c) => c.check === 'quote-exists')!;
      expect(quote.verdict).toBe('retracted');
      expect(quote.detail).toMatch(/offsets/);
      expect(res.outcome).not.toBe('acted');
    } finally {
      server.setFaults({});
    }
  });
});
