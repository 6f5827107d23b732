import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Geofence arrivals (issue #20): one row per order and
// kind (the driver at the restaurant, the driver arriving at the customer), so each is told once
// across instances and restarts. No position and no person is kept: only the order and when.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE dispatch_geofence_arrivals (
      order_id uuid NOT NULL,
      kind text NOT NULL CHECK (kind IN ('restaurant', 'customer')),
      at timestamptz NOT NULL,
      PRIMARY KEY (order_id, kind)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE dispatch_geofence_arrivals`.execute(db);
}
