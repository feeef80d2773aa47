import type { Evidence, SourceDocument } from './integration.js';

/**
 * Keyword matching for the deterministic (non-AI) baselines: whole words, negation-aware, with
 * the sentence that matched as verbatim evidence, so a baseline decision passes the same
 * grounding checks as a model's.
 */

/** A keyword found in a document, with the sentence it was found in. */
export interface KeywordHit {
  keyword: string;
  evidence: Evidence;
}

/** Splits text into sentences that are each a verbatim substring of it. */
export function sentences(text: string): string[] {
  return text
    .split(/(?<=[.!?])\s+|\n+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Whole-word, case-insensitive; a keyword right after "not"/"no"/"never" ("not urgent") does not count. */
export function keywordPattern(keyword: string): RegExp {
  const escaped = keyword.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?<!\\b(?:not|no|never) )(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'iu');
}

/** The first sentence (in document order) containing the keyword as a whole word. */
export function findKeyword(keyword: string, documents: SourceDocument[]): KeywordHit | undefined {
  const pattern = keywordPattern(keyword);
  for (const doc of documents) {
    for (const sentence of sentences(doc.text)) {
      if (pattern.test(sentence)) return { keyword, evidence: { quote: sentence, source: doc.id } };
    }
  }
  return undefined;
}

/** Every keyword of the list found in the documents, in list order. */
export function findAll(keywords: readonly string[], documents: SourceDocument[]): KeywordHit[] {
  return keywords.map((k) => findKeyword(k, documents)).filter((h): h is KeywordHit => h !== undefined);
}

/** The candidate whose keywords hit most often (ties: the earlier), with its hits; `fallback` when none hit. */
export function mostHits<T>(table: ReadonlyArray<readonly [T, readonly string[]]>, documents: SourceDocument[], fallback: T): { value: T; hits: KeywordHit[] } {
  let best = { value: fallback, hits: [] as KeywordHit[] };
  for (const [candidate, keywords] of table) {
    const hits = findAll(keywords, documents);
    if (hits.length > best.hits.length) best = { value: candidate, hits };
  }
  return best;
}

/** The first candidate (in table order) any of whose keywords hits, with the hit; `fallback` when none does. */
export function firstHit<T>(table: ReadonlyArray<readonly [T, readonly string[]]>, documents: SourceDocument[], fallback: T): { value: T; hit?: KeywordHit } {
  for (const [candidate, keywords] of table) {
    const hit = findAll(keywords, documents)[0];
    if (hit) return { value: candidate, hit };
  }
  return { value: fallback };
}
