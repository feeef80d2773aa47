import { verifySlackRequest } from '@slack/bolt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SignatureInvalid } from '../../lambdas/core/errors.js';
import { signRequest } from '../../lambdas/core/signature/index.js';
import { SLACK_SIGNATURE_HEADER, SLACK_TIMESTAMP_HEADER, signSlack, verifySlack } from '../../lambdas/core/signature/slack.js';

// Slack's worked example from https://api.slack.com/authentication/verifying-requests-from-slack
// (a slash-command form body). The stored copy of that page is cut before the example, so the
// values were taken from several independent repositories that quote it verbatim; openssl
// reproduces the signature from the secret, timestamp and body.
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TIMESTAMP = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
  '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
  '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
  '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const DOC_NOW = new Date((Number(DOC_TIMESTAMP) + 30) * 1000);

function verify(over: { body?: string | Buffer; headers?: Record<string, string>; secrets?: string[]; now?: Date } = {}): void {
  const body = over.body ?? DOC_BODY;
  verifySlack({
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    headers: over.headers ?? { [SLACK_SIGNATURE_HEADER]: DOC_SIGNATURE, [SLACK_TIMESTAMP_HEADER]: DOC_TIMESTAMP },
    method: 'POST',
    url: 'https://hooks.example.com/slack',
    secrets: over.secrets ?? [DOC_SECRET],
    now: over.now ?? DOC_NOW,
    toleranceSeconds: 300,
  });
}

function messageOf(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SignatureInvalid);
    return (err as Error).message;
  }
  throw new Error('expected SignatureInvalid, nothing was thrown');
}

describe('signSlack', () => {
  it("reproduces Slack's documented example", () => {
    expect(signSlack(DOC_BODY, DOC_TIMESTAMP, DOC_SECRET)).toBe(DOC_SIGNATURE);
  });
});

describe('verifySlack', () => {
  it("accepts Slack's documented example inside the window", () => {
    expect(() => verify()).not.toThrow();
  });

  it('rejects the documented example once it is stale, which is what it is today', () => {
    expect(messageOf(() => verify({ now: new Date('2024-05-01T12:00:00Z') }))).toMatch(/older than now, outside the 300s replay window/);
  });

  it('rejects the documented signature under a different timestamp (the timestamp is signed)', () => {
    const headers = { [SLACK_SIGNATURE_HEADER]: DOC_SIGNATURE, [SLACK_TIMESTAMP_HEADER]: String(Number(DOC_TIMESTAMP) + 1) };
    expect(messageOf(() => verify({ headers }))).toBe(
      'The x-slack-signature header does not match the body and timestamp for any of the 1 configured secret(s).',
    );
  });

  it.each([
    ['an unknown version', `v1=${DOC_SIGNATURE.slice(3)}`],
    ['a missing version', DOC_SIGNATURE.slice(3)],
    ['a truncated digest', DOC_SIGNATURE.slice(0, 40)],
  ])('rejects %s as malformed', (_name, signature) => {
    const headers = { [SLACK_SIGNATURE_HEADER]: signature, [SLACK_TIMESTAMP_HEADER]: DOC_TIMESTAMP };
    expect(messageOf(() => verify({ headers }))).toBe('The x-slack-signature header is not of the form v0=<64 hex digits>.');
  });

  it.each(['1531420618.5', '1.531420618e9', '-1531420618', '0x5B478B4A', 'yesterday', '1531420618000000'])(
    'rejects the timestamp %s as not Unix seconds',
    (timestamp) => {
      const headers = { [SLACK_SIGNATURE_HEADER]: DOC_SIGNATURE, [SLACK_TIMESTAMP_HEADER]: timestamp };
      expect(messageOf(() => verify({ headers }))).toMatch(/^The x-slack-request-timestamp header ".*" is not a Unix timestamp in seconds\.$/);
    },
  );
});

describe('Slack cross-check with @slack/bolt verifySlackRequest', () => {
  // Bolt only verifies; it has no signer. The "Slack signs, we verify" direction is Slack's own
  // documented example above, which Bolt is checked against here too.
  function boltVerify(body: string, headers: Record<string, string>, secret: string, nowMs: number): void {
    verifySlackRequest({
      signingSecret: secret,
      body,
      headers: {
        'x-slack-signature': headers[SLACK_SIGNATURE_HEADER],
        'x-slack-request-timestamp': Number(headers[SLACK_TIMESTAMP_HEADER]),
      },
      nowMilliseconds: nowMs,
    });
  }

  it("accepts Slack's documented example, as we do", () => {
    const headers = { [SLACK_SIGNATURE_HEADER]: DOC_SIGNATURE, [SLACK_TIMESTAMP_HEADER]: DOC_TIMESTAMP };
    expect(() => boltVerify(DOC_BODY, headers, DOC_SECRET, DOC_NOW.getTime())).not.toThrow();
  });

  it('accepts what we sign, for any Unicode body (property)', () => {
    const now = new Date('2024-05-01T12:00:00Z');
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (body) => {
        const headers = signRequest('slack', { body, secret: DOC_SECRET, now });
        expect(() => boltVerify(body, headers, DOC_SECRET, now.getTime())).not.toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('rejects our bad-mode and stale-mode headers, as we do', () => {
    const now = new Date('2024-05-01T12:00:00Z');
    const bad = signRequest('slack', { body: DOC_BODY, secret: DOC_SECRET, now }, 'bad');
    const stale = signRequest('slack', { body: DOC_BODY, secret: DOC_SECRET, now }, 'stale');
    expect(() => boltVerify(DOC_BODY, bad, DOC_SECRET, now.getTime())).toThrow(/signature mismatch/);
    expect(() => boltVerify(DOC_BODY, stale, DOC_SECRET, now.getTime())).toThrow(/stale/);
  });
});
