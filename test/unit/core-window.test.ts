import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SourceDocument } from '../../lambdas/core/integration.js';
import { estimateTokens } from '../../lambdas/core/tokens.js';
import { windowDocuments } from '../../lambdas/core/window.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function doc(id: string, text: string): SourceDocument {
  return { id, title: id, text, origin: 'zendesk:ticket' };
}

describe('estimateTokens', () => {
  it('is ceil(UTF-8 bytes / 3)', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abc')).toBe(1);
    expect(estimateTokens('abcd')).toBe(2);
    expect(estimateTokens('日本')).toBe(2); // 6 bytes
    expect(estimateTokens('😀')).toBe(2); // 4 bytes
  });

});

describe('windowDocuments', () => {
  it('keeps everything that fits, in input order', () => {
    const docs = [doc('a', 'x'.repeat(30)), doc('b', 'y'.repeat(30))];
    const out = windowDocuments(docs, 20);
    expect(out.documents).toEqual(docs);
    expect(out.dropped).toEqual([]);
    expect(out.totalTokens).toBe(20);
  });

  it('truncates the first document that does not fit at a sentence boundary and drops the rest', () => {
    const first = doc('first', 'a'.repeat(30)); // 10 tokens
    const second = doc('second', 'One two three. Four five six. Seven eight nine ten eleven.'); // 58 bytes → 20 tokens
    const third = doc('third', 'short');
    const out = windowDocuments([first, second, third], 20); // 10 left → 30 bytes
    expect(out.documents.map((d) => d.id)).toEqual(['first', 'second']);
    expect(out.documents[1].text).toBe('One two three. Four five six.');
    expect(out.documents[1].title).toBe('second');
    expect(out.dropped).toEqual([
      { id: 'second', reason: 'truncated', originalTokens: 20, keptTokens: 10, originalChars: 58, keptChars: 29, kept: 'head', keptRange: [0, 29], originalSha256: sha256(second.text) },
      { id: 'third', reason: 'over_budget', originalTokens: 2, keptTokens: 0, originalChars: 5, keptChars: 0, kept: 'head', keptRange: [0, 0], originalSha256: sha256('short') },
    ]);
    expect(out.totalTokens).toBe(20);
  });

  it('falls back to a whitespace boundary when no sentence ends in the head', () => {
    const out = windowDocuments([doc('d', 'alpha beta gamma delta epsilon zeta eta theta')], 5); // 15 bytes
    expect(out.documents[0].text).toBe('alpha beta');
  });

  it('cuts a single long word at a code point boundary rather than dropping it', () => {
    const out = windowDocuments([doc('d', '😀😀😀😀')], 3); // 9 bytes → two emoji (8 bytes)
    expect(out.documents[0].text).toBe('😀😀');
  });

  it('drops a document when nothing of it fits', () => {
    const out = windowDocuments([doc('a', 'abc'), doc('b', 'def')], 1);
    expect(out.documents.map((d) => d.id)).toEqual(['a']);
    expect(out.dropped).toMatchObject([{ id: 'b', reason: 'over_budget', originalTokens: 1, keptTokens: 0, originalChars: 3, keptChars: 0, keptRange: [0, 0] }]);
  });

  it('keeps a thread\'s first message and latest comments when the middle does not fit', () => {
    // A ticket thread as an integration would lay it out: the first message, then comments oldest
    // first; priorities say first message, then newest comments, then older ones.
    const comments = Array.from({ length: 30 }, (_, n) => doc(`comment.${n + 1}`, `Comment ${n + 1}: ${'still broken after the restart. '.repeat(3)}`));
    const thread = [
      { ...doc('first', 'The export job fails with error E42 every night since Monday.'), priority: 0 },
      ...comments.map((c, n) => ({ ...c, priority: 1 + (comments.length - 1 - n) })),
    ];
    const out = windowDocuments(thread, 250);
    const ids = out.documents.map((d) => d.id);
    expect(ids[0]).toBe('first');
    expect(ids).toContain('comment.30');
    expect(ids).toContain('comment.29');
    expect(ids).not.toContain('comment.1');
    // The prompt keeps the thread's order: kept comments are ascending.
    const kept = ids.slice(1).map((id) => Number(id.split('.')[1]));
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(kept.at(-1)).toBe(30);
    // Every comment is accounted for: kept whole, truncated or dropped.
    expect(out.documents.length + out.dropped.filter((c) => c.reason === 'over_budget').length).toBe(thread.length);
    expect(out.totalTokens).toBeLessThanOrEqual(250);
  });

  it('keeps the tail of a document that asks for it, starting at a sentence', () => {
    const text = 'Old context that matters less. More old context here. The latest update: it fails again.';
    const out = windowDocuments([{ ...doc('log', text), keep: 'tail' }], 14); // 42 bytes
    expect(out.documents[0].text).toBe('The latest update: it fails again.');
    expect(text.endsWith(out.documents[0].text)).toBe(true);
    expect(out.dropped[0]).toMatchObject({ reason: 'truncated', kept: 'tail', keptRange: [text.length - 34, text.length] });
  });

  it('records a kept range that reproduces the kept text from the original (property)', () => {
    fc.assert(
      fc.property(docsArb, fc.integer({ min: 0, max: 400 }), fc.boolean(), (docs, budget, tail) => {
        const input = docs.map((d) => ({ ...d, keep: tail ? ('tail' as const) : ('head' as const) }));
        const out = windowDocuments(input, budget);
        for (const cut of out.dropped.filter((c) => c.reason === 'truncated')) {
          const original = input.find((d) => sha256(d.text) === cut.originalSha256 && d.id === cut.id)!;
          const kept = out.documents.find((d) => d.id === cut.id && original.text.slice(...cut.keptRange) === d.text);
          expect(kept, `kept range of ${cut.id}`).toBeDefined();
        }
      }),
    );
  });

  it('drops everything for a zero budget', () => {
    const out = windowDocuments([doc('a', 'abc')], 0);
    expect(out.documents).toEqual([]);
    expect(out.dropped[0].reason).toBe('over_budget');
  });

  const docsArb = fc.array(
    fc.record({
      id: fc.string({ minLength: 1, maxLength: 5 }),
      title: fc.constant('t'),
      origin: fc.constant('o'),
      text: fc.oneof(fc.string({ maxLength: 300 }), fc.lorem({ maxCount: 40, mode: 'sentences' }), fc.string({ unit: 'binary', maxLength: 100 })),
    }),
    { maxLength: 6 },
  );

  it('never exceeds the budget, keeps prefixes, and accounts for every document (property)', () => {
    fc.assert(
      fc.property(docsArb, fc.integer({ min: 0, max: 400 }), (docs, budget) => {
        const out = windowDocuments(docs, budget);
        expect(out.totalTokens).toBeLessThanOrEqual(budget);
        expect(out.totalTokens).toBe(out.documents.reduce((n, d) => n + estimateTokens(d.text), 0));
        // Kept documents are the input's, in order, each a prefix of its original.
        let j = 0;
        for (const kept of out.documents) {
          while (docs[j].id !== kept.id || !docs[j].text.startsWith(kept.text)) j++;
          expect(docs[j].text.startsWith(kept.text)).toBe(true);
          j++;
        }
        expect(out.documents.length + out.dropped.filter((d) => d.reason === 'over_budget').length).toBe(docs.length);
      }),
    );
  });

  it('is deterministic (property)', () => {
    fc.assert(
      fc.property(docsArb, fc.integer({ min: 0, max: 400 }), (docs, budget) => {
        expect(windowDocuments(docs, budget)).toEqual(windowDocuments(structuredClone(docs), budget));
      }),
    );
  });
});
