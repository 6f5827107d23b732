import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. A Mobile Money payment may now pay a bulk order's
// deposit or balance (issue #27, docs/community.md "Paying by Mobile Money"): its success is
// captured into the request's own escrow, as an order's payment is into the order's.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE payment_attempts DROP CONSTRAINT IF EXISTS payment_attempts_purpose_check`.execute(
    db,
  );
  await sql`
    ALTER TABLE payment_attempts
      ADD CONSTRAINT payment_attempts_purpose_check CHECK (purpose IN ('topup', 'order', 'bulk_order'))`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE payment_attempts DROP CONSTRAINT IF EXISTS payment_attempts_purpose_check`.execute(
    db,
  );
  await sql`
    ALTER TABLE payment_attempts
      ADD CONSTRAINT payment_attempts_purpose_check CHECK (purpose IN ('topup', 'order'))`.execute(db);
}
