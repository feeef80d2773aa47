import { before, disjoint, scan, whole, type Span } from './kinds.js';

// International: `+` and a country code, then groups (optionally one parenthesised, like the
// `(0)` of `+44 (0)20 7946 0958`) separated by single spaces, dots or dashes. The digit count (8–15,
// E.164) is checked afterwards.
const INTERNATIONAL = /(?<![\w+])\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5}))+(?!\d)/g;

// North American: `(555) 123-4567`, `555-123-4567`, `555.123.4567`, `555 123 4567`, optionally
// with a leading `1-`. Separators are required: a bare ten-digit number is as likely an order id.
// Area codes never start with 0 or 1, which keeps SKUs like `100-200-3000` out.
const NANP = /(?<![\w+.\-])(?:1[ .-])?(?:\([2-9]\d{2}\) ?|[2-9]\d{2}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.-]\d)/g;

// National numbers with a trunk `0` (UK `020 7946 0958` / `(020) 7946 0958` / `07700 900123`,
// French `01 23 45 67 89`, German `030 12345678` / `030/12345678`) or an `00` international prefix:
// a group of 2–5 digits starting with 0 (optionally parenthesised), then one to four groups of 2–8
// digits. At least one separator is required, for the same reason as above; the digit count and
// separators are checked afterwards.
const NATIONAL = /(?<![\w+.\-/#:])(?:0\d{1,4}|\(0\d{1,4}\))(?:[ .\-/]\d{2,8}){1,4}(?![\w]|[.\-/:]\d)/g;

// A bare run of digits that is a phone number only because the words before it say so
// (`call me on 07700900123`, `mobile: 5551234567`).
const BARE = /(?<![\w+.\-/#:])(?:0\d{9,10}|[2-9]\d{9})(?![\w]|[.\-/:]\d)/g;
const PHONE_CONTEXT =
  /\b(?:phone|telephone|tel|mobile|mob|cell|cellphone|landline|whatsapp|fax|sms|call(?: me)?|ring(?: me)?|text(?: me)?|reach me)\b(?:\s*(?:number|no\.?|nr\.?|#|is|on|at|:|-))*\s*$/i;

/**
 * Phone numbers in the shapes people write: international with `+`, North American with
 * separators, European national numbers with a trunk `0` and separators, and bare digit runs
 * announced by a word like "phone" or "call me on". Dates, times, versions, prices and order
 * numbers do not have these shapes.
 */
export function findPhones(text: string): Span[] {
  return disjoint([
    ...scan(INTERNATIONAL, text, (m) => (digitCount(m[0]) >= 8 && digitCount(m[0]) <= 15 ? whole(m) : undefined)),
    ...scan(NANP, text, whole),
    ...scan(NATIONAL, text, (m) => (isNationalNumber(m[0]) ? whole(m) : undefined)),
    ...scan(BARE, text, (m) => (PHONE_CONTEXT.test(before(text, m.index, 40)) ? whole(m) : undefined)),
  ]);
}

function digitCount(s: string): number {
  return s.replace(/\D/g, '').length;
}

// 10–12 digits with a trunk 0 (11–17 with an `00` prefix), and one separator throughout except
// that the first may be a slash (German `030/123 4567`).
function isNationalNumber(candidate: string): boolean {
  const digits = digitCount(candidate);
  const ok = candidate.startsWith('00') ? digits >= 11 && digits <= 17 : digits >= 10 && digits <= 12;
  if (!ok) return false;
  const seps = candidate.replace(/^\(0\d+\)/, '0').replace(/\d/g, '');
  const rest = seps[0] === '/' ? seps.slice(1) : seps;
  return rest.length === 0 || [...rest].every((c) => c === rest[0] && c !== '/');
}
