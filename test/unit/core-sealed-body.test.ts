import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openBody, sealBody } from '../../lambdas/core/sealed-body.js';

describe('sealed raw bodies', () => {
  it('opens to the exact bytes with its key (property)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
      const raw = Buffer.from(bytes);
      const { sealed, key } = sealBody(raw);
      expect(openBody(sealed, key).equals(raw)).toBe(true);
    }));
  });

  it('keeps no plaintext in the sealed form', () => {
    const { sealed } = sealBody(Buffer.from('card 4111 1111 1111 1111, jane@example.org'));
    expect(JSON.stringify(sealed)).not.toMatch(/4111|jane/);
  });

  it('cannot be opened with another key (erasure = deleting the key)', () => {
    const { sealed } = sealBody(Buffer.from('secret body'));
    expect(() => openBody(sealed, randomBytes(32))).toThrow();
  });

  it('detects an altered ciphertext', () => {
    const { sealed, key } = sealBody(Buffer.from('secret body'));
    const bytes = Buffer.from(sealed.ciphertext, 'base64');
    bytes[0] ^= 1;
    expect(() => openBody({ ...sealed, ciphertext: bytes.toString('base64') }, key)).toThrow();
  });
});
