import { actualCostUsd, priceFor } from '../../lambdas/core/cost.js';
import type { UsageRecord } from '../../lambdas/core/envelope.js';
import { dryRunDecision } from '../../lambdas/core/eval/dry-run.js';
import { loadGolden } from '../../lambdas/core/eval/run.js';
import { StaticFlagSource } from '../../lambdas/core/memory-ports.js';
import { INTEGRATIONS } from '../../lambdas/integrations/index.js';
import { AnthropicModel } from '../../lambdas/model/anthropic.js';
import { startModelServer } from '../local/model-server/index.js';
import type { BenchRunner, BenchSection } from './types.js';

/**
 * Model tokens and cost per golden-set decision, as billed with prompt caching of the static
 * prefix (system + tool schema) and as the same calls would cost without it.
 */

/** Models whose prices the per-million figures are shown at. */
export const PRICED_MODELS = ['claude-haiku-4-5', 'claude-sonnet-4-5'] as const;

/**
 * Smallest prefix each priced model caches, from Anthropic's prompt-caching docs
 * (https://platform.claude.com/docs/en/build-with-claude/prompt-caching): a shorter prefix is
 * billed as ordinary input with no error. The local reference model does not apply it.
 */
const MIN_CACHEABLE_TOKENS: Record<(typeof PRICED_MODELS)[number], number> = { 'claude-haiku-4-5': 4096, 'claude-sonnet-4-5': 1024 };

/** One inferred call's usage, as the `inferred` audit record carries it. */
type CallUsage = UsageRecord;

/** The same tokens priced at another model's prices, caching as billed. */
function costWithCaching(model: string, u: CallUsage): number {
  return actualCostUsd(model, { input_tokens: u.inputTokens, output_tokens: u.outputTokens, cache_creation_input_tokens: u.cacheWriteTokens, cache_read_input_tokens: u.cacheReadTokens });
}

function costWithoutCaching(model: string, u: CallUsage): number {
  const p = priceFor(model);
  return ((u.inputTokens + u.cacheReadTokens + u.cacheWriteTokens) * p.inputPerMTok + u.outputTokens * p.outputPerMTok) / 1_000_000;
}

/** The calls grounding added to a decision (canary, evaluator), as billed: their prompts are not cached. */
function groundingCost(model: string, u: CallUsage): number {
  const p = priceFor(model);
  return (u.groundingCalls ?? []).reduce((a, g) => a + (g.inputTokens * p.inputPerMTok + g.outputTokens * p.outputPerMTok) / 1_000_000, 0);
}

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
const usd = (x: number) => Number(x.toPrecision(4));
const perMillion = (x: number) => Math.round(x * 1_000_000 * 100) / 100;

function row(integration: string, calls: CallUsage[]): Record<string, string | number> {
  // The generation alone, so cached and uncached price the same tokens; grounding calls apart.
  const withCache = mean(calls.map((c) => costWithCaching(c.model, c)));
  const without = mean(calls.map((c) => costWithoutCaching(c.model, c)));
  const r: Record<string, string | number> = {
    integration,
    decisions: calls.length,
    'mean input tok': Math.round(mean(calls.map((c) => c.inputTokens + c.cacheReadTokens + c.cacheWriteTokens))),
    'of which cached': Math.round(mean(calls.map((c) => c.cacheReadTokens + c.cacheWriteTokens))),
    'mean output tok': Math.round(mean(calls.map((c) => c.outputTokens))),
    'mean $ cached': usd(withCache),
    'mean $ uncached': usd(without),
    'saving %': without > 0 ? Math.round(((without - withCache) / without) * 1000) / 10 : 0,
    'calls per decision': Math.round(mean(calls.map((c) => 1 + (c.groundingCalls ?? []).filter((g) => g.inputTokens > 0).length)) * 100) / 100,
    'mean $ grounding calls': usd(mean(calls.map((c) => groundingCost(c.model, c)))),
  };
  for (const model of PRICED_MODELS) {
    const short = model.replace('claude-', '').replace(/-4-5$/, '');
    // Per million decisions, the grounding calls included.
    r[`${short} $/M cached`] = perMillion(mean(calls.map((c) => costWithCaching(model, c) + groundingCost(model, c))));
    r[`${short} $/M uncached`] = perMillion(mean(calls.map((c) => costWithoutCaching(model, c) + groundingCost(model, c))));
  }
  return r;
}

/** Runs the tokens section. */
export const run: BenchRunner = async (opts) => {
  const server = await startModelServer();
  const model = new AnthropicModel({ baseURL: server.url, apiKey: 'local', maxRetries: 0 });
  const rows: BenchSection['rows'] = [];
  const all: CallUsage[] = [];
  let skipped = 0;
  try {
    for (const def of Object.values(INTEGRATIONS)) {
      const golden = loadGolden(def.eval.goldenPath);
      const examples = opts.quick ? golden.slice(0, 3) : golden;
      // The same stages and flags runEval uses (AI path at 100%); run here per example because
      // runEval's report keeps input/output tokens but not the cache reads and writes.
      const flags = new StaticFlagSource({ [def.name]: { enabled: true, rolloutPercent: 100, mode: 'live' } });
      const calls: CallUsage[] = [];
      const every = Math.max(1, Math.floor(examples.length / 10));
      for (const [i, ex] of examples.entries()) {
        const body = typeof ex.body === 'string' ? ex.body : JSON.stringify(ex.body);
        const res = await dryRunDecision(def, `eval-${ex.id}`, body, { model, flags, headers: ex.headers });
        const usage = (res.records.find((r) => r.kind === 'inferred')?.data as { usage?: CallUsage } | undefined)?.usage;
        if (usage) calls.push(usage);
        else skipped++;
        if ((i + 1) % every === 0 || i + 1 === examples.length) opts.progress(`tokens: ${def.name} ${i + 1}/${examples.length}`);
      }
      rows.push(row(def.name, calls));
      all.push(...calls);
    }
  } finally {
    await server.stop();
  }
  rows.push(row('all', all));

  // The largest integration's prefix: if even that is under a model's minimum, none is cached there.
  const prefix = Math.max(0, ...all.map((c) => c.cacheReadTokens + c.cacheWriteTokens));
  const tooShort = PRICED_MODELS.filter((m) => prefix < MIN_CACHEABLE_TOKENS[m]);
  const notes = [
    `Every integration's golden set${opts.quick ? ' (first 3 examples each, --quick)' : ''} through the real stages (dry run, as the eval does) against the local reference model over the Anthropic SDK; usage is read from each decision's \`inferred\` audit record. "mean input tok" counts all prompt tokens (uncached + cache reads + cache writes).`,
    'Tokens and the cached/uncached $ are the generation call\'s. With caching: as billed (the first call of each integration writes the prefix at 1.25× input, later ones read it at 0.1×). Without: the same tokens, all input at the input price (priceFor). Calls per decision and "mean $ grounding calls": the divergence canary\'s second sample and the fresh-context evaluator where the policy asked for them (high-stakes decisions). The $/M columns re-price the generation at each model\'s prices and add the grounding calls.',
    `Token counts are the local reference model's estimate (bytes per token), not Anthropic's tokenizer, and its answers are shorter than a real model's reasoning; treat output tokens as a floor.`,
    ...(tooShort.length > 0
      ? [`The cached static prefix is at most ${prefix} tokens (by the reference model's count). The API caches only prefixes of at least ${tooShort.map((m) => `${MIN_CACHEABLE_TOKENS[m]} tokens on ${m}`).join(' and ')}, and bills shorter ones as ordinary input without an error; the reference model does not apply that minimum, so on ${tooShort.join(' and ')} the real saving is zero until the prefix grows past it.`]
      : []),
    ...(skipped > 0 ? [`${skipped} golden example(s) ended before infer (rejected or quarantined at validate) and made no model call; they are not counted.`] : []),
  ];
  return { id: 'tokens', title: 'Model tokens and cost per decision (prompt caching)', rows, targets: [], notes };
};
