/**
 * Customer wallets: one ledger account per user and currency (`wallet:customer:<userId>:XAF|USD`,
 * never converted into each other), with state beside it (frozen by an admin, spending limits,
 * auto top-up). Balances always come from the ledger writer; the statement comes from the
 * ledger's `ledger_entries` projection.
 */
import type { FieldCipher } from '../../platform/field-crypto.js';
import type { Logger } from 'pino';
import {
  customerWalletId,
  orderEscrowId,
  type Currency,
  type Transfer,
} from '../../../ledger/rules/index.js';
import type { PaymentsDb } from './tables.js';
import { createWalletsRepository } from './wallets-repository.js';
import { categoryPeriod, createWalletSpending, type WalletCurrency } from './wallet-spending.js';
import { createWalletStatement } from './wallet-statement.js';
import { paymentsErrors } from './errors.js';
import type { AuditFunction } from '../identity/index.js';
import { doualaPeriods } from './ids.js';
import { accepted, linked, type LedgerPort } from './ledger-port.js';
import type { PaymentsService } from './payments-service.js';
import { SPENDING_CATEGORIES, type SpendingCategory } from './wallet-categories.js';
import type { CategoryControls } from './tables.js';

export const WALLET_CURRENCIES = ['XAF', 'USD'] as const satisfies readonly WalletCurrency[];
export type { WalletCurrency } from './wallet-spending.js';
export { WALLET_CATEGORIES, categoryOf, type WalletCategory } from './wallet-categories.js';
/** An automatic top-up waits at least this long after the previous one. */
const AUTO_TOPUP_SPACING_MS = 60 * 60_000;
const AUTO_TOPUP_BATCH = 200;

export interface WalletLimitsConfig {
  dailyLimitXaf: bigint;
  monthlyLimitXaf: bigint;
}

/** USD limits in cents; no conversion from XAF's, on purpose. */
const USD_LIMITS = { daily: 100_000n, monthly: 500_000n };

export interface WalletSummary {
  currency: WalletCurrency;
  status: 'active' | 'frozen';
  balanceMinor: bigint;
  availableMinor: bigint;
  heldMinor: bigint;
  limits: { dailyMinor: bigint; monthlyMinor: bigint; spentTodayMinor: bigint; spentThisMonthMinor: bigint };
  autoTopUp: { enabled: boolean; thresholdMinor: bigint | null; amountMinor: bigint | null };
  /** The categories this wallet controls, with what each has spent this month. */
  categoryControls: {
    category: SpendingCategory;
    blocked: boolean;
    monthlyLimitMinor: bigint | null;
    spentThisMonthMinor: bigint;
  }[];
}

/** A settings change to category controls: per category, what changes (`null` removes a cap). */
export type CategoryControlsUpdate = Partial<
  Record<SpendingCategory, { blocked?: boolean; monthlyLimitMinor?: bigint | null }>
>;

export type OrderPricing = {
  subtotalMinor: number;
  discountMinor: number;
  deliveryFeeMinor: number;
  taxMinor: number;
  tipMinor: number;
  totalMinor: number;
};

export type WalletPaymentResult =
  | { ok: true }
  | {
      ok: false;
      code:
        | 'insufficient_funds'
        | 'wallet_frozen'
        | 'limit_exceeded'
        | 'category_restricted'
        | 'category_limit_exceeded';
      detail: string;
    };

export interface WalletServiceOptions {
  db: PaymentsDb;
  ledger: LedgerPort;
  logger: Logger;
  audit: AuditFunction;
  limits: WalletLimitsConfig;
  payments: () => PaymentsService;
  /** Encrypts the auto top-up phone at rest. */
  fields: FieldCipher;
  now?: () => Date;
}

/** The purpose (AAD) the auto top-up phone is encrypted under. */
export const AUTO_TOPUP_PHONE = 'wallets.auto_topup_phone';

/** What a wallet payment of an order puts in escrow, by category (they sum to the total). */
export function paymentParts(pricing: OrderPricing): { category: SpendingCategory; amountMinor: bigint }[] {
  const food = BigInt(pricing.subtotalMinor - pricing.discountMinor);
  if (food < 0n)
    throw new RangeError(`discount ${pricing.discountMinor} is more than the food ${pricing.subtotalMinor}`);
  const parts = [
    { category: 'food' as const, amountMinor: food },
    { category: 'taxes' as const, amountMinor: BigInt(pricing.taxMinor) },
    { category: 'delivery' as const, amountMinor: BigInt(pricing.deliveryFeeMinor) },
    { category: 'tips' as const, amountMinor: BigInt(pricing.tipMinor) },
  ].filter((part) => part.amountMinor > 0n);
  const sum = parts.reduce((total, part) => total + part.amountMinor, 0n);
  if (sum !== BigInt(pricing.totalMinor))
    throw new RangeError(`payment parts ${sum} do not make the total ${pricing.totalMinor}`);
  return parts;
}

export function createWalletService(options: WalletServiceOptions) {
  const { ledger } = options;
  const wallets = createWalletsRepository(options.db);
  const now = options.now ?? (() => new Date());
  const { reserve, release } = createWalletSpending({ wallets, defaults, now });
  const { transactions } = createWalletStatement(wallets);

  function defaults(currency: WalletCurrency) {
    return currency === 'XAF'
      ? { daily: options.limits.dailyLimitXaf, monthly: options.limits.monthlyLimitXaf }
      : USD_LIMITS;
  }

  async function ensure(userId: string, currency: WalletCurrency) {
    return wallets.ensure(userId, currency, defaults(currency));
  }

  async function summary(userId: string, currency: WalletCurrency): Promise<WalletSummary> {
    const [wallet, account] = await Promise.all([
      ensure(userId, currency),
      ledger.account(customerWalletId(userId, currency)),
    ]);
    const periods = doualaPeriods(now());
    const controls = wallet.category_controls ?? {};
    const controlled = SPENDING_CATEGORIES.filter((category) => controls[category] !== undefined);
    const spent = await wallets.spending(userId, currency, [
      periods.day,
      periods.month,
      ...controlled.map((category) => categoryPeriod(category, periods.month)),
    ]);
    const spentOf = (period: string) => spent.find((row) => row.period === period)?.spent_minor ?? 0n;
    const balance = account === null ? 0n : account.creditsPosted - account.debitsPosted;
    const held = account?.debitsPending ?? 0n;
    return {
      currency,
      status: wallet.status,
      balanceMinor: balance,
      availableMinor: balance - held,
      heldMinor: held,
      limits: {
        dailyMinor: wallet.daily_limit_minor,
        monthlyMinor: wallet.monthly_limit_minor,
        spentTodayMinor: spentOf(periods.day),
        spentThisMonthMinor: spentOf(periods.month),
      },
      autoTopUp: {
        enabled: wallet.auto_topup_enabled,
        thresholdMinor: wallet.auto_topup_threshold_minor,
        amountMinor: wallet.auto_topup_amount_minor,
      },
      categoryControls: controlled.map((category) => ({
        category,
        blocked: controls[category]?.blocked === true,
        monthlyLimitMinor:
          controls[category]?.monthlyLimitMinor === undefined
            ? null
            : BigInt(controls[category].monthlyLimitMinor),
        spentThisMonthMinor: spentOf(categoryPeriod(category, periods.month)),
      })),
    };
  }

  /** Checks and counts a top-up against the limits before a collection starts (422 when over). */
  async function admitTopUp(userId: string, currency: WalletCurrency, amountMinor: bigint): Promise<void> {
    const reserved = await reserve(userId, currency, amountMinor, 'T');
    if (reserved === 'frozen')
      throw paymentsErrors.of('unprocessable', 'wallet_frozen', 'This wallet is frozen; contact support.');
    if (reserved === 'limit')
      throw paymentsErrors.of(
        'unprocessable',
        'wallet_limit_exceeded',
        'This top-up would pass your daily or monthly limit.',
      );
  }

  /**
   * Pays an order's total from the wallet into its escrow: one linked chain (food, delivery,
   * tips) so the statement shows categories; the ledger refuses it whole when the balance is
   * short (the wallet may never go below zero), and then nothing has changed.
   */
  async function payOrder(input: {
    userId: string;
    orderId: string;
    currency: WalletCurrency;
    pricing: OrderPricing;
  }): Promise<WalletPaymentResult> {
    const total = BigInt(input.pricing.totalMinor);
    const parts = paymentParts(input.pricing);
    const reserved = await reserve(input.userId, input.currency, total, '', parts);
    if (reserved === 'frozen') return { ok: false, code: 'wallet_frozen', detail: 'This wallet is frozen.' };
    if (reserved === 'limit') {
      return {
        ok: false,
        code: 'limit_exceeded',
        detail: 'This payment would pass your daily or monthly spending limit.',
      };
    }
    if (reserved.startsWith('blocked:'))
      return {
        ok: false,
        code: 'category_restricted',
        detail: `This wallet may not pay for ${reserved.slice('blocked:'.length)}.`,
      };
    if (reserved.startsWith('capped:'))
      return {
        ok: false,
        code: 'category_limit_exceeded',
        detail: `This payment would pass this month's limit for ${reserved.slice('capped:'.length)}.`,
      };
    const countedCategories = reserved.startsWith('ok:') ? reserved.slice(3).split(',') : [];
    const counted = parts.filter((part) => countedCategories.includes(part.category));
    const giveBack = () => release(input.userId, input.currency, total, '', counted);
    const walletId = customerWalletId(input.userId, input.currency);
    const escrow = orderEscrowId(input.orderId, input.currency);
    const transfers: Transfer[] = parts.map((part) => ({
      id: `wallet-pay:${input.orderId}:${part.category}`,
      debitAccountId: walletId,
      creditAccountId: escrow,
      amountMinor: part.amountMinor,
      currency: input.currency as Currency,
      code: part.category === 'tips' ? 'tip' : 'payment_capture',
      flags: {},
      userData: { orderId: input.orderId, userId: input.userId, category: part.category },
    }));
    let outcomes;
    try {
      outcomes = await ledger.submit(linked(transfers));
    } catch (error) {
      await giveBack();
      throw error;
    }
    if (outcomes.every((outcome) => outcome.result === 'exists')) await giveBack();
    if (outcomes.every(accepted)) return { ok: true };
    await giveBack();
    const short = outcomes.some((outcome) => outcome.result === 'exceeds_credits');
    return short
      ? { ok: false, code: 'insufficient_funds', detail: 'The wallet balance is too low for this order.' }
      : {
          ok: false,
          code: 'insufficient_funds',
          detail: `The ledger refused the payment (${outcomes.find((outcome) => !accepted(outcome))?.result}).`,
        };
  }

  async function setFrozen(
    userId: string,
    currency: WalletCurrency,
    frozen: boolean,
    reason: string,
    adminId: string,
  ): Promise<void> {
    const before = await ensure(userId, currency);
    await wallets.update(userId, currency, {
      status: frozen ? 'frozen' : 'active',
      frozen_reason: frozen ? reason : null,
      frozen_by: frozen ? adminId : null,
      frozen_at: frozen ? now() : null,
      updated_at: now(),
    });
    await options.audit({
      action: frozen ? 'wallet.frozen' : 'wallet.unfrozen',
      actor: { kind: 'user', userId: adminId },
      subjectUserId: userId,
      resource: `wallet:${userId}:${currency}`,
      oldValue: { status: before.status },
      newValue: { status: frozen ? 'frozen' : 'active', reason },
    });
  }

  /**
   * Freezes every wallet of a customer for finance's review (a card chargeback took back money they
   * had spent, issue #28): no spending, credits still land. A wallet already frozen keeps its reason.
   */
  async function putUnderReview(userId: string, reason: string): Promise<void> {
    for (const currency of ['XAF', 'USD'] as const) {
      const before = await ensure(userId, currency);
      if (before.status === 'frozen') continue;
      await wallets.update(userId, currency, {
        status: 'frozen',
        frozen_reason: reason,
        frozen_by: null,
        frozen_at: now(),
        updated_at: now(),
      });
      await options.audit({
        action: 'wallet.frozen',
        actor: { kind: 'system' },
        subjectUserId: userId,
        resource: `wallet:${userId}:${currency}`,
        oldValue: { status: before.status },
        newValue: { status: 'frozen', reason },
      });
    }
  }

  async function updateSettings(
    userId: string,
    currency: WalletCurrency,
    settings: {
      dailyLimitMinor?: bigint;
      monthlyLimitMinor?: bigint;
      autoTopUp?: { enabled: boolean; thresholdMinor?: bigint; amountMinor?: bigint; phone?: string };
      categoryControls?: CategoryControlsUpdate;
    },
    /** A funder setting the controls of a wallet they fund (consent checked by the caller). */
    byFunder?: string,
  ): Promise<WalletSummary> {
    const wallet = await ensure(userId, currency);
    const setBy = wallet.category_controls_by ?? null;
    if (
      settings.categoryControls !== undefined &&
      byFunder === undefined &&
      setBy !== null &&
      setBy !== userId
    )
      throw paymentsErrors.of(
        'conflict',
        'category_controls_set_by_funder',
        'The person who funds this wallet set its spending controls; they can change them, or you can stop their funding.',
      );
    const platform = defaults(currency);
    const daily = settings.dailyLimitMinor ?? wallet.daily_limit_minor;
    const monthly = settings.monthlyLimitMinor ?? wallet.monthly_limit_minor;
    if (daily > platform.daily || monthly > platform.monthly || daily > monthly)
      throw paymentsErrors.of(
        'unprocessable',
        'invalid_limits',
        `Limits are at most ${platform.daily} a day and ${platform.monthly} a month, and a day's at most the month's.`,
      );
    const auto = settings.autoTopUp;
    if (auto?.enabled === true) {
      if (currency !== 'XAF')
        throw paymentsErrors.of(
          'unprocessable',
          'auto_topup_currency',
          'Automatic top-ups are Mobile Money, in XAF only.',
        );
      if (auto.thresholdMinor === undefined || auto.amountMinor === undefined || auto.phone === undefined)
        throw paymentsErrors.of(
          'validation',
          'validation_failed',
          'An automatic top-up needs thresholdMinor, amountMinor and phone.',
        );
    }
    const controls =
      settings.categoryControls === undefined
        ? undefined
        : mergeControls(wallet.category_controls ?? {}, settings.categoryControls);
    if (controls !== undefined)
      await options.audit({
        actor: { kind: 'user', userId: byFunder ?? userId },
        action: 'wallet.category_controls',
        subjectUserId: userId,
        resource: `wallet:${userId}:${currency}`,
        oldValue: { categoryControls: wallet.category_controls ?? {}, setBy },
        newValue: { categoryControls: controls, setBy: byFunder ?? null },
      });
    await wallets.update(userId, currency, {
      ...(controls === undefined
        ? {}
        : { category_controls: controls, category_controls_by: byFunder ?? null }),
      daily_limit_minor: daily,
      monthly_limit_minor: monthly,
      ...(auto === undefined
        ? {}
        : {
            auto_topup_enabled: auto.enabled,
            auto_topup_threshold_minor: auto.enabled ? auto.thresholdMinor! : null,
            auto_topup_amount_minor: auto.enabled ? auto.amountMinor! : null,
            auto_topup_phone: auto.enabled ? options.fields.encrypt(AUTO_TOPUP_PHONE, auto.phone!) : null,
          }),
      updated_at: now(),
    });
    return summary(userId, currency);
  }

  /**
   * The owner stopped a funder's funding: the controls that funder set become the owner's (kept as
   * they are, now changeable by the owner). Audited.
   */
  async function releaseFunderControls(userId: string, funderUserId: string): Promise<void> {
    for (const currency of ['XAF', 'USD'] as const) {
      const wallet = await ensure(userId, currency);
      if (wallet?.category_controls_by !== funderUserId) continue;
      await wallets.update(userId, currency, { category_controls_by: null, updated_at: now() });
      await options.audit({
        actor: { kind: 'user', userId },
        action: 'wallet.category_controls_released',
        subjectUserId: userId,
        resource: `wallet:${userId}:${currency}`,
        oldValue: { setBy: funderUserId },
        newValue: { setBy: null },
      });
    }
  }

  /** Scheduled: starts a Mobile Money top-up for opted-in wallets under their threshold. */
  async function autoTopUpSweep(): Promise<{ started: number }> {
    const current = now();
    const candidates = await wallets.autoTopUpCandidates(
      new Date(current.getTime() - AUTO_TOPUP_SPACING_MS),
      AUTO_TOPUP_BATCH,
    );
    let started = 0;
    for (const wallet of candidates) {
      const account = await ledger.account(customerWalletId(wallet.user_id, wallet.currency));
      const available = account?.availableMinor ?? 0n;
      if (
        wallet.auto_topup_threshold_minor === null ||
        wallet.auto_topup_amount_minor === null ||
        wallet.auto_topup_phone === null
      )
        continue;
      if (available >= wallet.auto_topup_threshold_minor) continue;
      try {
        await topUp(
          wallet.user_id,
          wallet.auto_topup_amount_minor,
          options.fields.decrypt(AUTO_TOPUP_PHONE, wallet.auto_topup_phone),
          `auto-topup-${Math.floor(current.getTime() / AUTO_TOPUP_SPACING_MS)}`,
        );
        started += 1;
      } catch (error) {
        options.logger.warn({ err: error, userId: wallet.user_id }, 'automatic top-up could not start');
      }
      await wallets.update(wallet.user_id, wallet.currency, { auto_topup_last_at: current });
    }
    return { started };
  }

  /** A Mobile Money top-up (XAF): counted against the limits, then collected. */
  async function topUp(userId: string, amountMinor: bigint, phone: string, idempotencyKey: string) {
    await admitTopUp(userId, 'XAF', amountMinor);
    try {
      return await options.payments().initiate({
        userId,
        purpose: { kind: 'topup' },
        amountMinor,
        currency: 'XAF',
        phone,
        idempotencyKey,
        description: 'Recharge portefeuille',
      });
    } catch (error) {
      await release(userId, 'XAF', amountMinor, 'T');
      throw error;
    }
  }

  return {
    ensure,
    summary,
    payOrder,
    setFrozen,
    putUnderReview,
    updateSettings,
    releaseFunderControls,
    transactions,
    autoTopUpSweep,
    topUp,
  };
}

/** The stored controls after a change: only the categories named change; an empty control is dropped. */
export function mergeControls(stored: CategoryControls, update: CategoryControlsUpdate): CategoryControls {
  const merged: CategoryControls = { ...stored };
  for (const [category, change] of Object.entries(update)) {
    if (change === undefined) continue;
    const next = { ...merged[category] };
    if (change.blocked !== undefined) {
      if (change.blocked) next.blocked = true;
      else delete next.blocked;
    }
    if (change.monthlyLimitMinor !== undefined) {
      if (change.monthlyLimitMinor === null) delete next.monthlyLimitMinor;
      else next.monthlyLimitMinor = change.monthlyLimitMinor.toString();
    }
    if (Object.keys(next).length === 0) delete merged[category];
    else merged[category] = next;
  }
  return merged;
}

export type WalletService = ReturnType<typeof createWalletService>;
