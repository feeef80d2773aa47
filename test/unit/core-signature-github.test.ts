import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SignatureInvalid } from '../../lambdas/core/errors.js';
import { GITHUB_SIGNATURE_HEADER, signGithub, verifyGithub } from '../../lambdas/core/signature/github.js';
import { signRequest } from '../../lambdas/core/signature/index.js';

// GitHub's documented test values, from "Testing the webhook payload validation" in
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
// (source: github/docs, content/webhooks/using-webhooks/validating-webhook-deliveries.md).
const DOC_SECRET = "It's a Secret to Everybody";
const DOC_PAYLOAD = 'Hello, World!';
const DOC_SIGNATURE = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

const NOW = new Date('2024-05-01T12:00:00Z');

function verify(body: string | Buffer, header: string | undefined, secrets = [DOC_SECRET]): void {
  verifyGithub({
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    headers: header === undefined ? {} : { [GITHUB_SIGNATURE_HEADER]: header },
    method: 'POST',
    url: 'https://hooks.example.com/github',
    secrets,
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

describe('signGithub', () => {
  it("reproduces GitHub's documented test vector", () => {
    expect(signGithub(DOC_PAYLOAD, DOC_SECRET)).toBe(DOC_SIGNATURE);
  });
});

describe('verifyGithub', () => {
  it("accepts GitHub's documented test vector", () => {
    expect(() => verify(DOC_PAYLOAD, DOC_SIGNATURE)).not.toThrow();
  });

  it('rejects the documented signature over a payload changed by one character', () => {
    expect(messageOf(() => verify('Hello, World?', DOC_SIGNATURE))).toBe(
      'The x-hub-signature-256 header does not match the body for any of the 1 configured secret(s).',
    );
  });

  it('accepts upper-case hex (hex is case-insensitive)', () => {
    expect(() => verify(DOC_PAYLOAD, DOC_SIGNATURE.toUpperCase().replace('SHA256=', 'sha256='))).not.toThrow();
  });

  it.each([
    ['the legacy sha1 form', 'sha1=0123456789abcdef0123456789abcdef01234567'],
    ['a bare hex digest', '757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17'],
    ['a truncated digest', 'sha256=757107ea0eb2509fc211'],
    ['non-hex characters', `sha256=${'z'.repeat(64)}`],
  ])('rejects %s as malformed', (_name, header) => {
    expect(messageOf(() => verify(DOC_PAYLOAD, header))).toBe(
      'The x-hub-signature-256 header is not of the form sha256=<64 hex digits>.',
    );
  });

  it('names the missing header', () => {
    expect(messageOf(() => verify(DOC_PAYLOAD, undefined))).toBe('The x-hub-signature-256 header is missing.');
  });
});

describe('GitHub cross-check with @octokit/webhooks-methods', () => {
  const SECRET = 'gh-webhook-secret-1b2c';

  it('verifies what octokit signs, for any Unicode payload (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }), async (payload) => {
        const header = await octokitSign(SECRET, payload);
        expect(() => verify(payload, header, [SECRET])).not.toThrow();
      }),
      { numRuns: 100 },
    );
  });

  it('produces headers octokit verifies, and octokit rejects our bad-mode headers', async () => {
    const payload = '{"action":"opened","issue":{"title":"Crème brûlée 🍮"}}';
    const valid = signRequest('github', { body: payload, secret: SECRET, now: NOW });
    const bad = signRequest('github', { body: payload, secret: SECRET, now: NOW }, 'bad');
    expect(await octokitVerify(SECRET, payload, valid[GITHUB_SIGNATURE_HEADER])).toBe(true);
    expect(await octokitVerify(SECRET, payload, bad[GITHUB_SIGNATURE_HEADER])).toBe(false);
  });

  it("agrees with octokit on GitHub's documented vector", async () => {
    expect(await octokitSign(DOC_SECRET, DOC_PAYLOAD)).toBe(DOC_SIGNATURE);
  });
});
