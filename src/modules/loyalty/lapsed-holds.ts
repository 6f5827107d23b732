/**
 * Points holds that expired before their order was paid (docs/loyalty.md, "A hold that expired
 * before payment"), for finance (the route: lapsed-hold-routes.ts), newest first,
 * keyset-paginated on (recorded_at, order_id) at the database's microsecond precision. Each row is the cost of points a customer kept: the order, the points and the XAF
 * discount the platform funded. The customer is not shown (finance reconciles by order).
 */
import { sql } from 'kysely';
import { UUID } from './coupons.js';
import { loyaltyErrors } from './errors.js';
import type { LoyaltyDb } from './tables.js';

export const MAX_LAPSED_PAGE = 100;

export interface LapsedHold {
  orderId: string;
  points: bigint;
  discountMinor: bigint;
  recordedAt: Date;
}

interface Position {
  atUs: string;
  orderId: string;
}

function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): Position {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Partial<Position>;
    if (
      typeof value.atUs === 'string' &&
      /^\d{1,18}$/.test(value.atUs) &&
      typeof value.orderId === 'string' &&
      UUID.test(value.orderId)
    )
      return { atUs: value.atUs, orderId: value.orderId };
  } catch {
    // falls through to the refusal
  }
  throw loyaltyErrors.of('validation', 'invalid_cursor', 'The page cursor is not one this API issued.');
}

/** A page of lapsed holds, newest first; `cursor` continues after the previous page's last. */
export async function lapsedHolds(
  db: LoyaltyDb,
  page: { limit: number; cursor?: string },
): Promise<{ items: LapsedHold[]; nextCursor: string | null }> {
  const after = page.cursor === undefined ? undefined : decodeCursor(page.cursor);
  const result = await sql<{
    order_id: string;
    points: string;
    discount_minor: string;
    recorded_at: Date;
    at_us: string;
  }>`
    SELECT order_id, points::text, discount_minor::text, recorded_at,
           (extract(epoch FROM recorded_at) * 1000000)::int8::text AS at_us
    FROM loyalty_lapsed_holds
    ${
      after === undefined
        ? sql``
        : sql`WHERE (recorded_at, order_id) <
            (timestamptz 'epoch' + ${after.atUs}::int8 * interval '1 microsecond', ${after.orderId}::uuid)`
    }
    ORDER BY recorded_at DESC, order_id DESC LIMIT ${page.limit + 1}`.execute(db);
  const rows = result.rows.slice(0, page.limit);
  const last = rows.at(-1);
  return {
    items: rows.map((row) => ({
      orderId: row.order_id,
      points: BigInt(row.points),
      discountMinor: BigInt(row.discount_minor),
      recordedAt: row.recorded_at,
    })),
    nextCursor:
      result.rows.length > page.limit && last !== undefined
        ? encodeCursor({ atUs: last.at_us, orderId: last.order_id })
        : null,
  };
}
