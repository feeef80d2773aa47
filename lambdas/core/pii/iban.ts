import type { Span } from './kinds.js';

/**
 * IBAN length by country (ISO 13616 registry, SWIFT release of 2024). A candidate whose country is
 * not listed is not an IBAN: the length check is what keeps random codes from passing mod-97 one
 * time in 97.
 */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27,
  GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27,
  MD: 24, ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25,
  QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23,
  TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

// A country code, two check digits and up to 34 more letters or digits, each optionally preceded
// by a single space: covers compact (`GB82WEST12345698765432`), grouped by four
// (`GB82 WEST 1234 5698 7654 32`) and irregular grouping (`DE89 370400440532013000`). Each step
// consumes one character, so there is nothing to backtrack into.
const IBAN = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,34}/g;

/**
 * IBANs: country code, two check digits and a BBAN whose total length matches the country and
 * whose ISO 7064 mod-97 remainder is 1. The candidate may run on into the next words
 * (`BE68 5390 0754 7034 and`); it is cut where the country's length is reached, and that cut must
 * fall at the end of a word. Scanning resumes right after an IBAN, or one character after a
 * rejected start, so a candidate that swallowed the start of the next IBAN does not hide it.
 */
export function findIbans(text: string): Span[] {
  const spans: Span[] = [];
  IBAN.lastIndex = 0;
  for (let m = IBAN.exec(text); m !== null; m = IBAN.exec(text)) {
    const end = ibanEnd(m[0]);
    if (end === undefined) {
      IBAN.lastIndex = m.index + 1;
      continue;
    }
    spans.push({ start: m.index, end: m.index + end });
    IBAN.lastIndex = m.index + end;
  }
  return spans;
}

// Where the IBAN that starts `candidate` ends, or undefined when it is not one.
function ibanEnd(candidate: string): number | undefined {
  const length = IBAN_LENGTHS[candidate.slice(0, 2).toUpperCase()];
  if (length === undefined) return undefined;
  let compact = 0;
  for (let i = 0; i < candidate.length; i++) {
    if (candidate[i] !== ' ') compact += 1;
    if (compact === length) {
      const next = candidate[i + 1];
      return (next === undefined || next === ' ') && ibanValid(candidate.slice(0, i + 1)) ? i + 1 : undefined;
    }
  }
  return undefined;
}

/** True when `iban` (spaces allowed) has its country's length and passes the mod-97 check. */
export function ibanValid(iban: string): boolean {
  const s = iban.replace(/ /g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(s) || IBAN_LENGTHS[s.slice(0, 2)] !== s.length) return false;
  return mod97(s.slice(4) + s.slice(0, 4)) === 1;
}

/** ISO 7064 MOD 97-10 remainder, letters counting as A=10 … Z=35. */
export function mod97(s: string): number {
  let r = 0;
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    const v = code >= 65 ? code - 55 : code - 48;
    r = v >= 10 ? (r * 100 + v) % 97 : (r * 10 + v) % 97;
  }
  return r;
}
