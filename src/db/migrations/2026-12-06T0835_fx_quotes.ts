import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Currency conversion and funder-set controls (issue #28): a customer asks a
// quote (rate, its source and time, spread, rounding, what they will receive, an expiry), then
// accepts it once; the ledger chain is keyed by the quote id, so accepting twice books once.
// CONVERTING marks a quote claimed before its expiry whose chain may or may not have landed: a
// retry resubmits the same chain (the ledger answers `exists` for what landed).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE fx_quotes (
      quote_id uuid PRIMARY KEY,
      user_id uuid NOT NULL,
      from_currency text NOT NULL CHECK (from_currency IN ('USD')),
      to_currency text NOT NULL CHECK (to_currency IN ('XAF')),
      from_minor int8 NOT NULL CHECK (from_minor > 0),
      to_minor int8 NOT NULL CHECK (to_minor > 0),
      spread_minor int8 NOT NULL CHECK (spread_minor >= 0),
      rounding_minor int8 NOT NULL CHECK (rounding_minor >= 0),
      bridge_minor int8 NOT NULL CHECK (bridge_minor = to_minor + spread_minor + rounding_minor),
      exact_minor text NOT NULL,
      rate text NOT NULL,
      rate_at timestamptz NOT NULL,
      rate_source text NOT NULL,
      spread_bps int4 NOT NULL CHECK (spread_bps BETWEEN 0 AND 10000),
      status text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'CONVERTING', 'CONVERTED', 'FAILED')),
      failure_reason text,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      converted_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX fx_quotes_user_idx ON fx_quotes (user_id, created_at)`.execute(db);
  // Who set a wallet's category controls: null for its owner, else the funder (a relative funding
  // it by card, with the owner's consent) whose controls the owner cannot loosen (issue #28).
  await sql`ALTER TABLE wallets ADD COLUMN category_controls_by uuid`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE wallets DROP COLUMN IF EXISTS category_controls_by`.execute(db);
  await sql`DROP TABLE IF EXISTS fx_quotes`.execute(db);
}
