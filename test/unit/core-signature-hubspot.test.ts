import { Signature } from '@hubspot/api-client';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, SignatureInvalid } from '../../lambdas/core/errors.js';
import {
  HUBSPOT_DECODED_ESCAPES,
  HUBSPOT_SIGNATURE_HEADER,
  HUBSPOT_TIMESTAMP_HEADER,
  hubspotSignedUri,
  signHubspot,
  verifyHubspot,
} from '../../lambdas/core/signature/hubspot.js';
import { signRequest } from '../../lambdas/core/signature/index.js';

// HubSpot publishes no v3 test vector, so the fixed vector here is computed independently of
// node:crypto, with the URI decoded by hand per the table in
// https://developers.hubspot.com/docs/api/webhooks/validating-requests (%3A → :, %2F → /, %28 → (,
// %29 → )):
//   printf '%s' 'POSThttps://example.com/webhooks/hubspot?from=a:b&path=/x&q=(1)[{"objectId":123}]1714564800000' \
//     | openssl dgst -sha256 -hmac 'hubspot-app-secret' -binary | openssl base64 -A
const SECRET = 'hubspot-app-secret';
const URL_AS_CALLED = 'https://example.com/webhooks/hubspot?from=a%3Ab&path=%2Fx&q=%281%29';
const BODY = '[{"objectId":123}]';
const TIMESTAMP = '1714564800000';
const KNOWN_SIGNATURE = '5LYvPH6diZXW58YXHo9gSTmUbImC5QbEahmkQOYLHjU=';
const NOW = new Date(Number(TIMESTAMP) + 60_000);

function verify(over: { headers?: Record<string, string>; body?: string; url?: string; method?: string; secrets?: string[]; now?: Date } = {}): void {
  verifyHubspot({
    body: Buffer.from(over.body ?? BODY, 'utf8'),
    headers: over.headers ?? { [HUBSPOT_SIGNATURE_HEADER]: KNOWN_SIGNATURE, [HUBSPOT_TIMESTAMP_HEADER]: TIMESTAMP },
    method: over.method ?? 'POST',
    url: over.url ?? URL_AS_CALLED,
    secrets: over.secrets ?? [SECRET],
    now: over.now ?? NOW,
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

describe('hubspotSignedUri', () => {
  it('decodes each of the twelve escapes HubSpot documents', () => {
    expect(Object.keys(HUBSPOT_DECODED_ESCAPES)).toHaveLength(12);
    for (const [escape, char] of Object.entries(HUBSPOT_DECODED_ESCAPES)) {
      expect(hubspotSignedUri(`https://h.example/p?v=a${escape}b`)).toBe(`https://h.example/p?v=a${char}b`);
    }
  });

  it('leaves other escapes encoded', () => {
    expect(hubspotSignedUri('https://h.example/p?a=x%20y&b=%26&c=%25&d=%3D&e=%C3%A9')).toBe('https://h.example/p?a=x%20y&b=%26&c=%25&d=%3D&e=%C3%A9');
  });

  it('decodes in one pass, so an encoded percent sign is not decoded twice', () => {
    expect(hubspotSignedUri('https://h.example/p?v=%253A')).toBe('https://h.example/p?v=%253A');
  });

  it('decodes only the upper-case escapes the table lists', () => {
    expect(hubspotSignedUri('https://h.example/p?v=%3a')).toBe('https://h.example/p?v=%3a');
  });
});

describe('signHubspot', () => {
  it('matches the openssl-computed vector over the decoded URI', () => {
    expect(signHubspot({ method: 'POST', url: URL_AS_CALLED, body: BODY, timestamp: TIMESTAMP }, SECRET)).toBe(KNOWN_SIGNATURE);
  });
});

describe('verifyHubspot', () => {
  it('accepts the known vector', () => {
    expect(() => verify()).not.toThrow();
  });

  it.each([
    ['method', { method: 'PUT' }],
    ['URL', { url: URL_AS_CALLED.replace('q=%281%29', 'q=%282%29') }],
    ['protocol', { url: URL_AS_CALLED.replace('https:', 'http:') }],
  ])('rejects the known vector when the %s differs (it is signed)', (_name, over) => {
    expect(messageOf(() => verify(over))).toBe(
      'The x-hubspot-signature-v3 header does not match the method, URL, body and timestamp for any of the 1 configured secret(s).',
    );
  });

  it('reports a millisecond past the window in milliseconds, not as 0s', () => {
    expect(messageOf(() => verify({ now: new Date(Number(TIMESTAMP) + 300_001) }))).toMatch(/300\.001s older than now, outside the 300s replay window by 0\.001s/);
  });

  it('reads a seconds timestamp as milliseconds and rejects it as decades stale', () => {
    const headers = { [HUBSPOT_SIGNATURE_HEADER]: KNOWN_SIGNATURE, [HUBSPOT_TIMESTAMP_HEADER]: TIMESTAMP.slice(0, 10) };
    expect(messageOf(() => verify({ headers }))).toMatch(/older than now, outside the 300s replay window/);
  });

  it.each(['1714564800000.0', '1.7145648e12', '-1714564800000', 'now', '17145648000000000'])('rejects the timestamp %s as malformed', (timestamp) => {
    const headers = { [HUBSPOT_SIGNATURE_HEADER]: KNOWN_SIGNATURE, [HUBSPOT_TIMESTAMP_HEADER]: timestamp };
    expect(messageOf(() => verify({ headers }))).toMatch(/^The x-hubspot-request-timestamp header ".*" is not a Unix timestamp in milliseconds\.$/);
  });

  it('rejects a hex digest as malformed', () => {
    const hex = Buffer.from(KNOWN_SIGNATURE, 'base64').toString('hex');
    const headers = { [HUBSPOT_SIGNATURE_HEADER]: hex, [HUBSPOT_TIMESTAMP_HEADER]: TIMESTAMP };
    expect(messageOf(() => verify({ headers }))).toBe('The x-hubspot-signature-v3 header is not a base64 HMAC-SHA256 (44 characters).');
  });

  it('treats a missing URL as a configuration error (HubSpot signs it)', () => {
    expect(() => verify({ url: '' })).toThrow(ConfigurationError);
    expect(() => signRequest('hubspot', { body: BODY, secret: SECRET, now: NOW })).toThrow(ConfigurationError);
  });
});

describe('HubSpot cross-check with @hubspot/api-client Signature', () => {
  // Signature.isValid reads Date.now(); pin it to the test's clock.
  afterEach(() => {
    vi.useRealTimers();
  });

  // getSignature's options type demands the signature it is about to compute; it ignores it.
  function librarySign(url: string, body: string, ms: number): string {
    return Signature.getSignature('POST', 'v3', { signature: '', clientSecret: SECRET, url, requestBody: body, timestamp: ms });
  }

  function libraryIsValid(signature: string, url: string, body: string, timestamp: string, now: Date): boolean {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(now);
    return Signature.isValid({ signatureVersion: 'v3', method: 'POST', signature, clientSecret: SECRET, url, requestBody: body, timestamp: Number(timestamp) });
  }

  it('verifies what the library signs, for any Unicode body and a URL without escapes (property)', () => {
    const url = 'https://hooks.example.com/webhooks/hubspot?portal=62515';
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), fc.integer({ min: 1_500_000_000_000, max: 2_000_000_000_000 }), (body, ms) => {
        const timestamp = String(ms);
        const signature = librarySign(url, body, ms);
        expect(() =>
          verify({ headers: { [HUBSPOT_SIGNATURE_HEADER]: signature, [HUBSPOT_TIMESTAMP_HEADER]: timestamp }, url, body, now: new Date(ms) }),
        ).not.toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('produces headers Signature.isValid accepts, and it rejects our bad mode', () => {
    const url = 'https://hooks.example.com/webhooks/hubspot?portal=62515';
    const body = '[{"objectId":1,"propertyValue":"Zoë"}]';
    const now = new Date('2024-05-01T12:00:00Z');
    const valid = signRequest('hubspot', { body, secret: SECRET, now, method: 'POST', url });
    const bad = signRequest('hubspot', { body, secret: SECRET, now, method: 'POST', url }, 'bad');
    expect(libraryIsValid(valid[HUBSPOT_SIGNATURE_HEADER], url, body, valid[HUBSPOT_TIMESTAMP_HEADER], now)).toBe(true);
    expect(libraryIsValid(bad[HUBSPOT_SIGNATURE_HEADER], url, body, bad[HUBSPOT_TIMESTAMP_HEADER], now)).toBe(false);
  });

  it('rejects our stale mode, as we do', () => {
    const url = 'https://hooks.example.com/webhooks/hubspot';
    const now = new Date('2024-05-01T12:00:00Z');
    const stale = signRequest('hubspot', { body: BODY, secret: SECRET, now, url }, 'stale');
    expect(() => libraryIsValid(stale[HUBSPOT_SIGNATURE_HEADER], url, BODY, stale[HUBSPOT_TIMESTAMP_HEADER], now)).toThrow(/Timestamp is invalid/);
  });

  it('matches the library when it is given the URI decoded as the docs say; the library does not decode itself', () => {
    const decoded = hubspotSignedUri(URL_AS_CALLED);
    expect(librarySign(decoded, BODY, Number(TIMESTAMP))).toBe(KNOWN_SIGNATURE);
    expect(librarySign(URL_AS_CALLED, BODY, Number(TIMESTAMP))).not.toBe(KNOWN_SIGNATURE);
  });
});
