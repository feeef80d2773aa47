/**
 * Layer 1 PII redaction with reversible tokens.
 *
 * The model never sees personal data (invariant 4): emails, phone numbers, payment cards, IBANs,
 * US social security numbers, IP addresses and credentials are replaced by tokens such as
 * `[EMAIL_1]` before the prompt is built. The token → original map travels in the
 * {@link RedactionState} (stored in the PII vault), so the act stage can put the originals of the
 * kinds an action names back into what it sends downstream with {@link restoreTokens}.
 * Credentials are the exception: a `[SECRET_n]` token can never be restored, and its original is
 * not even kept.
 *
 * One detector per kind lives in `./pii/`; each is a pure function from text to spans. They run
 * one after another, each on the output of the one before, in an order that settles overlaps:
 * credentials first (a token may hold digit runs or an `@`), then emails, IBANs before cards (an
 * IBAN's digits can pass Luhn), cards, SSNs, IPs, and phone numbers last (the loosest shapes).
 * Detection is deliberately conservative where a false positive would hide ordinary data: cards
 * need Luhn, IBANs mod-97 and the country's length, SSNs the SSA's issued ranges, and phones a
 * shape people actually write, so dates, times, versions, prices and order numbers survive.
 * docs/pii.md lists the rules and the measured recall and precision.
 */
import { findCards } from './pii/card.js';
import { findEmails } from './pii/email.js';
import { findIbans } from './pii/iban.js';
import { findIps } from './pii/ip.js';
import { PII_KINDS, RESTORABLE_KINDS, type PiiKind, type Span } from './pii/kinds.js';
import { findPhones } from './pii/phone.js';
import { findSecrets, secretFingerprint } from './pii/secret.js';
import { findSsns } from './pii/ssn.js';

export { luhnValid } from './pii/card.js';
export { IBAN_LENGTHS, ibanValid } from './pii/iban.js';
export { ipv4Valid, ipv6Valid } from './pii/ip.js';
export { PII_KINDS, RESTORABLE_KINDS, type PiiKind } from './pii/kinds.js';
export { secretFingerprint } from './pii/secret.js';
export { ssnValid } from './pii/ssn.js';

/** Tokens issued so far for one decision; serialisable so it can live in the vault. */
export interface RedactionState {
  /**
   * token → original text, e.g. `{ "[EMAIL_1]": "ana@example.com" }`. For SECRET tokens the value
   * is a one-way fingerprint (`sha256:…`), never the credential.
   */
  tokens: Record<string, string>;
  /** How many tokens of each kind were issued (the next number is count + 1). */
  counts: Record<PiiKind, number>;
}

/** A fresh state: no tokens issued. */
export function newRedactionState(): RedactionState {
  return { tokens: {}, counts: { EMAIL: 0, PHONE: 0, CARD: 0, IBAN: 0, SSN: 0, IP: 0, SECRET: 0 } };
}

/** The detectors in the order they run; see the module comment for why this order. */
const DETECTORS: ReadonlyArray<readonly [PiiKind, (text: string) => Span[]]> = [
  ['SECRET', findSecrets],
  ['EMAIL', findEmails],
  ['IBAN', findIbans],
  ['CARD', findCards],
  ['SSN', findSsns],
  ['IP', findIps],
  ['PHONE', findPhones],
];

const TOKEN = /\[(EMAIL|PHONE|CARD|IBAN|SSN|IP|SECRET)_\d+\]/g;

/**
 * Replaces every detected value in `text` by a token, recording it in `state`. The same original
 * within one state always gets the same token, so the model can still tell that two mentions are
 * the same customer; within a kind, numbers follow reading order.
 */
export function redactText(text: string, state: RedactionState): string {
  const issue = tokenIssuer(state, text);
  let out = text;
  for (const [kind, find] of DETECTORS) {
    const spans = find(out);
    if (spans.length === 0) continue;
    let next = '';
    let at = 0;
    for (const s of spans) {
      next += out.slice(at, s.start) + issue(kind, out.slice(s.start, s.end));
      at = s.end;
    }
    out = next + out.slice(at);
  }
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
 * Puts originals back in place of their tokens, for the kinds named (by default every kind but
 * SECRET). Unknown tokens are left as they are, so a token the model invented stays visibly a token
 * rather than becoming someone's data. SECRET tokens are never restored, even when asked for.
 */
export function restoreTokens(text: string, tokens: Record<string, string>, kinds: readonly PiiKind[] = RESTORABLE_KINDS): string {
  return text.replace(TOKEN, (token, kind: PiiKind) =>
    kind !== 'SECRET' && kinds.includes(kind) && Object.prototype.hasOwnProperty.call(tokens, token) ? tokens[token] : token,
  );
}

/** The kinds of PII still present in `text` (empty when it is clean), by the same rules as redaction. */
export function containsPii(text: string): PiiKind[] {
  const state = newRedactionState();
  redactText(text, state);
  return PII_KINDS.filter((kind) => state.counts[kind] > 0);
}

function tokenIssuer(state: RedactionState, text: string): (kind: PiiKind, original: string) => string {
  const byOriginal = new Map<string, string>();
  for (const [token, original] of Object.entries(state.tokens)) byOriginal.set(original, token);
  return (kind, original) => {
    const kept = kind === 'SECRET' ? secretFingerprint(original) : original;
    const known = byOriginal.get(kept);
    if (known !== undefined) return known;
    let token: string;
    // Skip a number whose token text already occurs literally in the input, or restore would
    // later turn that literal into this original. A state from before a kind existed counts from 0.
    do {
      state.counts[kind] = (state.counts[kind] ?? 0) + 1;
      token = `[${kind}_${state.counts[kind]}]`;
    } while (text.includes(token) || Object.prototype.hasOwnProperty.call(state.tokens, token));
    state.tokens[token] = kept;
    byOriginal.set(kept, token);
    return token;
  };
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
