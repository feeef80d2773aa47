import type { Evidence, SourceDocument } from '../integration.js';
import { pass, plural, type Finding } from './finding.js';

/**
 * Step 7 — the deterministic citation check, independent of any model: every evidence quote must
 * appear verbatim in the document it cites, and a quote located by offsets (Citations API) must
 * be exactly what the document holds at those offsets.
 *
 * "Verbatim" tolerates only differences that carry no meaning and that models routinely
 * introduce when copying: runs of whitespace, curly versus straight quotes and apostrophes,
 * the various dashes, and Unicode composition. Case, words and punctuation must match — a quote
 * with one changed word is an invented quote.
 */

// Characters folded to their ASCII look-alikes before comparing.
const SINGLE_QUOTES = /[\u2018\u2019\u201A\u201B\u2032\u02BC\u0060\u00B4]/g; // ‘ ’ ‚ ‛ ′ ʼ ` ´
const DOUBLE_QUOTES = /[\u201C\u201D\u201E\u201F\u2033\u00AB\u00BB]/g; // “ ” „ ‟ ″ « »
const DASHES = /[\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uFE58\uFE63\uFF0D]/g; // ‐ ‑ ‒ – — ― − ﹘ ﹣ －

/**
 * Normalises text for quote matching: Unicode NFC, curly quotes and apostrophes to `'`/`"`,
 * dashes to `-`, the ellipsis character to `...`, whitespace runs to one space, trimmed.
 * Case-sensitive on purpose.
 */
export function normaliseForQuote(text: string): string {
  return text
    .normalize('NFC')
    .replace(SINGLE_QUOTES, "'")
    .replace(DOUBLE_QUOTES, '"')
    .replace(DASHES, '-')
    .replace(/\u2026/g, '...')
    .replace(/\s+/g, ' ')
    .trim();
}

/** An evidence item that failed the check, with a sentence saying why. */
export type UnfoundEvidence = Evidence & { reason: string };

/** Result of {@link verifyQuotes}. */
export interface QuoteVerification {
  /** Quotes found in their cited document, in input order. */
  found: Evidence[];
  /** Quotes not found (empty, cites an unknown document, or not in it), in input order. */
  unfound: UnfoundEvidence[];
}

/**
 * Checks each quote against the document its `source` names. A `source` that names none of the
 * provided documents is a citation of something the model was never shown, so it is unfound
 * even if the words happen to appear in another document.
 */
export function verifyQuotes(evidence: Evidence[], documents: SourceDocument[]): QuoteVerification {
  const normalised = new Map<string, string>();
  for (const doc of documents) {
    // First document with an id wins, matching the order the model saw them in.
    if (!normalised.has(doc.id)) normalised.set(doc.id, normaliseForQuote(doc.text));
  }
  const found: Evidence[] = [];
  const unfound: UnfoundEvidence[] = [];
  for (const item of evidence) {
    const quote = normaliseForQuote(item.quote ?? '');
    const text = normalised.get(item.source);
    if (quote === '') {
      unfound.push({ ...item, reason: `The quote citing "${item.source}" is empty.` });
    } else if (text === undefined) {
      unfound.push({
        ...item,
        reason: `The quote cites "${item.source}", which is not one of the documents provided (${[...normalised.keys()].join(', ') || 'none'}).`,
      });
    } else if (!text.includes(quote)) {
      unfound.push({ ...item, reason: `The quote does not appear verbatim in "${item.source}".` });
    } else if (item.location && !atLocation(documents, item)) {
      unfound.push({ ...item, reason: `The citation's offsets ${item.location.start}-${item.location.end} in "${item.source}" do not hold the quoted text.` });
    } else {
      found.push(item);
    }
  }
  return { found, unfound };
}

/** Whether the document text at the quote's offsets is the quote (normalised the same way). */
function atLocation(documents: SourceDocument[], item: Evidence): boolean {
  const doc = documents.find((d) => d.id === item.source);
  const { start, end } = item.location!;
  if (!doc || !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > doc.text.length || end <= start) return false;
  return normaliseForQuote(doc.text.slice(start, end)) === normaliseForQuote(item.quote);
}

/** Step 7 as a finding: unfound quotes are what a `retract` policy drops. */
export function checkQuotesExist(evidence: Evidence[], documents: SourceDocument[]): { finding: Finding; found: Evidence[] } {
  const { found, unfound } = verifyQuotes(evidence, documents);
  if (unfound.length === 0) {
    return { found, finding: pass('quote-exists', 7, evidence.length === 1 ? 'The quote appears verbatim in its source.' : `All ${evidence.length} quotes appear verbatim in their sources.`) };
  }
  return {
    found,
    finding: {
      check: 'quote-exists', step: 7, ok: false,
      detail: `${unfound.length} of ${plural(evidence.length, 'quote')} ${unfound.length === 1 ? 'was' : 'were'} not found in the cited source: ${unfound.map((u) => u.reason).join(' ')}`,
      data: { unfound },
      retractQuotes: unfound.map(({ reason: _r, ...e }) => e),
    },
  };
}
