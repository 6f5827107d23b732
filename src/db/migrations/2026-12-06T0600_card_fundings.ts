import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. International card funding (issue #28): a funder pays
// by card on the card aggregator's hosted page (Flutterwave), identified by our tx_ref; the
// recipient's wallet is credited once the provider's verify endpoint confirms amount and
// currency. A funder may fund someone else's wallet only once that person consented.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE card_fundings (
      funding_id uuid PRIMARY KEY,
      tx_ref text NOT NULL UNIQUE,
      funder_user_id uuid NOT NULL,
      recipient_user_id uuid NOT NULL,
      amount_minor int8 NOT NULL CHECK (amount_minor > 0),
      currency text NOT NULL CHECK (currency IN ('USD')),
      status text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'CREDITED', 'FAILED', 'REVIEW')),
      provider_transaction_id text,
      fee_minor int8,
      failure_reason text,
      checkout_url text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      credited_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX card_fundings_funder_idx ON card_fundings (funder_user_id, created_at)`.execute(db);
  await sql`CREATE INDEX card_fundings_recipient_idx ON card_fundings (recipient_user_id, created_at)`.execute(
    db,
  );
  await sql`CREATE INDEX card_fundings_pending_idx ON card_fundings (created_at) WHERE status = 'PENDING'`.execute(
    db,
  );
  await sql`
    CREATE TABLE card_funding_consents (
      recipient_user_id uuid NOT NULL,
      funder_user_id uuid NOT NULL,
      status text NOT NULL CHECK (status IN ('requested', 'granted', 'refused')),
      requested_at timestamptz NOT NULL DEFAULT now(),
      decided_at timestamptz,
      PRIMARY KEY (recipient_user_id, funder_user_id)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS card_funding_consents`.execute(db);
  await sql`DROP TABLE IF EXISTS card_fundings`.execute(db);
}
