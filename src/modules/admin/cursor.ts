import { decodeTimeIdCursor, encodeTimeIdCursor } from '../../shared/time-id-cursor.js';
import { adminErrors } from './errors.js';

/**
 * The (time, id) cursor of admin's newest-first lists (fraud cases, withdrawal holds, partnership
 * requests, promotional slots): src/shared/time-id-cursor.ts; a forged one is a 400 `invalid_cursor`.
 */
export function decodeCursor(cursor: string): { t: string; i: string } {
  const decoded = decodeTimeIdCursor(cursor);
  if (decoded === undefined)
    throw adminErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API issued.');
  return decoded;
}

export const encodeCursor = encodeTimeIdCursor;
