import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support (issue #22): an agent who said they are away
// (`away`) receives no new ticket even while connected to /ws/support (connection is now what
// makes an agent available); canned responses, per language, written by supervisors and used by
// agents.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE support_agents ADD COLUMN away boolean NOT NULL DEFAULT false`.execute(db);
  await sql`
    CREATE TABLE support_canned_responses (
      id uuid PRIMARY KEY,
      shortcut text NOT NULL CHECK (shortcut ~ '^[a-z0-9-]{1,40}$'),
      locale text NOT NULL CHECK (locale IN ('fr', 'en')),
      title text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 120),
      body text NOT NULL CHECK (char_length(body) BETWEEN 1 AND 2000),
      category text,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
      version int NOT NULL DEFAULT 1,
      created_by uuid NOT NULL,
      updated_by uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE UNIQUE INDEX support_canned_responses_shortcut_idx
      ON support_canned_responses (locale, shortcut)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('support_canned_responses').ifExists().execute();
  await sql`ALTER TABLE support_agents DROP COLUMN IF EXISTS away`.execute(db);
}
