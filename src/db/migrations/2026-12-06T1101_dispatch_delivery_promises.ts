import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. The ETA a driver's acceptance promised the customer and
// when the order was delivered (issue #20): the on-time rate of a driver is read from it. The ETA
// row itself is dropped at delivery; this one stays.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE dispatch_delivery_promises (
      order_id uuid PRIMARY KEY,
      driver_id uuid NOT NULL,
      promised_at timestamptz NOT NULL,
      delivered_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX dispatch_delivery_promises_driver_idx ON dispatch_delivery_promises (driver_id, delivered_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS dispatch_delivery_promises`.execute(db);
}
