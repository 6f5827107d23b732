/**
 * Delta sync for apps on bad networks (issue #25): the cursor, field selection and entity tag
 * shared by the customer's sync routes (`GET /v1/sync/orders`, `GET /v1/sync/addresses`), in the
 * shape of the menu's (docs/catalog.md "Delta sync"). Pure; shared kernel (imports nothing).
 *
 * A cursor names its kind and its owner (a user id), so one customer's cursor is refused for
 * another, and the instant the next delta starts from. It is opaque to clients.
 */
import { createHash } from 'node:crypto';

/** How long a cursor stays good (the spec's 7-day cache); an older one gets a reset. */
export const SYNC_WINDOW_MS = 7 * 24 * 3_600_000;
const MAX_CURSOR_CHARS = 200;
const CURSOR_VERSION = 's1';

export type SyncKind = 'orders' | 'addresses';

export function encodeSyncCursor(kind: SyncKind, ownerId: string, atMs: number): string {
  return Buffer.from(`${CURSOR_VERSION}.${kind}.${ownerId}.${Math.max(0, Math.floor(atMs))}`).toString(
    'base64url',
  );
}

export type SyncCursorVerdict =
  | { kind: 'none' }
  | { kind: 'since'; sinceMs: number }
  | { kind: 'expired' }
  | { kind: 'invalid'; reason: string };

const NOT_OURS = 'since is not a cursor this server gave';

/** What a `since` means: none (a reset), a time, too old (a reset), or not ours. */
export function readSyncCursor(
  text: string | undefined,
  expected: { kind: SyncKind; ownerId: string; nowMs: number; toleranceMs: number },
): SyncCursorVerdict {
  if (text === undefined) return { kind: 'none' };
  if (text.length === 0 || text.length > MAX_CURSOR_CHARS || !/^[A-Za-z0-9_-]+$/.test(text))
    return { kind: 'invalid', reason: NOT_OURS };
  const parts = Buffer.from(text, 'base64url').toString('utf8').split('.');
  const [version, kind, owner, at] = parts;
  if (parts.length !== 4 || version !== CURSOR_VERSION || at === undefined || !/^\d{1,15}$/.test(at))
    return { kind: 'invalid', reason: NOT_OURS };
  if (kind !== expected.kind) return { kind: 'invalid', reason: `since is not a cursor of ${expected.kind}` };
  if (owner !== expected.ownerId) return { kind: 'invalid', reason: 'since is a cursor of another account' };
  const sinceMs = Number(at);
  if (sinceMs > expected.nowMs + expected.toleranceMs)
    return { kind: 'invalid', reason: 'since is in the future' };
  if (expected.nowMs - sinceMs > SYNC_WINDOW_MS) return { kind: 'expired' };
  return { kind: 'since', sinceMs };
}

export type FieldSelection<Field extends string> =
  { kind: 'all' } | { kind: 'some'; fields: ReadonlySet<Field> } | { kind: 'invalid'; unknown: string[] };

/** `fields=status,totalMinor` → the selection among `allowed`, or the unknown names (at most 10). */
export function readFieldSelection<Field extends string>(
  text: string | undefined,
  allowed: readonly Field[],
): FieldSelection<Field> {
  if (text === undefined) return { kind: 'all' };
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  const unknown = names.filter((name) => !(allowed as readonly string[]).includes(name));
  if (names.length === 0 || unknown.length > 0) return { kind: 'invalid', unknown: unknown.slice(0, 10) };
  return { kind: 'some', fields: new Set(names as Field[]) };
}

/** Only the selected fields of a record, and always its `id`. */
export function selectFields<Field extends string>(
  record: { id: string } & Record<string, unknown>,
  selection: FieldSelection<Field>,
): Record<string, unknown> {
  if (selection.kind !== 'some') return record;
  const out: Record<string, unknown> = { id: record.id };
  for (const field of selection.fields) if (record[field] !== undefined) out[field] = record[field];
  return out;
}

/**
 * The entity tag of a delta: its content without the cursor (which moves with the clock), so the
 * same `since` with `If-None-Match` answers 304 while nothing changed.
 */
export function deltaEntityTag(body: Record<string, unknown>, salt = ''): string {
  const { cursor: _cursor, ...content } = body;
  const hash = createHash('sha256').update(salt).update(JSON.stringify(content)).digest('base64url');
  return `W/"${hash.slice(0, 27)}"`;
}

/** RFC 9110 weak comparison of If-None-Match against one tag. */
export function entityTagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  if (header.trim() === '*') return true;
  const bare = etag.replace(/^W\//, '');
  return header.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === bare);
}
