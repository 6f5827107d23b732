import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. USSD ordering (issue #25): one row per person who set
// a USSD PIN (argon2 hash, like passwords), with the language chosen on first use and the
// lockout of wrong PINs. Sessions themselves live in Redis (or memory) for minutes, never here.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE ussd_subscribers (
      user_id uuid PRIMARY KEY,
      pin_hash text NOT NULL,
      language text NOT NULL CHECK (language IN ('fr', 'en')),
      failed_attempts int4 NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
      locked_until timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ussd_subscribers').ifExists().execute();
}
