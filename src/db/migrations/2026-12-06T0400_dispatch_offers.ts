import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Matching and offers (issue #20): the dispatches still
// to advance with their persisted deadline (swept by every instance, one at a time per order),
// the offers made (read model of the `dispatch-<orderId>` streams, and the lock that gives a
// driver one open offer at a time), the customers' ETAs, and the dispatch reactor's checkpoint.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE dispatch_work (
      order_id uuid PRIMARY KEY,
      next_action_at timestamptz NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX dispatch_work_due_idx ON dispatch_work (next_action_at)`.execute(db);
  await sql`
    CREATE TABLE dispatch_offers (
      offer_id uuid PRIMARY KEY,
      order_id uuid NOT NULL,
      driver_id uuid NOT NULL,
      status text NOT NULL CHECK (status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
      round integer NOT NULL,
      score double precision NOT NULL,
      travel_seconds integer NOT NULL,
      expires_at timestamptz NOT NULL,
      -- false between the lock (this row) and the DriverOffered event: not shown to the driver yet
      made boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      answered_at timestamptz
    )`.execute(db);
  // One open offer per driver at a time, across instances: a second insert fails.
  await sql`CREATE UNIQUE INDEX dispatch_offers_one_open_idx ON dispatch_offers (driver_id) WHERE status = 'open'`.execute(
    db,
  );
  await sql`CREATE INDEX dispatch_offers_driver_idx ON dispatch_offers (driver_id, created_at)`.execute(db);
  await sql`CREATE INDEX dispatch_offers_order_idx ON dispatch_offers (order_id)`.execute(db);
  await sql`
    CREATE TABLE dispatch_etas (
      order_id uuid PRIMARY KEY,
      customer_id uuid NOT NULL,
      driver_id uuid,
      phase text NOT NULL,
      eta_at timestamptz NOT NULL,
      told_eta_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE dispatch_reactor_checkpoints (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS dispatch_reactor_checkpoints, dispatch_etas, dispatch_offers, dispatch_work`.execute(
    db,
  );
}
