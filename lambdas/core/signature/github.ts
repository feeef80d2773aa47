import { type SchemeImplementation, type SignInput, type SignMode, type VerifyOptions, bodyOnlyScheme, hmacSha256 } from './hmac.js';

/**
 * GitHub webhook signatures.
 *
 * GitHub sends `x-hub-signature-256: sha256=<hex HMAC-SHA256 of the raw body>` keyed by the
 * webhook secret. No timestamp is signed, so a captured delivery verifies for ever: replay
 * protection for GitHub is dedupe on the `x-github-delivery` id, not this check.
 */

/** Header carrying `sha256=<hex>`. */
export const GITHUB_SIGNATURE_HEADER = 'x-hub-signature-256';
/** GitHub's documentation of the scheme, with its test vector. */
export const GITHUB_DOCS = 'https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries';

const FORM = /^sha256=[0-9a-fA-F]{64}$/;

/** Computes GitHub's header value: `sha256=` + hex HMAC-SHA256 of the body. */
export function signGithub(body: Buffer | string, secret: string): string {
  return `sha256=${hmacSha256(secret, [body]).toString('hex')}`;
}

/** GitHub's scheme for index.ts. */
export const github: SchemeImplementation = bodyOnlyScheme({
  vendor: 'GitHub',
  header: GITHUB_SIGNATURE_HEADER,
  docs: GITHUB_DOCS,
  form: FORM,
  formDescription: 'of the form sha256=<64 hex digits>',
  sign: signGithub,
  // Hex is case-insensitive; GitHub sends lower case, so compare in lower case.
  normalise: (header) => `sha256=${header.slice('sha256='.length).toLowerCase()}`,
});

/**
 * Verifies a GitHub delivery; returns normally when the signature matches one of the secrets.
 * @throws SignatureInvalid naming the missing or malformed header, or the mismatch.
 * @throws ConfigurationError when no secret is configured.
 */
export function verifyGithub(opts: VerifyOptions): void {
  github.verify(opts);
}

/** Headers GitHub would send for this body; `stale` is the same as `valid` (no timestamp is signed). */
export function githubHeaders(input: SignInput, mode: SignMode): Record<string, string> {
  return github.sign(input, mode);
}
