import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Fraud holds on payouts (issue #23): a fraud case that
// scores high holds its person's payouts (payments refuses a request or an approval while one is
// held) until an admin's decision releases it.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE admin_payout_holds (
      case_id uuid PRIMARY KEY REFERENCES admin_fraud_cases (id),
      user_id uuid,
      score integer NOT NULL,
      reason text NOT NULL,
      placed_at timestamptz NOT NULL DEFAULT now(),
      released_at timestamptz,
      released_by text,
      release_note text
    )`.execute(db);
  await sql`CREATE INDEX admin_payout_holds_user_idx ON admin_payout_holds (user_id) WHERE released_at IS NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS admin_payout_holds`.execute(db);
}
