import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support tickets opened automatically from order events
// (issue #22): where a ticket came from (the app, an SMS, an order's dispute or failed delivery),
// the order event that opened it (unique: one ticket per event, whichever instance handles it),
// and the checkpoint of the reactor that reads the order events.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE support_reactor_checkpoints (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    ALTER TABLE support_tickets
      ADD COLUMN source text NOT NULL DEFAULT 'app'
        CHECK (source IN ('app', 'sms', 'email', 'dispute', 'delivery_failed')),
      ADD COLUMN source_event_id uuid`.execute(db);
  await sql`
    CREATE UNIQUE INDEX support_tickets_source_event_idx ON support_tickets (source_event_id)
      WHERE source_event_id IS NOT NULL`.execute(db);
  await sql`CREATE INDEX support_tickets_order_idx ON support_tickets (order_id) WHERE order_id IS NOT NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS support_tickets_order_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS support_tickets_source_event_idx`.execute(db);
  await sql`ALTER TABLE support_tickets DROP COLUMN IF EXISTS source, DROP COLUMN IF EXISTS source_event_id`.execute(
    db,
  );
  await db.schema.dropTable('support_reactor_checkpoints').ifExists().execute();
}
