import { createHash } from 'node:crypto';
import type { SourceDocument } from './integration.js';
import { BYTES_PER_TOKEN, estimateTokens } from './tokens.js';

/**
 * Layer 1 windowing: fit the source documents into the integration's token budget, keeping the
 * most relevant parts.
 *
 * Documents are considered in priority order (lower `priority` first; by default their
 * position), so an integration can keep a thread's first message and its latest comments and
 * let the middle go. Each is kept whole while it fits; the first one that does not is cut to the
 * remaining budget at a sentence (or else whitespace) boundary, keeping its head or its tail as
 * the document asks; every document after it in priority order is dropped. The prompt still gets
 * the kept documents in their own order.
 *
 * Nothing is appended to the kept text — a marker such as "[truncated]" would become something
 * the model could quote — so what was cut is recorded in `dropped` (and from there in the audit
 * log): which document, which character range was kept, and the hash of the original text, so a
 * replay can prove it rebuilt exactly the same window.
 */

/** What windowing cut from one document. */
export interface WindowCut {
  id: string;
  /** `truncated`: part was kept; `over_budget`: nothing of it was kept. */
  reason: 'over_budget' | 'truncated';
  originalTokens: number;
  keptTokens: number;
  /** Length of the original text in UTF-16 code units. */
  originalChars: number;
  /** Length of the kept part in UTF-16 code units. */
  keptChars: number;
  /** Which end was kept. */
  kept: 'head' | 'tail';
  /** `[start, end)` of the kept part in the original text (UTF-16 code units); `[0, 0]` when nothing was kept. */
  keptRange: [number, number];
  /** SHA-256 (hex) of the original text, so the cut can be checked against the redacted input later. */
  originalSha256: string;
}

/** Result of {@link windowDocuments}. */
export interface WindowResult {
  /** The documents to place in the prompt, in input order, cut where needed. */
  documents: SourceDocument[];
  /** Every document that was cut or dropped, in input order, with exactly what was kept. */
  dropped: WindowCut[];
  /** Estimated tokens of the kept texts; never above the budget. */
  totalTokens: number;
}

/**
 * Keeps documents within `budgetTokens` (counted over each document's `text` with
 * {@link estimateTokens}), most important first. Deterministic: the same input always gives the
 * same output.
 */
export function windowDocuments(docs: SourceDocument[], budgetTokens: number): WindowResult {
  let remaining = Number.isFinite(budgetTokens) ? Math.max(0, Math.floor(budgetTokens)) : 0;
  const order = docs.map((d, i) => ({ d, i, p: d.priority ?? i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const kept = new Map<number, SourceDocument>();
  const cuts = new Map<number, WindowCut>();
  let totalTokens = 0;
  let exhausted = false;

  for (const { d: doc, i } of order) {
    const originalTokens = estimateTokens(doc.text);
    const keep = doc.keep ?? 'head';
    const cut = (reason: WindowCut['reason'], keptTokens: number, range: [number, number]): WindowCut => ({
      id: doc.id, reason, originalTokens, keptTokens, originalChars: doc.text.length, keptChars: range[1] - range[0], kept: keep, keptRange: range,
      originalSha256: createHash('sha256').update(doc.text, 'utf8').digest('hex'),
    });
    if (!exhausted && originalTokens <= remaining) {
      kept.set(i, doc);
      remaining -= originalTokens;
      totalTokens += originalTokens;
      continue;
    }
    if (exhausted) {
      cuts.set(i, cut('over_budget', 0, [0, 0]));
      continue;
    }
    // The first document that does not fit ends the window, whether or not any of it is kept.
    exhausted = true;
    const range = keep === 'tail' ? tailWithin(doc.text, remaining * BYTES_PER_TOKEN) : headWithin(doc.text, remaining * BYTES_PER_TOKEN);
    if (range[1] === range[0]) {
      cuts.set(i, cut('over_budget', 0, [0, 0]));
      continue;
    }
    const text = doc.text.slice(range[0], range[1]);
    const keptTokens = estimateTokens(text);
    kept.set(i, { ...doc, text });
    remaining -= keptTokens;
    totalTokens += keptTokens;
    cuts.set(i, cut('truncated', keptTokens, range));
  }
  const positions = docs.map((_, i) => i);
  return {
    documents: positions.filter((i) => kept.has(i)).map((i) => kept.get(i)!),
    dropped: positions.filter((i) => cuts.has(i)).map((i) => cuts.get(i)!),
    totalTokens,
  };
}

/**
 * Range of the longest head of `text` within `maxBytes` UTF-8 bytes, cut after a sentence end if
 * one exists in the second half of the head, else at the last whitespace, else at a code point
 * boundary (a single giant word still yields something). Trailing whitespace is left out.
 */
function headWithin(text: string, maxBytes: number): [number, number] {
  const limit = prefixWithinBytes(text, maxBytes);
  if (limit === text.length) return [0, text.length];
  const head = text.slice(0, limit);
  const sentenceEnd = lastSentenceEnd(text, limit);
  let cut: number;
  if (sentenceEnd >= head.length / 2) {
    cut = sentenceEnd;
  } else {
    const space = lastWhitespace(head);
    cut = space > 0 ? space : limit;
  }
  return [0, text.slice(0, cut).trimEnd().length];
}

/**
 * Range of the longest tail of `text` within `maxBytes`, starting at a sentence start if one
 * exists in the first half of the tail, else after the first whitespace, else at a code point
 * boundary. Leading whitespace is left out.
 */
function tailWithin(text: string, maxBytes: number): [number, number] {
  const start = suffixStartWithinBytes(text, maxBytes);
  if (start === 0) return [0, text.length];
  const tailLength = text.length - start;
  const sentenceStart = firstSentenceStart(text, start);
  let cut: number;
  if (sentenceStart >= 0 && sentenceStart - start <= tailLength / 2) {
    cut = sentenceStart;
  } else {
    const space = text.slice(start).search(/\s/);
    cut = space >= 0 && space < tailLength - 1 ? start + space + 1 : start;
  }
  const rest = text.slice(cut);
  return [cut + (rest.length - rest.trimStart().length), text.length];
}

function utf8Width(cp: number): number {
  // A lone surrogate is encoded as U+FFFD (3 bytes), which the 0x10000 bound already gives.
  return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/** Number of UTF-16 code units of the longest prefix within `maxBytes`, never splitting a pair. */
function prefixWithinBytes(text: string, maxBytes: number): number {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const width = utf8Width(cp);
    if (bytes + width > maxBytes) break;
    bytes += width;
    i += cp >= 0x10000 ? 2 : 1;
  }
  return i;
}

/** Start index of the longest suffix within `maxBytes`, never splitting a pair. */
function suffixStartWithinBytes(text: string, maxBytes: number): number {
  let bytes = 0;
  let i = text.length;
  while (i > 0) {
    const low = text.charCodeAt(i - 1);
    const high = i >= 2 ? text.charCodeAt(i - 2) : 0;
    const pair = low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff;
    const from = pair ? i - 2 : i - 1;
    const width = utf8Width(text.codePointAt(from)!);
    if (bytes + width > maxBytes) break;
    bytes += width;
    i = from;
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

/** Index (at least `from`) where the first sentence after a sentence end begins; -1 when none. */
function firstSentenceStart(text: string, from: number): number {
  const re = /[.!?]["'”’)\]]*\s+(?=\S)/g;
  re.lastIndex = Math.max(0, from - 1);
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = m.index + m[0].length;
    if (m.index >= from) return start;
  }
  return -1;
}

/** Index of the last whitespace character, or -1. */
function lastWhitespace(head: string): number {
  for (let i = head.length - 1; i >= 0; i--) if (/\s/.test(head[i])) return i;
  return -1;
}
