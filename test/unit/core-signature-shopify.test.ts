import '@shopify/shopify-api/adapters/web-api';
import { ApiVersion, LogSeverity, shopifyApi } from '@shopify/shopify-api';
import { getHmac } from '@shopify/shopify-api/test-helpers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SignatureInvalid } from '../../lambdas/core/errors.js';
import { signRequest } from '../../lambdas/core/signature/index.js';
import { SHOPIFY_SIGNATURE_HEADER, signShopify, verifyShopify } from '../../lambdas/core/signature/shopify.js';

// Shopify publishes no fixed test vector, so the fixed vector here is computed independently of
// node:crypto with:
//   printf '%s' '{"id":820982911946154508,"email":"jon@example.com"}' \
//     | openssl dgst -sha256 -hmac 'shpss_seamwork_test' -binary | openssl base64 -A
// and the scheme itself is checked against Shopify's official library below.
const SECRET = 'shpss_seamwork_test';
const BODY = '{"id":820982911946154508,"email":"jon@example.com"}';
const KNOWN_SIGNATURE = '8UHoztoRI1pSG/vcj3BbZDhlLVSrxtDOSJcFu2R64Eo=';
const NOW = new Date('2024-05-01T12:00:00Z');

function verify(header: string | undefined, over: { body?: string | Buffer; secrets?: string[] } = {}): void {
  const body = over.body ?? BODY;
  verifyShopify({
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    headers: header === undefined ? {} : { [SHOPIFY_SIGNATURE_HEADER]: header },
    method: 'POST',
    url: 'https://hooks.example.com/shopify',
    secrets: over.secrets ?? [SECRET],
    now: NOW,
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

describe('signShopify', () => {
  it('matches the openssl-computed vector', () => {
    expect(signShopify(BODY, SECRET)).toBe(KNOWN_SIGNATURE);
  });
});

describe('verifyShopify', () => {
  it('accepts the known vector', () => {
    expect(() => verify(KNOWN_SIGNATURE)).not.toThrow();
  });

  it('rejects the known vector over a re-serialised body (same JSON, different bytes)', () => {
    const reserialised = JSON.stringify(JSON.parse(BODY), null, 1);
    expect(messageOf(() => verify(KNOWN_SIGNATURE, { body: reserialised }))).toBe(
      'The x-shopify-hmac-sha256 header does not match the body for any of the 1 configured secret(s).',
    );
  });

  it.each([
    ['a hex digest', Buffer.from(KNOWN_SIGNATURE, 'base64').toString('hex')],
    ['unpadded base64', KNOWN_SIGNATURE.replace(/=$/, '')],
    ['base64url', KNOWN_SIGNATURE.replace(/\//g, '_')],
    ['a truncated digest', KNOWN_SIGNATURE.slice(0, 20)],
  ])('rejects %s as malformed', (_name, header) => {
    expect(messageOf(() => verify(header))).toBe('The x-shopify-hmac-sha256 header is not a base64 HMAC-SHA256 (44 characters).');
  });
});

describe('Shopify cross-check with @shopify/shopify-api', () => {
  // Offline: the web-api adapter turns a fetch Request into the library's request, and
  // webhooks.validate needs no network or session storage.
  const shopify = shopifyApi({
    apiKey: 'seamwork-test-key',
    apiSecretKey: SECRET,
    apiVersion: ApiVersion.October25,
    hostName: 'hooks.example.com',
    isEmbeddedApp: false,
    logger: { level: LogSeverity.Error },
  });

  async function libraryValidate(body: string, hmac: string | undefined) {
    const headers: Record<string, string> = {
      'x-shopify-topic': 'orders/create',
      'x-shopify-shop-domain': 'seamwork-test.myshopify.com',
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    };
    if (hmac !== undefined) headers[SHOPIFY_SIGNATURE_HEADER] = hmac;
    const rawRequest = new Request('https://hooks.example.com/shopify', { method: 'POST', headers, body });
    return shopify.webhooks.validate({ rawBody: body, rawRequest });
  }

  it('validates the known vector, as we do', async () => {
    expect(await libraryValidate(BODY, KNOWN_SIGNATURE)).toMatchObject({ valid: true });
  });

  it('verifies what the library signs, for any Unicode body (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }), (body) => {
        expect(() => verify(getHmac(body, SECRET), { body })).not.toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('produces headers webhooks.validate accepts, and it rejects our bad mode', async () => {
    const body = '{"id":1,"note":"Ærøskøbing 🚲"}';
    const valid = signRequest('shopify', { body, secret: SECRET, now: NOW });
    const bad = signRequest('shopify', { body, secret: SECRET, now: NOW }, 'bad');
    expect(await libraryValidate(body, valid[SHOPIFY_SIGNATURE_HEADER])).toMatchObject({ valid: true, topic: 'ORDERS_CREATE' });
    expect(await libraryValidate(body, bad[SHOPIFY_SIGNATURE_HEADER])).toMatchObject({ valid: false, reason: 'invalid_hmac' });
  });
});
