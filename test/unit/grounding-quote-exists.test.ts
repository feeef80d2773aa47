import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseForQuote, verifyQuotes } from '../../lambdas/core/grounding/quote-exists.js';
import type { SourceDocument } from '../../lambdas/core/integration.js';

function doc(id: string, text: string): SourceDocument {
  return { id, title: id, text, origin: 'zendesk:ticket' };
}

describe('normaliseForQuote', () => {
  it('collapses whitespace and folds quotes, apostrophes, dashes and ellipses', () => {
    expect(normaliseForQuote('  It\u2019s \u201Cbroken\u201D \u2014 again\u2026\n\tsince  Monday ')).toBe(
      'It\'s "broken" - again... since Monday',
    );
  });

  it('keeps case', () => {
    expect(normaliseForQuote('Refund')).not.toBe(normaliseForQuote('refund'));
  });

  it('unifies composed and decomposed accents', () => {
    expect(normaliseForQuote('cafe\u0301')).toBe(normaliseForQuote('caf\u00E9'));
  });
});

describe('verifyQuotes', () => {
  const documents = [
    doc('ticket.description', 'My order ORD-2024-000123 arrived broken.\nI want a refund \u2014 it\u2019s the second time.'),
    doc('ticket.subject', 'Broken again'),
  ];

  it('finds quotes that differ only in whitespace, quote style and dashes', () => {
    const evidence = [{ quote: "I want a refund - it's the   second time", source: 'ticket.description' }];
    expect(verifyQuotes(evidence, documents)).toEqual({ found: evidence, unfound: [] });
  });

  it('does not find a quote with a changed word', () => {
    const result = verifyQuotes([{ quote: 'I want a replacement', source: 'ticket.description' }], documents);
    expect(result.found).toEqual([]);
    expect(result.unfound[0].reason).toBe('The quote does not appear verbatim in "ticket.description".');
  });

  it('does not find a quote in a document other than the one it cites', () => {
    const result = verifyQuotes([{ quote: 'Broken again', source: 'ticket.description' }], documents);
    expect(result.unfound).toHaveLength(1);
  });

  it('says when a quote cites a document that was not provided', () => {
    const result = verifyQuotes([{ quote: 'arrived broken', source: 'kb.refund-policy' }], documents);
    expect(result.unfound[0].reason).toBe(
      'The quote cites "kb.refund-policy", which is not one of the documents provided (ticket.description, ticket.subject).',
    );
  });

  it('treats empty and whitespace-only quotes as unfound', () => {
    const result = verifyQuotes(
      [
        { quote: '', source: 'ticket.subject' },
        { quote: ' \n ', source: 'ticket.subject' },
      ],
      documents,
    );
    expect(result.found).toEqual([]);
    expect(result.unfound.map((u) => u.reason)).toEqual([
      'The quote citing "ticket.subject" is empty.',
      'The quote citing "ticket.subject" is empty.',
    ]);
  });

  it('is case-sensitive', () => {
    expect(verifyQuotes([{ quote: 'broken again', source: 'ticket.subject' }], documents).unfound).toHaveLength(1);
  });

  const text = fc.oneof(
    fc.string({ minLength: 4, maxLength: 200 }),
    fc.lorem({ maxCount: 30 }),
    fc.string({ unit: fc.constantFrom('a', 'b', ' ', '\n', '\u2019', "'", '\u2014', '-', '"', '\u201C'), minLength: 4, maxLength: 80 }),
  );

  it('finds any substring longer than three characters of the cited document (property)', () => {
    fc.assert(
      fc.property(text, fc.nat(), fc.nat(), (body, a, b) => {
        const start = a % (body.length - 3);
        const end = start + 4 + (b % (body.length - start - 3));
        const quote = body.slice(start, end);
        fc.pre(normaliseForQuote(quote) !== '');
        const result = verifyQuotes([{ quote, source: 'd' }], [doc('d', body)]);
        expect(result.found).toHaveLength(1);
      }),
    );
  });

  it('does not find a quote with one word replaced by a word absent from the document (property)', () => {
    const word = fc.stringMatching(/^[a-z]{1,8}$/);
    fc.assert(
      fc.property(
        fc.array(word, { minLength: 3, maxLength: 40 }),
        fc.nat(),
        fc.nat(),
        fc.nat(),
        fc.stringMatching(/^[A-Z]{1,8}$/),
        (words, a, b, c, replacement) => {
          const start = a % words.length;
          const length = 1 + (b % (words.length - start));
          const quoteWords = words.slice(start, start + length);
          quoteWords[c % quoteWords.length] = replacement; // uppercase never occurs in the lower-case document
          const result = verifyQuotes([{ quote: quoteWords.join(' '), source: 'd' }], [doc('d', words.join(' '))]);
          expect(result.found).toHaveLength(0);
          expect(result.unfound).toHaveLength(1);
        },
      ),
    );
  });
});
