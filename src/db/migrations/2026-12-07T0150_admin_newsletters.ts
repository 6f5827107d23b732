import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Newsletter campaigns (issue #23): an admin's message in
// French and English to a segment of accounts, on chosen channels, at a scheduled time. The
// sending job walks the audience by account id and keeps its place in `cursor_user_id`; each
// recipient's message is notify's intent named by (campaign, recipient), so a batch done twice
// (a crash, two instances) records nothing twice.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE admin_newsletter_campaigns (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      segment jsonb NOT NULL,
      template jsonb NOT NULL,
      channels text[] NOT NULL CHECK (cardinality(channels) BETWEEN 1 AND 3),
      status text NOT NULL CHECK (status IN ('draft', 'scheduled', 'sending', 'sent', 'cancelled')),
      scheduled_at timestamptz,
      cursor_user_id uuid,
      recipients integer NOT NULL DEFAULT 0,
      version integer NOT NULL DEFAULT 1,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      cancelled_at timestamptz,
      cancelled_by text
    )`.execute(db);
  await sql`CREATE INDEX admin_newsletter_campaigns_due_idx
    ON admin_newsletter_campaigns (scheduled_at) WHERE status IN ('scheduled', 'sending')`.execute(db);
  await sql`CREATE INDEX admin_newsletter_campaigns_created_idx
    ON admin_newsletter_campaigns (created_at DESC, id DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS admin_newsletter_campaigns`.execute(db);
}
