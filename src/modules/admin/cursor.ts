import { sql, type SelectQueryBuilder } from 'kysely';
import { decodeTimeIdCursor, encodeTimeIdCursor } from '../../shared/time-id-cursor.js';
import { adminErrors } from './errors.js';

/**
 * The (time, id) cursor of admin's newest-first lists (fraud cases, withdrawal holds, partnership
 * requests, promotional slots, newsletters): src/shared/time-id-cursor.ts; a forged one is a 400
 * `invalid_cursor`.
 */
export function decodeCursor(cursor: string): { t: string; i: string } {
  const decoded = decodeTimeIdCursor(cursor);
  if (decoded === undefined)
    throw adminErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API issued.');
  return decoded;
}

export const encodeCursor = encodeTimeIdCursor;

/**
 * One page of a newest-first list ordered by `timeColumn` then `id`: the rows after the cursor,
 * `limit` of them, and the cursor of the next page (null on the last). The filters are the
 * caller's, already on `select`.
 */
export async function newestFirstPage<Row extends { id: string }>(
  // The table is the caller's: its columns are named here by text (`timeColumn`, `id`).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  select: SelectQueryBuilder<any, any, Row>,
  timeColumn: string,
  timeOf: (row: Row) => Date,
  query: { cursor?: string | undefined; limit: number },
): Promise<{ rows: Row[]; nextCursor: string | null }> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const column = sql.ref(timeColumn);
  const paged =
    after === undefined
      ? select
      : select.where(
          sql<boolean>`(${column} < ${new Date(after.t)} OR (${column} = ${new Date(after.t)} AND id < ${after.i}))`,
        );
  const rows = await paged
    .orderBy(column, 'desc')
    .orderBy(sql.ref('id'), 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    rows: page,
    nextCursor: rows.length > query.limit && last !== undefined ? encodeCursor(timeOf(last), last.id) : null,
  };
}
