import { SignatureInvalid } from '../errors.js';
import {
  type SchemeImplementation,
  type SignInput,
  type SignMode,
  type VerifyOptions,
  hmacSha256,
  matchesAnySecret,
  requireHeader,
  requireSecrets,
  wrongSecret,
} from './hmac.js';

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

/**
 * Verifies a GitHub delivery; returns normally when the signature matches one of the secrets.
 * @throws SignatureInvalid naming the missing or malformed header, or the mismatch.
 * @throws ConfigurationError when no secret is configured.
 */
export function verifyGithub(opts: VerifyOptions): void {
  requireSecrets('GitHub', opts.secrets);
  const header = requireHeader(opts.headers, GITHUB_SIGNATURE_HEADER);
  if (!FORM.test(header)) {
    throw new SignatureInvalid(`The ${GITHUB_SIGNATURE_HEADER} header is not of the form sha256=<64 hex digits>.`);
  }
  // Hex is case-insensitive; GitHub sends lower case, so compare in lower case.
  const provided = `sha256=${header.slice('sha256='.length).toLowerCase()}`;
  if (!matchesAnySecret([provided], opts.secrets, (secret) => signGithub(opts.body, secret))) {
    throw new SignatureInvalid(
      `The ${GITHUB_SIGNATURE_HEADER} header does not match the body for any of the ${opts.secrets.length} configured secret(s).`,
    );
  }
}

/** Headers GitHub would send for this body; `stale` is the same as `valid` (no timestamp is signed). */
export function githubHeaders(input: SignInput, mode: SignMode): Record<string, string> {
  if (mode === 'none') return {};
  const secret = mode === 'bad' ? wrongSecret(input.secret) : input.secret;
  return { [GITHUB_SIGNATURE_HEADER]: signGithub(input.body, secret) };
}

/** GitHub's scheme for index.ts. */
export const github: SchemeImplementation = {
  headers: [GITHUB_SIGNATURE_HEADER],
  timestamped: false,
  docs: GITHUB_DOCS,
  verify: verifyGithub,
  sign: githubHeaders,
};
