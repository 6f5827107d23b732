/**
 * The (time, id) cursor of newest-first (or oldest-first) lists keyed by a timestamp and a uuid:
 * base64url JSON `{ t, i }`. `decode` answers undefined for anything else (a forged or foreign
 * cursor); the caller refuses it with its own context's `invalid_cursor` error.
 *
 * Shared kernel: imports nothing.
 */
export function decodeTimeIdCursor(cursor: string): { t: string; i: string } | undefined {
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
  return undefined;
}

/** The cursor naming the last row of a page (its time and id), for the next page to start after. */
export function encodeTimeIdCursor(at: Date, id: string): string {
  return Buffer.from(JSON.stringify({ t: at.toISOString(), i: id })).toString('base64url');
}
