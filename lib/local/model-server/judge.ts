/**
 * The reference model as a fresh-context judge: given claims and source sentences, decides which
 * claims the sources state. Two deterministic rules, nothing learned:
 *
 * 1. the claim's statement, normalised ({@link normaliseText}), appears in a source's text; or
 * 2. at least {@link SUPPORT_THRESHOLD} of the claim's content words (letters/digits, four or
 *    more characters, case-insensitive) appear in one source sentence.
 *
 * The quote is the best-matching source sentence, verbatim; empty when unsupported.
 */
import { splitSentences, type Sentence } from './cues.js';
import type { SourceDocument } from './request.js';
import { normaliseForQuote } from '../../../lambdas/core/grounding/quote-exists.js';

/** Share of a claim's content words one sentence must hold for rule 2. */
export const SUPPORT_THRESHOLD = 0.7;

/** Title of the document that carries the claims to judge (docs/grounding.md). */
export const CLAIMS_DOCUMENT_TITLE = 'claims';

/**
 * Folds what carries no meaning when copying text (NFC, curly quotes, dashes, ellipsis,
 * whitespace): the very rule Seamwork's verbatim check applies, so the judge and the check agree.
 */
export const normaliseText = normaliseForQuote;

/** Distinct content words: runs of letters/digits of length four or more, lower case. */
export function contentWords(text: string): Set<string> {
  const out = new Set<string>();
  for (const m of text.normalize('NFC').matchAll(/[\p{L}\p{N}]+/gu)) if ([...m[0]].length >= 4) out.add(m[0].toLowerCase());
  return out;
}

/** One claim as the claims document lists it. */
export interface ClaimLine {
  claim_id: string;
  field?: string;
  statement: string;
}

/** Reads the claims document: one JSON object per line; lines that are not a claim are skipped. */
export function parseClaimLines(text: string): ClaimLine[] {
  const out: ClaimLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (v && typeof v === 'object' && typeof v.claim_id === 'string') {
        out.push({ claim_id: v.claim_id, ...(typeof v.field === 'string' ? { field: v.field } : {}), statement: typeof v.statement === 'string' ? v.statement : '' });
      }
    } catch {
      // Not a claim line: a judge ignores what it cannot read.
    }
  }
  return out;
}

/** The claims and the sources of an evaluator request: every document titled `claims` is never a source. */
export function splitClaimsDocument(sources: readonly SourceDocument[]): { claims: ClaimLine[]; sources: SourceDocument[] } {
  const claimsDocs = sources.filter((s) => s.id === CLAIMS_DOCUMENT_TITLE);
  return {
    claims: claimsDocs.flatMap((d) => parseClaimLines(d.segments.join('\n'))),
    sources: sources.filter((s) => s.id !== CLAIMS_DOCUMENT_TITLE),
  };
}

/** A verdict on one claim. */
export interface Judgement {
  supported: boolean;
  /** The best-matching source sentence, verbatim; '' when unsupported. */
  quote: string;
  /** Which rule decided: the statement appears verbatim, the content words overlap, or neither. */
  rule: 'verbatim' | 'overlap' | 'none';
  /** Best share of the claim's content words found in one sentence. */
  overlap: number;
}

function overlapOf(words: Set<string>, sentence: Sentence): number {
  if (words.size === 0) return 0;
  const in_ = contentWords(sentence.text);
  let n = 0;
  for (const w of words) if (in_.has(w)) n += 1;
  return n / words.size;
}

/** Judges one statement against the sources (already without the claims document). */
export function judgeStatement(statement: string, sources: readonly SourceDocument[]): Judgement {
  const sentences = splitSentences(sources);
  const wanted = normaliseText(statement);
  const words = contentWords(statement);
  let best: Sentence | undefined;
  let bestOverlap = -1;
  for (const s of sentences) {
    const o = overlapOf(words, s);
    if (o > bestOverlap) {
      best = s;
      bestOverlap = o;
    }
  }
  bestOverlap = Math.max(0, bestOverlap);
  if (wanted !== '') {
    const containing = sentences.find((s) => normaliseText(s.text).includes(wanted));
    if (containing) return { supported: true, quote: containing.text, rule: 'verbatim', overlap: Math.max(bestOverlap, overlapOf(words, containing)) };
    const inText = sources.some((d) => d.segments.some((seg) => normaliseText(seg).includes(wanted)));
    // The statement spans a sentence boundary: quote the sentence that holds most of it.
    if (inText && best) return { supported: true, quote: best.text, rule: 'verbatim', overlap: bestOverlap };
  }
  if (best && words.size > 0 && bestOverlap >= SUPPORT_THRESHOLD) return { supported: true, quote: best.text, rule: 'overlap', overlap: bestOverlap };
  return { supported: false, quote: '', rule: 'none', overlap: bestOverlap };
}
