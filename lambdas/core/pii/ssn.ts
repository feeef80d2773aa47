import { before, scan, whole, type Span } from './kinds.js';

// `AAA-GG-SSSS`. Not glued to word characters or further dashed digits (part numbers).
const SSN_DASHED = /(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w-]|\.\d)/g;

// `AAA GG SSSS` or nine bare digits: only after words that say it is a social security number,
// because on their own they are as likely an order or account number.
const SSN_UNDASHED = /(?<![\w-])\d{3}( ?)\d{2}\1\d{4}(?![\w-]|\.\d)/g;
const SSN_CONTEXT = /(?:\bSSN|\bSS#|\bsocial security(?: number| no\.?| #)?)(?:\s*(?:is|#|:|no\.?|number))*\s*$/i;

// A 3-2-4 code announced as a part, SKU or reference number is one.
const PART_CONTEXT = /\b(?:part|sku|model|item|order|ref|reference|case|ticket|serial)\s*(?:#|no\.?|number|:)?\s*#?\s*$/i;

/**
 * US social security numbers. The SSA never issues area 000, 666 or 900–999, group 00 or serial
 * 0000, so those shapes are left alone (they are test data or something else).
 */
export function findSsns(text: string): Span[] {
  const dashed = scan(SSN_DASHED, text, (m) =>
    ssnValid(m[0]) && !PART_CONTEXT.test(before(text, m.index, 30)) ? whole(m) : undefined,
  );
  const undashed = scan(SSN_UNDASHED, text, (m) =>
    ssnValid(m[0]) && SSN_CONTEXT.test(before(text, m.index, 40)) ? whole(m) : undefined,
  );
  return [...dashed, ...undashed].sort((a, b) => a.start - b.start);
}

/** True when the nine digits of `ssn` (separators ignored) fall outside the SSA's never-issued ranges. */
export function ssnValid(ssn: string): boolean {
  const d = ssn.replace(/[- ]/g, '');
  if (!/^\d{9}$/.test(d)) return false;
  const area = Number(d.slice(0, 3));
  return area !== 0 && area !== 666 && area < 900 && d.slice(3, 5) !== '00' && d.slice(5) !== '0000';
}
