import { webcrypto } from 'node:crypto';
import { LRUCache } from 'lru-cache';

const MAX_KEYS = 16;
const imported = new LRUCache<string, Promise<webcrypto.CryptoKey>>({ max: MAX_KEYS });

/**
 * An HS256 key for jose, imported once per secret. Handing jose the raw bytes makes it import a
 * WebCrypto key on every sign and verify, which was the largest cost of each webhook check.
 */
export function hmacKey(secret: string | Uint8Array): Promise<webcrypto.CryptoKey> {
  const bytes = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  const cacheKey = Buffer.from(bytes).toString('base64');
  let key = imported.get(cacheKey);
  if (key === undefined) {
    key = webcrypto.subtle.importKey('raw', bytes, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
      'verify',
    ]);
    imported.set(cacheKey, key);
  }
  return key;
}
