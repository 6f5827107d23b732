import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. EUR card funding (issue #28): a EUR payment is converted
// to XAF on arrival (XAF is pegged to EUR), so its row keeps the terms it was created with (rate,
// its time and source, the spread, and the exact split in francs), fixed before any money moves so
// every retry books the same chain. `limit_usd_minor` is what the funding counts against the card
// limits, which are kept in US cents (a EUR funding's USD equivalent at creation). A reversal of a
// EUR funding is split in francs: `wallet_amount_minor` is its XAF value.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE card_fundings DROP CONSTRAINT IF EXISTS card_fundings_currency_check`.execute(db);
  await sql`
    ALTER TABLE card_fundings
      ADD CONSTRAINT card_fundings_currency_check CHECK (currency IN ('USD', 'EUR')),
      ADD COLUMN limit_usd_minor int8 CHECK (limit_usd_minor > 0),
      ADD COLUMN fx_rate numeric CHECK (fx_rate > 0),
      ADD COLUMN fx_rate_at timestamptz,
      ADD COLUMN fx_rate_source text,
      ADD COLUMN fx_spread_bps int4 CHECK (fx_spread_bps BETWEEN 0 AND 10000),
      ADD COLUMN credit_minor int8 CHECK (credit_minor >= 0),
      ADD COLUMN spread_minor int8 CHECK (spread_minor >= 0),
      ADD COLUMN rounding_minor int8 CHECK (rounding_minor BETWEEN 0 AND 2),
      ADD COLUMN bridge_minor int8,
      ADD CONSTRAINT card_fundings_fx_terms_check CHECK (
        (currency = 'USD' AND fx_rate IS NULL AND credit_minor IS NULL)
        OR (currency = 'EUR' AND fx_rate IS NOT NULL AND fx_rate_at IS NOT NULL AND fx_rate_source IS NOT NULL
            AND fx_spread_bps IS NOT NULL AND credit_minor IS NOT NULL AND spread_minor IS NOT NULL
            AND rounding_minor IS NOT NULL AND limit_usd_minor IS NOT NULL
            AND bridge_minor = credit_minor + spread_minor + rounding_minor))`.execute(db);
  await sql`ALTER TABLE card_funding_reversals DROP CONSTRAINT IF EXISTS card_funding_reversals_currency_check`.execute(
    db,
  );
  await sql`ALTER TABLE card_funding_reversals DROP CONSTRAINT IF EXISTS card_funding_reversals_check`.execute(
    db,
  );
  await sql`
    ALTER TABLE card_funding_reversals
      ADD CONSTRAINT card_funding_reversals_currency_check CHECK (currency IN ('USD', 'EUR')),
      ADD COLUMN wallet_amount_minor int8 CHECK (wallet_amount_minor >= 0),
      ADD CONSTRAINT card_funding_reversals_check CHECK (
        wallet_minor IS NULL OR wallet_minor + receivable_minor = coalesce(wallet_amount_minor, amount_minor))`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE card_funding_reversals DROP CONSTRAINT IF EXISTS card_funding_reversals_check`.execute(
    db,
  );
  await sql`ALTER TABLE card_funding_reversals DROP CONSTRAINT IF EXISTS card_funding_reversals_currency_check`.execute(
    db,
  );
  await sql`ALTER TABLE card_funding_reversals DROP COLUMN IF EXISTS wallet_amount_minor`.execute(db);
  await sql`
    ALTER TABLE card_funding_reversals
      ADD CONSTRAINT card_funding_reversals_currency_check CHECK (currency IN ('USD')),
      ADD CONSTRAINT card_funding_reversals_check CHECK (wallet_minor IS NULL OR wallet_minor + receivable_minor = amount_minor)`.execute(
    db,
  );
  await sql`ALTER TABLE card_fundings DROP CONSTRAINT IF EXISTS card_fundings_fx_terms_check`.execute(db);
  await sql`ALTER TABLE card_fundings DROP CONSTRAINT IF EXISTS card_fundings_currency_check`.execute(db);
  for (const column of [
    'limit_usd_minor',
    'fx_rate',
    'fx_rate_at',
    'fx_rate_source',
    'fx_spread_bps',
    'credit_minor',
    'spread_minor',
    'rounding_minor',
    'bridge_minor',
  ])
    await sql`ALTER TABLE card_fundings DROP COLUMN IF EXISTS ${sql.ref(column)}`.execute(db);
  await sql`ALTER TABLE card_fundings ADD CONSTRAINT card_fundings_currency_check CHECK (currency IN ('USD'))`.execute(
    db,
  );
}
