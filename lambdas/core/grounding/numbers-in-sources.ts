import type { SourceDocument } from '../integration.js';

/** A number a claim states that no source document contains. */
export interface UnsupportedNumber {
  field: string;
  number: string;
}

/** Vault tokens (`[CARD_1]`) carry digits that are not claims. */
const TOKEN = /\[[A-Z]+_\d+\]/g;
/** A number as people write it: 4,000 · 4000 · 3.5 · 2026-11-25 · 10:30 · 500. */
const NUMBER = /\d+(?:[.,:/-]\d+)*/g;

/**
 * A number's canonical form, so `4,000` and `4000`, or `40.00` and `40`, are the same claim while
 * `40.00` and `4,000` are not: thousands separators go, a decimal value is read as a value, and
 * anything else (dates, times, ids) is compared as written.
 */
function canonical(n: string): string {
  const plain = n.replace(/,(?=\d{3}(?!\d))/g, '');
  return /^\d+(?:\.\d+)?$/.test(plain) ? String(Number(plain)) : plain;
}

/**
 * Closed-book check for free-text claims: every number stated in the named fields must appear
 * in some source document (compared by value; thousands separators ignored). A number the model
 * produced from nowhere — an amount, a count, a date — is how a hallucination reaches an action.
 */
export function verifyNumbers(fields: Record<string, unknown>, documents: SourceDocument[]): UnsupportedNumber[] {
  const sourceDigits = new Set<string>();
  for (const d of documents) for (const m of d.text.replace(TOKEN, ' ').match(NUMBER) ?? []) sourceDigits.add(canonical(m));
  const unsupported: UnsupportedNumber[] = [];
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value !== 'string') continue;
    for (const m of value.replace(TOKEN, ' ').match(NUMBER) ?? []) {
      if (!sourceDigits.has(canonical(m))) unsupported.push({ field, number: m });
    }
  }
  return unsupported;
}
