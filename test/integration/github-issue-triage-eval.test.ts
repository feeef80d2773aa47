import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBaselines, loadGolden, runEval } from '../../lambdas/core/eval/run.js';
import { gate } from '../../lambdas/core/eval/score.js';
import { githubIssueTriage } from '../../lambdas/integrations/github-issue-triage/index.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { startModelServer, type ModelServer } from '../../lib/local/model-server/index.js';

describe('the github-issue-triage golden set through the eval harness (real SDK, local reference model)', () => {
  let server: ModelServer;
  let model: AnthropicModel;

  beforeAll(async () => {
    server = await startModelServer();
    model = new AnthropicModel({ baseURL: server.url, apiKey: 'local', maxRetries: 0 });
  });
  afterAll(async () => server?.stop());

  it('scores every example through the real stages, fully grounded, within 5 points of the committed baseline', async () => {
    const report = await runEval(githubIssueTriage, { model, backend: 'local-reference-model' });

    expect(report.examples).toBe(loadGolden(githubIssueTriage.eval.goldenPath).length);
    expect(Object.keys(report.fieldAccuracy)).toEqual(['outcome', 'primary_label', 'priority']);
    expect(report.modelFailures).toBe(0);
    expect(report.groundingPassRate).toBe(1);
    expect(report.misses.every((m) => m.failedLayer !== 'L1 validate')).toBe(true);
    const verdict = gate(report, loadBaselines(githubIssueTriage.eval.baselinePath)['local-reference-model']);
    expect(verdict.ok, verdict.message).toBe(true);
  });

  it('scores the keyword baseline below the AI path on the same set', async () => {
    const ai = loadBaselines(githubIssueTriage.eval.baselinePath)['local-reference-model'];
    const baseline = await runEval(githubIssueTriage, { model, path: 'baseline' });
    expect(baseline.tokens.input).toBe(0);
    expect(baseline.score).toBeLessThan(ai.score);
  });
});
