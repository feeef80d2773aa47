import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * The raw delivery, sealed for the audit log. The audit log is write-once for a year (Object
 * Lock), but a raw body carries PII that must be erasable; so the log keeps the body encrypted
 * under a per-decision key that lives in the token vault with a TTL. Deleting (or expiring) the
 * key erases the body everywhere at once; the hash stays, so the record still proves what arrived.
 */
export interface SealedBody {
  alg: 'AES-256-GCM';
  /** SHA-256 of the plaintext, hex: what arrived, provable without the key. */
  sha256: string;
  bytes: number;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Encrypts a raw body under a fresh 256-bit key; returns the sealed body and the key. */
export function sealBody(raw: Buffer): { sealed: SealedBody; key: Buffer } {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ciphertext = Buffer.concat([cipher.update(raw), cipher.final()]);
  return {
    key,
    sealed: {
      alg: 'AES-256-GCM', sha256: createHash('sha256').update(raw).digest('hex'), bytes: raw.length,
      iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ciphertext: ciphertext.toString('base64'),
    },
  };
}

/** Opens a sealed body; throws if the key is wrong or the ciphertext was altered. */
export function openBody(sealed: SealedBody, key: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  const raw = Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, 'base64')), decipher.final()]);
  if (createHash('sha256').update(raw).digest('hex') !== sealed.sha256) throw new Error('The opened body does not match its recorded hash.');
  return raw;
}
