import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Small, pure crypto helpers of the identity context. Secrets at rest (TOTP seeds, token
 * signing keys, request-signing secrets) are AES-256-GCM sealed with the master key and an
 * AAD naming what they are, so a ciphertext cannot be moved to another row and still open.
 */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 1;

export function seal(masterKey: Buffer, plaintext: Buffer, associatedData: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
}

export function open(masterKey: Buffer, sealed: Buffer, associatedData: string): Buffer {
  if (sealed[0] !== VERSION) throw new Error('unknown sealed-box version');
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const body = sealed.subarray(1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', masterKey, iv);
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]);
}

/**
 * Keyed hash of a high-entropy or short secret (refresh tokens, OTPs, reset tokens, backup
 * codes, phone numbers in login attempts). Keyed so that a copy of the database alone cannot
 * brute-force a 6-digit code or link a hashed phone number back to a person.
 */
export function keyedHash(key: string | Buffer, purpose: string, value: string): string {
  return createHmac('sha256', key).update(purpose).update('\u0000').update(value).digest('base64url');
}

export function constantTimeEqual(left: string, right: string): boolean {
  const a = Buffer.from(left);
  const b = Buffer.from(right);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** An opaque token: a recognisable prefix plus 32 random bytes. */
export function opaqueToken(prefix: string, bytes = 32): string {
  return `${prefix}_${randomBytes(bytes).toString('base64url')}`;
}
