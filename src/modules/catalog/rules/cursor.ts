import { createHash } from 'node:crypto';

/**
 * Opaque keyset cursors: the sort key values and id of the last row, plus a fingerprint of the
 * query they belong to, so a cursor replayed against another query is a 400 instead of a page
 * of the wrong list.
 */
export interface CursorPayload {
  /** The sort key values of the last row (numbers or strings), then its id. */
  keys: (number | string)[];
  id: string;
  fingerprint: string;
}

const MAX_CURSOR_LENGTH = 512;

export function fingerprint(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 12);
}

export function encodeCursor(payload: CursorPayload): string {
  return Buffer.from(JSON.stringify([payload.keys, payload.id, payload.fingerprint])).toString('base64url');
}

/** The payload, or undefined when the cursor is malformed (the caller answers 400). */
export function decodeCursor(cursor: string): CursorPayload | undefined {
  if (cursor.length > MAX_CURSOR_LENGTH || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 3) return undefined;
    const [keys, id, print] = value as [unknown, unknown, unknown];
    if (!Array.isArray(keys) || keys.length > 4) return undefined;
    if (!keys.every((key) => (typeof key === 'number' && Number.isFinite(key)) || typeof key === 'string'))
      return undefined;
    if (typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id) || typeof print !== 'string') return undefined;
    return { keys: keys as (number | string)[], id, fingerprint: print };
  } catch {
    return undefined;
  }
}
