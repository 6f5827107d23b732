/**
 * The ledger's data model, after TigerBeetle's (accounts with four balance columns, transfers
 * with client ids, two-phase holds, linked chains) with strings for ids and bigint for money.
 */

export const CURRENCIES = ['XAF', 'USD', 'PTS', 'EUR'] as const;
/** The "ledger" of TigerBeetle: transfers only move value between accounts of one currency. */
export type Currency = (typeof CURRENCIES)[number];

/** Minor-unit exponent per currency: amounts are integers of 10^-exponent of the major unit. */
export const CURRENCY_EXPONENT: Readonly<Record<Currency, number>> = { XAF: 0, USD: 2, PTS: 0, EUR: 2 };

export const ACCOUNT_KINDS = ['asset', 'liability', 'equity', 'revenue', 'expense'] as const;
/** The accounting class of an account; the chart of accounts says which role has which. */
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

export interface AccountFlags {
  /** debits_pending + debits_posted must stay ≤ credits_posted (wallets, payables, escrow). */
  readonly debitsMustNotExceedCredits: boolean;
  /** credits_pending + credits_posted must stay ≤ debits_posted (provider clearing, expenses). */
  readonly creditsMustNotExceedDebits: boolean;
}

export interface Account {
  readonly id: string;
  readonly currency: Currency;
  readonly kind: AccountKind;
  readonly flags: AccountFlags;
  readonly debitsPending: bigint;
  readonly debitsPosted: bigint;
  readonly creditsPending: bigint;
  readonly creditsPosted: bigint;
  /** Set by a transfer with a closing flag; a closed account takes no new debits or credits. */
  readonly closed?: boolean;
}

/** What a caller supplies to open an account: balances, if given, must be zero. */
export interface NewAccount {
  readonly id: string;
  readonly currency: Currency;
  readonly kind: AccountKind;
  readonly flags: AccountFlags;
  readonly debitsPending?: bigint;
  readonly debitsPosted?: bigint;
  readonly creditsPending?: bigint;
  readonly creditsPosted?: bigint;
  readonly closed?: boolean;
}

export const TRANSFER_CODES = [
  'payment_capture',
  'escrow_release',
  'commission',
  'delivery_fee',
  'delivery_subsidy',
  'driver_fee',
  'tip',
  'tax',
  'promotion',
  'refund',
  'payout',
  'provider_fee',
  'topup',
  'reversal',
  'adjustment',
  'points_award',
  'points_redeem',
  'hold_expiry',
  /** Paid to a driver by the platform beyond the fee: fuel per km, peak hours, bonus challenges (dispatch). */
  'driver_incentive',
  /** One leg of a currency conversion through the FX bridges (issue #28): debit, credit, spread or rounding. */
  'fx_conversion',
  /**
   * What a customer owes after a card chargeback or refund (their receivable), taken back from new
   * money landing on their wallet: wallet → receivable (issue #28, docs/payments.md).
   */
  'receivable_recovery',
] as const;
/** Why money moved (TigerBeetle's `code`). `hold_expiry` is written only by the expiry sweep. */
export type TransferCode = (typeof TRANSFER_CODES)[number];

export interface TransferFlags {
  /** This transfer and the next one succeed or fail together. */
  readonly linked?: boolean;
  /** A hold: moves the amount into debits_pending / credits_pending until posted or voided. */
  readonly pending?: boolean;
  /** Posts (part of) the hold named by pendingId; amount 0 means the whole hold. */
  readonly postPending?: boolean;
  /** Releases the hold named by pendingId. */
  readonly voidPending?: boolean;
  /** Closes the debit account once this transfer is applied (permanent, see README). */
  readonly closingDebit?: boolean;
  /** Closes the credit account once this transfer is applied (permanent, see README). */
  readonly closingCredit?: boolean;
}

/** Small string record linking a transfer to the business objects it belongs to. */
export interface UserData {
  readonly orderId?: string;
  readonly paymentId?: string;
  readonly payoutId?: string;
  readonly restaurantId?: string;
  readonly driverId?: string;
  readonly userId?: string;
  readonly reversedTransferId?: string;
  readonly [key: string]: string | undefined;
}

export interface Transfer {
  /** Client-chosen idempotency key; the `sys:` prefix is reserved for the ledger itself. */
  readonly id: string;
  /** For post/void, empty means "the pending transfer's account". */
  readonly debitAccountId: string;
  readonly creditAccountId: string;
  readonly amountMinor: bigint;
  readonly currency: Currency;
  readonly code: TransferCode;
  readonly flags: TransferFlags;
  /** Required for post/void: the id of the pending transfer. */
  readonly pendingId?: string;
  /** For pending transfers only; 0 or absent means the hold never expires. */
  readonly timeoutSeconds?: number;
  readonly userData?: UserData;
  /**
   * Nanoseconds since the Unix epoch, assigned by the ledger when the transfer is accepted
   * (strictly increasing across the whole ledger, as in TigerBeetle). Must be absent on input.
   * bigint rather than an ISO string so that it keeps nanosecond order and sorts as a number.
   */
  readonly timestamp?: bigint;
}

/** A transfer as the ledger accepted it: timestamp set, accounts and amount resolved. */
export interface AcceptedTransfer extends Transfer {
  readonly timestamp: bigint;
}

export const CREATE_TRANSFER_RESULTS = [
  'ok',
  'exists',
  'exists_with_different_fields',
  'linked_event_failed',
  'linked_event_chain_open',
  'id_must_not_be_empty',
  'id_too_long',
  'id_reserved_for_system',
  'timestamp_must_be_zero',
  'flags_are_mutually_exclusive',
  'code_invalid',
  'code_reserved_for_system',
  'currency_invalid',
  'user_data_invalid',
  'amount_must_not_be_negative',
  'timeout_invalid',
  'overflows_timeout',
  'timeout_reserved_for_pending_transfer',
  'pending_id_must_be_empty',
  'pending_id_required',
  'pending_id_must_be_different',
  'debit_account_id_must_not_be_empty',
  'credit_account_id_must_not_be_empty',
  'accounts_must_be_different',
  'amount_must_not_be_zero',
  'debit_account_not_found',
  'credit_account_not_found',
  'currency_mismatch',
  'account_closed',
  'pending_transfer_not_found',
  'pending_transfer_not_pending',
  'pending_transfer_has_different_accounts',
  'pending_transfer_has_different_currency',
  'pending_transfer_has_different_amount',
  'pending_transfer_already_posted',
  'pending_transfer_already_voided',
  'pending_transfer_expired',
  'exceeds_pending_transfer_amount',
  'overflows_debits_pending',
  'overflows_credits_pending',
  'overflows_debits_posted',
  'overflows_credits_posted',
  'overflows_debits',
  'overflows_credits',
  'exceeds_credits',
  'exceeds_debits',
] as const;
export type CreateTransferResult = (typeof CREATE_TRANSFER_RESULTS)[number];

export const CREATE_ACCOUNT_RESULTS = [
  'ok',
  'exists',
  'exists_with_different_fields',
  'id_must_not_be_empty',
  'id_too_long',
  'currency_invalid',
  'kind_invalid',
  'flags_are_mutually_exclusive',
  'balances_must_be_zero',
  'closed_must_not_be_set',
] as const;
export type CreateAccountResult = (typeof CREATE_ACCOUNT_RESULTS)[number];

/** Limits (TigerStyle: put a limit on everything). */
export const LIMITS = {
  /** Same as TigerBeetle's batch size for transfers. */
  batchMaxEvents: 8_190,
  accountIdMaxLength: 128,
  transferIdMaxLength: 128,
  userDataMaxEntries: 8,
  userDataKeyMaxLength: 32,
  userDataValueMaxLength: 128,
  /** TigerBeetle's timeout is a u32 of seconds. */
  timeoutMaxSeconds: 4_294_967_295,
  /** Balances are stored in Postgres int8: every balance column stays ≤ 2^63 − 1. */
  balanceMaxMinor: 2n ** 63n - 1n,
} as const;

/** Ids starting with this prefix are written by the ledger itself (hold expiries). */
export const SYSTEM_ID_PREFIX = 'sys:';

/** The body of one ledger batch event: what a batch created and accepted, in order. */
export interface LedgerBatchBody {
  readonly accountsCreated: readonly Account[];
  readonly transfersAccepted: readonly AcceptedTransfer[];
}

/** A batch body sealed into the hash chain. */
export interface LedgerBatchEvent extends LedgerBatchBody {
  /** Hex SHA-256 of the previous event (64 zeros for the first event). */
  readonly previousHash: string;
  /** Hex SHA-256(previousHash bytes ‖ canonical body bytes). */
  readonly hash: string;
}
