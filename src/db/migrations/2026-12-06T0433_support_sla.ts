import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support SLA alerts (issue #22): when a ticket's first
// staff reply is due and when it came, and when each breach (first response, resolution) was
// alerted, so a sweep on every instance alerts each breach once.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE support_tickets
      ADD COLUMN first_response_due_at timestamptz,
      ADD COLUMN first_responded_at timestamptz,
      ADD COLUMN first_response_alerted_at timestamptz,
      ADD COLUMN sla_alerted_at timestamptz`.execute(db);
  await sql`
    CREATE INDEX support_tickets_first_response_idx ON support_tickets (first_response_due_at)
      WHERE first_responded_at IS NULL AND first_response_alerted_at IS NULL AND status = 'open'`.execute(db);
  await sql`
    CREATE INDEX support_tickets_sla_breach_idx ON support_tickets (sla_due_at)
      WHERE sla_alerted_at IS NULL AND status = 'open'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS support_tickets_sla_breach_idx`.execute(db);
  await sql`DROP INDEX IF EXISTS support_tickets_first_response_idx`.execute(db);
  await sql`
    ALTER TABLE support_tickets
      DROP COLUMN IF EXISTS first_response_due_at,
      DROP COLUMN IF EXISTS first_responded_at,
      DROP COLUMN IF EXISTS first_response_alerted_at,
      DROP COLUMN IF EXISTS sla_alerted_at`.execute(db);
}
