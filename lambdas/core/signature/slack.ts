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
 * Slack request signatures.
 *
 * Slack signs the base string `v0:<timestamp>:<raw body>` with HMAC-SHA256 keyed by the app's
 * signing secret and sends `x-slack-signature: v0=<hex>`, with the timestamp (Unix seconds) in
 * `x-slack-request-timestamp`. Slack asks receivers to reject timestamps more than five minutes
 * from their clock ({@link SLACK_MAX_SKEW_SECONDS}); the window used is the configured one.
 */

/** Header carrying `v0=<hex>`. */
export const SLACK_SIGNATURE_HEADER = 'x-slack-signature';
/** Header carrying the Unix-seconds timestamp that is part of the signed bytes. */
export const SLACK_TIMESTAMP_HEADER = 'x-slack-request-timestamp';
/** Slack's recommended replay window. */
export const SLACK_MAX_SKEW_SECONDS = 300;
/** Slack's documentation of the scheme, with its worked example. */
export const SLACK_DOCS = 'https://api.slack.com/authentication/verifying-requests-from-slack';

const FORM = /^v0=[0-9a-fA-F]{64}$/;

/** Computes Slack's header value: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<body>`. */
export function signSlack(body: Buffer | string, timestamp: string, secret: string): string {
  return `v0=${hmacSha256(secret, [`v0:${timestamp}:`, body]).toString('hex')}`;
}

/**
 * Verifies a Slack request; returns normally when the timestamp is inside the replay window and
 * the signature matches one of the secrets.
 * @throws SignatureInvalid naming the missing or malformed header, the staleness, or the mismatch.
 * @throws ConfigurationError when no secret is configured.
 */
export function verifySlack(opts: VerifyOptions): void {
  requireSecrets('Slack', opts.secrets);
  requireTolerance(opts.toleranceSeconds);
  const signature = requireHeader(opts.headers, SLACK_SIGNATURE_HEADER);
  const timestamp = requireHeader(opts.headers, SLACK_TIMESTAMP_HEADER);
  const signedAtMs = parseUnixDigits(`${SLACK_TIMESTAMP_HEADER} header`, timestamp, 'seconds');
  checkReplayWindow({ header: SLACK_TIMESTAMP_HEADER, raw: timestamp, signedAtMs, now: opts.now, toleranceSeconds: opts.toleranceSeconds });
  if (!FORM.test(signature)) {
    throw new SignatureInvalid(`The ${SLACK_SIGNATURE_HEADER} header is not of the form v0=<64 hex digits>.`);
  }
  const provided = `v0=${signature.slice(3).toLowerCase()}`;
  if (!matchesAnySecret([provided], opts.secrets, (secret) => signSlack(opts.body, timestamp, secret))) {
    throw new SignatureInvalid(
      `The ${SLACK_SIGNATURE_HEADER} header does not match the body and timestamp for any of the ${opts.secrets.length} configured secret(s).`,
    );
  }
}

/** Headers Slack would send for this body. */
export function slackHeaders(input: SignInput, mode: SignMode): Record<string, string> {
  if (mode === 'none') return {};
  const timestamp = String(unixSeconds(input.now) - (mode === 'stale' ? STALE_BY_SECONDS : 0));
  const secret = mode === 'bad' ? wrongSecret(input.secret) : input.secret;
  return { [SLACK_SIGNATURE_HEADER]: signSlack(input.body, timestamp, secret), [SLACK_TIMESTAMP_HEADER]: timestamp };
}

/** Slack's scheme for index.ts. */
export const slack: SchemeImplementation = {
  headers: [SLACK_SIGNATURE_HEADER, SLACK_TIMESTAMP_HEADER],
  timestamped: true,
  docs: SLACK_DOCS,
  verify: verifySlack,
  sign: slackHeaders,
};
