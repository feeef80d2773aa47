import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigurationError, SignatureInvalid } from '../errors.js';

/**
 * What every webhook verifier shares: the request shape, HMAC-SHA256 over raw bytes, a
 * constant-time comparison across every configured secret, strict header reading and the replay
 * window. Each vendor file (github.ts, stripe.ts, …) only says what is signed and how it is sent.
 */

/** A delivery as the ingest handler received it. */
export interface SignedRequest {
  /** The raw body exactly as received; signatures are over these bytes, never a re-serialisation. */
  body: Buffer;
  /** Request headers with lower-cased keys. */
  headers: Record<string, string>;
  /** HTTP method, e.g. `POST` (HubSpot signs it). */
  method: string;
  /** Full URL the vendor called, including the query string (HubSpot signs it). */
  url: string;
}

/** Everything a verifier needs besides the request. */
export interface VerifyOptions extends SignedRequest {
  /** Every currently valid signing secret; more than one during a rotation. */
  secrets: string[];
  /** The verifier's clock, injected so tests and replays are deterministic. */
  now: Date;
  /** Largest accepted distance between a signed timestamp and `now`, either direction. */
  toleranceSeconds: number;
}

/**
 * Which headers {@link SchemeImplementation.sign} produces: `valid`; `bad` (signed with a wrong
 * secret); `stale` (timestamp an hour old; same as `valid` for schemes that sign no timestamp);
 * `none` (no signature headers at all).
 */
export type SignMode = 'valid' | 'bad' | 'stale' | 'none';

/** Input of {@link SchemeImplementation.sign}, normalised by index.ts. */
export interface SignInput {
  body: Buffer;
  secret: string;
  now: Date;
  method: string;
  url: string;
}

/** One vendor's scheme behind the tiny interface index.ts dispatches to. */
export interface SchemeImplementation {
  /** Signature header names, lower-case. */
  headers: string[];
  /** Whether a timestamp is part of the signed bytes (and so a replay window applies). */
  timestamped: boolean;
  /** The vendor's documentation of the scheme. */
  docs: string;
  verify(opts: VerifyOptions): void;
  sign(input: SignInput, mode: SignMode): Record<string, string>;
}

/** How far back `stale` mode dates a signed timestamp: far outside any sensible window. */
export const STALE_BY_SECONDS = 3600;

/** The key `bad` mode signs with: derived from the real one so it is wrong but deterministic. */
export function wrongSecret(secret: string): string {
  return `${secret}-not-the-right-one`;
}

/** HMAC-SHA256 keyed by `secret` (UTF-8) over the concatenation of `parts` (strings as UTF-8). */
export function hmacSha256(secret: string, parts: (string | Buffer)[]): Buffer {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(typeof part === 'string' ? Buffer.from(part, 'utf8') : part);
  return mac.digest();
}

/**
 * Fails with ConfigurationError unless at least one non-empty secret is configured: a missing
 * secret is our fault, not the sender's, and must not read as a 401 for a forged delivery.
 */
export function requireSecrets(vendor: string, secrets: string[]): void {
  if (secrets.length === 0) {
    throw new ConfigurationError(`No ${vendor} signing secret is configured, so no delivery can be verified.`);
  }
  // An empty key still yields an HMAC, one anybody can compute; refuse it rather than verify with it.
  const empty = secrets.filter((s) => s.length === 0).length;
  if (empty > 0) {
    throw new ConfigurationError(`${empty} of the ${secrets.length} configured ${vendor} signing secret(s) is empty.`);
  }
}

/** Fails with ConfigurationError when the replay window is not a finite, non-negative number. */
export function requireTolerance(toleranceSeconds: number): void {
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds < 0) {
    throw new ConfigurationError(`The signature replay window must be a non-negative number of seconds, got ${toleranceSeconds}.`);
  }
}

/** The header's value, trimmed; SignatureInvalid naming the header when it is absent or blank. */
export function requireHeader(headers: Record<string, string>, name: string): string {
  const value = headers[name];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new SignatureInvalid(`The ${name} header is missing.`, { detail: { header: name } });
  }
  return value.trim();
}

/** A sender-supplied value shortened for a message: enough to recognise, never a wall of text. */
export function excerpt(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

/**
 * Parses a Unix timestamp made only of decimal digits (seconds or milliseconds, as the vendor
 * sends it); `label` names it in the message, e.g. `x-slack-request-timestamp header`. Number() alone would accept "", " 1", "1e9", "0x10" and "-5"; a signature check
 * should not guess what a sender meant.
 */
export function parseUnixDigits(label: string, value: string, unit: 'seconds' | 'milliseconds'): number {
  const maxDigits = unit === 'seconds' ? 12 : 15;
  if (!new RegExp(`^\\d{1,${maxDigits}}$`).test(value)) {
    throw new SignatureInvalid(`The ${label} "${excerpt(value)}" is not a Unix timestamp in ${unit}.`, {
      detail: { field: label },
    });
  }
  return unit === 'seconds' ? Number(value) * 1000 : Number(value);
}

/**
 * Rejects a signed timestamp more than `toleranceSeconds` from `now` in either direction, with a
 * sentence saying how far outside the window it is. The edge itself is inside.
 */
export function checkReplayWindow(args: {
  header: string;
  raw: string;
  signedAtMs: number;
  now: Date;
  toleranceSeconds: number;
}): void {
  const { header, raw, signedAtMs, now, toleranceSeconds } = args;
  const skewSeconds = (now.getTime() - signedAtMs) / 1000;
  if (Math.abs(skewSeconds) <= toleranceSeconds) return;
  const direction = skewSeconds > 0 ? 'older' : 'newer';
  throw new SignatureInvalid(
    `The signature timestamp ${excerpt(raw)} is ${seconds(Math.abs(skewSeconds))} ${direction} than now, ` +
      `outside the ${seconds(toleranceSeconds)} replay window by ${seconds(Math.abs(skewSeconds) - toleranceSeconds)}.`,
    { detail: { header, skewSeconds, toleranceSeconds } },
  );
}

// Milliseconds matter for HubSpot (its timestamp is in ms): 300.001s must not print as "300s".
function seconds(value: number): string {
  return `${Number(value.toFixed(3))}s`;
}

/**
 * True when any provided signature equals the expected signature for any secret.
 *
 * Both sides are hashed with SHA-256 before timingSafeEqual, so the buffers always have equal
 * length (timingSafeEqual never throws) and the comparison time leaks neither the expected value
 * nor its length. Every pair is compared, with no early exit, so timing does not reveal which
 * secret (if any) matched. Signatures are compared as the canonical strings the vendor sends.
 */
export function matchesAnySecret(provided: string[], secrets: string[], expectedFor: (secret: string) => string): boolean {
  const providedDigests = provided.map(digestOf);
  let matched = false;
  for (const secret of secrets) {
    const expected = digestOf(expectedFor(secret));
    for (const candidate of providedDigests) {
      matched = timingSafeEqual(candidate, expected) || matched;
    }
  }
  return matched;
}

function digestOf(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Unix seconds of a Date, as vendors put them in headers. */
export function unixSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

/** How a vendor that signs only the body (no timestamp) presents its HMAC-SHA256. */
export interface BodyOnlyScheme {
  /** Vendor name for messages: `GitHub`. */
  vendor: string;
  /** The one signature header (lower-case). */
  header: string;
  docs: string;
  /** Strict shape of the header value. */
  form: RegExp;
  /** What the shape is, for the refusal: `of the form sha256=<64 hex digits>`. */
  formDescription: string;
  /** The header value for a body and a secret. */
  sign(body: Buffer | string, secret: string): string;
  /** Normalises a well-formed header value before comparing (e.g. hex to lower case). @default identity */
  normalise?(header: string): string;
}

/**
 * A scheme whose signature covers the raw body only (GitHub, Shopify): one header, no replay
 * window — dedupe on the vendor's delivery id is the replay protection — and `stale` signs as
 * `valid` because there is no timestamp to age.
 */
export function bodyOnlyScheme(spec: BodyOnlyScheme): SchemeImplementation & { verify(opts: VerifyOptions): void } {
  return {
    headers: [spec.header],
    timestamped: false,
    docs: spec.docs,
    verify(opts: VerifyOptions): void {
      requireSecrets(spec.vendor, opts.secrets);
      const header = requireHeader(opts.headers, spec.header);
      if (!spec.form.test(header)) throw new SignatureInvalid(`The ${spec.header} header is not ${spec.formDescription}.`);
      const provided = spec.normalise ? spec.normalise(header) : header;
      if (!matchesAnySecret([provided], opts.secrets, (secret) => spec.sign(opts.body, secret))) {
        throw new SignatureInvalid(`The ${spec.header} header does not match the body for any of the ${opts.secrets.length} configured secret(s).`);
      }
    },
    sign(input: SignInput, mode: SignMode): Record<string, string> {
      if (mode === 'none') return {};
      return { [spec.header]: spec.sign(input.body, mode === 'bad' ? wrongSecret(input.secret) : input.secret) };
    },
  };
}
