import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Card refunds and chargebacks (issue #28): money the card
// provider gave back to the payer's card, booked once per provider reversal. The split (what the
// wallet still held, what the customer owes, what the provider took beyond our clearing balance)
// is fixed on the row before the ledger is asked, so a retry books the same amounts under the same
// transfer ids.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE card_funding_reversals (
      reversal_id text PRIMARY KEY CHECK (length(reversal_id) <= 100),
      funding_id uuid NOT NULL REFERENCES card_fundings (funding_id),
      kind text NOT NULL CHECK (kind IN ('chargeback', 'refund')),
      amount_minor int8 NOT NULL CHECK (amount_minor > 0),
      currency text NOT NULL CHECK (currency IN ('USD')),
      status text NOT NULL DEFAULT 'REQUESTED' CHECK (status IN ('REQUESTED', 'ASKED', 'BOOKED', 'FAILED')),
      provider_reference text,
      wallet_minor int8 CHECK (wallet_minor >= 0),
      receivable_minor int8 CHECK (receivable_minor >= 0),
      provider_gap_minor int8 CHECK (provider_gap_minor >= 0),
      reason text,
      requested_by uuid,
      failure_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      booked_at timestamptz,
      CHECK (wallet_minor IS NULL OR wallet_minor + receivable_minor = amount_minor)
    )`.execute(db);
  await sql`CREATE INDEX card_funding_reversals_funding_idx ON card_funding_reversals (funding_id)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS card_funding_reversals`.execute(db);
}
