import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support tickets opened automatically from order events
// (issue #22): where a ticket came from (the app, an SMS, an order's dispute or failed delivery),
// the order event that opened it (unique: one ticket per event, whichever instance handles it),
// and the checkpoint of the reactor that reads the order events. Escalation: the `escalated`
// status, and the support agents' settings (supervisor, capacity, availability, last assignment)
// for round-robin assignment.
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
  await sql`ALTER TABLE support_tickets DROP CONSTRAINT support_tickets_status_check`.execute(db);
  await sql`
    ALTER TABLE support_tickets ADD CONSTRAINT support_tickets_status_check
      CHECK (status IN ('open', 'pending', 'escalated', 'resolved', 'closed'))`.execute(db);
  await sql`DROP INDEX IF EXISTS support_tickets_queue_idx`.execute(db);
  await sql`
    CREATE INDEX support_tickets_queue_idx ON support_tickets (sla_due_at, id)
      WHERE status IN ('open', 'pending', 'escalated')`.execute(db);
  await sql`
    CREATE INDEX support_tickets_assignee_active_idx ON support_tickets (assignee_id)
      WHERE status IN ('open', 'pending', 'escalated')`.execute(db);
  await sql`
    CREATE TABLE support_agents (
      user_id uuid PRIMARY KEY,
      supervisor boolean NOT NULL DEFAULT false,
      capacity int NOT NULL DEFAULT 10 CHECK (capacity BETWEEN 0 AND 200),
      available_until timestamptz,
      last_assigned_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX support_tickets_order_idx ON support_tickets (order_id) WHERE order_id IS NOT NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS support_tickets_order_idx`.execute(db);
  await db.schema.dropTable('support_agents').ifExists().execute();
  await sql`DROP INDEX IF EXISTS support_tickets_assignee_active_idx`.execute(db);
  await sql`UPDATE support_tickets SET status = 'open' WHERE status = 'escalated'`.execute(db);
  await sql`ALTER TABLE support_tickets DROP CONSTRAINT support_tickets_status_check`.execute(db);
  await sql`
    ALTER TABLE support_tickets ADD CONSTRAINT support_tickets_status_check
      CHECK (status IN ('open', 'pending', 'resolved', 'closed'))`.execute(db);
  await sql`DROP INDEX IF EXISTS support_tickets_source_event_idx`.execute(db);
  await sql`ALTER TABLE support_tickets DROP COLUMN IF EXISTS source, DROP COLUMN IF EXISTS source_event_id`.execute(
    db,
  );
  await db.schema.dropTable('support_reactor_checkpoints').ifExists().execute();
}
