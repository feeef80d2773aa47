import { SignatureInvalid } from '../errors.js';
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
  unixSeconds,
  wrongSecret,
} from './hmac.js';

/**
 * Stripe webhook signatures.
 *
 * Stripe sends `stripe-signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=<hex>]`, each `v1`
 * being the hex HMAC-SHA256 of `<t>.<raw body>` keyed by an endpoint secret (`whsec_…`, used as
 * is, not decoded). Stripe puts several `v1` entries in the header while one of its own secret
 * rolls is in progress; any `v1` matching any configured secret passes. `v0` (a legacy test-mode
 * scheme) and unknown schemes are ignored, as Stripe's libraries do. Stripe's libraries default
 * to a 300 s window ({@link STRIPE_DEFAULT_TOLERANCE_SECONDS}); the window used is the configured one.
 */

/** Header carrying the timestamp and the signatures. */
export const STRIPE_SIGNATURE_HEADER = 'stripe-signature';
/** Stripe's libraries' default replay window. */
export const STRIPE_DEFAULT_TOLERANCE_SECONDS = 300;
/** Stripe's documentation of the scheme. */
export const STRIPE_DOCS = 'https://docs.stripe.com/webhooks/signature';

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/** Computes one `v1` value: hex HMAC-SHA256 of `<timestamp>.<body>`. */
export function signStripe(body: Buffer | string, timestamp: string, secret: string): string {
  return hmacSha256(secret, [`${timestamp}.`, body]).toString('hex');
}

/** The parts of a `stripe-signature` header this verifier uses. */
export interface StripeSignatureHeader {
  /** The `t` value exactly as sent (it is part of the signed bytes). */
  timestamp: string;
  /** Every `v1` value, lower-cased. */
  v1: string[];
}

/**
 * Parses a `stripe-signature` header strictly: comma-separated `key=value` pairs, exactly one `t`
 * made of digits, at least one `v1` of 64 hex digits.
 * @throws SignatureInvalid saying what is malformed.
 */
export function parseStripeSignature(header: string): StripeSignatureHeader {
  let timestamp: string | undefined;
  const v1: string[] = [];
  for (const item of header.split(',')) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      throw new SignatureInvalid(`The ${STRIPE_SIGNATURE_HEADER} header is malformed: every part must be key=value.`);
    }
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined) {
        throw new SignatureInvalid(`The ${STRIPE_SIGNATURE_HEADER} header has more than one t= timestamp.`);
      }
      timestamp = value;
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(value)) {
        throw new SignatureInvalid(`The ${STRIPE_SIGNATURE_HEADER} header has a v1 signature that is not 64 hex digits.`);
      }
      v1.push(value.toLowerCase());
    }
  }
  if (timestamp === undefined) {
    throw new SignatureInvalid(`The ${STRIPE_SIGNATURE_HEADER} header has no t= timestamp.`);
  }
  if (v1.length === 0) {
    throw new SignatureInvalid(`The ${STRIPE_SIGNATURE_HEADER} header has no v1 signature.`);
  }
  return { timestamp, v1 };
}

/**
 * Verifies a Stripe delivery; returns normally when the timestamp is inside the replay window and
 * a `v1` signature matches one of the secrets.
 * @throws SignatureInvalid naming the missing or malformed header, the staleness, or the mismatch.
 * @throws ConfigurationError when no secret is configured.
 */
export function verifyStripe(opts: VerifyOptions): void {
  requireSecrets('Stripe', opts.secrets);
  requireTolerance(opts.toleranceSeconds);
  const { timestamp, v1 } = parseStripeSignature(requireHeader(opts.headers, STRIPE_SIGNATURE_HEADER));
  const signedAtMs = parseUnixDigits(`${STRIPE_SIGNATURE_HEADER} t= value`, timestamp, 'seconds');
  checkReplayWindow({ header: STRIPE_SIGNATURE_HEADER, raw: timestamp, signedAtMs, now: opts.now, toleranceSeconds: opts.toleranceSeconds });
  if (!matchesAnySecret(v1, opts.secrets, (secret) => signStripe(opts.body, timestamp, secret))) {
    throw new SignatureInvalid(
      `None of the ${v1.length} v1 signature(s) in the ${STRIPE_SIGNATURE_HEADER} header matches the body ` +
        `for any of the ${opts.secrets.length} configured secret(s).`,
    );
  }
}

/** Headers Stripe would send for this body (one `v1`). */
export function stripeHeaders(input: SignInput, mode: SignMode): Record<string, string> {
  if (mode === 'none') return {};
  const timestamp = String(unixSeconds(input.now) - (mode === 'stale' ? STALE_BY_SECONDS : 0));
  const secret = mode === 'bad' ? wrongSecret(input.secret) : input.secret;
  return { [STRIPE_SIGNATURE_HEADER]: `t=${timestamp},v1=${signStripe(input.body, timestamp, secret)}` };
}

/** Stripe's scheme for index.ts. */
export const stripe: SchemeImplementation = {
  headers: [STRIPE_SIGNATURE_HEADER],
  timestamped: true,
  docs: STRIPE_DOCS,
  verify: verifyStripe,
  sign: stripeHeaders,
};
