import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Stock taken at placement is recorded in the same
// transaction as the decrement, so that giving it back is exactly-once and survives a crash:
// the orders' stock reactor settles a reservation once (restored when the order ends uncooked,
// consumed when the driver picks the food up); a sweep restores reservations whose order was
// never appended.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE order_stock_reservations (
      order_id uuid PRIMARY KEY,
      restaurant_id uuid NOT NULL,
      lines jsonb NOT NULL,
      reserved_at timestamptz NOT NULL DEFAULT now(),
      settled_at timestamptz,
      outcome text CHECK (outcome IN ('restored', 'consumed')),
      CHECK ((settled_at IS NULL) = (outcome IS NULL))
    )`.execute(db);
  // The sweep reads open reservations only: the index stays as small as the orders in flight.
  await sql`CREATE INDEX order_stock_reservations_open_idx ON order_stock_reservations (reserved_at) WHERE settled_at IS NULL`.execute(
    db,
  );
  await sql`
    CREATE TABLE orders_reactor_checkpoints (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS orders_reactor_checkpoints`.execute(db);
  await sql`DROP TABLE IF EXISTS order_stock_reservations`.execute(db);
}
