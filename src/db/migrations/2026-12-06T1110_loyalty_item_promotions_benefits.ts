import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Issue #21, docs/loyalty.md:
// - item and combo promotions: a promotion may name items (an item discount, "buy X get Y", or a
//   combo price for one of each named item);
// - a tier's free deliveries per month, one row per order that used one (held until the order
//   fails or is cancelled, then released), so the count holds under retries and concurrency;
// - points holds that expired before their order was paid (the order keeps its price, takes no
//   points; the platform funds the points' part), one row per order, for finance.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE promotions DROP CONSTRAINT promotions_kind_check`.execute(db);
  await sql`
    ALTER TABLE promotions
      ADD CONSTRAINT promotions_kind_check
        CHECK (kind IN ('percent', 'fixed', 'free_delivery', 'buy_get', 'combo')),
      ADD COLUMN item_ids uuid[] CHECK (cardinality(item_ids) BETWEEN 1 AND 10),
      ADD COLUMN buy_quantity int2 CHECK (buy_quantity BETWEEN 1 AND 20),
      ADD COLUMN get_quantity int2 CHECK (get_quantity BETWEEN 1 AND 20),
      ADD COLUMN combo_price_minor int8 CHECK (combo_price_minor > 0),
      ADD CONSTRAINT promotions_items_kind CHECK (kind NOT IN ('buy_get', 'combo') OR item_ids IS NOT NULL)
  `.execute(db);
  await sql`
    CREATE TABLE loyalty_free_deliveries (
      order_id uuid PRIMARY KEY,
      customer_id uuid NOT NULL,
      period text NOT NULL,
      tier text NOT NULL,
      discount_minor int8 NOT NULL CHECK (discount_minor > 0),
      status text NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'released')),
      created_at timestamptz NOT NULL DEFAULT now(),
      released_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX ON loyalty_free_deliveries (customer_id, period) WHERE status = 'held'`.execute(db);
  await sql`
    CREATE TABLE loyalty_lapsed_holds (
      order_id uuid PRIMARY KEY,
      customer_id uuid NOT NULL,
      points int8 NOT NULL CHECK (points > 0),
      discount_minor int8 NOT NULL CHECK (discount_minor >= 0),
      recorded_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['loyalty_lapsed_holds', 'loyalty_free_deliveries'])
    await db.schema.dropTable(table).ifExists().execute();
  await sql`ALTER TABLE promotions DROP CONSTRAINT promotions_items_kind`.execute(db);
  await sql`
    ALTER TABLE promotions
      DROP COLUMN item_ids, DROP COLUMN buy_quantity, DROP COLUMN get_quantity,
      DROP COLUMN combo_price_minor, DROP CONSTRAINT promotions_kind_check`.execute(db);
  await sql`
    ALTER TABLE promotions ADD CONSTRAINT promotions_kind_check
      CHECK (kind IN ('percent', 'fixed', 'free_delivery'))`.execute(db);
}
