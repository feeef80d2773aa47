import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, SignatureInvalid } from '../../lambdas/core/errors.js';
import {
  ZENDESK_SIGNATURE_HEADER,
  ZENDESK_TIMESTAMP_HEADER,
  signZendesk,
  verifyZendesk,
} from '../../lambdas/core/signature/zendesk.js';

const SECRET = 'dGhpc19zZWNyZXQ';
const TIMESTAMP = '2024-05-01T12:00:00Z';
const BODY = '{"ticket":{"id":42}}';
// Computed independently of node:crypto with:
//   printf '%s' '2024-05-01T12:00:00Z{"ticket":{"id":42}}' \
//     | openssl dgst -sha256 -hmac 'dGhpc19zZWNyZXQ' -binary | openssl base64 -A
const KNOWN_SIGNATURE = '7Bw1vAD8Z4pufkgAIzYRatl2UT72K5C+2OG8/RJ/roo=';
const NOW = new Date('2024-05-01T12:01:00Z');

function headersFor(signature: string, timestamp = TIMESTAMP): Record<string, string> {
  return { [ZENDESK_SIGNATURE_HEADER]: signature, [ZENDESK_TIMESTAMP_HEADER]: timestamp };
}

function verify(over: Partial<Parameters<typeof verifyZendesk>[0]> = {}): void {
  verifyZendesk({
    body: BODY,
    headers: headersFor(KNOWN_SIGNATURE),
    secrets: [SECRET],
    now: NOW,
    toleranceSeconds: 300,
    ...over,
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

describe('signZendesk', () => {
  it('matches the openssl-computed vector', () => {
    expect(signZendesk(BODY, TIMESTAMP, SECRET)).toBe(KNOWN_SIGNATURE);
  });
});

describe('verifyZendesk', () => {
  it('accepts the known vector inside the window', () => {
    expect(() => verify()).not.toThrow();
  });

  it('rejects a tampered body', () => {
    expect(messageOf(() => verify({ body: '{"ticket":{"id":43}}' }))).toMatch(/does not match the body for any of the 1/);
  });

  it('rejects a signature made with another secret', () => {
    const forged = signZendesk(BODY, TIMESTAMP, 'wrong-secret');
    expect(messageOf(() => verify({ headers: headersFor(forged) }))).toMatch(/does not match/);
  });

  it('accepts either secret during a rotation', () => {
    const signedWithNew = signZendesk(BODY, TIMESTAMP, 'new-secret');
    expect(() => verify({ headers: headersFor(signedWithNew), secrets: [SECRET, 'new-secret'] })).not.toThrow();
    expect(() => verify({ headers: headersFor(KNOWN_SIGNATURE), secrets: [SECRET, 'new-secret'] })).not.toThrow();
    expect(messageOf(() => verify({ headers: headersFor(signedWithNew), secrets: [SECRET, 'other'] }))).toMatch(
      /any of the 2 configured secret/,
    );
  });

  it('names the missing signature header', () => {
    expect(messageOf(() => verify({ headers: { [ZENDESK_TIMESTAMP_HEADER]: TIMESTAMP } }))).toBe(
      'The x-zendesk-webhook-signature header is missing.',
    );
  });

  it('names the missing timestamp header', () => {
    expect(messageOf(() => verify({ headers: { [ZENDESK_SIGNATURE_HEADER]: KNOWN_SIGNATURE } }))).toBe(
      'The x-zendesk-webhook-signature-timestamp header is missing.',
    );
  });

  it('rejects an unparseable timestamp', () => {
    expect(messageOf(() => verify({ headers: headersFor(KNOWN_SIGNATURE, 'yesterday') }))).toMatch(
      /"yesterday" is not an ISO 8601 timestamp/,
    );
    expect(messageOf(() => verify({ headers: headersFor(KNOWN_SIGNATURE, '1714564800') }))).toMatch(/not an ISO 8601/);
  });

  it('rejects a replay older than the window and says by how much', () => {
    const late = new Date('2024-05-01T12:10:00Z');
    expect(messageOf(() => verify({ now: late }))).toBe(
      'The signature timestamp 2024-05-01T12:00:00Z is 600s older than now, outside the 300s replay window by 300s.',
    );
  });

  it('rejects a timestamp too far in the future', () => {
    const early = new Date('2024-05-01T11:54:00Z');
    expect(messageOf(() => verify({ now: early }))).toMatch(/360s newer than now, outside the 300s replay window by 60s/);
  });

  it('accepts a timestamp exactly at the window edge', () => {
    expect(() => verify({ now: new Date('2024-05-01T12:05:00Z') })).not.toThrow();
  });

  it('rejects a signature of a different length without throwing a RangeError', () => {
    expect(messageOf(() => verify({ headers: headersFor('abc') }))).toMatch(/does not match/);
  });

  it('treats an empty secret list as a configuration error', () => {
    expect(() => verify({ secrets: [] })).toThrow(ConfigurationError);
  });

  it('rejects any modification of the body (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (body, other) => {
        fc.pre(body !== other);
        const signature = signZendesk(body, TIMESTAMP, SECRET);
        expect(() => verify({ body, headers: headersFor(signature) })).not.toThrow();
        expect(() => verify({ body: other, headers: headersFor(signature) })).toThrow(SignatureInvalid);
      }),
    );
  });

  it('rejects a single changed character of the body (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.nat(), fc.string({ minLength: 1, maxLength: 1 }), (body, at, ch) => {
        const i = at % body.length;
        const tampered = body.slice(0, i) + ch + body.slice(i + 1);
        fc.pre(tampered !== body);
        const signature = signZendesk(body, TIMESTAMP, SECRET);
        expect(() => verify({ body: tampered, headers: headersFor(signature) })).toThrow(SignatureInvalid);
      }),
    );
  });
});
