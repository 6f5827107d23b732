import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Coupon scopes (issue #21): a first order only, some
// items or categories (the discount is on the matching lines only), a city (the catalog's
// restaurants.city as typed, compared normalised by loyalty; a city id can replace it later).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE coupons
      ADD COLUMN first_order_only boolean NOT NULL DEFAULT false,
      ADD COLUMN item_ids uuid[] CHECK (item_ids IS NULL OR cardinality(item_ids) BETWEEN 1 AND 50),
      ADD COLUMN category_ids uuid[]
        CHECK (category_ids IS NULL OR cardinality(category_ids) BETWEEN 1 AND 50),
      ADD COLUMN city text CHECK (city IS NULL OR char_length(city) BETWEEN 1 AND 80)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE coupons
      DROP COLUMN IF EXISTS first_order_only,
      DROP COLUMN IF EXISTS item_ids,
      DROP COLUMN IF EXISTS category_ids,
      DROP COLUMN IF EXISTS city`.execute(db);
}
