import type { SourceDocument } from './integration.js';
import { BYTES_PER_TOKEN, estimateTokens } from './tokens.js';

/**
 * Layer 1 windowing: fit the source documents into the integration's token budget.
 *
 * Documents arrive in priority order. Each is kept whole while it fits; the first one that does
 * not is cut to the remaining budget at a sentence (or else whitespace) boundary, keeping its
 * head; every later one is dropped. Nothing is appended to the kept text — a marker such as
 * "[truncated]" would become something the model could quote — so what was cut is recorded in
 * `dropped` (and from there in the audit log) instead.
 */

/** What windowing cut from one document. */
export interface WindowCut {
  id: string;
  /** `truncated`: the head was kept; `over_budget`: nothing of it was kept. */
  reason: 'over_budget' | 'truncated';
  originalTokens: number;
  keptTokens: number;
  /** Length of the original text in UTF-16 code units. */
  originalChars: number;
  /** Length of the kept prefix in UTF-16 code units. */
  keptChars: number;
}

/** Result of {@link windowDocuments}. */
export interface WindowResult {
  /** The documents to place in the prompt, in input order, truncated where needed. */
  documents: SourceDocument[];
  /** Every document that was cut or dropped, with how much. */
  dropped: WindowCut[];
  /** Estimated tokens of the kept texts; never above the budget. */
  totalTokens: number;
}

/**
 * Keeps documents in input order within `budgetTokens` (counted over each document's `text`
 * with {@link estimateTokens}). Deterministic: the same input always gives the same output.
 */
export function windowDocuments(docs: SourceDocument[], budgetTokens: number): WindowResult {
  let remaining = Number.isFinite(budgetTokens) ? Math.max(0, Math.floor(budgetTokens)) : 0;
  const documents: SourceDocument[] = [];
  const dropped: WindowCut[] = [];
  let totalTokens = 0;
  let exhausted = false;

  for (const doc of docs) {
    const originalTokens = estimateTokens(doc.text);
    const base = { id: doc.id, originalTokens, originalChars: doc.text.length };
    if (!exhausted && originalTokens <= remaining) {
      documents.push(doc);
      remaining -= originalTokens;
      totalTokens += originalTokens;
      continue;
    }
    if (exhausted) {
      dropped.push({ ...base, reason: 'over_budget', keptTokens: 0, keptChars: 0 });
      continue;
    }
    // The first document that does not fit ends the window, whether or not any of it is kept.
    exhausted = true;
    const kept = headWithin(doc.text, remaining * BYTES_PER_TOKEN);
    if (kept.length === 0) {
      dropped.push({ ...base, reason: 'over_budget', keptTokens: 0, keptChars: 0 });
      continue;
    }
    const keptTokens = estimateTokens(kept);
    documents.push({ ...doc, text: kept });
    remaining -= keptTokens;
    totalTokens += keptTokens;
    dropped.push({ ...base, reason: 'truncated', keptTokens, keptChars: kept.length });
  }
  return { documents, dropped, totalTokens };
}

/**
 * Longest head of `text` of at most `maxBytes` UTF-8 bytes, cut after a sentence end if one
 * exists in the second half of the head, else at the last whitespace, else at a code point
 * boundary (a single giant word still yields something rather than nothing). Trailing
 * whitespace is trimmed so the kept text ends on content.
 */
function headWithin(text: string, maxBytes: number): string {
  const limit = prefixWithinBytes(text, maxBytes);
  if (limit === text.length) return text;
  const head = text.slice(0, limit);
  const sentenceEnd = lastSentenceEnd(text, limit);
  let cut: number;
  if (sentenceEnd >= head.length / 2) {
    cut = sentenceEnd;
  } else {
    const space = lastWhitespace(head);
    cut = space > 0 ? space : limit;
  }
  return text.slice(0, cut).trimEnd();
}

/** Number of UTF-16 code units of the longest prefix within `maxBytes`, never splitting a pair. */
function prefixWithinBytes(text: string, maxBytes: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const width = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    const units = cp >= 0x10000 ? 2 : 1;
    // A lone surrogate is encoded as U+FFFD (3 bytes), which the width above already gives.
    if (bytes + width > maxBytes) break;
    bytes += width;
    i += units;
  }
  return i;
}

/**
 * Index (at most `limit`) just after the last `.`, `!` or `?` — optionally closed by a quote or
 * bracket — that is followed by whitespace or the end of the text; -1 when there is none.
 */
function lastSentenceEnd(text: string, limit: number): number {
  const re = /[.!?]["'”’)\]]*(?=\s|$)/g;
  let end = -1;
  for (let m = re.exec(text); m !== null && m.index + m[0].length <= limit; m = re.exec(text)) {
    end = m.index + m[0].length;
  }
  return end;
}

/** Index of the last whitespace character, or -1. */
function lastWhitespace(head: string): number {
  for (let i = head.length - 1; i >= 0; i--) if (/\s/.test(head[i])) return i;
  return -1;
}
