import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support (issue #22): files asks support who may read a
// support attachment (the ticket it is on), found by containment in the messages' attachments.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX support_messages_attachments_idx ON support_messages USING gin (attachments)
      WHERE attachments <> '[]'::jsonb`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS support_messages_attachments_idx`.execute(db);
}
