import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. An SMS `STOP` from a number that has no account yet
// (issue #25): remembered by the number's keyed blind index (the users table's `phone_bidx`, never
// the number itself) and applied, then deleted, in the same statement that creates an account for
// that number, so the new account's SMS switches start off.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE sms_opt_outs (
      phone_bidx text PRIMARY KEY CHECK (length(phone_bidx) BETWEEN 1 AND 200),
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sms_opt_outs').ifExists().execute();
}
