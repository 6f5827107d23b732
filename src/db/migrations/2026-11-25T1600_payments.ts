import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. The payments context's state-stored tables. Money moves
// only in the ledger (an event stream); payment attempts are event-sourced (`payment-<id>`
// streams) and `payment_attempts` is the read model the service keeps beside them for polling,
// sweeps and reconciliation. `ledger_entries` is a projection (projections/ creates it).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE payment_attempts (
      payment_id uuid PRIMARY KEY,
      user_id text NOT NULL,
      purpose text NOT NULL CHECK (purpose IN ('topup', 'order')),
      order_id uuid,
      amount_minor bigint NOT NULL CHECK (amount_minor > 0),
      currency text NOT NULL,
      operator text NOT NULL,
      provider text NOT NULL,
      provider_reference text NOT NULL,
      status text NOT NULL CHECK (status IN ('PENDING', 'SUCCEEDED', 'FAILED', 'EXPIRED')),
      received_minor bigint,
      fee_minor bigint,
      failure_reason text,
      after_expiry boolean NOT NULL DEFAULT false,
      idempotency_key text NOT NULL,
      revision bigint NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      settled_at timestamptz,
      UNIQUE (provider, provider_reference)
    )`.execute(db);
  await sql`CREATE INDEX payment_attempts_open_idx ON payment_attempts (status, expires_at)
    WHERE status IN ('PENDING', 'EXPIRED')`.execute(db);
  await sql`CREATE INDEX payment_attempts_unsettled_idx ON payment_attempts (updated_at)
    WHERE status = 'SUCCEEDED' AND settled_at IS NULL`.execute(db);
  await sql`CREATE INDEX payment_attempts_provider_time_idx ON payment_attempts (provider, created_at)`.execute(
    db,
  );
  await sql`CREATE INDEX payment_attempts_user_idx ON payment_attempts (user_id, created_at DESC)`.execute(
    db,
  );

  await sql`
    CREATE TABLE wallets (
      user_id text NOT NULL,
      currency text NOT NULL CHECK (currency IN ('XAF', 'USD')),
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen')),
      frozen_reason text,
      frozen_by text,
      frozen_at timestamptz,
      daily_limit_minor bigint NOT NULL CHECK (daily_limit_minor > 0),
      monthly_limit_minor bigint NOT NULL CHECK (monthly_limit_minor > 0),
      auto_topup_enabled boolean NOT NULL DEFAULT false,
      auto_topup_threshold_minor bigint,
      auto_topup_amount_minor bigint,
      auto_topup_phone text,
      auto_topup_last_at timestamptz,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, currency)
    )`.execute(db);
  await sql`CREATE INDEX wallets_auto_topup_idx ON wallets (currency) WHERE auto_topup_enabled`.execute(db);
  // Spending per calendar day and month (Douala time), reserved before a wallet debit so that
  // parallel payments cannot pass a limit together; released when the ledger refuses the debit.
  await sql`
    CREATE TABLE wallet_spending (
      user_id text NOT NULL,
      currency text NOT NULL,
      period text NOT NULL,
      spent_minor bigint NOT NULL CHECK (spent_minor >= 0),
      PRIMARY KEY (user_id, currency, period)
    )`.execute(db);

  await sql`
    CREATE TABLE order_settlements (
      order_id uuid PRIMARY KEY,
      restaurant_id uuid NOT NULL,
      driver_id text,
      customer_id text NOT NULL,
      currency text NOT NULL,
      outcome text NOT NULL CHECK (outcome IN ('released', 'refunded', 'resolved')),
      escrow_minor bigint NOT NULL,
      subtotal_minor bigint NOT NULL,
      commission_rate text NOT NULL,
      commission_tier text NOT NULL,
      commission_minor bigint NOT NULL,
      restaurant_share_minor bigint NOT NULL,
      driver_fee_minor bigint NOT NULL,
      tip_minor bigint NOT NULL,
      delivery_margin_minor bigint NOT NULL,
      tax_minor bigint NOT NULL,
      refund_minor bigint NOT NULL,
      settled_at timestamptz NOT NULL
    )`.execute(db);
  await sql`CREATE INDEX order_settlements_restaurant_idx ON order_settlements (restaurant_id, settled_at)`.execute(
    db,
  );
  await sql`CREATE INDEX order_settlements_driver_idx ON order_settlements (driver_id, settled_at)`.execute(
    db,
  );
  await sql`CREATE INDEX order_settlements_time_idx ON order_settlements (settled_at)`.execute(db);

  await sql`
    CREATE TABLE restaurant_commission_overrides (
      restaurant_id uuid PRIMARY KEY,
      rate text NOT NULL,
      reason text NOT NULL,
      set_by text NOT NULL,
      set_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  // When a restaurant first earned with us: the start of its 30-day onboarding tier.
  await sql`
    CREATE TABLE restaurant_commission_clock (
      restaurant_id uuid PRIMARY KEY,
      first_settled_at timestamptz NOT NULL,
      completed_orders integer NOT NULL DEFAULT 0
    )`.execute(db);

  await sql`
    CREATE TABLE payouts (
      payout_id uuid PRIMARY KEY,
      payee_kind text NOT NULL CHECK (payee_kind IN ('restaurant', 'driver')),
      payee_id text NOT NULL,
      requested_by text NOT NULL,
      amount_minor bigint NOT NULL CHECK (amount_minor > 0),
      currency text NOT NULL,
      phone text NOT NULL,
      status text NOT NULL CHECK (status IN ('REQUESTED', 'APPROVED', 'PROCESSING', 'SUCCEEDED', 'FAILED')),
      automatic boolean NOT NULL DEFAULT false,
      provider text,
      provider_reference text,
      fee_minor bigint,
      failure_reason text,
      attempts integer NOT NULL DEFAULT 0,
      approved_by text,
      approved_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX payouts_payee_idx ON payouts (payee_kind, payee_id, created_at DESC)`.execute(db);
  await sql`CREATE INDEX payouts_status_idx ON payouts (status, updated_at)`.execute(db);
  await sql`CREATE UNIQUE INDEX payouts_provider_reference_idx ON payouts (provider, provider_reference)
    WHERE provider_reference IS NOT NULL`.execute(db);
  await sql`
    CREATE TABLE payout_settings (
      payee_kind text NOT NULL,
      payee_id text NOT NULL,
      auto_enabled boolean NOT NULL DEFAULT false,
      minimum_minor bigint NOT NULL CHECK (minimum_minor > 0),
      updated_by text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (payee_kind, payee_id)
    )`.execute(db);

  await sql`
    CREATE TABLE reconciliation_runs (
      run_id uuid PRIMARY KEY,
      provider text NOT NULL,
      period_from timestamptz NOT NULL,
      period_to timestamptz NOT NULL,
      status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
      counts jsonb NOT NULL DEFAULT '{}',
      requested_by text NOT NULL,
      error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz
    )`.execute(db);
  await sql`
    CREATE TABLE reconciliation_items (
      run_id uuid NOT NULL REFERENCES reconciliation_runs (run_id),
      item_no integer NOT NULL,
      status text NOT NULL,
      kind text NOT NULL,
      provider_reference text,
      internal_id text,
      provider_amount_minor bigint,
      ledger_amount_minor bigint,
      provider_fee_minor bigint,
      provider_status text,
      internal_status text,
      detail text,
      resolved_at timestamptz,
      resolved_by text,
      resolution_reason text,
      resolution_transfer_id text,
      PRIMARY KEY (run_id, item_no)
    )`.execute(db);
  await sql`CREATE INDEX reconciliation_items_status_idx ON reconciliation_items (run_id, status)`.execute(
    db,
  );

  // Where the payments reactor to order events has got to in the global order ($all).
  await sql`
    CREATE TABLE payments_reactor_checkpoints (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'payments_reactor_checkpoints',
    'reconciliation_items',
    'reconciliation_runs',
    'payout_settings',
    'payouts',
    'restaurant_commission_clock',
    'restaurant_commission_overrides',
    'order_settlements',
    'wallet_spending',
    'wallets',
    'payment_attempts',
  ]) {
    await sql`DROP TABLE IF EXISTS ${sql.id(table)}`.execute(db);
  }
}
