/**
 * Coupon redemptions for finance (docs/loyalty.md "Redemptions export"): `GET
 * /v1/coupons/redemptions.csv`, admins only, streamed page by page (keyset on created_at and the
 * order id), so a year of redemptions never sits in memory. Columns are what finance reconciles
 * with the ledger (order, coupon, funder, restaurant, amounts, status, dates): never the customer.
 */
import { Readable } from 'node:stream';
import { sql } from 'kysely';
import { loyaltyErrors } from './errors.js';
import type { LoyaltyDb } from './tables.js';

export type CsvDelimiter = ',' | ';';
const PAGE = 500;
export const MAX_EXPORT_DAYS = 366;
const HEADER = [
  'created_at',
  'order_id',
  'coupon_code',
  'coupon_id',
  'funded_by',
  'restaurant_id',
  'subtotal_minor',
  'discount_minor',
  'total_minor',
  'status',
  'ended_at',
];

/** A spreadsheet-safe cell: quoted when needed, formulas defused (as payments' exports). */
export function csvCell(value: unknown, delimiter: CsvDelimiter): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : String(value);
  const safe = /^[=+\-@]/.test(text) && !/^-?\d+$/.test(text) ? `'${text}` : text;
  return /["\r\n]/.test(safe) || safe.includes(delimiter) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

interface Row {
  created_at: Date;
  at_us: string;
  order_id: string;
  code: string;
  coupon_id: string;
  funded_by: string;
  restaurant_id: string;
  subtotal_minor: string;
  discount_minor: string;
  total_minor: string;
  status: string;
  ended_at: Date | null;
}

export function checkExportPeriod(from: Date, to: Date): void {
  if (
    Number.isNaN(from.getTime()) ||
    Number.isNaN(to.getTime()) ||
    !(to > from) ||
    to.getTime() - from.getTime() > MAX_EXPORT_DAYS * 86_400_000
  )
    throw loyaltyErrors.of(
      'unprocessable',
      'invalid_period',
      `An export covers at most ${MAX_EXPORT_DAYS} days, from before to.`,
    );
}

/** The CSV (UTF-8 BOM first, CRLF lines) of redemptions created in [from, to), oldest first. */
export function redemptionsCsv(db: LoyaltyDb, from: Date, to: Date, delimiter: CsvDelimiter): Readable {
  checkExportPeriod(from, to);
  async function* lines(): AsyncGenerator<string> {
    yield `\uFEFF${HEADER.join(delimiter)}\r\n`;
    let after: { atUs: string; orderId: string } | undefined;
    for (;;) {
      const page = await sql<Row>`
        SELECT r.created_at, (extract(epoch FROM r.created_at) * 1000000)::int8::text AS at_us,
               r.order_id, c.code, r.coupon_id, c.funded_by, r.restaurant_id,
               r.subtotal_minor::text, r.discount_minor::text, r.total_minor::text, r.status, r.ended_at
        FROM coupon_redemptions r JOIN coupons c ON c.id = r.coupon_id
        WHERE r.created_at >= ${from} AND r.created_at < ${to}
        ${
          after === undefined
            ? sql``
            : sql`AND (r.created_at, r.order_id) >
                (timestamptz 'epoch' + ${after.atUs}::int8 * interval '1 microsecond', ${after.orderId}::uuid)`
        }
        ORDER BY r.created_at, r.order_id LIMIT ${PAGE}`.execute(db);
      let chunk = '';
      for (const row of page.rows)
        chunk +=
          [
            row.created_at,
            row.order_id,
            row.code,
            row.coupon_id,
            row.funded_by,
            row.restaurant_id,
            row.subtotal_minor,
            row.discount_minor,
            row.total_minor,
            row.status,
            row.ended_at,
          ]
            .map((value) => csvCell(value, delimiter))
            .join(delimiter) + '\r\n';
      if (chunk !== '') yield chunk;
      const last = page.rows.at(-1);
      if (page.rows.length < PAGE || last === undefined) return;
      after = { atUs: last.at_us, orderId: last.order_id };
    }
  }
  return Readable.from(lines());
}
