import { ConfigurationError } from '../errors.js';
import type { SignatureScheme } from '../integration.js';
import { github } from './github.js';
import { type SchemeImplementation, type SignMode, type VerifyOptions, requireSecrets } from './hmac.js';
import { hubspot } from './hubspot.js';
import { shopify } from './shopify.js';
import { slack } from './slack.js';
import { stripe } from './stripe.js';
import { zendesk } from './zendesk.js';

/**
 * Webhook signature verification for every vendor Seamwork takes deliveries from: one file per
 * scheme, all behind {@link verifySignature} and {@link signRequest}.
 */

export type { SignedRequest, SignMode, VerifyOptions } from './hmac.js';

const SCHEMES: Record<SignatureScheme, SchemeImplementation> = { github, stripe, shopify, zendesk, hubspot, slack };

/** Per scheme: the signature header names (lower-case), whether a timestamp is signed, the vendor doc URL. */
export const SIGNATURE_SCHEMES: Record<SignatureScheme, { headers: string[]; timestamped: boolean; docs: string }> =
  Object.fromEntries(
    Object.entries(SCHEMES).map(([name, s]) => [name, { headers: [...s.headers], timestamped: s.timestamped, docs: s.docs }]),
  ) as Record<SignatureScheme, { headers: string[]; timestamped: boolean; docs: string }>;

/**
 * Verifies a delivery under the integration's scheme; returns normally when it is authentic.
 * @throws SignatureInvalid with a sentence naming what is wrong (missing or malformed header,
 *   how far outside the replay window, no match for any of N secrets); never a secret or the
 *   expected signature.
 * @throws ConfigurationError when no secret is configured, the window is not a valid number, or
 *   the scheme is unknown.
 */
export function verifySignature(scheme: SignatureScheme, opts: VerifyOptions): void {
  schemeOf(scheme).verify(opts);
}

/**
 * Headers a vendor would send for this body, for fixtures, tests and `seamwork send`.
 * mode: 'valid' | 'bad' (wrong secret) | 'stale' (timestamp an hour old; for schemes without a
 * signed timestamp, same as valid) | 'none' (no signature headers).
 */
export function signRequest(
  scheme: SignatureScheme,
  req: { body: Buffer | string; secret: string; now: Date; method?: string; url?: string },
  mode: SignMode = 'valid',
): Record<string, string> {
  const implementation = schemeOf(scheme);
  requireSecrets(scheme, [req.secret]);
  return implementation.sign(
    {
      body: typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body,
      secret: req.secret,
      now: req.now,
      method: req.method ?? 'POST',
      url: req.url ?? '',
    },
    mode,
  );
}

// Schemes come from integration definitions, which TypeScript checks, but also from CLI flags.
function schemeOf(scheme: SignatureScheme): SchemeImplementation {
  const implementation = Object.hasOwn(SCHEMES, scheme) ? SCHEMES[scheme] : undefined;
  if (implementation === undefined) {
    throw new ConfigurationError(`Unknown signature scheme "${String(scheme)}"; known: ${Object.keys(SCHEMES).join(', ')}.`);
  }
  return implementation;
}
