import { disjoint, scan, type Span } from './kinds.js';

// Local part: RFC 5322 atext plus dots (o'brien@example.com is real). Domain: labels of letters,
// digits and inner hyphens, ending in an alphabetic TLD. Lengths are capped at the RFC limits (64
// local, 63 per label) so a long base64 blob cannot make the scan quadratic.
const EMAIL =
  /[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,63}(?![A-Za-z0-9-])/g;

// The same address URL-encoded, as it appears in logged query strings (`?email=ana%40example.com`).
const EMAIL_URL_ENCODED = new RegExp(EMAIL.source.replace('@', '%40'), 'g');

/** Email addresses, plain or URL-encoded. A quoted `'ana@example.com'` keeps its opening quote outside the span. */
export function findEmails(text: string): Span[] {
  const plain = scan(EMAIL, text, (m) => {
    const quote = /^'+(?=[^@])/.exec(m[0])?.[0] ?? '';
    return { start: m.index + quote.length, end: m.index + m[0].length };
  });
  // `=` and `&` are atext, so the encoded match may start at the query key; cut it at the last one.
  const encoded = scan(EMAIL_URL_ENCODED, text, (m) => {
    const cut = Math.max(m[0].lastIndexOf('=', m[0].indexOf('%40')), m[0].lastIndexOf('&', m[0].indexOf('%40'))) + 1;
    return { start: m.index + cut, end: m.index + m[0].length };
  });
  return disjoint([...plain, ...encoded]);
}
