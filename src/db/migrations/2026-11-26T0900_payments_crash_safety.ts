import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports.
// - A payment attempt is recorded before the provider is asked, so it may have no provider (or
//   provider reference) yet: the sweep and webhooks find it by its id, our external reference.
// - A payout holds the payee's money from the request on (REJECTED releases it), records when
//   each disbursement request left (`sent_at`, `sends`) so that a retry first asks the provider
//   what happened, and stops in NEEDS_REVIEW for finance when the provider cannot say.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE payment_attempts ALTER COLUMN provider DROP NOT NULL`.execute(db);
  await sql`ALTER TABLE payment_attempts ALTER COLUMN provider_reference DROP NOT NULL`.execute(db);
  // Attempts still waiting to learn where their collection went (the sweep's locate step).
  await sql`CREATE INDEX payment_attempts_unlocated_idx ON payment_attempts (created_at)
    WHERE provider_reference IS NULL`.execute(db);

  await sql`ALTER TABLE payouts DROP CONSTRAINT IF EXISTS payouts_status_check`.execute(db);
  await sql`ALTER TABLE payouts ADD CONSTRAINT payouts_status_check CHECK (status IN
    ('REQUESTED', 'APPROVED', 'PROCESSING', 'SUCCEEDED', 'FAILED', 'REJECTED', 'NEEDS_REVIEW'))`.execute(db);
  await sql`ALTER TABLE payouts ADD COLUMN sent_at timestamptz`.execute(db);
  await sql`ALTER TABLE payouts ADD COLUMN sends integer NOT NULL DEFAULT 0`.execute(db);
  await sql`ALTER TABLE payouts ADD COLUMN review_reason text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE payouts DROP COLUMN IF EXISTS review_reason`.execute(db);
  await sql`ALTER TABLE payouts DROP COLUMN IF EXISTS sends`.execute(db);
  await sql`ALTER TABLE payouts DROP COLUMN IF EXISTS sent_at`.execute(db);
  await sql`ALTER TABLE payouts DROP CONSTRAINT IF EXISTS payouts_status_check`.execute(db);
  await sql`ALTER TABLE payouts ADD CONSTRAINT payouts_status_check CHECK (status IN
    ('REQUESTED', 'APPROVED', 'PROCESSING', 'SUCCEEDED', 'FAILED'))`.execute(db);
  await sql`DROP INDEX IF EXISTS payment_attempts_unlocated_idx`.execute(db);
  await sql`DELETE FROM payment_attempts WHERE provider IS NULL OR provider_reference IS NULL`.execute(db);
  await sql`ALTER TABLE payment_attempts ALTER COLUMN provider_reference SET NOT NULL`.execute(db);
  await sql`ALTER TABLE payment_attempts ALTER COLUMN provider SET NOT NULL`.execute(db);
}
