import { createHash } from 'node:crypto';

/**
 * A UUID named by a client's key (version 5 layout over SHA-256): a retry names the same thing.
 * `namespace` says what is named (`support-message`), `scope` whose key it is, `key` the client's
 * Idempotency-Key or message id. Used by the HTTP edge (idempotency.ts) and by WebSocket handlers.
 */
export function keyedUuid(namespace: string, scope: string, key: string): string {
  const bytes = createHash('sha256')
    .update(namespace)
    .update('\u0000')
    .update(scope)
    .update('\u0000')
    .update(key)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
