import { webcrypto } from 'node:crypto';

const imported = new Map<string, Promise<webcrypto.CryptoKey>>();
const MAX_KEYS = 16;

/**
 * An HS256 key for jose, imported once per secret. Handing jose the raw bytes makes it import a
 * WebCrypto key on every sign and verify, which was the largest cost of each webhook check.
 */
export function hmacKey(secret: string | Uint8Array): Promise<webcrypto.CryptoKey> {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  const cacheKey = Buffer.from(bytes).toString('base64');
  let key = imported.get(cacheKey);
  if (key === undefined) {
    if (imported.size >= MAX_KEYS) imported.delete(imported.keys().next().value!);
    key = webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    imported.set(cacheKey, key);
  }
  return key;
}
