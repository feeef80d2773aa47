import { type SchemeImplementation, type SignInput, type SignMode, type VerifyOptions, bodyOnlyScheme, hmacSha256 } from './hmac.js';

/**
 * Shopify webhook signatures.
 *
 * Shopify sends `x-shopify-hmac-sha256: <base64 HMAC-SHA256 of the raw body>` keyed by the app's
 * client secret. No timestamp is signed, so replay protection for Shopify is dedupe on
 * `x-shopify-event-id` (what Shopify says identifies an event across retries; `x-shopify-webhook-id` as a fallback), not this check.
 */

/** Header carrying the base64 HMAC-SHA256 of the body. */
export const SHOPIFY_SIGNATURE_HEADER = 'x-shopify-hmac-sha256';
/** Shopify's documentation of the scheme. */
export const SHOPIFY_DOCS = 'https://shopify.dev/docs/apps/build/webhooks/verify-deliveries';

// A SHA-256 digest is 32 bytes: 43 base64 characters and one `=` of padding.
const FORM = /^[A-Za-z0-9+/]{43}=$/;

/** Computes Shopify's header value: base64 HMAC-SHA256 of the body. */
export function signShopify(body: Buffer | string, secret: string): string {
  return hmacSha256(secret, [body]).toString('base64');
}

/** Shopify's scheme for index.ts. */
export const shopify: SchemeImplementation = bodyOnlyScheme({
  vendor: 'Shopify',
  header: SHOPIFY_SIGNATURE_HEADER,
  docs: SHOPIFY_DOCS,
  form: FORM,
  formDescription: 'a base64 HMAC-SHA256 (44 characters)',
  sign: signShopify,
});

/**
 * Verifies a Shopify delivery; returns normally when the signature matches one of the secrets.
 * @throws SignatureInvalid naming the missing or malformed header, or the mismatch.
 * @throws ConfigurationError when no secret is configured.
 */
export function verifyShopify(opts: VerifyOptions): void {
  shopify.verify(opts);
}

/** Headers Shopify would send for this body; `stale` is the same as `valid` (no timestamp is signed). */
export function shopifyHeaders(input: SignInput, mode: SignMode): Record<string, string> {
  return shopify.sign(input, mode);
}
