/**
 * The vocabulary shared by the PII detectors and the redaction entry point (`../redact.ts`).
 */

/** The kinds of PII Seamwork redacts; the token of a kind is `[KIND_n]`. */
export type PiiKind = 'EMAIL' | 'PHONE' | 'CARD' | 'IBAN' | 'SSN' | 'IP' | 'SECRET';

/** Every kind, in the order {@link containsPii} reports them. */
export const PII_KINDS: readonly PiiKind[] = ['EMAIL', 'PHONE', 'CARD', 'IBAN', 'SSN', 'IP', 'SECRET'];

/**
 * The kinds whose originals may be put back by the act stage. SECRET is absent on purpose: a
 * credential pasted into a ticket must never be sent onward, so it is not even kept.
 */
export const RESTORABLE_KINDS: readonly PiiKind[] = ['EMAIL', 'PHONE', 'CARD', 'IBAN', 'SSN', 'IP'];

/** A detected value: `text.slice(start, end)`. */
export interface Span {
  start: number;
  end: number;
}

/**
 * Runs a global regex over `text` and keeps the spans `accept` returns for each match (it may
 * narrow the match, or reject it with `undefined`).
 */
export function scan(re: RegExp, text: string, accept: (m: RegExpExecArray) => Span | undefined): Span[] {
  const spans: Span[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    if (m[0] === '') re.lastIndex += 1;
    const span = accept(m);
    if (span !== undefined && span.end > span.start) spans.push(span);
  }
  return spans;
}

/** The whole match as a span. */
export function whole(m: RegExpExecArray): Span {
  return { start: m.index, end: m.index + m[0].length };
}

/**
 * Sorts spans by start and drops any that overlap one already kept, preferring the earlier and
 * then the longer. Detectors with several rules use it so one value yields one token.
 */
export function disjoint(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: Span[] = [];
  for (const s of sorted) if (kept.length === 0 || s.start >= kept[kept.length - 1].end) kept.push(s);
  return kept;
}

/** The text just before `index` (at most `width` characters), for context rules. */
export function before(text: string, index: number, width: number): string {
  return text.slice(Math.max(0, index - width), index);
}
