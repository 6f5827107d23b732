import { createHash } from 'node:crypto';

/**
 * A UUID derived from a name (RFC 4122 version 5 layout over SHA-256): the same idempotency key
 * always names the same payment attempt, so a retry never starts a second collection.
 */
export function uuidFromName(namespace: string, name: string): string {
  const bytes = createHash('sha256').update(namespace).update('\u0000').update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: string): boolean => UUID.test(value);

/** Opaque cursors: base64url of a small JSON value. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(
  cursor: string | undefined,
  check: (value: unknown) => value is T,
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    return check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Day and month of an instant in Douala (UTC+1 all year), for limits and reports. */
export function doualaPeriods(at: Date): { day: string; month: string } {
  const local = new Date(at.getTime() + 3_600_000).toISOString();
  return { day: `D${local.slice(0, 10)}`, month: `M${local.slice(0, 7)}` };
}
