import { before, type Span } from './kinds.js';

// Runs of digit groups joined by single spaces or dashes, not glued to letters or digits (so a
// hex commit SHA that happens to hold 16 decimal digits is not a card). Cards are looked for
// inside a run on group boundaries, so `555-123-4567 4111 1111 1111 1111` still yields the card.
const DIGIT_RUN = /(?<![A-Za-z0-9])\d+(?:[ -]\d+)*(?![A-Za-z0-9])/g;

/**
 * Payment card numbers: 13–19 digits that pass the Luhn check and are grouped the way cards are
 * printed (contiguous, 4-4-4-4[-1..4], or Amex/Diners 4-6-4/4-6-5), with one separator throughout.
 * The Luhn check is what lets order numbers survive.
 */
export function findCards(text: string): Span[] {
  const spans: Span[] = [];
  DIGIT_RUN.lastIndex = 0;
  for (let m = DIGIT_RUN.exec(text); m !== null; m = DIGIT_RUN.exec(text)) {
    const found = cardsInRun(m[0], m.index);
    // A long id announced as one (`order 5678901234567`, `ticket #…`) passes Luhn one time in
    // ten; the words before it settle what it is.
    if (found.length > 0 && found[0].start === m.index && ID_CONTEXT.test(before(text, m.index, 30))) found.shift();
    spans.push(...found);
  }
  return spans;
}

const ID_CONTEXT = /\b(?:order|invoice|ticket|id|ref|reference|tracking|shipment|item|line item|product|variant|issue|pr)\s*(?:#|no\.?|number|id|:)?\s*#?\s*$/i;

/** Luhn checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

function cardsInRun(run: string, offset: number): Span[] {
  const parts = run.split(/([ -])/); // [group, sep, group, sep, ...]
  const groups: string[] = [];
  const seps: string[] = [];
  const starts: number[] = [];
  let at = offset;
  parts.forEach((p, i) => {
    if (i % 2 === 0) {
      groups.push(p);
      starts.push(at);
    } else seps.push(p);
    at += p.length;
  });
  const spans: Span[] = [];
  let i = 0;
  while (i < groups.length) {
    const end = longestCardFrom(groups, seps, i);
    if (end >= 0) {
      spans.push({ start: starts[i], end: starts[end] + groups[end].length });
      i = end + 1;
    } else i += 1;
  }
  return spans;
}

// A card must start and end on group boundaries, be grouped the way cards are printed and use one
// separator throughout. Otherwise `555-123-4567 4111 1111 1111 1111` could yield a "card" made of
// the phone and the card's first group (leaving most of the real card in clear), and an order
// number next to a date (`2006-152353 2007-01-18`) would be taken for a card one time in ten.
function longestCardFrom(groups: string[], seps: string[], start: number): number {
  let best = -1;
  let digits = '';
  for (let j = start; j < groups.length; j++) {
    digits += groups[j];
    if (digits.length > 19) break;
    if (j > start + 1 && seps[j - 1] !== seps[start]) break;
    if (digits.length < 13 || !luhnValid(digits)) continue;
    if (isCardShaped(groups.slice(start, j + 1).map((g) => g.length))) best = j;
  }
  return best;
}

function isCardShaped(lengths: number[]): boolean {
  if (lengths.length === 1) return true; // 13–19 contiguous digits
  const shape = lengths.join('-');
  if (shape === '4-6-4' || shape === '4-6-5') return true; // Diners, Amex
  const last = lengths[lengths.length - 1];
  return lengths.length >= 4 && lengths.slice(0, -1).every((n) => n === 4) && last >= 1 && last <= 4; // Visa, Mastercard, 19-digit
}
