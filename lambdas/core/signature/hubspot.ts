import { ConfigurationError, SignatureInvalid } from '../errors.js';
import {
  STALE_BY_SECONDS,
  type SchemeImplementation,
  type SignInput,
  type SignMode,
  type VerifyOptions,
  checkReplayWindow,
  hmacSha256,
  matchesAnySecret,
  parseUnixDigits,
  requireHeader,
  requireSecrets,
  requireTolerance,
  wrongSecret,
} from './hmac.js';

/**
 * HubSpot request signatures, version 3.
 *
 * HubSpot sends `x-hubspot-signature-v3`: the base64 HMAC-SHA256, keyed by the app's client
 * secret, of `method + uri + body + timestamp`, where the timestamp is the
 * `x-hubspot-request-timestamp` header (Unix milliseconds) and the uri is the full URL called,
 * query string included, with the URL-encoded characters in {@link HUBSPOT_DECODED_ESCAPES}
 * decoded first. HubSpot says to reject timestamps older than five minutes
 * ({@link HUBSPOT_MAX_AGE_SECONDS}); the window used is the configured one, in both directions.
 * The older v1/v2 headers HubSpot also sends are not checked: v3 is the only one that signs a
 * timestamp.
 */

/** Header carrying the base64 HMAC-SHA256. */
export const HUBSPOT_SIGNATURE_HEADER = 'x-hubspot-signature-v3';
/** Header carrying the Unix-milliseconds timestamp that is part of the signed bytes. */
export const HUBSPOT_TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';
/** HubSpot's documented maximum age of a request. */
export const HUBSPOT_MAX_AGE_SECONDS = 300;
/** HubSpot's documentation of the scheme. */
export const HUBSPOT_DOCS = 'https://developers.hubspot.com/docs/api/webhooks/validating-requests';

/**
 * The escapes HubSpot's documentation lists as decoded in the request URI before signing, and
 * nothing else (so `%20`, `%25`, `%26` stay encoded). Matched as written in that table (upper-case
 * hex): the documentation does not say lower-case escapes are decoded too, and guessing wrong
 * either way only turns into a mismatch.
 */
export const HUBSPOT_DECODED_ESCAPES: Readonly<Record<string, string>> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

const ESCAPE = new RegExp(Object.keys(HUBSPOT_DECODED_ESCAPES).join('|'), 'g');
// A SHA-256 digest is 32 bytes: 43 base64 characters and one `=` of padding.
const FORM = /^[A-Za-z0-9+/]{43}=$/;

/** The URI as HubSpot signs it: the listed escapes decoded in one pass (`%253A` stays `%253A`). */
export function hubspotSignedUri(url: string): string {
  return url.replace(ESCAPE, (escape) => HUBSPOT_DECODED_ESCAPES[escape]);
}

/** Computes HubSpot's v3 signature: base64 HMAC-SHA256 of `method + uri + body + timestamp`. */
export function signHubspot(req: { method: string; url: string; body: Buffer | string; timestamp: string }, secret: string): string {
  return hmacSha256(secret, [req.method, hubspotSignedUri(req.url), req.body, req.timestamp]).toString('base64');
}

/**
 * Verifies a HubSpot v3 request; returns normally when the timestamp is inside the replay window
 * and the signature matches one of the secrets.
 * @throws SignatureInvalid naming the missing or malformed header, the staleness, or the mismatch.
 * @throws ConfigurationError when no secret is configured, or no method or URL was given (HubSpot
 *   signs both, so a verifier without them is miswired).
 */
export function verifyHubspot(opts: VerifyOptions): void {
  requireSecrets('HubSpot', opts.secrets);
  requireTolerance(opts.toleranceSeconds);
  if (!opts.method || !opts.url) {
    throw new ConfigurationError('HubSpot signs the request method and URL, but the verifier was not given them.');
  }
  const signature = requireHeader(opts.headers, HUBSPOT_SIGNATURE_HEADER);
  const timestamp = requireHeader(opts.headers, HUBSPOT_TIMESTAMP_HEADER);
  const signedAtMs = parseUnixDigits(`${HUBSPOT_TIMESTAMP_HEADER} header`, timestamp, 'milliseconds');
  checkReplayWindow({ header: HUBSPOT_TIMESTAMP_HEADER, raw: timestamp, signedAtMs, now: opts.now, toleranceSeconds: opts.toleranceSeconds });
  if (!FORM.test(signature)) {
    throw new SignatureInvalid(`The ${HUBSPOT_SIGNATURE_HEADER} header is not a base64 HMAC-SHA256 (44 characters).`);
  }
  const signed = { method: opts.method, url: opts.url, body: opts.body, timestamp };
  if (!matchesAnySecret([signature], opts.secrets, (secret) => signHubspot(signed, secret))) {
    throw new SignatureInvalid(
      `The ${HUBSPOT_SIGNATURE_HEADER} header does not match the method, URL, body and timestamp ` +
        `for any of the ${opts.secrets.length} configured secret(s).`,
    );
  }
}

/** Headers HubSpot would send for this request. */
export function hubspotHeaders(input: SignInput, mode: SignMode): Record<string, string> {
  if (mode === 'none') return {};
  if (!input.url) {
    throw new ConfigurationError('HubSpot signs the request URL; pass the URL the delivery is sent to.');
  }
  const timestamp = String(input.now.getTime() - (mode === 'stale' ? STALE_BY_SECONDS * 1000 : 0));
  const secret = mode === 'bad' ? wrongSecret(input.secret) : input.secret;
  return {
    [HUBSPOT_SIGNATURE_HEADER]: signHubspot({ method: input.method, url: input.url, body: input.body, timestamp }, secret),
    [HUBSPOT_TIMESTAMP_HEADER]: timestamp,
  };
}

/** HubSpot's scheme for index.ts. */
export const hubspot: SchemeImplementation = {
  headers: [HUBSPOT_SIGNATURE_HEADER, HUBSPOT_TIMESTAMP_HEADER],
  timestamped: true,
  docs: HUBSPOT_DOCS,
  verify: verifyHubspot,
  sign: hubspotHeaders,
};
