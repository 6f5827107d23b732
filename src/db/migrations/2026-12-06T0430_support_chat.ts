import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support live chat (issue #22): how far each side of a
// ticket has read (the opener; support staff as one side), as the position of the last message read
// (monotonic) and its id (what clients see).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE support_tickets
      ADD COLUMN opener_read_position bigint,
      ADD COLUMN opener_read_message_id uuid,
      ADD COLUMN staff_read_position bigint,
      ADD COLUMN staff_read_message_id uuid`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE support_tickets
      DROP COLUMN IF EXISTS opener_read_position,
      DROP COLUMN IF EXISTS opener_read_message_id,
      DROP COLUMN IF EXISTS staff_read_position,
      DROP COLUMN IF EXISTS staff_read_message_id`.execute(db);
}
