import { createHash } from 'node:crypto';
import { disjoint, scan, type Span } from './kinds.js';

/** One credential shape: a name for the docs and a regex whose group 1 (or whole match) is the credential. */
interface SecretRule {
  name: string;
  re: RegExp;
  /** Extra check on the credential text; rejects look-alikes. */
  accept?: (value: string) => boolean;
}

const hasDigitAndLetter = (v: string) => /\d/.test(v) && /[A-Za-z]/.test(v);
// Every prefix rule is anchored at a word start, so `risk_test_cases` or `task-…` never match.
const START = String.raw`(?<![A-Za-z0-9_\-])`;

/**
 * The credential shapes Seamwork recognises. Vendor prefixes come from each vendor's docs; the
 * last three rules catch credentials by what surrounds them (an `Authorization` header, a
 * `Bearer` scheme, a `…_KEY=` / `"token":` assignment).
 */
export const SECRET_RULES: readonly SecretRule[] = [
  { name: 'Stripe secret / restricted key', re: new RegExp(`${START}[sr]k_(?:live|test)_[A-Za-z0-9]{10,}`, 'g') },
  { name: 'Stripe webhook secret', re: new RegExp(`${START}whsec_[A-Za-z0-9+/=]{20,}`, 'g') },
  { name: 'Anthropic API key', re: new RegExp(`${START}sk-ant-[A-Za-z0-9_\\-]{20,}`, 'g') },
  { name: 'OpenAI API key', re: new RegExp(`${START}sk-(?:proj-)?[A-Za-z0-9_\\-]{20,}`, 'g'), accept: hasDigitAndLetter },
  { name: 'GitHub token', re: new RegExp(`${START}(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})`, 'g') },
  { name: 'GitLab token', re: new RegExp(`${START}glpat-[A-Za-z0-9_\\-]{20,}`, 'g') },
  { name: 'npm token', re: new RegExp(`${START}npm_[A-Za-z0-9]{36,}`, 'g') },
  { name: 'Slack token', re: new RegExp(`${START}xox[abposr]-[A-Za-z0-9\\-]{10,}`, 'g') },
  { name: 'Slack webhook path', re: /(?<=hooks\.slack\.com\/services\/)[A-Za-z0-9]+\/[A-Za-z0-9]+\/[A-Za-z0-9]{8,}/g },
  { name: 'AWS access key id', re: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])/g },
  { name: 'Google API key', re: new RegExp(`${START}AIza[0-9A-Za-z_\\-]{35}`, 'g') },
  { name: 'SendGrid API key', re: new RegExp(`${START}SG\\.[A-Za-z0-9_\\-]{16,}\\.[A-Za-z0-9_\\-]{16,}`, 'g') },
  { name: 'Shopify access token', re: new RegExp(`${START}shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}`, 'g') },
  { name: 'JSON Web Token', re: new RegExp(`${START}eyJ[A-Za-z0-9_\\-]{5,}\\.eyJ[A-Za-z0-9_\\-]{5,}\\.[A-Za-z0-9_\\-]{8,}`, 'g') },
  {
    name: 'PEM private key',
    re: /-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----[\s\S]{1,8000}?-----END [A-Z ]{0,20}PRIVATE KEY-----/g,
  },
  {
    name: 'Authorization: Basic',
    re: /(?<=\bAuthorization["']?\s{0,3}[:=]\s{0,3}["']?Basic\s{1,3})[A-Za-z0-9+/]{8,}={0,2}/gi,
    // Basic credentials are base64 of `user:password`.
    accept: (v) => Buffer.from(v, 'base64').toString('latin1').includes(':'),
  },
  {
    name: 'Bearer token',
    re: /(?<=\bBearer\s{1,3})[A-Za-z0-9\-._~+/]{8,}=*/gi,
    // `Bearer authentication` is prose; `Bearer YOUR_TOKEN` a placeholder. Real tokens carry digits.
    accept: hasDigitAndLetter,
  },
  {
    name: 'Assigned password',
    re: /(?<=\b(?:password|passwd|passcode)["']?\s{0,3}[:=]\s{0,3}["']?)[^\s"',;<\[]{6,64}/gi,
    // `Password: reset link broken` is a subject line, `Password: ********` a mask and
    // `password: /docs/reset` a link. A password has a digit or symbol.
    accept: (v) => /[A-Za-z0-9]/.test(v) && /[^A-Za-z]/.test(v) && !v.startsWith('/') && !v.includes('://'),
  },
  {
    name: 'Assigned credential',
    re: /(?<=(?<![A-Za-z0-9])(?:[A-Za-z0-9]{1,20}[_\-]){0,3}(?:(?:api|secret|private|access|signing|encryption)[_\- ]?(?:access[_\- ]?)?key|apikey|secret|token|password|passwd|pwd)["']?\s{0,3}[:=]\s{0,3}["']?)[A-Za-z0-9\-_.~+/]{16,}=*/gi,
    accept: hasDigitAndLetter,
  },
];

/**
 * API keys, access tokens and other credentials. Their originals are never kept: the state holds
 * a fingerprint ({@link secretFingerprint}), so a credential pasted into a ticket cannot be sent
 * onward even by mistake. A 40-hex commit SHA has none of these shapes and stays.
 */
export function findSecrets(text: string): Span[] {
  const spans: Span[] = [];
  for (const rule of SECRET_RULES) {
    spans.push(
      ...scan(rule.re, text, (m) => {
        const value = m[0].replace(/\.+$/, ''); // a sentence's full stop is not part of the token
        return rule.accept === undefined || rule.accept(value) ? { start: m.index, end: m.index + value.length } : undefined;
      }),
    );
  }
  return disjoint(spans);
}

/** What the redaction state keeps instead of a credential: enough to give a repeat the same token, nothing to restore. */
export function secretFingerprint(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex').slice(0, 16)}`;
}
