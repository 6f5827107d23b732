/**
 * Dispute remedies (docs/support.md, "Dispute remedies"): pure rules, no I/O. Who may decide how
 * much, how a refund's shares must add up, how much of an order is still refundable, and the
 * ledger transfers a remedy books: every id is named after the remedy, so a retry or a second
 * instance books nothing twice (the ledger answers `exists`).
 */
import {
  customerWalletId,
  driverPayableId,
  promotionsExpenseId,
  restaurantPayableId,
  type Transfer,
} from '../../../ledger/rules/index.js';
import type { RefundDestination, RemedyKind } from './tables.js';

/** At most this much text in a mediation note or a remedy's reason. */
export const REMEDY_NOTE_MAX = 2_000;
/** Remedies listed per ticket, at most. */
export const REMEDIES_PER_TICKET_MAX = 100;
/** Order statuses after the money reached the restaurant and the driver (the escrow released). */
export const REFUNDABLE_ORDER_STATUSES = ['DELIVERED', 'COMPLETED', 'DISPUTED', 'RESOLVED'] as const;

export interface RemedyLimits {
  /** The most a plain agent grants in one remedy (XAF). */
  agentMaxMinor: number;
  /** The most a supervisor (or an admin) grants in one remedy (XAF). */
  supervisorMaxMinor: number;
}

export interface RemedyShares {
  restaurantMinor: number;
  driverMinor: number;
  platformMinor: number;
}

export interface RemedyRequest {
  kind: RemedyKind;
  amountMinor?: number;
  shares?: Partial<RemedyShares>;
  refundTo?: RefundDestination;
  note: string;
}

export type RemedyRefusal =
  | { code: 'remedy_amount_invalid'; detail: string }
  | { code: 'remedy_limit_exceeded'; limitMinor: number }
  | { code: 'remedy_shares_invalid'; detail: string };

/** The amount a remedy moves (0 for a note), or why it may not: limits by the decider's rank. */
export function checkAmount(
  request: RemedyRequest,
  supervisor: boolean,
  limits: RemedyLimits,
): { amountMinor: number } | RemedyRefusal {
  if (request.kind === 'mediation_note') {
    if (request.amountMinor !== undefined || request.shares !== undefined || request.refundTo !== undefined)
      return { code: 'remedy_amount_invalid', detail: 'A mediation note moves no money.' };
    return { amountMinor: 0 };
  }
  const amount = request.amountMinor;
  if (amount === undefined || !Number.isSafeInteger(amount) || amount < 1)
    return { code: 'remedy_amount_invalid', detail: '`amountMinor` is a whole number of XAF, at least 1.' };
  const limit = supervisor ? limits.supervisorMaxMinor : limits.agentMaxMinor;
  if (amount > limit) return { code: 'remedy_limit_exceeded', limitMinor: limit };
  return { amountMinor: amount };
}

/**
 * A refund's split between who gives the money back: absent, the platform bears it all; given,
 * the three parts must add up to the amount, and the driver's needs a driver on the order.
 */
export function checkShares(
  amountMinor: number,
  shares: Partial<RemedyShares> | undefined,
  hasDriver: boolean,
): RemedyShares | RemedyRefusal {
  if (shares === undefined) return { restaurantMinor: 0, driverMinor: 0, platformMinor: amountMinor };
  const split = {
    restaurantMinor: shares.restaurantMinor ?? 0,
    driverMinor: shares.driverMinor ?? 0,
    platformMinor: shares.platformMinor ?? 0,
  };
  for (const part of Object.values(split))
    if (!Number.isSafeInteger(part) || part < 0)
      return { code: 'remedy_shares_invalid', detail: 'Each share is a whole number of XAF, 0 or more.' };
  if (split.restaurantMinor + split.driverMinor + split.platformMinor !== amountMinor)
    return {
      code: 'remedy_shares_invalid',
      detail: `The shares add up to ${split.restaurantMinor + split.driverMinor + split.platformMinor}, not ${amountMinor}.`,
    };
  if (split.driverMinor > 0 && !hasDriver)
    return { code: 'remedy_shares_invalid', detail: 'The order had no driver to take a share from.' };
  return split;
}

/** What is still refundable on an order: its total, less orders' own refund and earlier remedies. */
export function refundableMinor(totalMinor: number, orderRefundMinor: number, remediedMinor: number): number {
  return Math.max(0, totalMinor - orderRefundMinor - remediedMinor);
}

export interface BookedRemedy {
  id: string;
  kind: RemedyKind;
  beneficiaryId: string;
  orderId: string | null;
  ticketId: string;
  amountMinor: bigint;
  restaurantMinor: bigint;
  driverMinor: bigint;
  platformMinor: bigint;
  restaurantId: string | null;
  driverId: string | null;
}

export const remedyTransferId = (remedyId: string, leg: 'goodwill' | 'restaurant' | 'driver' | 'platform') =>
  `support-remedy:${remedyId}:${leg}`;

/**
 * The transfers of a remedy, one linked chain (all or nothing): a goodwill credit from the
 * platform's promotions expense; a refund from the restaurant's payable, the driver's payable and
 * the platform's promotions expense by their shares; a note, none.
 */
export function remedyTransfers(remedy: BookedRemedy): Transfer[] {
  const wallet = customerWalletId(remedy.beneficiaryId, 'XAF');
  const userData = {
    ticketId: remedy.ticketId,
    remedyId: remedy.id,
    ...(remedy.orderId === null ? {} : { orderId: remedy.orderId }),
  };
  const legs: Transfer[] = [];
  if (remedy.kind === 'goodwill_credit')
    legs.push({
      id: remedyTransferId(remedy.id, 'goodwill'),
      debitAccountId: promotionsExpenseId('XAF'),
      creditAccountId: wallet,
      amountMinor: remedy.amountMinor,
      currency: 'XAF',
      code: 'promotion',
      flags: {},
      userData: { ...userData, reason: 'support_goodwill' },
    });
  if (remedy.kind === 'refund') {
    const refund = (leg: 'restaurant' | 'driver' | 'platform', debitAccountId: string, amountMinor: bigint) =>
      amountMinor > 0n &&
      legs.push({
        id: remedyTransferId(remedy.id, leg),
        debitAccountId,
        creditAccountId: wallet,
        amountMinor,
        currency: 'XAF',
        code: 'refund',
        flags: {},
        userData: { ...userData, category: 'refunds', bornBy: leg },
      });
    if (remedy.restaurantId !== null)
      refund('restaurant', restaurantPayableId(remedy.restaurantId, 'XAF'), remedy.restaurantMinor);
    if (remedy.driverId !== null)
      refund('driver', driverPayableId(remedy.driverId, 'XAF'), remedy.driverMinor);
    refund('platform', promotionsExpenseId('XAF'), remedy.platformMinor);
  }
  // All or nothing: a payable short of its share refuses the whole remedy.
  return legs.map((leg, index) =>
    index < legs.length - 1 ? { ...leg, flags: { ...leg.flags, linked: true } } : leg,
  );
}
