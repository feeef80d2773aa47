import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigurationError, SignatureInvalid } from '../errors.js';

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

// Strict ISO 8601 date-time with a zone: Date.parse alone accepts far looser inputs ("1", "May 1"),
// and a signature check should not guess what a sender meant.
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

/**
 * Computes Zendesk's signature: base64 HMAC-SHA256 of `timestamp + body` keyed by `secret`.
 * The body is taken as bytes when given as a Buffer: the signature covers the raw delivery, and
 * decoding invalid UTF-8 first would change what is verified.
 */
export function signZendesk(body: string | Buffer, timestamp: string, secret: string): string {
  return createHmac('sha256', secret).update(timestamp, 'utf8').update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body).digest('base64');
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
  if (secrets.length === 0) {
    throw new ConfigurationError('No Zendesk signing secret is configured, so no delivery can be verified.');
  }
  const signature = headers[ZENDESK_SIGNATURE_HEADER];
  if (signature === undefined || signature.trim() === '') {
    throw new SignatureInvalid(`The ${ZENDESK_SIGNATURE_HEADER} header is missing.`);
  }
  const timestamp = headers[ZENDESK_TIMESTAMP_HEADER];
  if (timestamp === undefined || timestamp.trim() === '') {
    throw new SignatureInvalid(`The ${ZENDESK_TIMESTAMP_HEADER} header is missing.`);
  }
  const signedAt = ISO_8601.test(timestamp.trim()) ? Date.parse(timestamp.trim()) : Number.NaN;
  if (Number.isNaN(signedAt)) {
    throw new SignatureInvalid(
      `The ${ZENDESK_TIMESTAMP_HEADER} header "${timestamp.slice(0, 40)}${timestamp.length > 40 ? '…' : ''}" is not an ISO 8601 timestamp.`,
    );
  }
  const skewSeconds = (now.getTime() - signedAt) / 1000;
  if (Math.abs(skewSeconds) > toleranceSeconds) {
    const by = Math.round(Math.abs(skewSeconds) - toleranceSeconds);
    const direction = skewSeconds > 0 ? 'older' : 'newer';
    throw new SignatureInvalid(
      `The signature timestamp ${timestamp.slice(0, 40)} is ${Math.round(Math.abs(skewSeconds))}s ${direction} than now, ` +
        `outside the ${toleranceSeconds}s replay window by ${by}s.`,
      { detail: { skewSeconds, toleranceSeconds } },
    );
  }
  // The signed timestamp is the header value as sent, not a re-formatted date.
  const provided = digestOf(signature.trim());
  let matched = false;
  // Every secret is tried (no early exit) so timing does not reveal which secret, if any, matched.
  for (const secret of secrets) {
    const expected = digestOf(signZendesk(body, timestamp, secret));
    matched = timingSafeEqual(provided, expected) || matched;
  }
  if (!matched) {
    throw new SignatureInvalid(
      `The ${ZENDESK_SIGNATURE_HEADER} does not match the body for any of the ${secrets.length} configured secret(s).`,
    );
  }
}

// Comparing SHA-256 digests of the two signatures gives equal-length buffers whatever was sent,
// so timingSafeEqual never throws and the comparison time does not leak the expected length.
function digestOf(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
