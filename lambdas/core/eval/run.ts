import { readFileSync } from 'node:fs';
import type { GoldenExample, IntegrationDefinition } from '../integration.js';
import { StaticFlagSource } from '../memory-ports.js';
import type { ModelPort } from '../ports.js';
import { dryRunDecision } from './dry-run.js';
import { aggregate, scoreExample, type EvalBaselineFile, type EvalReport } from './score.js';

/** Reads a golden set (JSONL), naming the line of any malformed example. */
export function loadGolden(path: string): GoldenExample[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line, i) => ({ line: line.trim(), n: i + 1 }))
    .filter((l) => l.line.length > 0)
    .map(({ line, n }) => {
      let ex: GoldenExample;
      try {
        ex = JSON.parse(line) as GoldenExample;
      } catch (err) {
        throw new Error(`${path}:${n} is not valid JSON: ${(err as Error).message}`);
      }
      if (!ex.id || ex.body === undefined || !ex.expected) throw new Error(`${path}:${n} needs id, body and expected.`);
      return ex;
    });
}

/** Reads the committed eval baselines (one per backend); an absent file is an empty set. */
export function loadBaselines(path: string): EvalBaselineFile {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EvalBaselineFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

/** Options of an eval run. */
export interface EvalOptions {
  model: ModelPort;
  /** `ai` runs the model path at 100%; `baseline` scores the non-AI fallback on the same set. @default 'ai' */
  path?: 'ai' | 'baseline';
  /** Called after each example, for progress. */
  onProgress?: (done: number, total: number, id: string) => void;
  /** Which model backend answered, for the report and the baseline (`local-reference-model`, `anthropic:<id>`). */
  backend?: string;
  now?: () => Date;
}

/** Runs the golden set through the real stages (dry run) and scores it. */
export async function runEval(def: IntegrationDefinition, opts: EvalOptions): Promise<EvalReport> {
  const examples = loadGolden(def.eval.goldenPath);
  const path = opts.path ?? 'ai';
  const flags = new StaticFlagSource({ [def.name]: { enabled: path === 'ai', rolloutPercent: path === 'ai' ? 100 : 0, mode: 'live' } });
  const scores = [];
  for (const [i, ex] of examples.entries()) {
    const body = typeof ex.body === 'string' ? ex.body : JSON.stringify(ex.body);
    const res = await dryRunDecision(def, `eval-${ex.id}`, body, { model: opts.model, flags, now: opts.now, headers: ex.headers });
    scores.push(scoreExample(def, ex, res));
    opts.onProgress?.(i + 1, examples.length, ex.id);
  }
  return aggregate(def, path === 'ai' ? (opts.backend ?? def.model.id) : 'baseline', path, scores, (opts.now ?? (() => new Date()))());
}
