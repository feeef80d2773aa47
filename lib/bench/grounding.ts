/**
 * Grounding section: what Layer 4's deterministic checks cost per decision, on the labelled corpus
 * (test/corpus/grounding.jsonl) — clean outputs and outputs carrying each kind of fault, as verify
 * judges them (checkDecision: output schema + the playbook's checks, no model call).
 */
import { judge, loadCorpus } from '../grounding-corpus.js';
import type { BenchRunner, BenchSection } from './types.js';

/** The target: well under a millisecond per decision. */
const TARGET_P99_US = 1000;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const round = (us: number) => Math.round(us * 10) / 10;

export const run: BenchRunner = async (opts) => {
  const corpus = loadCorpus();
  const rounds = opts.quick ? 1 : 20;
  const warmup = opts.quick ? 0 : 3;
  const byGroup = new Map<string, number[]>();
  for (let r = 0; r < warmup + rounds; r++) {
    for (const c of corpus) {
      const { micros } = judge(c);
      if (r < warmup) continue;
      const group = `${c.integration} ${c.mode}${c.fault ? ' faulted' : ' clean'}`;
      byGroup.set(group, [...(byGroup.get(group) ?? []), micros]);
    }
    opts.progress(`grounding: round ${r + 1}/${warmup + rounds}${r < warmup ? ' (warm-up)' : ''} over ${corpus.length} outputs`);
  }
  const all = [...byGroup.values()].flat().sort((a, b) => a - b);
  const rows: BenchSection['rows'] = [...byGroup.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([group, xs]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return { outputs: group, decisions: sorted.length, 'p50 µs': round(percentile(sorted, 50)), 'p99 µs': round(percentile(sorted, 99)), 'max µs': round(sorted[sorted.length - 1] ?? 0) };
  });
  rows.push({ outputs: 'all', decisions: all.length, 'p50 µs': round(percentile(all, 50)), 'p99 µs': round(percentile(all, 99)), 'max µs': round(all[all.length - 1] ?? 0) });
  const p99 = percentile(all, 99);
  return {
    id: 'grounding',
    title: 'Grounding checks per decision (no model call)',
    rows,
    targets: [{
      what: 'deterministic grounding checks, p99 per decision',
      target: `< ${TARGET_P99_US} µs`,
      actual: `${round(p99)} µs`,
      met: p99 < TARGET_P99_US,
      ...(p99 < TARGET_P99_US ? {} : { note: 'checkDecision parses the output schema again and normalises every source for each quote check.' }),
    }],
    notes: [
      `${corpus.length} labelled outputs from the golden sets (clean and with each injected fault), each judged by checkDecision ${rounds} times after ${warmup} warm-up rounds; process.hrtime.bigint around the call, one thread.`,
      'Includes the output schema parse; the canary and evaluator verdicts are compared, not called: their model calls happen at infer, only when the policy asks (canary for high-stakes decisions; evaluator for shopify-order-risk\'s).',
    ],
  };
};
