import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. The support context (issue #22): tickets opened by a
// customer, restaurant owner or driver, and their messages. Subjects and message bodies are
// personal data, stored encrypted (pii1.… ciphertexts) and set to NULL by erasure. The opener,
// assignee and order are other contexts' ids, kept without foreign keys.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE support_tickets (
      id uuid PRIMARY KEY,
      opener_id uuid NOT NULL,
      opener_role text NOT NULL CHECK (opener_role IN ('customer', 'restaurant_owner', 'driver')),
      category text NOT NULL CHECK (category IN ('order_problem', 'payment', 'account', 'delivery', 'other')),
      subject text,
      order_id uuid,
      priority text NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
      status text NOT NULL CHECK (status IN ('open', 'pending', 'resolved', 'closed')),
      assignee_id uuid,
      escalations integer NOT NULL DEFAULT 0 CHECK (escalations >= 0),
      sla_due_at timestamptz NOT NULL,
      resolved_at timestamptz,
      closed_at timestamptz,
      erased_at timestamptz,
      version integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // The opener's list, newest first (cursor pages), and the staff queue by SLA due time.
  await sql`CREATE INDEX support_tickets_opener_idx ON support_tickets (opener_id, created_at DESC, id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX support_tickets_queue_idx ON support_tickets (sla_due_at, id) WHERE status IN ('open', 'pending')`.execute(
    db,
  );
  await sql`CREATE INDEX support_tickets_assignee_idx ON support_tickets (assignee_id) WHERE assignee_id IS NOT NULL`.execute(
    db,
  );
  await sql`
    CREATE TABLE support_messages (
      id uuid PRIMARY KEY,
      ticket_id uuid NOT NULL REFERENCES support_tickets (id) ON DELETE CASCADE,
      position bigserial NOT NULL,
      author_id uuid NOT NULL,
      from_staff boolean NOT NULL,
      internal boolean NOT NULL DEFAULT false CHECK (from_staff OR NOT internal),
      body text,
      attachments jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX support_messages_ticket_idx ON support_messages (ticket_id, position)`.execute(db);
  await sql`CREATE INDEX support_messages_author_idx ON support_messages (author_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS support_messages`.execute(db);
  await sql`DROP TABLE IF EXISTS support_tickets`.execute(db);
}
