import { SignatureInvalid } from '../errors.js';
import {
  STALE_BY_SECONDS,
  type SchemeImplementation,
  type SignInput,
  type SignMode,
  checkReplayWindow,
  excerpt,
  hmacSha256,
  matchesAnySecret,
  requireHeader,
  requireSecrets,
  requireTolerance,
  wrongSecret,
} from './hmac.js';

/**
 * Zendesk webhook signatures.
 *
 * Zendesk signs `timestamp + body` with HMAC-SHA256 using the webhook's signing secret and sends
 * the base64 digest in `x-zendesk-webhook-signature`, the timestamp (ISO 8601, e.g.
 * `2024-05-01T12:00:00Z`) in `x-zendesk-webhook-signature-timestamp`. The timestamp is part of the
 * signed bytes, so checking it against a window stops an attacker replaying a captured delivery.
 */

/** Header carrying the base64 HMAC-SHA256 signature (keys are lower-cased by API Gateway). */
export const ZENDESK_SIGNATURE_HEADER = 'x-zendesk-webhook-signature';
/** Header carrying the ISO 8601 timestamp that is part of the signed bytes. */
export const ZENDESK_TIMESTAMP_HEADER = 'x-zendesk-webhook-signature-timestamp';
/** Zendesk's documentation of the scheme. */
export const ZENDESK_DOCS = 'https://developer.zendesk.com/documentation/webhooks/verifying/';

// Strict ISO 8601 date-time with a zone: Date.parse alone accepts far looser inputs ("1", "May 1"),
// and a signature check should not guess what a sender meant.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Computes Zendesk's signature: base64 HMAC-SHA256 of `timestamp + body` keyed by `secret`.
 * The body is taken as bytes when given as a Buffer: the signature covers the raw delivery, and
 * decoding invalid UTF-8 first would change what is verified.
 */
export function signZendesk(body: string | Buffer, timestamp: string, secret: string): string {
  return hmacSha256(secret, [timestamp, body]).toString('base64');
}

/** Options of {@link verifyZendesk}. */
export interface VerifyZendeskOptions {
  /** The raw body exactly as received (bytes, or a string taken as UTF-8); re-serialised JSON would not verify. */
  body: string | Buffer;
  /** Request headers with lower-cased keys. */
  headers: Record<string, string>;
  /** Every currently valid signing secret; more than one during a rotation. */
  secrets: string[];
  /** The verifier's clock, injected so tests and replays are deterministic. */
  now: Date;
  /** Largest accepted distance between the signed timestamp and `now`, either direction. */
  toleranceSeconds: number;
}

/**
 * Verifies a Zendesk webhook delivery; returns normally when the signature is valid for one of
 * the secrets and the timestamp is inside the replay window.
 *
 * @throws SignatureInvalid with a sentence naming what is wrong (missing header, bad or stale
 *   timestamp, mismatch) — ingest turns it into a 401 with that reason.
 * @throws ConfigurationError when no secret is configured: that is our fault, not the sender's.
 */
export function verifyZendesk(opts: VerifyZendeskOptions): void {
  const { body, headers, secrets, now, toleranceSeconds } = opts;
  requireSecrets('Zendesk', secrets);
  requireTolerance(toleranceSeconds);
  const signature = requireHeader(headers, ZENDESK_SIGNATURE_HEADER);
  const timestamp = requireHeader(headers, ZENDESK_TIMESTAMP_HEADER);
  const signedAt = ISO_8601.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
  if (Number.isNaN(signedAt)) {
    throw new SignatureInvalid(`The ${ZENDESK_TIMESTAMP_HEADER} header "${excerpt(timestamp)}" is not an ISO 8601 timestamp.`);
  }
  checkReplayWindow({ header: ZENDESK_TIMESTAMP_HEADER, raw: timestamp, signedAtMs: signedAt, now, toleranceSeconds });
  // The signed timestamp is the header value as sent, not a re-formatted date.
  if (!matchesAnySecret([signature], secrets, (secret) => signZendesk(body, timestamp, secret))) {
    throw new SignatureInvalid(
      `The ${ZENDESK_SIGNATURE_HEADER} header does not match the body for any of the ${secrets.length} configured secret(s).`,
    );
  }
}

/** Headers Zendesk would send for this body; the timestamp is whole seconds, as Zendesk sends it. */
export function zendeskHeaders(input: SignInput, mode: SignMode): Record<string, string> {
  if (mode === 'none') return {};
  const at = new Date(input.now.getTime() - (mode === 'stale' ? STALE_BY_SECONDS * 1000 : 0));
  const timestamp = at.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const secret = mode === 'bad' ? wrongSecret(input.secret) : input.secret;
  return { [ZENDESK_SIGNATURE_HEADER]: signZendesk(input.body, timestamp, secret), [ZENDESK_TIMESTAMP_HEADER]: timestamp };
}

/** Zendesk's scheme for index.ts. */
export const zendesk: SchemeImplementation = {
  headers: [ZENDESK_SIGNATURE_HEADER, ZENDESK_TIMESTAMP_HEADER],
  timestamped: true,
  docs: ZENDESK_DOCS,
  verify: verifyZendesk,
  sign: zendeskHeaders,
};
