import type { AccountFlags, AccountKind, Currency, NewAccount } from './types.js';

/**
 * The platform's chart of accounts. Every id is readable, stable and derivable from business
 * ids alone, so any writer can open an account lazily and arrive at the same id:
 *
 *   <family>:<name>:<subject>:<currency>      e.g. wallet:customer:7f3c…:XAF
 *
 * `subject` is the business id (user, order, restaurant, driver), the provider name, or the
 * literal `platform` for the platform's own accounts. Subjects match [A-Za-z0-9_-]{1,64}
 * (UUIDs and ULIDs fit), so an id is at most 8 + 1 + 13 + 1 + 64 + 1 + 3 = 91 characters,
 * inside the ledger's 128, and ':' can never appear inside a segment.
 */

/** Mobile Money aggregators, and Flutterwave for international cards (issue #28). */
export const PROVIDERS = ['campay', 'mtn_momo', 'orange_money', 'noupia', 'flutterwave'] as const;
export type Provider = (typeof PROVIDERS)[number];

export type AccountRole =
  | 'customer_wallet'
  | 'order_escrow'
  | 'restaurant_payable'
  | 'driver_payable'
  | 'tax_payable'
  | 'commission_revenue'
  | 'delivery_revenue'
  | 'promotions_expense'
  | 'provider_fees_expense'
  | 'delivery_expense'
  | 'provider_clearing'
  | 'customer_points'
  | 'points_issuance'
  | 'world'
  | 'fx_bridge'
  | 'fx_spread_revenue'
  | 'fx_rounding'
  | 'customer_receivable'
  | 'provider_payable'
  | 'group_cart_escrow'
  | 'bulk_order_escrow';

type SubjectRule = 'entity' | 'platform' | 'provider';

interface RoleRule {
  readonly family: string;
  readonly name: string;
  readonly subject: SubjectRule;
  readonly kind: AccountKind;
  readonly flags: AccountFlags;
  readonly currencies: readonly Currency[];
}

const NO_DEBIT_BALANCE: AccountFlags = {
  debitsMustNotExceedCredits: true,
  creditsMustNotExceedDebits: false,
};
const NO_CREDIT_BALANCE: AccountFlags = {
  debitsMustNotExceedCredits: false,
  creditsMustNotExceedDebits: true,
};
const UNBOUNDED: AccountFlags = { debitsMustNotExceedCredits: false, creditsMustNotExceedDebits: false };
const MONEY: readonly Currency[] = ['XAF', 'USD'];
/**
 * EUR exists only where a EUR card payment passes through (issue #28): Flutterwave's clearing, its
 * fee and what we may owe it, the FX bridge that converts it to XAF at once, and the world account
 * for reconciliation's corrections. No wallet, escrow or payable holds EUR.
 */
const CARD_MONEY: readonly Currency[] = ['XAF', 'USD', 'EUR'];

/**
 * Which side each account may never cross (see README for the reasoning per role):
 * - what the platform owes (wallets, escrow, payables, tax) and what it earned (revenue) are
 *   credit-normal: they must never be debited below zero, pending debits counted;
 * - what it spent (expenses) and what providers hold for it (clearing) are debit-normal: they
 *   must never be credited below zero, so a payout cannot exceed what a provider collected;
 * - points issuance is the mint of the PTS ledger: redemptions can never exceed awards;
 * - the world account is the outside counterparty (capital injections, corrections): unbounded;
 * - a currency conversion (issue #28) goes through the FX bridge of each currency, so each
 *   currency balances on its own: the bridge holds the platform's open FX position (credited in
 *   the currency bought, debited in the currency paid out) and is unbounded; the spread and the
 *   rounding of a conversion are the platform's, credit-normal;
 * - a group order's shares (issue #27) wait in the group cart's own escrow until the order is
 *   placed or the cart ends: credit-normal like an order's escrow, and never an order's, so the
 *   stranded-escrow sweep (which refunds order escrows without an order) cannot touch them;
 *   a bulk order's deposit and balance (issue #27) wait in the bulk order's own escrow the same way;
 * - a card chargeback or refund (issue #28) takes back from the wallet what it still holds; what
 *   the customer already spent is a receivable from them (debit-normal: never credited beyond what
 *   they owe), and what the provider took beyond the clearing balance is owed to the provider
 *   (credit-normal), so the clearing account itself never goes negative.
 */
// One role per line reads as a table.
// prettier-ignore
const ROLE_RULES: Readonly<Record<AccountRole, RoleRule>> = {
  customer_wallet: { family: 'wallet', name: 'customer', subject: 'entity', kind: 'liability', flags: NO_DEBIT_BALANCE, currencies: MONEY },
  order_escrow: { family: 'escrow', name: 'order', subject: 'entity', kind: 'liability', flags: NO_DEBIT_BALANCE, currencies: MONEY },
  restaurant_payable: { family: 'payable', name: 'restaurant', subject: 'entity', kind: 'liability', flags: NO_DEBIT_BALANCE, currencies: MONEY },
  driver_payable: { family: 'payable', name: 'driver', subject: 'entity', kind: 'liability', flags: NO_DEBIT_BALANCE, currencies: MONEY },
  tax_payable: { family: 'payable', name: 'tax', subject: 'platform', kind: 'liability', flags: NO_DEBIT_BALANCE, currencies: MONEY },
  commission_revenue: { family: 'revenue', name: 'commission', subject: 'platform', kind: 'revenue', flags: NO_DEBIT_BALANCE, currencies: MONEY },
  delivery_revenue: { family: 'revenue', name: 'delivery', subject: 'platform', kind: 'revenue', flags: NO_DEBIT_BALANCE, currencies: MONEY },
  promotions_expense: { family: 'expense', name: 'promotions', subject: 'platform', kind: 'expense', flags: NO_CREDIT_BALANCE, currencies: MONEY },
  provider_fees_expense: { family: 'expense', name: 'provider_fees', subject: 'platform', kind: 'expense', flags: NO_CREDIT_BALANCE, currencies: CARD_MONEY },
  delivery_expense: { family: 'expense', name: 'delivery', subject: 'platform', kind: 'expense', flags: NO_CREDIT_BALANCE, currencies: MONEY },
  provider_clearing: { family: 'clearing', name: 'provider', subject: 'provider', kind: 'asset', flags: NO_CREDIT_BALANCE, currencies: CARD_MONEY },
  customer_points: { family: 'points', name: 'customer', subject: 'entity', kind: 'liability', flags: NO_DEBIT_BALANCE, currencies: ['PTS'] },
  points_issuance: { family: 'points', name: 'issuance', subject: 'platform', kind: 'equity', flags: NO_CREDIT_BALANCE, currencies: ['PTS'] },
  world: { family: 'world', name: 'external', subject: 'platform', kind: 'equity', flags: UNBOUNDED, currencies: ['XAF', 'USD', 'PTS', 'EUR'] },
  fx_bridge: { family: 'fx', name: 'bridge', subject: 'platform', kind: 'asset', flags: UNBOUNDED, currencies: CARD_MONEY },
  fx_spread_revenue: { family: 'revenue', name: 'fx_spread', subject: 'platform', kind: 'revenue', flags: NO_DEBIT_BALANCE, currencies: MONEY },
  fx_rounding: { family: 'fx', name: 'rounding', subject: 'platform', kind: 'revenue', flags: NO_DEBIT_BALANCE, currencies: MONEY },
  customer_receivable: { family: 'receivable', name: 'customer', subject: 'entity', kind: 'asset', flags: NO_CREDIT_BALANCE, currencies: MONEY },
  provider_payable: { family: 'payable', name: 'provider', subject: 'provider', kind: 'liability', flags: NO_DEBIT_BALANCE, currencies: CARD_MONEY },
  group_cart_escrow: { family: 'escrow', name: 'group', subject: 'entity', kind: 'liability', flags: NO_DEBIT_BALANCE, currencies: MONEY },
  bulk_order_escrow: { family: 'escrow', name: 'bulk', subject: 'entity', kind: 'liability', flags: NO_DEBIT_BALANCE, currencies: MONEY },
};

const ROLE_BY_PREFIX: ReadonlyMap<string, AccountRole> = new Map(
  (Object.keys(ROLE_RULES) as AccountRole[]).map((role) => {
    const rule = ROLE_RULES[role];
    return [`${rule.family}:${rule.name}`, role] as const;
  }),
);

const ENTITY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const PROVIDER_SET: ReadonlySet<string> = new Set(PROVIDERS);
export const PLATFORM_SUBJECT = 'platform';

export interface AccountSpec {
  readonly id: string;
  readonly role: AccountRole;
  readonly subject: string;
  readonly currency: Currency;
  readonly kind: AccountKind;
  readonly flags: AccountFlags;
}

function subjectAllowed(rule: SubjectRule, subject: string): boolean {
  if (rule === 'platform') return subject === PLATFORM_SUBJECT;
  if (rule === 'provider') return PROVIDER_SET.has(subject);
  return ENTITY_ID.test(subject);
}

/** The account id of a role; throws RangeError for a subject or currency the role does not take. */
export function accountId(role: AccountRole, subject: string, currency: Currency): string {
  const rule = ROLE_RULES[role];
  if (!subjectAllowed(rule.subject, subject)) throw new RangeError(`${role}: invalid subject "${subject}"`);
  if (!rule.currencies.includes(currency)) throw new RangeError(`${role}: no ${currency} account`);
  return `${rule.family}:${rule.name}:${subject}:${currency}`;
}

/** Parses an id of this chart back into its spec; null for anything the chart does not define. */
export function accountSpec(id: string): AccountSpec | null {
  const parts = id.split(':');
  if (parts.length !== 4) return null;
  const [family, name, subject, currency] = parts as [string, string, string, string];
  const role = ROLE_BY_PREFIX.get(`${family}:${name}`);
  if (role === undefined) return null;
  const rule = ROLE_RULES[role];
  if (!subjectAllowed(rule.subject, subject)) return null;
  const matched = rule.currencies.find((allowed) => allowed === currency);
  if (matched === undefined) return null;
  return { id, role, subject, currency: matched, kind: rule.kind, flags: rule.flags };
}

/** The NewAccount a writer opens for a chart id it has never seen; null if not a chart id. */
export function chartAccount(id: string): NewAccount | null {
  const spec = accountSpec(id);
  if (spec === null) return null;
  return { id, currency: spec.currency, kind: spec.kind, flags: { ...spec.flags } };
}

export const customerWalletId = (userId: string, currency: Currency): string =>
  accountId('customer_wallet', userId, currency);
export const orderEscrowId = (orderId: string, currency: Currency): string =>
  accountId('order_escrow', orderId, currency);
export const restaurantPayableId = (restaurantId: string, currency: Currency): string =>
  accountId('restaurant_payable', restaurantId, currency);
export const driverPayableId = (driverId: string, currency: Currency): string =>
  accountId('driver_payable', driverId, currency);
export const taxPayableId = (currency: Currency): string =>
  accountId('tax_payable', PLATFORM_SUBJECT, currency);
export const commissionRevenueId = (currency: Currency): string =>
  accountId('commission_revenue', PLATFORM_SUBJECT, currency);
export const deliveryRevenueId = (currency: Currency): string =>
  accountId('delivery_revenue', PLATFORM_SUBJECT, currency);
export const promotionsExpenseId = (currency: Currency): string =>
  accountId('promotions_expense', PLATFORM_SUBJECT, currency);
export const providerFeesExpenseId = (currency: Currency): string =>
  accountId('provider_fees_expense', PLATFORM_SUBJECT, currency);
export const deliveryExpenseId = (currency: Currency): string =>
  accountId('delivery_expense', PLATFORM_SUBJECT, currency);
export const providerClearingId = (provider: Provider, currency: Currency): string =>
  accountId('provider_clearing', provider, currency);
export const customerPointsId = (userId: string): string => accountId('customer_points', userId, 'PTS');
export const pointsIssuanceId = (): string => accountId('points_issuance', PLATFORM_SUBJECT, 'PTS');
export const worldId = (currency: Currency): string => accountId('world', PLATFORM_SUBJECT, currency);
/** The FX position of one currency: a conversion's legs meet here, one per currency (issue #28). */
export const fxBridgeId = (currency: Currency): string => accountId('fx_bridge', PLATFORM_SUBJECT, currency);
export const fxSpreadRevenueId = (currency: Currency): string =>
  accountId('fx_spread_revenue', PLATFORM_SUBJECT, currency);
export const fxRoundingId = (currency: Currency): string =>
  accountId('fx_rounding', PLATFORM_SUBJECT, currency);
/** What a customer owes the platform after a card chargeback took back money they had spent (issue #28). */
export const customerReceivableId = (userId: string, currency: Currency): string =>
  accountId('customer_receivable', userId, currency);
/** What the platform owes a provider that took back more than its clearing account held (issue #28). */
export const providerPayableId = (provider: Provider, currency: Currency): string =>
  accountId('provider_payable', provider, currency);
/** The shares paid towards a group order, held until it is placed or refunded (issue #27). */
export const groupCartEscrowId = (cartId: string, currency: Currency): string =>
  accountId('group_cart_escrow', cartId, currency);
/** A bulk order's deposit and balance, held until the order is placed or the request ends (issue #27). */
export const bulkOrderEscrowId = (bulkOrderId: string, currency: Currency): string =>
  accountId('bulk_order_escrow', bulkOrderId, currency);
