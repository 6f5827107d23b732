import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Customers may take wallet money (a refund, say) back to
// their Mobile Money number: the same payout machinery, with the customer's wallet as the source.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE payouts DROP CONSTRAINT IF EXISTS payouts_payee_kind_check`.execute(db);
  await sql`ALTER TABLE payouts ADD CONSTRAINT payouts_payee_kind_check CHECK (payee_kind IN ('restaurant', 'driver', 'customer'))`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE payouts DROP CONSTRAINT IF EXISTS payouts_payee_kind_check`.execute(db);
  await sql`ALTER TABLE payouts ADD CONSTRAINT payouts_payee_kind_check CHECK (payee_kind IN ('restaurant', 'driver'))`.execute(
    db,
  );
}
