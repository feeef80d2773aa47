/**
 * Measures Layer 1 PII redaction against a labelled corpus.
 *
 * Each corpus line is `{"text": "...", "pii": [{"kind": "EMAIL", "value": "..."}], "note": "..."}`,
 * where `pii` lists the distinct values a perfect redactor would tokenise. A detection is a true
 * positive when its token replaced exactly a labelled value of the same kind (the state's token
 * map is compared to the labels; SECRET tokens keep a fingerprint, so labels are fingerprinted
 * too). Anything else the redactor tokenised is a false positive; a label with no such token is a
 * false negative.
 *
 * Run `npx tsx lib/pii-measure.ts [corpus.jsonl]` for a table; docs/pii.md records the figures.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findSecrets } from '../lambdas/core/pii/secret.js';
import { newRedactionState, PII_KINDS, redactText, secretFingerprint, type PiiKind } from '../lambdas/core/redact.js';

/** One labelled line of the corpus. */
export interface CorpusCase {
  text: string;
  pii: Array<{ kind: PiiKind; value: string }>;
  note: string;
}

/** Counts and rates for one kind, or overall. A rate with nothing to count is 1. */
export interface PiiScore {
  tp: number;
  fp: number;
  fn: number;
  recall: number;
  precision: number;
}

/** A labelled value the redactor missed (fn) or a value it tokenised without a label (fp). */
export interface PiiMiss {
  line: number;
  type: 'fn' | 'fp';
  kind: PiiKind;
  value: string;
  text: string;
  note: string;
}

/** The result of {@link measurePii}. */
export interface PiiMeasurement {
  cases: number;
  negatives: number;
  overall: PiiScore;
  perKind: Record<PiiKind, PiiScore>;
  misses: PiiMiss[];
}

/** The corpus shipped with the repo. */
export const DEFAULT_CORPUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures', 'pii-corpus.jsonl');

/** Reads a JSONL corpus; throws naming the line when one is malformed. */
export function loadCorpus(corpusPath: string): CorpusCase[] {
  return readFileSync(corpusPath, 'utf8')
    .split('\n')
    .map((line, i) => [line, i + 1] as const)
    .filter(([line]) => line.trim() !== '')
    .map(([line, n]) => {
      let parsed: CorpusCase;
      try {
        parsed = JSON.parse(line) as CorpusCase;
      } catch (err) {
        throw new Error(`${corpusPath}:${n} is not JSON`, { cause: err });
      }
      if (typeof parsed.text !== 'string' || !Array.isArray(parsed.pii) || typeof parsed.note !== 'string') {
        throw new Error(`${corpusPath}:${n} needs text, pii and note`);
      }
      for (const p of parsed.pii) {
        if (!PII_KINDS.includes(p.kind)) throw new Error(`${corpusPath}:${n} has unknown kind ${String(p.kind)}`);
      }
      return parsed;
    });
}

/** Redacts every corpus line with a fresh state and scores the tokens against the labels. */
export function measurePii(corpusPath: string = DEFAULT_CORPUS): PiiMeasurement {
  const cases = loadCorpus(corpusPath);
  const counts = Object.fromEntries(PII_KINDS.map((k) => [k, { tp: 0, fp: 0, fn: 0 }])) as Record<PiiKind, { tp: number; fp: number; fn: number }>;
  const misses: PiiMiss[] = [];
  cases.forEach((c, i) => {
    const state = newRedactionState();
    redactText(c.text, state);
    const found = Object.entries(state.tokens).map(([token, kept]) => ({ kind: /^\[([A-Z]+)_/.exec(token)![1] as PiiKind, kept }));
    const expected = dedupe(c.pii.map((p) => ({ kind: p.kind, kept: p.kind === 'SECRET' ? secretFingerprint(p.value) : p.value, value: p.value })));
    for (const e of expected) {
      const at = found.findIndex((f) => f.kind === e.kind && f.kept === e.kept);
      if (at >= 0) {
        counts[e.kind].tp += 1;
        found.splice(at, 1);
      } else {
        counts[e.kind].fn += 1;
        misses.push({ line: i + 1, type: 'fn', kind: e.kind, value: e.value, text: c.text, note: c.note });
      }
    }
    for (const f of found) {
      counts[f.kind].fp += 1;
      misses.push({ line: i + 1, type: 'fp', kind: f.kind, value: f.kind === 'SECRET' ? secretOriginal(c.text, f.kept) : f.kept, text: c.text, note: c.note });
    }
  });
  const perKind = Object.fromEntries(PII_KINDS.map((k) => [k, score(counts[k])])) as Record<PiiKind, PiiScore>;
  const total = PII_KINDS.reduce((a, k) => ({ tp: a.tp + counts[k].tp, fp: a.fp + counts[k].fp, fn: a.fn + counts[k].fn }), { tp: 0, fp: 0, fn: 0 });
  return { cases: cases.length, negatives: cases.filter((c) => c.pii.length === 0).length, overall: score(total), perKind, misses };
}

/** The measurement as a plain-text table, then the misses. */
export function renderMeasurement(m: PiiMeasurement): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`.padStart(7);
  const row = (name: string, s: PiiScore) =>
    `${name.padEnd(8)} ${String(s.tp).padStart(4)} ${String(s.fp).padStart(4)} ${String(s.fn).padStart(4)} ${pct(s.recall)} ${pct(s.precision)}`;
  const lines = [
    `${m.cases} cases (${m.negatives} with no PII)`,
    '',
    'kind       tp   fp   fn  recall precision',
    ...PII_KINDS.map((k) => row(k, m.perKind[k])),
    row('overall', m.overall),
  ];
  if (m.misses.length > 0) {
    lines.push('', 'misses:');
    for (const x of m.misses) lines.push(`  line ${x.line} ${x.type} ${x.kind} ${JSON.stringify(x.value)}: ${x.note}`);
  }
  return lines.join('\n');
}

// The state keeps only a fingerprint of a credential; find the original again to report it.
function secretOriginal(text: string, fingerprint: string): string {
  const hit = findSecrets(text).map((s) => text.slice(s.start, s.end)).find((v) => secretFingerprint(v) === fingerprint);
  return hit ?? fingerprint;
}

function score(c: { tp: number; fp: number; fn: number }): PiiScore {
  return {
    ...c,
    recall: c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn),
    precision: c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp),
  };
}

function dedupe<T extends { kind: PiiKind; kept: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((x) => {
    const key = `${x.kind}\u0000${x.kept}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function main(argv: string[]): void {
  const corpus = argv[0] ? path.resolve(argv[0]) : DEFAULT_CORPUS;
  process.stdout.write(`${renderMeasurement(measurePii(corpus))}\n`);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
