import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildCorpus, CORPUS_PATH, corpusJsonl, FAULT_CATCHER, loadCorpus, measureCorpus } from '../../lib/grounding-corpus.js';

/**
 * The labelled corpus (test/corpus/grounding.jsonl): model outputs from every golden example,
 * clean and with each injected fault. Layer 4's deterministic checks must catch every fault of the
 * kinds they exist for and flag no clean output; the README reports the same figures
 * (`seamwork grounding measure`).
 */
describe('the grounding corpus', () => {
  const corpus = loadCorpus();
  const report = measureCorpus(corpus);

  it('holds at least 300 labelled outputs, clean and of every fault kind, from all three integrations', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(300);
    expect(new Set(corpus.map((c) => c.integration))).toEqual(new Set(['support-triage', 'github-issue-triage', 'shopify-order-risk']));
    expect(new Set(corpus.map((c) => c.fault ?? 'clean'))).toEqual(new Set(['clean', ...Object.keys(FAULT_CATCHER)]));
    expect(new Set(corpus.map((c) => c.id)).size).toBe(corpus.length);
  });

  it('is what the golden sets and the reference model produce today (regenerate with `seamwork grounding corpus --write`)', async () => {
    expect(corpusJsonl(await buildCorpus()) === readFileSync(CORPUS_PATH, 'utf8')).toBe(true);
  });

  it('catches every injected fault with the check that exists for it', () => {
    for (const c of report.checks.filter((x) => x.faulted > 0)) expect({ check: c.check, detected: c.detected }).toEqual({ check: c.check, detected: c.faulted });
    expect(report.checks.filter((x) => x.faulted > 0).map((c) => c.check).sort()).toEqual(['claim-pairing', 'closed-book', 'divergence', 'quote-exists', 'reasoning-first', 'source-whitelist']);
  });

  it('flags no clean output, with any check', () => {
    for (const c of report.checks) expect({ check: c.check, falsePositives: c.falsePositives }).toEqual({ check: c.check, falsePositives: 0 });
    expect(report.falseAlarms).toEqual([]);
  });

  it('stops every faulted output short of an action when verify runs the checks in order', () => {
    expect(report.missed).toEqual([]);
  });

  it('would notice a check that stopped working: a clean output relabelled as faulted is not "detected"', () => {
    const clean = corpus.find((c) => c.fault === null && c.mode === 'quotes-first')!;
    const r = measureCorpus([{ ...clean, id: 'relabelled', fault: 'invented_quote' }]);
    expect(r.checks.find((c) => c.check === 'quote-exists')).toMatchObject({ faulted: 1, detected: 0 });
    expect(r.missed).toEqual(['relabelled']);
  });
});
