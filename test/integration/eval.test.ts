import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBaselines, loadGolden, runEval } from '../../lambdas/core/eval/run.js';
import { gate } from '../../lambdas/core/eval/score.js';
import { dryRunDecision } from '../../lambdas/core/eval/dry-run.js';
import { supportTriage } from '../../lambdas/integrations/support-triage/index.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { startModelServer, type ModelServer } from '../../lib/local/model-server/index.js';

describe('the eval harness on the support-triage golden set (real SDK, local reference model)', () => {
  let server: ModelServer;
  let model: AnthropicModel;

  beforeAll(async () => {
    server = await startModelServer();
    model = new AnthropicModel({ baseURL: server.url, apiKey: 'local', maxRetries: 0 });
  });
  afterAll(async () => server?.stop());

  it('scores every golden example through the real stages and stays within 5 points of the committed baseline', async () => {
    const report = await runEval(supportTriage, { model, backend: 'local-reference-model' });
    expect(report.examples).toBe(loadGolden(supportTriage.eval.goldenPath).length);
    expect(report.examples).toBeGreaterThanOrEqual(30);
    expect(Object.keys(report.fieldAccuracy)).toEqual(['outcome', 'category', 'priority', 'escalation_reason']);
    expect(report.tokens.input).toBeGreaterThan(0);
    expect(report.costUsd).toBeGreaterThan(0);
    for (const miss of report.misses) expect(miss.failedLayer).toBeDefined();
    // The pre-flight is a worst case: its token estimate never falls below what the model billed.
    const res = await dryRunDecision(supportTriage, 'eval-preflight', JSON.stringify(loadGolden(supportTriage.eval.goldenPath)[0].body), { model });
    const inferred = res.records.find((r) => r.kind === 'inferred')!.data as { preflight: { estimatedInputTokens: number }; usage: { inputTokens: number; cacheReadTokens: number; cacheWriteTokens: number } };
    expect(inferred.preflight.estimatedInputTokens).toBeGreaterThanOrEqual(inferred.usage.inputTokens + inferred.usage.cacheReadTokens + inferred.usage.cacheWriteTokens);
    const verdict = gate(report, loadBaselines(supportTriage.eval.baselinePath)['local-reference-model']);
    expect(verdict.ok, verdict.message).toBe(true);
  });

  it('charges every miss to the verify layer and fails the gate when the model breaks the schema', async () => {
    server.setFaults({ seed: 3, rates: { schema_break: 1 } });
    try {
      const report = await runEval(supportTriage, { model, backend: 'local-reference-model' });
      expect(report.misses.length).toBe(report.examples);
      expect(new Set(report.misses.map((m) => m.failedLayer))).toEqual(new Set(['L4 schema']));
      expect(gate(report, loadBaselines(supportTriage.eval.baselinePath)['local-reference-model']).ok).toBe(false);
    } finally {
      server.setFaults({});
    }
  });

  it('scores nothing and counts model failures when every model call fails', async () => {
    server.setFaults({ seed: 5, rates: { server_error: 1 } });
    try {
      const report = await runEval(supportTriage, { model, backend: 'local-reference-model' });
      expect(report.modelFailures).toBe(report.examples);
      expect(report.score).toBe(0);
      expect(report.abstain.correct).toBe(0);
      expect(new Set(report.misses.map((m) => m.failedLayer))).toEqual(new Set(['L3 infer']));
    } finally {
      server.setFaults({});
    }
  });

  it('scores the non-AI baseline path on the same set without calling the model', async () => {
    const before = server.stats().requests;
    const report = await runEval(supportTriage, { model, path: 'baseline' });
    expect(server.stats().requests).toBe(before);
    expect(report.tokens).toEqual({ input: 0, output: 0 });
    expect(report.score).toBeGreaterThan(0);
  });
});
