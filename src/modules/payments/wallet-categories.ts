import type { TransferCode } from '../../../ledger/rules/index.js';

/**
 * What a wallet movement is for, as the statement, the reports and the spending controls say it.
 *
 * This file is the one place a category is decided: from the ledger transfer's code, and for an
 * order's capture (one code for the food, the delivery and the tax legs of one payment) from the
 * leg the transfer declares. Nothing else reads `userData.category`: a transfer cannot file itself
 * under a category its code does not allow (a payout declaring "refunds" is still a withdrawal).
 */
export const WALLET_CATEGORIES = [
  'food',
  'delivery',
  'tips',
  'taxes',
  'refunds',
  'top-ups',
  'withdrawals',
  'transfers',
  'fees',
  'rewards',
  'recoveries',
  'other',
] as const;
export type WalletCategory = (typeof WALLET_CATEGORIES)[number];

/** The legs an order's capture can declare, and the one an undeclared (older) capture is. */
const CAPTURE_LEGS: readonly WalletCategory[] = ['food', 'delivery', 'taxes'];
const CAPTURE_DEFAULT: WalletCategory = 'food';

/** Every transfer code's category; `capture` means "the leg the capture declares". */
const BY_CODE: Record<TransferCode, WalletCategory | 'capture'> = {
  payment_capture: 'capture',
  escrow_release: 'transfers',
  commission: 'fees',
  delivery_fee: 'delivery',
  delivery_subsidy: 'delivery',
  driver_fee: 'delivery',
  tip: 'tips',
  tax: 'taxes',
  promotion: 'rewards',
  refund: 'refunds',
  payout: 'withdrawals',
  provider_fee: 'fees',
  topup: 'top-ups',
  // A reversal undoes a transfer of any kind; the statement shows it as a correction.
  reversal: 'other',
  adjustment: 'other',
  points_award: 'rewards',
  points_redeem: 'rewards',
  hold_expiry: 'other',
  // Fuel, peak-hour and challenge payments to a driver (dispatch): earnings like the driver fee.
  driver_incentive: 'delivery',
  // USD converted to XAF (issue #28): money moving between the customer's own wallets.
  fx_conversion: 'transfers',
  // What the customer owed after a card chargeback, taken from a later top-up or reward (issue #28):
  // its own category, so the customer sees why money left and finance can sum it.
  receivable_recovery: 'recoveries',
};

export function categoryOf(code: string, userData: Record<string, string> | null): WalletCategory {
  const byCode = (BY_CODE as Record<string, WalletCategory | 'capture' | undefined>)[code];
  if (byCode === undefined) return 'other';
  if (byCode !== 'capture') return byCode;
  const declared = userData?.category as WalletCategory | undefined;
  return declared !== undefined && CAPTURE_LEGS.includes(declared) ? declared : CAPTURE_DEFAULT;
}

/**
 * How to find a category's entries in the ledger's read model, derived from the same table as
 * `categoryOf` so that a filtered statement and the categories it shows can never disagree:
 * the codes that are that category outright, and for a capture leg which declarations count
 * (`undeclared`: also captures that declare no leg, or one that is not a leg).
 */
export function categoryFilter(category: WalletCategory): {
  codes: TransferCode[];
  capture: { declared: WalletCategory; undeclared: boolean; legs: readonly WalletCategory[] } | null;
} {
  const codes = (Object.keys(BY_CODE) as TransferCode[]).filter((code) => BY_CODE[code] === category);
  return {
    codes,
    capture: CAPTURE_LEGS.includes(category)
      ? { declared: category, undeclared: category === CAPTURE_DEFAULT, legs: CAPTURE_LEGS }
      : null,
  };
}

/** The categories a wallet payment spends on (the ones spending controls may restrict). */
export const SPENDING_CATEGORIES = [
  'food',
  'delivery',
  'tips',
  'taxes',
] as const satisfies readonly WalletCategory[];
export type SpendingCategory = (typeof SPENDING_CATEGORIES)[number];
