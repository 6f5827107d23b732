import { adminErrors } from './errors.js';

/**
 * The (time, id) cursor of admin's newest-first lists (fraud cases, withdrawal holds, partnership
 * requests): base64url JSON `{ t, i }`; anything else, or a forged one, is a 400 `invalid_cursor`.
 */
export function decodeCursor(cursor: string): { t: string; i: string } {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      t?: unknown;
      i?: unknown;
    };
    if (
      typeof value.t === 'string' &&
      !Number.isNaN(Date.parse(value.t)) &&
      typeof value.i === 'string' &&
      /^[0-9a-f-]{36}$/.test(value.i)
    )
      return { t: value.t, i: value.i };
  } catch {
    // fall through
  }
  throw adminErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API issued.');
}

/** The cursor naming the last row of a page (its time and id), for the next page to start after. */
export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify({ t: at.toISOString(), i: id })).toString('base64url');
}
