import type { ColumnType, Generated, Kysely } from 'kysely';

/** The payments context's tables (migration 2026-11-25T1600_payments). */
type Int8 = ColumnType<bigint, bigint | string | number, bigint | string | number>;
type NullableInt8 = ColumnType<
  bigint | null,
  bigint | string | number | null,
  bigint | string | number | null
>;
type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;

export interface PaymentAttemptsTable {
  payment_id: string;
  user_id: string;
  purpose: 'topup' | 'order' | 'bulk_order';
  order_id: string | null;
  amount_minor: Int8;
  currency: string;
  operator: string;
  /** Null until the provider that took the collection is known (recorded before asking it). */
  provider: string | null;
  provider_reference: string | null;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'EXPIRED';
  received_minor: NullableInt8;
  fee_minor: NullableInt8;
  failure_reason: string | null;
  after_expiry: Generated<boolean>;
  idempotency_key: string;
  revision: Int8;
  created_at: Timestamp;
  expires_at: Timestamp;
  updated_at: Generated<Date>;
  settled_at: NullableTimestamp;
}

export interface WalletsTable {
  user_id: string;
  currency: 'XAF' | 'USD';
  status: Generated<'active' | 'frozen'>;
  frozen_reason: string | null;
  frozen_by: string | null;
  frozen_at: NullableTimestamp;
  daily_limit_minor: Int8;
  monthly_limit_minor: Int8;
  auto_topup_enabled: Generated<boolean>;
  auto_topup_threshold_minor: NullableInt8;
  auto_topup_amount_minor: NullableInt8;
  auto_topup_phone: string | null;
  auto_topup_last_at: NullableTimestamp;
  /** Spending controls by category (wallet-categories.ts): `{ food: { blocked, monthlyLimitMinor } }`. */
  category_controls: Generated<CategoryControls>;
  /** Null: the owner set the controls; else the funder who did (migration 2026-12-06T0835), and the owner cannot change them. */
  category_controls_by: string | null;
  updated_at: Generated<Date>;
}

/** One category's control, as stored (amounts as decimal strings: jsonb has no int8). */
export type CategoryControls = Partial<Record<string, { blocked?: boolean; monthlyLimitMinor?: string }>>;

export interface WalletSpendingTable {
  user_id: string;
  currency: string;
  period: string;
  spent_minor: Int8;
}

export interface OrderSettlementsTable {
  order_id: string;
  restaurant_id: string;
  driver_id: string | null;
  customer_id: string;
  currency: string;
  outcome: 'released' | 'refunded' | 'resolved';
  escrow_minor: Int8;
  subtotal_minor: Int8;
  commission_rate: string;
  commission_tier: string;
  commission_minor: Int8;
  restaurant_share_minor: Int8;
  driver_fee_minor: Int8;
  tip_minor: Int8;
  delivery_margin_minor: Int8;
  tax_minor: Int8;
  refund_minor: Int8;
  settled_at: Timestamp;
}

/** One admin change of a restaurant's commission: a rate (null: back to the tiers) from a moment on. */
export interface RestaurantCommissionChangesTable {
  change_id: string;
  restaurant_id: string;
  rate: string | null;
  effective_from: Timestamp;
  reason: string;
  set_by: string;
  set_at: Generated<Date>;
  cancelled_at: NullableTimestamp;
  cancelled_by: string | null;
}

export interface RestaurantCommissionClockTable {
  restaurant_id: string;
  first_settled_at: Timestamp;
  completed_orders: Generated<number>;
}

export type PayoutStatus =
  'REQUESTED' | 'APPROVED' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'NEEDS_REVIEW';

export interface PayoutsTable {
  payout_id: string;
  payee_kind: 'restaurant' | 'driver' | 'customer';
  payee_id: string;
  requested_by: string;
  amount_minor: Int8;
  currency: string;
  phone: string;
  status: PayoutStatus;
  automatic: Generated<boolean>;
  provider: string | null;
  provider_reference: string | null;
  fee_minor: NullableInt8;
  failure_reason: string | null;
  attempts: Generated<number>;
  /** When the last disbursement request left for the provider (set before it leaves). */
  sent_at: NullableTimestamp;
  /** Disbursement requests sent so far (a resend needs proof that the earlier one made nothing). */
  sends: Generated<number>;
  /** Why the job stopped for finance (NEEDS_REVIEW). */
  review_reason: string | null;
  approved_by: string | null;
  approved_at: NullableTimestamp;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface PayoutSettingsTable {
  payee_kind: 'restaurant' | 'driver';
  payee_id: string;
  auto_enabled: Generated<boolean>;
  minimum_minor: Int8;
  updated_by: string;
  updated_at: Generated<Date>;
}

export interface ReconciliationRunsTable {
  run_id: string;
  provider: string;
  period_from: Timestamp;
  period_to: Timestamp;
  status: 'running' | 'completed' | 'failed';
  counts: Json<Record<string, number>>;
  requested_by: string;
  error: string | null;
  created_at: Generated<Date>;
  completed_at: NullableTimestamp;
}

export interface ReconciliationItemsTable {
  run_id: string;
  item_no: number;
  status: string;
  kind: string;
  provider_reference: string | null;
  internal_id: string | null;
  provider_amount_minor: NullableInt8;
  ledger_amount_minor: NullableInt8;
  provider_fee_minor: NullableInt8;
  provider_status: string | null;
  internal_status: string | null;
  detail: string | null;
  resolved_at: NullableTimestamp;
  resolved_by: string | null;
  resolution_reason: string | null;
  resolution_transfer_id: string | null;
}

export interface PaymentsReactorCheckpointsTable {
  name: string;
  position: string;
  updated_at: Generated<Date>;
}

/** The database as this context sees it: its own tables only. */
export type PaymentsDb = Kysely<PaymentTables>;

/** Card funding by an international card (migration 2026-12-06T0600_card_fundings). */
export interface CardFundingsTable {
  funding_id: string;
  tx_ref: string;
  funder_user_id: string;
  recipient_user_id: string;
  amount_minor: Int8;
  currency: 'USD' | 'EUR';
  status: Generated<'PENDING' | 'CREDITED' | 'FAILED' | 'REVIEW'>;
  provider_transaction_id: string | null;
  fee_minor: NullableInt8;
  failure_reason: string | null;
  checkout_url: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  credited_at: NullableTimestamp;
  /** What the funding counts against the card limits, in US cents (null: its own USD amount). Migration 2026-12-07T0120. */
  limit_usd_minor: NullableInt8;
  /** A EUR funding's conversion to XAF, fixed at creation (null for USD). */
  fx_rate: string | null;
  fx_rate_at: NullableTimestamp;
  fx_rate_source: string | null;
  fx_spread_bps: number | null;
  /** Francs credited to the XAF wallet. */
  credit_minor: NullableInt8;
  spread_minor: NullableInt8;
  rounding_minor: NullableInt8;
  bridge_minor: NullableInt8;
}

/** Card refunds and chargebacks (migration 2026-12-06T1200_card_funding_reversals). */
export interface CardFundingReversalsTable {
  reversal_id: string;
  funding_id: string;
  kind: 'chargeback' | 'refund';
  amount_minor: Int8;
  currency: 'USD' | 'EUR';
  /** A EUR funding's reversal in francs (the wallet's currency); null when it is `amount_minor` (USD). */
  wallet_amount_minor: NullableInt8;
  status: Generated<'REQUESTED' | 'ASKED' | 'BOOKED' | 'FAILED'>;
  provider_reference: string | null;
  wallet_minor: NullableInt8;
  receivable_minor: NullableInt8;
  provider_gap_minor: NullableInt8;
  reason: string | null;
  requested_by: string | null;
  failure_reason: string | null;
  created_at: Generated<Date>;
  booked_at: NullableTimestamp;
}

export interface CardFundingConsentsTable {
  recipient_user_id: string;
  funder_user_id: string;
  status: 'requested' | 'granted' | 'refused';
  requested_at: Generated<Date>;
  decided_at: NullableTimestamp;
}

/** Currency conversion quotes and their acceptance (migration 2026-12-06T0835_fx_quotes). */
export interface FxQuotesTable {
  quote_id: string;
  user_id: string;
  from_currency: 'USD';
  to_currency: 'XAF';
  from_minor: Int8;
  to_minor: Int8;
  spread_minor: Int8;
  rounding_minor: Int8;
  bridge_minor: Int8;
  exact_minor: string;
  rate: string;
  rate_at: Date;
  rate_source: string;
  spread_bps: number;
  status: Generated<'OPEN' | 'CONVERTING' | 'CONVERTED' | 'FAILED'>;
  failure_reason: string | null;
  expires_at: Date;
  created_at: Generated<Date>;
  converted_at: NullableTimestamp;
}

/** A customer's receivable recovered from a later wallet credit (migration 2026-12-07T0400_receivable_recoveries). */
export interface ReceivableRecoveriesTable {
  credit_transfer_id: string;
  recovery_transfer_id: string;
  user_id: string;
  currency: 'XAF' | 'USD';
  credit_code: string;
  credit_minor: Int8;
  recovered_minor: NullableInt8;
  owed_after_minor: NullableInt8;
  status: Generated<'DECIDED' | 'BOOKED' | 'NOTHING'>;
  created_at: Generated<Date>;
  booked_at: NullableTimestamp;
}

export interface PaymentTables {
  card_fundings: CardFundingsTable;
  receivable_recoveries: ReceivableRecoveriesTable;
  card_funding_reversals: CardFundingReversalsTable;
  fx_quotes: FxQuotesTable;
  card_funding_consents: CardFundingConsentsTable;
  payment_attempts: PaymentAttemptsTable;
  wallets: WalletsTable;
  wallet_spending: WalletSpendingTable;
  order_settlements: OrderSettlementsTable;
  restaurant_commission_changes: RestaurantCommissionChangesTable;
  restaurant_commission_clock: RestaurantCommissionClockTable;
  payouts: PayoutsTable;
  payout_settings: PayoutSettingsTable;
  reconciliation_runs: ReconciliationRunsTable;
  reconciliation_items: ReconciliationItemsTable;
  payments_reactor_checkpoints: PaymentsReactorCheckpointsTable;
}
