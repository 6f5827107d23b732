import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Referrals (issue #21): each customer's code, and one
// referral per referee with the reward decided once (kind, amounts, whether the referrer's cap
// was reached), so a replayed order event books the same transfers. Ids and amounts only.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE referral_codes (
      user_id uuid PRIMARY KEY,
      code text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9]{8}$'),
      created_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE referrals (
      referee_id uuid PRIMARY KEY,
      referrer_id uuid NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'rewarded', 'refused')),
      reason text,
      order_id uuid,
      reward_kind text CHECK (reward_kind IN ('points', 'wallet')),
      referee_reward int8 CHECK (referee_reward >= 0),
      referrer_reward int8 CHECK (referrer_reward >= 0),
      month text,
      created_at timestamptz NOT NULL DEFAULT now(),
      decided_at timestamptz,
      CHECK (referee_id <> referrer_id)
    )`.execute(db);
  await sql`CREATE INDEX ON referrals (referrer_id, created_at DESC, referee_id)`.execute(db);
  await sql`CREATE INDEX ON referrals (referrer_id, month) WHERE referrer_reward > 0`.execute(db);
  // The finance export of coupon redemptions pages by (created_at, order_id).
  await sql`CREATE INDEX coupon_redemptions_export ON coupon_redemptions (created_at, order_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS coupon_redemptions_export`.execute(db);
  for (const table of ['referrals', 'referral_codes']) await db.schema.dropTable(table).ifExists().execute();
}
