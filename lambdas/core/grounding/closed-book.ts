import type { Claim, SourceDocument } from '../integration.js';
import { pass, plural, type Finding } from './finding.js';
import { normaliseForQuote } from './quote-exists.js';

/**
 * Step 4 — closed book. The model sees only the provided documents, so every number, date,
 * amount and named entity a claim states must appear in them: a figure or a name from the model's
 * memory is how a hallucination reaches an action. Deterministic, no model call.
 *
 * What counts, per free-text value:
 * - numbers as people write them (`4,000`, `4000`, `3.5`, `2026-11-25`, `10:30`, `#1234`, `$40`,
 *   `4k`, in any script's digits), compared by value so `4,000` = `4000` and `40.00` = `40`; a
 *   date or time in the sources backs each of its parts; a small count (0-12) is backed by its
 *   word ("twice" backs `2`);
 * - names: a capitalised word (any script) that does not open a sentence (`Stripe`, `Berlin`,
 *   `SSO`, `Émile`), a domain (`example.com`), a handle (`@octocat`, not the `@3` of `pkg@3`), a
 *   vault token (`[EMAIL_1]`). Month and weekday names are not names (their numbers still count).
 *
 * Known gaps: a name that opens a sentence ("Klarna charged…"), a lower-case name ("paypal"),
 * numbers written as words ("four thousand") pass.
 * Vault tokens stand for redacted data and must be copied, never invented.
 */

/** A token a claim states that no source document contains. */
export interface Ungrounded {
  /** `claims[2].statement`, `summary`, `missing_information[0]`. */
  where: string;
  token: string;
  kind: 'number' | 'name';
}

const TOKEN = /\[[A-Z]+_\d+\]/g;
/**
 * A number as people write it — `4,000`, `3.5`, `2026-11-25`, `10:30`, `4k` — in any script's
 * digits (after NFKC, fullwidth digits are ASCII). Not glued to letters: `2FA`, `p1`, `v2` and
 * `README2` are words, not amounts.
 */
const NUMBER = /(?<![\p{L}\p{Nd}_])\p{Nd}+(?:[.,:/-]\p{Nd}+)*(?:[kKmM](?![\p{L}\p{Nd}]))?(?![\p{L}\p{Nd}_])/gu;
/** Any run of digits, for indexing the sources generously (`2026-11-25T09:30:00Z` gives `2026-11-25` and `09:30:00`). */
const DIGITS = /\p{Nd}+(?:[.,:/-]\p{Nd}+)*/gu;
/** Capitalised words (any script), acronyms, domains, handles. Apostrophes stay inside a word (`Alice's` → `Alice`). */
const NAME = /(?:(?<![\w.@/-])@[\p{L}][\p{L}\p{Nd}_-]*)|(?:(?<![\p{L}\p{Nd}])[\p{L}\p{Nd}-]+(?:\.[\p{L}\p{Nd}-]+)*\.\p{Ll}{2,}(?![\p{L}\p{Nd}]))|(?:(?<![\p{L}\p{Nd}])\p{Lu}[\p{L}\p{Nd}]*(?:-[\p{L}\p{Nd}]+)*)/gu;
/** Capitalised words that are ordinary English wherever they stand, and calendar words (their numbers are still checked). */
const COMMON = new Set([
  'I', "I'm", "I've", "I'd", "I'll", 'OK', 'Ok',
  'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun',
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December',
  'Jan', 'Feb', 'Mar', 'Apr', 'Jun', 'Jul', 'Aug', 'Sep', 'Sept', 'Oct', 'Nov', 'Dec', 'UTC', 'GMT', 'AM', 'PM',
]);
/** Small counts the sources may spell out ("charged twice" → "2 times"). */
const SPELLED: Record<string, string[]> = {
  '0': ['zero', 'no', 'none'], '1': ['one', 'once', 'single', 'a', 'an'], '2': ['two', 'twice', 'double', 'both', 'pair'], '3': ['three', 'thrice', 'triple'],
  '4': ['four'], '5': ['five'], '6': ['six'], '7': ['seven'], '8': ['eight'], '9': ['nine'], '10': ['ten'], '11': ['eleven'], '12': ['twelve', 'dozen'],
};

/** Digits of any script as ASCII, so `٤٠٠٠` and `4000` are the same claim. */
function asciiDigits(n: string): string {
  if (!NON_ASCII.test(n)) return n;
  return n.replace(/\p{Nd}/gu, (d) => {
    const cp = d.codePointAt(0)!;
    // Every Unicode decimal-digit block is ten consecutive code points starting at a zero.
    for (let zero = cp; zero > cp - 10; zero--) if (/\p{Nd}/u.test(String.fromCodePoint(zero - 1)) === false) return String(cp - zero);
    return d;
  });
}

function canonical(n: string): string {
  let plain = asciiDigits(n).replace(/,(?=\d{3}(?!\d))/g, '');
  const scale = /[kK]$/.test(plain) ? 1e3 : /[mM]$/.test(plain) ? 1e6 : 1;
  plain = plain.replace(/[kKmM]$/, '');
  return /^\d+(?:\.\d+)?$/.test(plain) ? String(Number(plain) * scale) : plain;
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
  /** Whether the sources spell out a word (small counts: "twice"), looked up only when needed. */
  hasWord(word: string): boolean;
}

/** Any run of ASCII digits: the fast path for the (usual) all-ASCII sources. */
const ASCII_DIGITS = /[0-9]+(?:[.,:/-][0-9]+)*/g;
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * Indexes the documents' numbers — each whole (`2026-11-25T09:30`) and each part (`2026`, `11`,
 * `25`, `09:30`, `30`), since a claim may restate a date or a time in another format — and their
 * normalised text.
 */
export function indexSources(documents: SourceDocument[]): SourceIndex {
  const numbers = new Set<string>();
  const joined = documents.map((d) => d.text).join('\n');
  // NFKC and Unicode digit classes only when there is something outside ASCII to fold.
  const wide = NON_ASCII.test(joined);
  const text = wide ? joined.normalize('NFKC') : joined;
  for (const m of new Set(text.replace(TOKEN, ' ').match(wide ? DIGITS : ASCII_DIGITS) ?? [])) {
    numbers.add(canonical(m));
    const parts = asciiDigits(m).split(/[.,:/-]/);
    for (const p of parts) numbers.add(canonical(p));
    for (let i = 0; i + 1 < parts.length; i++) numbers.add(`${parts[i]}:${parts[i + 1]}`);
  }
  const lower = text.toLowerCase();
  return { numbers, text: normaliseForQuote(text), hasWord: (w) => new RegExp(`(?<!\\p{L})${w}(?!\\p{L})`, 'u').test(lower) };
}

/** The numbers and names in one free-text value that the sources do not contain. */
export function ungroundedTokens(where: string, value: string, index: SourceIndex): Ungrounded[] {
  const out: Ungrounded[] = [];
  const text = value.normalize('NFKC');
  for (const t of text.match(TOKEN) ?? []) if (!index.text.includes(t)) out.push({ where, token: t, kind: 'name' });
  const plain = text.replace(TOKEN, ' ');
  for (const m of plain.match(NUMBER) ?? []) {
    const c = canonical(m);
    if (index.numbers.has(c) || (SPELLED[c] ?? []).some((w) => index.hasWord(w))) continue;
    out.push({ where, token: m, kind: 'number' });
  }
  for (const m of plain.matchAll(NAME)) {
    const word = m[0].replace(/['’]s$/, '');
    if (/^\p{Nd}/u.test(word) || COMMON.has(word)) continue;
    const isName = word.startsWith('@') || word.includes('.') || !opensSentence(plain, m.index);
    if (!isName) continue;
    const re = new RegExp(`(?<![\\p{L}\\p{Nd}])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{Nd}])`, 'u');
    if (!re.test(index.text)) out.push({ where, token: word, kind: 'name' });
  }
  return out;
}

/**
 * Every free-text string of a decision, by path: string leaves the output schema does not
 * constrain to an enum, outside the fields excluded (the reasoning, the quotes, the claims —
 * checked on their own). So whatever text can reach an action is checked, including lists such
 * as `missing_information` and nested ones such as `alternatives_considered[].why_not`.
 */
export function freeTextOf(value: unknown, schema: Record<string, unknown>, exclude: string[], path = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const node = unwrapSchema(schema);
  if (typeof value === 'string') {
    if (!node.enum && node.const === undefined) out[path] = value;
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => Object.assign(out, freeTextOf(v, (node.items ?? {}) as Record<string, unknown>, exclude, `${path}[${i}]`)));
  } else if (value && typeof value === 'object') {
    const props = (node.properties ?? {}) as Record<string, Record<string, unknown>>;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (!path && exclude.includes(k)) continue;
      Object.assign(out, freeTextOf(v, props[k] ?? {}, exclude, path ? `${path}.${k}` : k));
    }
  }
  return out;
}

/** A schema node without its nullable wrapper (`anyOf: [X, {type: null}]`). */
function unwrapSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const options = (schema.anyOf ?? schema.oneOf) as Array<Record<string, unknown>> | undefined;
  if (!options) return schema;
  const real = options.filter((o) => o.type !== 'null');
  return real.length === 1 ? unwrapSchema(real[0]) : schema;
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
