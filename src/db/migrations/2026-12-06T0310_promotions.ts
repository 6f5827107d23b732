import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Promotions without codes (issue #21): time-based
// discounts (days of the week and a time of day, Cameroon time) and free delivery above an
// amount, by admins (platform-funded) or restaurant owners (restaurant-funded, their restaurant).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE promotions (
      id uuid PRIMARY KEY,
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
      funded_by text NOT NULL CHECK (funded_by IN ('platform', 'restaurant')),
      restaurant_id uuid,
      kind text NOT NULL CHECK (kind IN ('percent', 'fixed', 'free_delivery')),
      percent text,
      amount_minor int8 CHECK (amount_minor > 0),
      max_discount_minor int8 CHECK (max_discount_minor > 0),
      min_subtotal_minor int8 NOT NULL DEFAULT 0 CHECK (min_subtotal_minor >= 0),
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      weekdays int2 NOT NULL CHECK (weekdays BETWEEN 1 AND 127),
      start_minute int2 NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
      end_minute int2 NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
      created_by uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      disabled_at timestamptz,
      CHECK (ends_at > starts_at),
      CHECK (end_minute > start_minute),
      CHECK (funded_by = 'platform' OR restaurant_id IS NOT NULL)
    )`.execute(db);
  await sql`CREATE INDEX ON promotions (restaurant_id, ends_at)`.execute(db);
  await sql`CREATE INDEX ON promotions (ends_at) WHERE restaurant_id IS NULL`.execute(db);
  await sql`
    CREATE TABLE promotion_orders (
      order_id uuid PRIMARY KEY,
      promotion_id uuid NOT NULL REFERENCES promotions (id),
      customer_id uuid NOT NULL,
      discount_minor int8 NOT NULL CHECK (discount_minor >= 0),
      subtotal_minor int8 NOT NULL CHECK (subtotal_minor >= 0),
      total_minor int8 NOT NULL CHECK (total_minor >= 0),
      delivered_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX ON promotion_orders (promotion_id, customer_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['promotion_orders', 'promotions'])
    await db.schema.dropTable(table).ifExists().execute();
}
