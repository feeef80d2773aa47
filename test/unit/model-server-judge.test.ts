import { describe, expect, it } from 'vitest';
import { nearQuote } from '../../lib/local/model-server/faults.js';
import { contentWords, judgeStatement, normaliseText, parseClaimLines, splitClaimsDocument } from '../../lib/local/model-server/judge.js';
import type { SourceDocument } from '../../lib/local/model-server/request.js';

const doc = (id: string, text: string): SourceDocument => ({ id, segments: [text], kind: 'text', citations: false });

describe('reference judge: text rules', () => {
  it('normalises only what carries no meaning: composition, curly quotes, dashes, whitespace; never case', () => {
    expect(normaliseText('  It\u2019s \u201Cdone\u201D \u2014 e\u0301 \u2026\n ok ')).toBe('It\'s "done" - \u00e9 ... ok');
    expect(normaliseText('Refund')).not.toBe(normaliseText('refund'));
  });

  it('counts content words of four or more letters or digits, case-insensitively, once each', () => {
    expect([...contentWords('The TEAM is blocked; the team, 2024, cannot work.')]).toEqual(['team', 'blocked', '2024', 'cannot', 'work']);
  });

  it('reads claim lines, skipping what is not a claim', () => {
    expect(parseClaimLines('{"claim_id":"c1","field":"priority","statement":"A."}\nnot json\n{"field":"x"}\n\n{"claim_id":"c2","statement":"B."}')).toEqual([
      { claim_id: 'c1', field: 'priority', statement: 'A.' },
      { claim_id: 'c2', statement: 'B.' },
    ]);
  });

  it('never treats the claims document as a source', () => {
    const split = splitClaimsDocument([doc('a', 'Alpha.'), doc('claims', '{"claim_id":"c1","statement":"Alpha."}'), doc('b', 'Beta.')]);
    expect(split.sources.map((s) => s.id)).toEqual(['a', 'b']);
    expect(split.claims).toEqual([{ claim_id: 'c1', statement: 'Alpha.' }]);
  });
});

describe('reference judge: verdicts', () => {
  const sources = [doc('d', 'The export page shows an error. Our whole team is blocked and cannot work on the reports.')];

  it('supports a statement spanning two sentences, quoting the sentence that holds most of it', () => {
    const j = judgeStatement('shows an error. Our whole team is blocked', sources);
    expect(j).toMatchObject({ supported: true, rule: 'verbatim', quote: 'Our whole team is blocked and cannot work on the reports.' });
  });

  it('is case-sensitive for the verbatim rule but not for the content-word rule', () => {
    expect(judgeStatement('the export page', sources).rule).not.toBe('verbatim');
    expect(judgeStatement('THE EXPORT PAGE SHOWS AN ERROR', sources)).toMatchObject({ supported: true, rule: 'overlap', quote: 'The export page shows an error.' });
  });

  it('draws the content-word line at 70% of one sentence, not across sentences', () => {
    // export, page, error in sentence 1; team, blocked in sentence 2: at most 3 of 5 in one sentence.
    expect(judgeStatement('export page error team blocked', sources).supported).toBe(false);
    const fruit = [doc('f', 'Seven words here: apple berry cherry dates elder figgy grape.')];
    // 7 of 10 content words in the sentence: exactly 70%, supported.
    expect(judgeStatement('apple berry cherry dates elder figgy grape lemon mango olive', fruit)).toMatchObject({ supported: true, rule: 'overlap', quote: 'Seven words here: apple berry cherry dates elder figgy grape.' });
    // 6 of 10: not.
    expect(judgeStatement('apple berry cherry dates elder figgy lemon mango olive peach', fruit)).toMatchObject({ supported: false, quote: '' });
  });

  it('does not support an empty statement or one without content words that is not verbatim', () => {
    expect(judgeStatement('', sources)).toEqual({ supported: false, quote: '', rule: 'none', overlap: 0 });
    expect(judgeStatement('Yes, it is.', sources).supported).toBe(false);
  });
});

describe('near_quote text', () => {
  it('drops the middle word of a quote of three words or more', () => {
    expect(nearQuote('one two three four five')).toBe('one two four five');
    expect(nearQuote('one two three')).toBe('one three');
  });

  it('changes the last letter\'s case of a shorter quote, so it differs even after normalisation', () => {
    const q = 'It\u2019s broken!';
    const near = nearQuote(q);
    expect(near).toBe('It\u2019s brokeN!');
    expect(normaliseText(near)).not.toBe(normaliseText(q));
  });

  it('still changes a quote without letters', () => {
    expect(nearQuote('12 34')).toBe('12 3');
  });

  it('skips a candidate the sources hold verbatim', () => {
    const source = normaliseText('alpha beta delta. alpha gamma delta. alpha beta gamma');
    const inSource = (t: string) => source.includes(normaliseText(t));
    // Both word drops are in the source: the last letter's case changes instead.
    expect(nearQuote('alpha beta gamma delta', inSource)).toBe('alpha beta gamma deltA');
    expect(nearQuote('alpha beta gamma delta', (t) => t === 'alpha beta delta')).toBe('alpha gamma delta');
  });
});
