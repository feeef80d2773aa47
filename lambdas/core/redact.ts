/**
 * Layer 1 PII redaction with reversible tokens.
 *
 * The model never sees personal data (invariant 4): emails, phone numbers and payment card
 * numbers are replaced by tokens such as `[EMAIL_1]` before the prompt is built. The token →
 * original map travels in the {@link RedactionState} (stored in the PII vault), so the act stage
 * can put the originals back into what it sends downstream with {@link restoreTokens}.
 *
 * Detection is deliberately conservative in one direction: a card is only a card when it passes
 * the Luhn check (so order numbers survive), and a phone number needs a shape people actually
 * write (`+44 20 7946 0958`, `(555) 123-4567`, `555-123-4567`) so dates, times, versions and
 * prices survive. When in doubt between a phone and a card, the card rule runs first.
 */

/** The kinds of PII Seamwork redacts. */
export type PiiKind = 'EMAIL' | 'PHONE' | 'CARD';

/** Tokens issued so far for one decision; serialisable so it can live in the vault. */
export interface RedactionState {
  /** token → original text, e.g. `{ "[EMAIL_1]": "ana@example.com" }`. */
  tokens: Record<string, string>;
  /** How many tokens of each kind were issued (the next number is count + 1). */
  counts: Record<PiiKind, number>;
}

/** A fresh state: no tokens issued. */
export function newRedactionState(): RedactionState {
  return { tokens: {}, counts: { EMAIL: 0, PHONE: 0, CARD: 0 } };
}

// Local part: RFC 5322 atext plus dots (o'brien@example.com is real). Domain: labels of letters, digits and inner hyphens, ending in an alphabetic TLD.
// Lengths are capped at the RFC limits (64 local, 63 per label) so a long base64 blob cannot make
// the scan quadratic.
const EMAIL =
  /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}(?![A-Za-z0-9-])/g;

// Runs of digit groups joined by single spaces or dashes; card numbers are looked for inside a
// run on group boundaries, so `555-123-4567 4111 1111 1111 1111` still yields the card.
const DIGIT_RUN = /\d+(?:[ -]\d+)*/g;

// International: `+` and a country code, then groups (optionally one parenthesised) separated by
// single spaces, dots or dashes. The digit count (8–15, E.164) is checked afterwards.
const PHONE_INTL = /(?<![\w+])\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5}))+(?!\d)/g;

// North American: `(555) 123-4567`, `555-123-4567`, `555.123.4567`, `555 123 4567`, optionally
// with a leading `1-`. Separators are required: a bare ten-digit number is as likely an order id.
const PHONE_NANP = /(?<![\w+.\-])(?:1[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.-]\d)/g;

const PHONE = new RegExp(`(${PHONE_INTL.source})|${PHONE_NANP.source}`, 'g');

/**
 * Replaces emails, phone numbers and Luhn-valid card numbers in `text` by tokens, recording
 * them in `state`. The same original within one state always gets the same token, so the model
 * can still tell that two mentions are the same customer.
 */
export function redactText(text: string, state: RedactionState): string {
  const issue = tokenIssuer(state, text);
  let out = text.replace(EMAIL, (m) => {
    // A quoted 'ana@example.com' keeps its opening quote outside the token.
    const quote = /^'+(?=[^@])/.exec(m)?.[0] ?? '';
    return quote + issue('EMAIL', m.slice(quote.length));
  });
  out = out.replace(DIGIT_RUN, (run) => redactCardsInRun(run, (card) => issue('CARD', card)));
  // One pass over both phone shapes so tokens are numbered in reading order.
  out = out.replace(PHONE, (m, intl: string | undefined) =>
    intl === undefined || isPlausiblePhone(m, 8, 15) ? issue('PHONE', m) : m,
  );
  return out;
}

/**
 * Deep-clones `input` and redacts the string values at the given dot paths (`ticket.description`,
 * `comments.0.body`). A `*` segment matches every key or index (`comments.*.body`); a path that
 * points at an object or array redacts every string beneath it; a missing path is ignored.
 */
export function redactFields<T>(input: T, paths: string[], state: RedactionState): T {
  const copy = structuredClone(input);
  const root: { value: unknown } = { value: copy };
  for (const path of paths) {
    const segments = path === '' ? [] : path.split('.');
    visit(root, 'value', segments, state);
  }
  return root.value as T;
}

/**
 * Puts originals back in place of their tokens. Unknown tokens are left as they are, so a
 * token the model invented stays visibly a token rather than becoming someone's data.
 */
export function restoreTokens(text: string, tokens: Record<string, string>, kinds: readonly PiiKind[] = ['EMAIL', 'PHONE', 'CARD']): string {
  return text.replace(/\[(EMAIL|PHONE|CARD)_\d+\]/g, (token, kind: PiiKind) =>
    kinds.includes(kind) && Object.prototype.hasOwnProperty.call(tokens, token) ? tokens[token] : token,
  );
}

/** The kinds of PII still present in `text` (empty when it is clean), by the same rules as redaction. */
export function containsPii(text: string): PiiKind[] {
  const state = newRedactionState();
  redactText(text, state);
  return (['EMAIL', 'PHONE', 'CARD'] as const).filter((kind) => state.counts[kind] > 0);
}

/** Luhn checksum over a string of digits; exported for tests and fixtures. */
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

function tokenIssuer(state: RedactionState, text: string): (kind: PiiKind, original: string) => string {
  const byOriginal = new Map<string, string>();
  for (const [token, original] of Object.entries(state.tokens)) byOriginal.set(original, token);
  return (kind, original) => {
    const known = byOriginal.get(original);
    if (known !== undefined) return known;
    let token: string;
    // Skip a number whose token text already occurs literally in the input, or restore would
    // later turn that literal into this original.
    do {
      state.counts[kind] += 1;
      token = `[${kind}_${state.counts[kind]}]`;
    } while (text.includes(token) || Object.prototype.hasOwnProperty.call(state.tokens, token));
    state.tokens[token] = original;
    byOriginal.set(original, token);
    return token;
  };
}

function redactCardsInRun(run: string, issue: (card: string) => string): string {
  const parts = run.split(/([ -])/); // [group, sep, group, sep, ...]
  const groups: string[] = [];
  const seps: string[] = [];
  parts.forEach((p, i) => (i % 2 === 0 ? groups.push(p) : seps.push(p)));
  let out = '';
  let i = 0;
  while (i < groups.length) {
    const end = longestCardFrom(groups, seps, i);
    if (end >= 0) {
      let card = groups[i];
      for (let j = i + 1; j <= end; j++) card += seps[j - 1] + groups[j];
      out += issue(card);
      if (end + 1 < groups.length) out += seps[end];
      i = end + 1;
    } else {
      out += groups[i];
      if (i + 1 < groups.length) out += seps[i];
      i += 1;
    }
  }
  return out;
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

function isPlausiblePhone(candidate: string, minDigits: number, maxDigits: number): boolean {
  const digits = candidate.replace(/\D/g, '').length;
  return digits >= minDigits && digits <= maxDigits;
}

function visit(holder: Record<string, unknown> | unknown[], key: string | number, rest: string[], state: RedactionState): void {
  const value = (holder as Record<string, unknown>)[key as string];
  if (rest.length === 0) {
    (holder as Record<string, unknown>)[key as string] = redactDeep(value, state);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const [head, ...tail] = rest;
  const container = value as Record<string, unknown>;
  const keys = head === '*' ? Object.keys(container) : Object.prototype.hasOwnProperty.call(container, head) ? [head] : [];
  for (const k of keys) visit(container, k, tail, state);
}

function redactDeep(value: unknown, state: RedactionState): unknown {
  if (typeof value === 'string') return redactText(value, state);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, state));
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    for (const k of Object.keys(obj)) obj[k] = redactDeep(obj[k], state);
    return obj;
  }
  return value;
}
