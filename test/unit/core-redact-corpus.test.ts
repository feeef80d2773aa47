import { describe, expect, it } from 'vitest';
import { DEFAULT_CORPUS, loadCorpus, measurePii } from '../../lib/pii-measure.js';
import { PII_KINDS } from '../../lambdas/core/redact.js';

describe('the labelled PII corpus', () => {
  const corpus = loadCorpus(DEFAULT_CORPUS);

  it('has at least 200 cases, 60 of them with no PII', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(200);
    expect(corpus.filter((c) => c.pii.length === 0).length).toBeGreaterThanOrEqual(60);
  });

  it.each(PII_KINDS)('has at least 15 cases with a %s', (kind) => {
    expect(corpus.filter((c) => c.pii.some((p) => p.kind === kind)).length).toBeGreaterThanOrEqual(15);
  });

  it('labels only values that occur in their text, and says why each case is there', () => {
    for (const c of corpus) {
      for (const p of c.pii) expect(c.text, p.value).toContain(p.value);
      expect(c.note.trim(), c.text).not.toBe('');
    }
    expect(new Set(corpus.map((c) => c.text)).size).toBe(corpus.length);
  });
});

describe('measurePii on the corpus', () => {
  const m = measurePii(DEFAULT_CORPUS);

  it('recalls and is precise to at least 97% overall', () => {
    expect(m.overall.recall).toBeGreaterThanOrEqual(0.97);
    expect(m.overall.precision).toBeGreaterThanOrEqual(0.97);
  });

  it.each(PII_KINDS)('recalls at least 90% of %s', (kind) => {
    expect(m.perKind[kind].tp + m.perKind[kind].fn).toBeGreaterThan(0);
    expect(m.perKind[kind].recall).toBeGreaterThanOrEqual(0.9);
  });
});

describe('measurePii scoring', () => {
  it('counts a token that covers more or less than the label as a false positive and a false negative', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'pii-measure-'));
    const file = join(dir, 'c.jsonl');
    writeFileSync(
      file,
      [
        { text: 'mail ana@example.com', pii: [{ kind: 'EMAIL', value: 'ana@example.com' }], note: 'exact match' },
        { text: 'call +44 20 7946 0958', pii: [{ kind: 'PHONE', value: '20 7946 0958' }], note: 'label narrower than the token' },
        { text: 'nothing here', pii: [{ kind: 'SSN', value: 'here' }], note: 'label never detected' },
        { text: 'key sk_live_FAKE0123456789abcdef', pii: [{ kind: 'SECRET', value: 'sk_live_FAKE0123456789abcdef' }], note: 'secret by fingerprint' },
      ]
        .map((c) => JSON.stringify(c))
        .join('\n'),
    );
    const m = measurePii(file);
    expect(m.perKind.EMAIL).toMatchObject({ tp: 1, fp: 0, fn: 0 });
    expect(m.perKind.PHONE).toMatchObject({ tp: 0, fp: 1, fn: 1 });
    expect(m.perKind.SSN).toMatchObject({ tp: 0, fp: 0, fn: 1, recall: 0 });
    expect(m.perKind.SECRET).toMatchObject({ tp: 1, fp: 0, fn: 0 });
    expect(m.overall).toMatchObject({ tp: 2, fp: 1, fn: 2, recall: 0.5, precision: 2 / 3 });
    expect(m.misses.map((x) => `${x.type} ${x.kind} ${x.value}`)).toEqual(['fn PHONE 20 7946 0958', 'fp PHONE +44 20 7946 0958', 'fn SSN here']);
  });
});
