import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Coupons (issue #21): codes created by admins
// (platform-funded) or restaurant owners (restaurant-funded, their restaurant only), and one
// reservation per order that uses one. `uses` counts the reservations not released: the total
// cap is checked against it under the coupon's row lock, in the reservation's transaction.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE coupons (
      id uuid PRIMARY KEY,
      code text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9_-]{3,40}$'),
      funded_by text NOT NULL CHECK (funded_by IN ('platform', 'restaurant')),
      restaurant_id uuid,
      kind text NOT NULL CHECK (kind IN ('percent', 'fixed')),
      percent text,
      amount_minor int8 CHECK (amount_minor > 0),
      max_discount_minor int8 CHECK (max_discount_minor > 0),
      min_subtotal_minor int8 NOT NULL DEFAULT 0 CHECK (min_subtotal_minor >= 0),
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      total_limit int4 CHECK (total_limit > 0),
      per_customer_limit int4 CHECK (per_customer_limit > 0),
      uses int4 NOT NULL DEFAULT 0 CHECK (uses >= 0),
      created_by uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      disabled_at timestamptz,
      CHECK (ends_at > starts_at),
      CHECK (funded_by = 'platform' OR restaurant_id IS NOT NULL),
      CHECK ((kind = 'percent' AND percent IS NOT NULL AND amount_minor IS NULL)
          OR (kind = 'fixed' AND amount_minor IS NOT NULL AND percent IS NULL)),
      CHECK (total_limit IS NULL OR uses <= total_limit)
    )`.execute(db);
  await sql`CREATE INDEX ON coupons (restaurant_id, created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX ON coupons (created_at DESC, id DESC)`.execute(db);
  await sql`
    CREATE TABLE coupon_redemptions (
      order_id uuid PRIMARY KEY,
      coupon_id uuid NOT NULL REFERENCES coupons (id),
      customer_id uuid NOT NULL,
      restaurant_id uuid NOT NULL,
      discount_minor int8 NOT NULL CHECK (discount_minor >= 0),
      subtotal_minor int8 NOT NULL CHECK (subtotal_minor >= 0),
      total_minor int8 NOT NULL CHECK (total_minor >= 0),
      status text NOT NULL CHECK (status IN ('held', 'used', 'released')),
      created_at timestamptz NOT NULL DEFAULT now(),
      ended_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX ON coupon_redemptions (coupon_id, customer_id)`.execute(db);
  await sql`CREATE INDEX ON coupon_redemptions (created_at) WHERE status = 'held'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['coupon_redemptions', 'coupons'])
    await db.schema.dropTable(table).ifExists().execute();
}
