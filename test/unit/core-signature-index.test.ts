import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, SignatureInvalid } from '../../lambdas/core/errors.js';
import type { SignatureScheme } from '../../lambdas/core/integration.js';
import { SIGNATURE_SCHEMES, signRequest, verifySignature } from '../../lambdas/core/signature/index.js';

// Behaviour every scheme shares, driven through the public API only. Vendor vectors and
// official-library cross-checks live in core-signature-<vendor>.test.ts.

const SCHEMES = Object.keys(SIGNATURE_SCHEMES) as SignatureScheme[];
const TIMESTAMPED = SCHEMES.filter((s) => SIGNATURE_SCHEMES[s].timestamped);
const UNTIMESTAMPED = SCHEMES.filter((s) => !SIGNATURE_SCHEMES[s].timestamped);

const SECRET = 'current-secret-7f3a';
const OLD_SECRET = 'previous-secret-91c2';
const OTHER_SECRET = 'unrelated-secret-55d0';
const BODY = Buffer.from('{"id":"evt_42","type":"thing.happened","n":1}', 'utf8');
const URL = 'https://hooks.example.com/webhooks/source?tenant=acme';
const SIGNED_AT = new Date('2024-05-01T12:00:00Z');
const TOLERANCE = 300;

function sign(scheme: SignatureScheme, over: { body?: Buffer; secret?: string; now?: Date } = {}, mode?: 'valid' | 'bad' | 'stale' | 'none') {
  return signRequest(scheme, { body: over.body ?? BODY, secret: over.secret ?? SECRET, now: over.now ?? SIGNED_AT, method: 'POST', url: URL }, mode);
}

function verify(
  scheme: SignatureScheme,
  headers: Record<string, string>,
  over: { body?: Buffer; secrets?: string[]; now?: Date; toleranceSeconds?: number } = {},
): void {
  verifySignature(scheme, {
    body: over.body ?? BODY,
    headers,
    method: 'POST',
    url: URL,
    secrets: over.secrets ?? [SECRET],
    now: over.now ?? SIGNED_AT,
    toleranceSeconds: over.toleranceSeconds ?? TOLERANCE,
  });
}

function rejection(fn: () => void): SignatureInvalid {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SignatureInvalid);
    return err as SignatureInvalid;
  }
  throw new Error('expected SignatureInvalid, nothing was thrown');
}

function flipByte(body: Buffer, at: number, mask = 0x01): Buffer {
  const copy = Buffer.from(body);
  copy[at % copy.length] ^= mask;
  return copy;
}

function after(seconds: number): Date {
  return new Date(SIGNED_AT.getTime() + seconds * 1000);
}

describe('SIGNATURE_SCHEMES', () => {
  it('describes all six schemes with lower-case header names and an https doc link', () => {
    expect(SCHEMES.sort()).toEqual(['github', 'hubspot', 'shopify', 'slack', 'stripe', 'zendesk']);
    for (const scheme of SCHEMES) {
      const { headers, docs } = SIGNATURE_SCHEMES[scheme];
      expect(headers.length).toBeGreaterThan(0);
      for (const h of headers) expect(h).toBe(h.toLowerCase());
      expect(docs).toMatch(/^https:\/\//);
    }
  });

  it('marks exactly the schemes that sign a timestamp', () => {
    expect(TIMESTAMPED.sort()).toEqual(['hubspot', 'slack', 'stripe', 'zendesk']);
  });

  it('lists the headers signRequest produces', () => {
    for (const scheme of SCHEMES) {
      expect(Object.keys(sign(scheme)).sort()).toEqual([...SIGNATURE_SCHEMES[scheme].headers].sort());
    }
  });
});

describe.each(SCHEMES)('verifySignature(%s)', (scheme) => {
  it('accepts the headers signRequest makes in valid mode', () => {
    expect(() => verify(scheme, sign(scheme))).not.toThrow();
  });

  it('treats a string body like its UTF-8 bytes when signing', () => {
    const fromString = signRequest(scheme, { body: BODY.toString('utf8'), secret: SECRET, now: SIGNED_AT, url: URL });
    expect(fromString).toEqual(sign(scheme));
  });

  it('rejects a body with one byte changed', () => {
    const headers = sign(scheme);
    const err = rejection(() => verify(scheme, headers, { body: flipByte(BODY, 7) }));
    expect(err.message).toMatch(/for any of the 1 configured secret\(s\)/);
  });

  it('rejects headers signed with a wrong secret (bad mode)', () => {
    expect(rejection(() => verify(scheme, sign(scheme, {}, 'bad'))).message).toMatch(/for any of the 1 configured secret\(s\)/);
  });

  it('accepts the old and the new secret during a rotation, and not a third', () => {
    const secrets = [OLD_SECRET, SECRET];
    expect(() => verify(scheme, sign(scheme, { secret: OLD_SECRET }), { secrets })).not.toThrow();
    expect(() => verify(scheme, sign(scheme, { secret: SECRET }), { secrets })).not.toThrow();
    expect(rejection(() => verify(scheme, sign(scheme, { secret: OTHER_SECRET }), { secrets })).message).toMatch(
      /for any of the 2 configured secret\(s\)/,
    );
  });

  it('names the missing header when no signature headers are sent (none mode)', () => {
    const headers = sign(scheme, {}, 'none');
    expect(headers).toEqual({});
    expect(rejection(() => verify(scheme, headers)).message).toBe(`The ${SIGNATURE_SCHEMES[scheme].headers[0]} header is missing.`);
  });

  it.each(SIGNATURE_SCHEMES[scheme].headers)('names the %s header when only it is missing', (header) => {
    const headers = sign(scheme);
    delete headers[header];
    expect(rejection(() => verify(scheme, headers)).message).toBe(`The ${header} header is missing.`);
  });

  it('treats a blank header as missing', () => {
    const headers = { ...sign(scheme), [SIGNATURE_SCHEMES[scheme].headers[0]]: '   ' };
    expect(rejection(() => verify(scheme, headers)).message).toBe(`The ${SIGNATURE_SCHEMES[scheme].headers[0]} header is missing.`);
  });

  it('treats an empty secret list as a configuration error, not a forged delivery', () => {
    expect(() => verify(scheme, sign(scheme), { secrets: [] })).toThrow(ConfigurationError);
  });

  it('refuses an empty secret in the list', () => {
    expect(() => verify(scheme, sign(scheme), { secrets: [SECRET, ''] })).toThrow(ConfigurationError);
    expect(() => signRequest(scheme, { body: BODY, secret: '', now: SIGNED_AT, url: URL })).toThrow(ConfigurationError);
  });

  it('never puts a secret or the expected signature in a rejection message', () => {
    const valid = sign(scheme);
    const expectedValues = Object.values(valid);
    const messages = [
      rejection(() => verify(scheme, sign(scheme, {}, 'bad'), { secrets: [SECRET, OLD_SECRET] })).message,
      rejection(() => verify(scheme, valid, { body: flipByte(BODY, 3), secrets: [SECRET, OLD_SECRET] })).message,
      rejection(() => verify(scheme, sign(scheme, { secret: OTHER_SECRET }), { secrets: [SECRET] })).message,
      rejection(() => verify(scheme, {}, { secrets: [SECRET] })).message,
      rejection(() => verify(scheme, { ...valid, [SIGNATURE_SCHEMES[scheme].headers[0]]: 'nonsense' })).message,
    ];
    for (const message of messages) {
      expect(message.length).toBeGreaterThan(10);
      for (const secret of [SECRET, OLD_SECRET, OTHER_SECRET]) expect(message).not.toContain(secret);
      for (const value of expectedValues) {
        // Timestamps are not secret and may be quoted; signatures must not be.
        if (value.length > 20 && !/^\d+$/.test(value) && !/^\d{4}-/.test(value)) expect(message).not.toContain(value);
      }
      const hex = /[0-9a-f]{64}/.exec(message);
      expect(hex).toBeNull();
    }
  });

  it('round-trips arbitrary byte bodies, and rejects any single-byte change (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, mask) => {
        const body = Buffer.from(bytes);
        const headers = sign(scheme, { body });
        expect(() => verify(scheme, headers, { body })).not.toThrow();
        expect(() => verify(scheme, headers, { body: flipByte(body, at, mask) })).toThrow(SignatureInvalid);
      }),
      { numRuns: 200 },
    );
  });

  it('reports an unknown scheme as a configuration error', () => {
    expect(() => verifySignature('gitlab' as SignatureScheme, { body: BODY, headers: {}, method: 'POST', url: URL, secrets: [SECRET], now: SIGNED_AT, toleranceSeconds: 300 })).toThrow(
      /Unknown signature scheme "gitlab"/,
    );
  });
});

describe.each(TIMESTAMPED)('verifySignature(%s) replay window', (scheme) => {
  it('rejects stale mode (an hour old) and says by how much', () => {
    const err = rejection(() => verify(scheme, sign(scheme, {}, 'stale')));
    expect(err.message).toMatch(/is 3600s older than now, outside the 300s replay window by 3300s\.$/);
    expect(err.detail).toMatchObject({ skewSeconds: 3600, toleranceSeconds: 300 });
  });

  it('accepts a delivery exactly at the old edge of the window', () => {
    expect(() => verify(scheme, sign(scheme), { now: after(TOLERANCE) })).not.toThrow();
  });

  it('rejects a delivery one second past the old edge', () => {
    expect(rejection(() => verify(scheme, sign(scheme), { now: after(TOLERANCE + 1) })).message).toMatch(
      /is 301s older than now, outside the 300s replay window by 1s\./,
    );
  });

  it('accepts a timestamp exactly at the future edge of the window', () => {
    expect(() => verify(scheme, sign(scheme), { now: after(-TOLERANCE) })).not.toThrow();
  });

  it('rejects a timestamp one second past the future edge', () => {
    expect(rejection(() => verify(scheme, sign(scheme), { now: after(-TOLERANCE - 1) })).message).toMatch(
      /is 301s newer than now, outside the 300s replay window by 1s\./,
    );
  });

  it('uses the configured window, not a built-in one', () => {
    expect(() => verify(scheme, sign(scheme), { now: after(900), toleranceSeconds: 900 })).not.toThrow();
    expect(() => verify(scheme, sign(scheme), { now: after(31), toleranceSeconds: 30 })).toThrow(/outside the 30s replay window by 1s/);
  });

  it('checks the window even when the signature is valid for a rotated secret', () => {
    expect(() => verify(scheme, sign(scheme, { secret: OLD_SECRET }), { secrets: [SECRET, OLD_SECRET], now: after(301) })).toThrow(
      /replay window/,
    );
  });

  it('refuses a negative or non-finite window as a configuration error', () => {
    expect(() => verify(scheme, sign(scheme), { toleranceSeconds: -1 })).toThrow(ConfigurationError);
    expect(() => verify(scheme, sign(scheme), { toleranceSeconds: Number.NaN })).toThrow(ConfigurationError);
  });
});

describe.each(UNTIMESTAMPED)('signRequest(%s) without a signed timestamp', (scheme) => {
  it('makes stale mode identical to valid mode, and it still verifies a day later', () => {
    expect(sign(scheme, {}, 'stale')).toEqual(sign(scheme));
    expect(() => verify(scheme, sign(scheme, {}, 'stale'), { now: after(86_400) })).not.toThrow();
  });
});
