import type { Claim, SourceDocument } from '../integration.js';
import { pass, plural, type Finding } from './finding.js';
import { normaliseForQuote } from './quote-exists.js';

/**
 * Step 4 — closed book. The model sees only the provided documents, so every number, date,
 * amount and named entity a claim states must appear in them: a figure or a name from the model's
 * memory is how a hallucination reaches an action. Deterministic, no model call.
 *
 * What counts, per free-text value:
 * - numbers as people write them (`4,000`, `4000`, `3.5`, `2026-11-25`, `10:30`, `#1234`, `$40`),
 *   compared by value so `4,000` = `4000` and `40.00` = `40`;
 * - names: a capitalised word that does not open a sentence (`Stripe`, `Berlin`, `SSO`, `March`),
 *   a domain or address (`example.com`), a handle (`@octocat`, not the `@3` of `pkg@3`), a vault
 *   token (`[EMAIL_1]`).
 * Vault tokens stand for redacted data and must be copied, never invented.
 */

/** A token a claim states that no source document contains. */
export interface Ungrounded {
  /** `claims[2].statement`, `summary`. */
  where: string;
  token: string;
  kind: 'number' | 'name';
}

const TOKEN = /\[[A-Z]+_\d+\]/g;
const NUMBER = /\d+(?:[.,:/-]\d+)*/g;
/** Capitalised words, acronyms, domains, handles. Apostrophes stay inside a word (`Alice's` → `Alice`). */
const NAME = /(?:(?<![\w.@/-])@[A-Za-z][A-Za-z0-9_-]*)|(?:\b[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[a-z]{2,}\b)|(?:\b[A-Z][A-Za-z0-9]*(?:[-][A-Za-z0-9]+)*)/g;
/** Capitalised words that are ordinary English wherever they stand. */
const COMMON = new Set(['I', "I'm", "I've", "I'd", "I'll", 'OK', 'Ok']);

function canonical(n: string): string {
  const plain = n.replace(/,(?=\d{3}(?!\d))/g, '');
  return /^\d+(?:\.\d+)?$/.test(plain) ? String(Number(plain)) : plain;
}

/** Whether the match at `index` opens a sentence (start of text, or after . ! ? : or a line break, possibly behind quotes or a bullet). */
function opensSentence(text: string, index: number): boolean {
  const before = text.slice(0, index).replace(/["'“”‘’(\[*\-•\s]+$/, '');
  return before === '' || /[.!?:;\n]$/.test(before) || /\n\s*$/.test(text.slice(0, index));
}

/** What the sources contain, indexed once per decision. */
export interface SourceIndex {
  numbers: Set<string>;
  text: string;
}

/** Indexes the documents' numbers and normalised text. */
export function indexSources(documents: SourceDocument[]): SourceIndex {
  const numbers = new Set<string>();
  for (const d of documents) for (const m of d.text.replace(TOKEN, ' ').match(NUMBER) ?? []) numbers.add(canonical(m));
  return { numbers, text: normaliseForQuote(documents.map((d) => d.text).join('\n')) };
}

/** The numbers and names in one free-text value that the sources do not contain. */
export function ungroundedTokens(where: string, value: string, index: SourceIndex): Ungrounded[] {
  const out: Ungrounded[] = [];
  for (const t of value.match(TOKEN) ?? []) if (!index.text.includes(t)) out.push({ where, token: t, kind: 'name' });
  const plain = value.replace(TOKEN, ' ');
  for (const m of plain.match(NUMBER) ?? []) if (!index.numbers.has(canonical(m))) out.push({ where, token: m, kind: 'number' });
  for (const m of plain.matchAll(NAME)) {
    const word = m[0].replace(/['’]s$/, '');
    if (/^\d/.test(word) || COMMON.has(word)) continue;
    const isName = word.startsWith('@') || word.includes('.') || !opensSentence(plain, m.index);
    if (!isName) continue;
    const re = new RegExp(`(?<![A-Za-z0-9])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![A-Za-z0-9])`);
    if (!re.test(index.text)) out.push({ where, token: word, kind: 'name' });
  }
  return out;
}

/**
 * Checks every claim statement and the named free-text fields. Ungrounded claims can be retracted;
 * an ungrounded free-text field cannot (it would act as written), so it blocks.
 */
export function checkClosedBook(claims: Claim[], fields: Record<string, unknown>, documents: SourceDocument[]): Finding {
  const index = indexSources(documents);
  const found: Ungrounded[] = [];
  const badClaims: Claim[] = [];
  claims.forEach((c, i) => {
    const u = typeof c.statement === 'string' ? ungroundedTokens(`claims[${i}].statement`, c.statement, index) : [];
    if (u.length) {
      found.push(...u);
      badClaims.push(c);
    }
  });
  let fieldFailed = false;
  for (const [field, value] of Object.entries(fields)) {
    if (typeof value !== 'string') continue;
    const u = ungroundedTokens(field, value, index);
    if (u.length) fieldFailed = true;
    found.push(...u);
  }
  if (found.length === 0) {
    return pass('closed-book', 4, `Every number and name in ${plural(claims.length, 'claim')}${Object.keys(fields).length ? ` and ${Object.keys(fields).join(', ')}` : ''} appears in the sources.`);
  }
  return {
    check: 'closed-book', step: 4, ok: false,
    detail: `${found.map((u) => `${u.kind} "${u.token}" in ${u.where}`).join(', ')} appear${found.length === 1 ? 's' : ''} in no source document.`,
    data: { ungrounded: found },
    retractClaims: badClaims,
    unretractable: fieldFailed,
  };
}
