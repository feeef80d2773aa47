import Stripe from 'stripe';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SignatureInvalid } from '../../lambdas/core/errors.js';
import { signRequest } from '../../lambdas/core/signature/index.js';
import { STRIPE_SIGNATURE_HEADER, parseStripeSignature, signStripe, verifyStripe } from '../../lambdas/core/signature/stripe.js';

// Stripe publishes no fixed test vector (its docs show a header without the secret and payload
// behind it), so the fixed vector here is computed independently of node:crypto with:
//   printf '%s' '1714564800.{"id":"evt_1","object":"event"}' \
//     | openssl dgst -sha256 -hmac 'whsec_seamwork_test' -hex
// and the scheme itself is checked against Stripe's official library below.
const SECRET = 'whsec_seamwork_test';
const TIMESTAMP = '1714564800';
const BODY = '{"id":"evt_1","object":"event"}';
const KNOWN_V1 = '639515462af4b74263d00dbf2578937cbe6d62a563888647a1b8234946577767';
const NOW = new Date(Number(TIMESTAMP) * 1000 + 60_000);

const stripe = new Stripe('sk_test_not_a_real_key_signature_tests_only');

function verify(header: string | undefined, over: { body?: string | Buffer; secrets?: string[]; now?: Date; toleranceSeconds?: number } = {}): void {
  const body = over.body ?? BODY;
  verifyStripe({
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    headers: header === undefined ? {} : { [STRIPE_SIGNATURE_HEADER]: header },
    method: 'POST',
    url: 'https://hooks.example.com/stripe',
    secrets: over.secrets ?? [SECRET],
    now: over.now ?? NOW,
    toleranceSeconds: over.toleranceSeconds ?? 300,
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

describe('signStripe', () => {
  it('matches the openssl-computed vector', () => {
    expect(signStripe(BODY, TIMESTAMP, SECRET)).toBe(KNOWN_V1);
  });
});

describe('parseStripeSignature', () => {
  it('keeps every v1, ignores v0 and unknown schemes, and keeps t as sent', () => {
    const parsed = parseStripeSignature(`t=${TIMESTAMP},v1=${'A'.repeat(64)},v0=${'b'.repeat(64)},v1=${KNOWN_V1},x9=whatever`);
    expect(parsed).toEqual({ timestamp: TIMESTAMP, v1: ['a'.repeat(64), KNOWN_V1] });
  });
});

describe('verifyStripe', () => {
  it('accepts the known vector', () => {
    expect(() => verify(`t=${TIMESTAMP},v1=${KNOWN_V1}`)).not.toThrow();
  });

  it('accepts a header whose matching v1 is not the first (Stripe rolling its own secret)', () => {
    expect(() => verify(`t=${TIMESTAMP},v1=${'0'.repeat(64)},v1=${KNOWN_V1},v0=${'1'.repeat(64)}`)).not.toThrow();
  });

  it('rejects a header whose v1 entries all fail, and says how many were tried', () => {
    expect(messageOf(() => verify(`t=${TIMESTAMP},v1=${'0'.repeat(64)},v1=${'1'.repeat(64)}`, { secrets: [SECRET, 'whsec_old'] }))).toBe(
      'None of the 2 v1 signature(s) in the stripe-signature header matches the body for any of the 2 configured secret(s).',
    );
  });

  it('rejects the known v1 under a different t (the timestamp is signed)', () => {
    expect(messageOf(() => verify(`t=${Number(TIMESTAMP) + 1},v1=${KNOWN_V1}`))).toMatch(/None of the 1 v1 signature/);
  });

  it.each([
    ['only a v0 signature', `t=${TIMESTAMP},v0=${KNOWN_V1}`, 'The stripe-signature header has no v1 signature.'],
    ['no timestamp', `v1=${KNOWN_V1}`, 'The stripe-signature header has no t= timestamp.'],
    ['two timestamps', `t=${TIMESTAMP},t=${TIMESTAMP},v1=${KNOWN_V1}`, 'The stripe-signature header has more than one t= timestamp.'],
    ['a part without =', `t=${TIMESTAMP},${KNOWN_V1}`, 'The stripe-signature header is malformed: every part must be key=value.'],
    ['a bare value', KNOWN_V1, 'The stripe-signature header is malformed: every part must be key=value.'],
    ['a v1 that is not hex', `t=${TIMESTAMP},v1=${'g'.repeat(64)}`, 'The stripe-signature header has a v1 signature that is not 64 hex digits.'],
    ['a timestamp in milliseconds', `t=${TIMESTAMP}000,v1=${KNOWN_V1}`, 'The stripe-signature t= value "1714564800000" is not a Unix timestamp in seconds.'],
    ['a signed timestamp', `t=+${TIMESTAMP},v1=${KNOWN_V1}`, 'The stripe-signature t= value "+1714564800" is not a Unix timestamp in seconds.'],
    ['an empty timestamp', `t=,v1=${KNOWN_V1}`, 'The stripe-signature t= value "" is not a Unix timestamp in seconds.'],
  ])('rejects a header with %s', (_name, header, message) => {
    expect(messageOf(() => verify(header))).toBe(message);
  });
});

describe('Stripe cross-check with stripe.webhooks', () => {
  const OLD = 'whsec_seamwork_previous';

  it('verifies what generateTestHeaderString signs, for any JSON-safe Unicode body (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }), fc.integer({ min: 1_500_000_000, max: 2_000_000_000 }), (text, t) => {
        const payload = JSON.stringify({ text });
        const header = stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET, timestamp: t });
        expect(() => verify(header, { body: payload, now: new Date(t * 1000) })).not.toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('produces headers constructEvent accepts, and constructEvent rejects our bad and stale modes', () => {
    const payload = '{"id":"evt_2","object":"event","data":{"note":"Grüße 👋"}}';
    const at = new Date('2024-05-01T12:00:00Z');
    const valid = signRequest('stripe', { body: payload, secret: SECRET, now: at })[STRIPE_SIGNATURE_HEADER];
    const bad = signRequest('stripe', { body: payload, secret: SECRET, now: at }, 'bad')[STRIPE_SIGNATURE_HEADER];
    const stale = signRequest('stripe', { body: payload, secret: SECRET, now: at }, 'stale')[STRIPE_SIGNATURE_HEADER];
    expect(stripe.webhooks.constructEvent(payload, valid, SECRET, 300, undefined, at.getTime())).toMatchObject({ id: 'evt_2' });
    expect(() => stripe.webhooks.constructEvent(payload, bad, SECRET, 300, undefined, at.getTime())).toThrow(/No signatures found matching/);
    expect(() => stripe.webhooks.constructEvent(payload, stale, SECRET, 300, undefined, at.getTime())).toThrow(/Timestamp outside the tolerance zone/);
  });

  it('agrees with constructEvent on a header carrying two v1 signatures during a secret roll', () => {
    const t = 1_714_564_800;
    const withOld = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: OLD, timestamp: t });
    const withNew = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: SECRET, timestamp: t });
    const header = `${withOld},v1=${withNew.split('v1=')[1]}`;
    const at = new Date(t * 1000);
    for (const secret of [OLD, SECRET]) {
      expect(() => stripe.webhooks.constructEvent(BODY, header, secret, 300, undefined, at.getTime())).not.toThrow();
      expect(() => verify(header, { secrets: [secret], now: at })).not.toThrow();
    }
    expect(() => stripe.webhooks.constructEvent(BODY, header, 'whsec_third', 300, undefined, at.getTime())).toThrow();
    expect(() => verify(header, { secrets: ['whsec_third'], now: at })).toThrow(SignatureInvalid);
  });

  it('agrees with constructEvent at the old edge of the window: 300 s passes, 301 s fails', () => {
    const t = 1_714_564_800;
    const header = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: SECRET, timestamp: t });
    for (const [age, ok] of [[300, true], [301, false]] as const) {
      const at = new Date((t + age) * 1000);
      const ours = () => verify(header, { now: at });
      const theirs = () => stripe.webhooks.constructEvent(BODY, header, SECRET, 300, undefined, at.getTime());
      if (ok) {
        expect(ours).not.toThrow();
        expect(theirs).not.toThrow();
      } else {
        expect(ours).toThrow(/by 1s/);
        expect(theirs).toThrow(/tolerance/);
      }
    }
  });

  it('deliberately differs from constructEvent on a timestamp from the future: Stripe accepts it, we do not', () => {
    const t = 1_714_564_800;
    const header = stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: SECRET, timestamp: t });
    const at = new Date((t - 301) * 1000);
    expect(() => stripe.webhooks.constructEvent(BODY, header, SECRET, 300, undefined, at.getTime())).not.toThrow();
    expect(messageOf(() => verify(header, { now: at }))).toMatch(/301s newer than now/);
  });
});
