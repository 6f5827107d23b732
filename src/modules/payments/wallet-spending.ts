/**
 * A wallet's spending counters: today's and this month's totals against its limits, and the
 * monthly totals of the categories its controls cap (wallet-categories.ts). Counting goes to
 * PostgreSQL's `wallet_reserve_parts` (migrations 2026-11-25T1800 and 2026-12-06T0100), one call
 * per payment, in groups under load; a refusal has counted nothing.
 */
import { createGroupRunner } from '../../db/group-runner.js';
import { doualaPeriods } from './ids.js';
import type { SpendingCategory } from './wallet-categories.js';
import type { ReservationOutcome, WalletsRepository } from './wallets-repository.js';

export type WalletCurrency = 'XAF' | 'USD';
export type Part = { category: SpendingCategory; amountMinor: bigint };
type Reserved = ReservationOutcome;

/** The spending period a category's monthly cap counts in. */
export const categoryPeriod = (category: string, month: string) => `C:${category}:${month}`;

export function createWalletSpending(options: {
  wallets: WalletsRepository;
  defaults: (currency: WalletCurrency) => { daily: bigint; monthly: bigint };
  now: () => Date;
}) {
  const { wallets, defaults, now } = options;

  /**
   * Counts `amountMinor` against today's and this month's limit atomically, in one call of the
   * `wallet_reserve` function (migration 2026-11-25T1800): it creates the wallet with the default
   * limits if needed, refuses a frozen one, and counts both periods or neither, so parallel
   * payments cannot pass a limit together.
   */
  interface Reservation {
    userId: string;
    currency: WalletCurrency;
    amountMinor: bigint;
    day: string;
    month: string;
    parts: Part[] | null;
  }
  // Concurrent payments' reservations go to PostgreSQL in groups (db/group-runner.ts), in
  // (user, currency) order so that two groups lock the same wallets in the same order.
  const reservations = createGroupRunner<Reservation, Reserved>({
    runOne: async (item) => (await reserveMany([item]))[0]!,
    runMany: reserveMany,
  });
  async function reserveMany(items: Reservation[]): Promise<Reserved[]> {
    const order = items
      .map((_, index) => index)
      .sort((a, b) => {
        const left = `${items[a]!.userId}:${items[a]!.currency}`;
        const right = `${items[b]!.userId}:${items[b]!.currency}`;
        return left < right ? -1 : left > right ? 1 : a - b;
      });
    const sorted = order.map((index) => {
      const item = items[index]!;
      const limits = defaults(item.currency);
      return { ...item, dailyLimitMinor: limits.daily, monthlyLimitMinor: limits.monthly };
    });
    const sortedOutcomes = await wallets.reserve(sorted);
    const outcomes: Reserved[] = new Array(items.length);
    sortedOutcomes.forEach((outcome, position) => (outcomes[order[position]!] = outcome));
    return outcomes;
  }

  /**
   * Counts `amountMinor` against today's and this month's limit atomically, in one call of the
   * `wallet_reserve` function (migration 2026-11-25T1800): it creates the wallet with the default
   * limits if needed, refuses a frozen one, and counts both periods or neither, so parallel
   * payments cannot pass a limit together.
   */
  async function reserve(
    userId: string,
    currency: WalletCurrency,
    amountMinor: bigint,
    prefix: '' | 'T',
    parts: Part[] | null = null,
  ): Promise<Reserved> {
    const periods = doualaPeriods(now());
    return reservations.run({
      userId,
      currency,
      amountMinor,
      day: `${prefix}${periods.day}`,
      month: `${prefix}${periods.month}`,
      parts,
    });
  }

  /** Gives back a reservation: the day and the month, and the capped categories it counted. */
  async function release(
    userId: string,
    currency: WalletCurrency,
    amountMinor: bigint,
    prefix: '' | 'T',
    counted: Part[] = [],
  ): Promise<void> {
    const periods = doualaPeriods(now());
    await wallets.release(userId, currency, amountMinor, [
      `${prefix}${periods.day}`,
      `${prefix}${periods.month}`,
    ]);
    for (const part of counted)
      await wallets.release(userId, currency, part.amountMinor, [
        categoryPeriod(part.category, periods.month),
      ]);
  }

  return { reserve, release };
}

export type WalletSpending = ReturnType<typeof createWalletSpending>;
