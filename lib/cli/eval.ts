import { appendFileSync, mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { runEval, loadBaselines } from '../../lambdas/core/eval/run.js';
import { gate, type EvalBaseline, type EvalReport } from '../../lambdas/core/eval/score.js';
import { getIntegration } from '../../lambdas/integrations/index.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { startModelServer } from '../local/model-server/server.js';
import { cell } from './format.js';
import { renderEvalHtml } from './eval-report.js';

/** Options of `seamwork eval`. */
export interface EvalCommandOptions {
  path: 'ai' | 'baseline';
  updateBaseline: boolean;
  outDir: string;
  quiet?: boolean;
}

/**
 * `seamwork eval <integration>`: the golden set through validate → infer → verify → act (dry
 * run). Uses the real API when ANTHROPIC_API_KEY is set and ANTHROPIC_BASE_URL is not; the local
 * reference model otherwise. Exits 1 when the score drops more than 5 points below the baseline.
 */
export async function evalCommand(integration: string, opts: EvalCommandOptions): Promise<{ code: number; report: EvalReport }> {
  const def = getIntegration(integration);
  if (!def) throw new Error(`No integration named "${integration}".`);
  const real = Boolean(process.env.ANTHROPIC_API_KEY) && !process.env.ANTHROPIC_BASE_URL;
  const server = real ? undefined : await startModelServer();
  const say = (s: string) => { if (!opts.quiet) process.stdout.write(s); };
  try {
    const model = new AnthropicModel(server ? { baseURL: server.url, apiKey: 'local-reference-model' } : {});
    say(opts.path === 'baseline'
      ? `eval ${def.name} on the baseline path (the non-AI rules; no model is called)\n`
      : `eval ${def.name} on the AI path with ${server ? 'the local reference model (not an LLM)' : `the Anthropic API (${def.model.id})`}\n`);
    const backend = server ? 'local-reference-model' : `anthropic:${def.model.id}`;
    const report = await runEval(def, {
      model, path: opts.path, backend,
      // A live counter on a terminal; a line every 10 examples in CI logs.
      onProgress: (done, total, id) =>
        process.stdout.isTTY ? say(`\r  [${String(done).padStart(3)}/${total}] ${cell(id, 40)}`) : done % 10 === 0 || done === total ? say(`  [${done}/${total}]\n`) : undefined,
    });
    say('\n\n');
    const baselines = loadBaselines(def.eval.baselinePath);
    const baseline = baselines[backend];
    const verdict =
      report.modelFailures > 0
        ? { ok: false, message: `${report.modelFailures} of ${report.examples} model calls failed (see the L3 infer misses): this run measures nothing, and no baseline is recorded from it.` }
        : opts.path === 'ai' ? gate(report, baseline) : { ok: true, message: 'Baseline path: the non-AI rules, for comparison; not gated.' };
    say(renderReport(report) + '\n\n' + verdict.message + '\n');

    mkdirSync(opts.outDir, { recursive: true });
    const stamp = report.at.replace(/[:.]/g, '-');
    writeFileSync(join(opts.outDir, `${def.name}-${opts.path}-${stamp}.json`), JSON.stringify(report, null, 2));
    const historyFile = join(opts.outDir, 'history.jsonl');
    appendFileSync(historyFile, JSON.stringify({ integration: def.name, path: opts.path, model: report.model, score: report.score, fieldAccuracy: report.fieldAccuracy, groundingPassRate: report.groundingPassRate, costUsd: report.costUsd, at: report.at }) + '\n');
    const history = readFileSync(historyFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((h) => h.integration === def.name);
    const html = join(opts.outDir, `${def.name}-${opts.path}.html`);
    writeFileSync(html, renderEvalHtml(report, baseline, history));
    say(`report: ${html}\n`);

    if (opts.updateBaseline && opts.path === 'ai' && report.modelFailures === 0) {
      const next: EvalBaseline = { score: report.score, fieldAccuracy: report.fieldAccuracy, model: report.model, at: report.at };
      writeFileSync(def.eval.baselinePath, JSON.stringify({ ...baselines, [backend]: next }, null, 2) + '\n');
      say(`baseline updated: ${def.eval.baselinePath}\n`);
    }
    return { code: verdict.ok ? 0 : 1, report };
  } finally {
    await server?.stop();
  }
}

/** The eval as a terminal table. */
export function renderReport(r: EvalReport): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const lines = [
    `score ${r.score} / 100   (${r.examples} examples, path ${r.path}, model ${r.model})`,
    ...Object.entries(r.fieldAccuracy).map(([k, v]) => `  ${cell(k, 20)} ${cell(pct(v), 7)} ${'█'.repeat(Math.round(v * 30))}`),
    `  ${cell('grounding pass', 20)} ${pct(r.groundingPassRate)}`,
    `  ${cell('abstain correct', 20)} ${r.abstain.correct}/${r.examples} (expected ${r.abstain.expected}, false ${r.abstain.falseAbstain}, missed ${r.abstain.missedAbstain})`,
    `  ${cell('tokens', 20)} ${r.tokens.input} in / ${r.tokens.output} out, cost $${r.costUsd.toFixed(5)}`,
  ];
  if (r.misses.length) {
    lines.push('', `misses (${r.misses.length}), by the layer that failed:`);
    for (const m of r.misses) lines.push(`  ${cell(m.id, 34)} ${cell(m.failedLayer, 20)} ${m.reason ?? ''}`);
  }
  return lines.join('\n');
}

/** Whether a baseline file exists (for the CLI's hint). */
export const hasBaseline = (path: string) => existsSync(path);
