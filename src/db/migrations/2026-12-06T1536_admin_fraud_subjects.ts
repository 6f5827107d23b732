import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Fraud rules about subjects other than an account or a
// payment phone (issue #23): one coupon redeemed from one payment phone or one delivery point
// (`coupon:<id>:phone:<keyed hash>`, `coupon:<id>:address:<keyed hash>`), and a driver and a
// customer together (`pair:<keyed hash>`). A signal lists those subjects; a collusion case names
// the second person (the customer) beside its `user_id` (the driver).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE admin_fraud_signals ADD COLUMN subjects text[] NOT NULL DEFAULT '{}'`.execute(db);
  await sql`CREATE INDEX admin_fraud_signals_subjects_idx ON admin_fraud_signals USING gin (subjects)`.execute(
    db,
  );
  await sql`ALTER TABLE admin_fraud_cases ADD COLUMN related_user_id uuid`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE admin_fraud_cases DROP COLUMN IF EXISTS related_user_id`.execute(db);
  await sql`DROP INDEX IF EXISTS admin_fraud_signals_subjects_idx`.execute(db);
  await sql`ALTER TABLE admin_fraud_signals DROP COLUMN IF EXISTS subjects`.execute(db);
}
