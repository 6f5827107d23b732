import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Partnership requests (issue #23): a public form's
// submissions (restaurants, fleets, companies wanting to work with us) and their review by an
// admin. The contact's e-mail and phone are stored encrypted.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE admin_partnership_requests (
      id uuid PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('restaurant', 'fleet', 'corporate', 'other')),
      organisation text NOT NULL,
      contact_name text NOT NULL,
      email text NOT NULL,
      phone text,
      city text,
      message text NOT NULL,
      status text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'accepted', 'declined')),
      created_at timestamptz NOT NULL DEFAULT now(),
      reviewed_by text,
      reviewed_at timestamptz,
      review_note text
    )`.execute(db);
  await sql`CREATE INDEX admin_partnership_requests_queue_idx
    ON admin_partnership_requests (status, created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX admin_partnership_requests_created_idx
    ON admin_partnership_requests (created_at DESC, id DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS admin_partnership_requests`.execute(db);
}
