import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. USSD (issue #25): the one SMS of a USSD order (its
// number and delivery PIN) made durable. A row is written, keyed by the order's id, before the
// order is placed; a job sends it with retries and a sweep sends what was left unsent. The row
// holds neither the phone number nor the PIN: both are read when sending (identity, the order).
// `claimed_until` is a sender's lease, so that several instances send one SMS.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE ussd_order_sms (
      order_id uuid PRIMARY KEY,
      user_id uuid NOT NULL,
      language text NOT NULL CHECK (language IN ('fr', 'en')),
      status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'void', 'failed')),
      attempts int4 NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      claimed_until timestamptz,
      last_error text CHECK (length(last_error) <= 200),
      created_at timestamptz NOT NULL DEFAULT now(),
      sent_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX ussd_order_sms_pending_idx ON ussd_order_sms (created_at) WHERE status = 'pending'`.execute(
    db,
  );
  await sql`CREATE INDEX ussd_order_sms_user_idx ON ussd_order_sms (user_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('ussd_order_sms').ifExists().execute();
}
