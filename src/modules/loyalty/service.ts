/**
 * Loyalty points (issue #21, docs/loyalty.md). Every point is on the ledger (PTS):
 *   earning  a checkpointed reactor follows the orders' final events: `OrderCompleted` (the
 *            dispute window closed without a dispute) earns on the food paid, `OrderDisputeResolved`
 *            on the food less the refund (a full refund earns nothing); one transfer per order,
 *            `points-award:<orderId>`, issuance → the customer's points account;
 *   reading  balance from the ledger writer, tier and history from the ledger's read model;
 *   expiry   a daily job books what remains of lots older than LOYALTY_POINTS_EXPIRY_DAYS back to
 *            issuance, `points-expiry:<userId>:<day>`, oldest lots first.
 */
import type { Logger } from 'pino';
import {
  accountSpec,
  customerPointsId,
  pointsIssuanceId,
  type Transfer,
} from '../../../ledger/rules/index.js';
import type { EventStore, RecordedEvent } from '../../eventstore/index.js';
import { createReactor } from '../../eventstore/reactor.js';
import { ORDER_STREAM_PREFIX, orderStream, type OrderCreatedData } from '../orders/index.js';
import { loyaltyErrors } from './errors.js';
import { createLoyaltyRepository, MAX_HISTORY_PAGE, type AwardRow } from './repository.js';
import {
  awardTransferId,
  earningBaseMinor,
  EXPIRY_REASON,
  expiryCutoff,
  expiryPeriodOf,
  expiryTransferId,
  historyKindOf,
  nextTierOf,
  pointsFor,
  tierOf,
  type Tier,
  type TierRules,
} from './rules.js';
import type { LoyaltyDb } from './tables.js';

export const AWARD_REACTOR = 'loyalty-awards';
const EARNING_EVENTS = ['OrderCompleted', 'OrderDisputeResolved'] as const;
const YEAR_MS = 365 * 86_400_000;
const NS_PER_MS = 1_000_000n;
/** Expiry passes per run at most (each takes EXPIRY_BATCH accounts): a bound on one run's work. */
const MAX_EXPIRY_PASSES = 500;

/** What loyalty uses of the ledger context (`services.ledger`). */
export interface LoyaltyLedger {
  submit(transfers: readonly Transfer[]): Promise<{ result: string; detail?: string }[]>;
  account(id: string): Promise<{
    creditsPosted: bigint;
    debitsPosted: bigint;
    debitsPending: bigint;
    availableMinor: bigint;
  } | null>;
}

export interface LoyaltyOptions {
  db: LoyaltyDb;
  eventStore: EventStore;
  ledger: LoyaltyLedger;
  logger: Logger;
  tiers: TierRules;
  expiryDays: number;
  now?: () => Date;
  /**
   * Called with every completed order of a customer after its award (referrals: the referee's
   * first completed order rewards). Idempotent work only: a replay calls it again.
   */
  onCompleted?: (input: {
    orderId: string;
    userId: string;
    paymentPhone: string | null;
    /** The order's delivery point, as its `OrderCreated` holds it (referral abuse compares it). */
    delivery: unknown;
    at: Date;
  }) => Promise<unknown>;
}

export type AwardOutcome = 'booked' | 'exists' | 'nothing' | 'not_a_customer';

interface HistoryCursor {
  entryNo: string;
}
const isCursor = (value: unknown): value is HistoryCursor =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as HistoryCursor).entryNo === 'string' &&
  /^[1-9][0-9]{0,17}$/.test((value as HistoryCursor).entryNo);
const encodeCursor = (value: HistoryCursor): string =>
  Buffer.from(JSON.stringify(value)).toString('base64url');
function decodeCursor(cursor: string): HistoryCursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    return isCursor(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const isoOfNs = (ns: bigint): string => new Date(Number(ns / NS_PER_MS)).toISOString();

export function createLoyalty(options: LoyaltyOptions) {
  const { db, ledger, logger, eventStore, tiers } = options;
  const repository = createLoyaltyRepository(db);
  const now = options.now ?? (() => new Date());
  const listeners: ((orderId: string, outcome: AwardOutcome) => void)[] = [];

  async function earnedLastYear(userId: string, at: Date): Promise<bigint> {
    return repository.earnedSince(customerPointsId(userId), BigInt(at.getTime() - YEAR_MS) * NS_PER_MS);
  }

  /** Books an award decided earlier (or now); a replay answers `exists`. */
  async function book(award: AwardRow): Promise<AwardOutcome> {
    if (award.points === 0n) return 'nothing';
    const [outcome] = await ledger.submit([
      {
        id: awardTransferId(award.order_id),
        debitAccountId: pointsIssuanceId(),
        creditAccountId: customerPointsId(award.user_id),
        amountMinor: award.points,
        currency: 'PTS',
        code: 'points_award',
        flags: {},
        userData: { orderId: award.order_id, userId: award.user_id, tier: award.tier },
      },
    ]);
    if (outcome!.result === 'ok') return 'booked';
    if (outcome!.result === 'exists') return 'exists';
    if (outcome!.result === 'exists_with_different_fields') {
      // Booked once already, with other figures (a decision row lost, say): never a second award.
      logger.error(
        { orderId: award.order_id, detail: outcome!.detail },
        'points award exists with other figures',
      );
      return 'exists';
    }
    // Nothing else can refuse an issuance → customer transfer; throwing makes the reactor retry.
    throw new Error(`points award ${award.order_id} refused: ${outcome!.result}`);
  }

  /** Earns the order's points once: the decision is recorded, then booked (idempotent by order). */
  async function awardOrder(
    orderId: string,
    event: { type: string; refundMinor?: number; at: Date },
  ): Promise<AwardOutcome> {
    const [created] = await eventStore.readStream(orderStream(orderId), {
      maxCount: 1,
      missingAsEmpty: true,
    });
    if (created === undefined || created.type !== 'OrderCreated') return 'nothing';
    const data = created.data as OrderCreatedData;
    if (data.customer.kind !== 'user' || accountSpec(customerPointsId(data.customer.id)) === null)
      return 'not_a_customer';
    const outcome = await grant({
      orderId,
      userId: data.customer.id,
      // A tier's free delivery is in the discount but is not food: it does not lower the base.
      baseMinor: earningBaseMinor(
        {
          subtotalMinor: data.pricing.subtotalMinor,
          discountMinor: data.pricing.discountMinor - (data.freeDelivery?.discountMinor ?? 0),
        },
        event.refundMinor ?? 0,
      ),
      sourceEvent: event.type,
      at: event.at,
    });
    if (event.type === 'OrderCompleted' && options.onCompleted !== undefined)
      await options.onCompleted({
        orderId,
        userId: data.customer.id,
        paymentPhone: data.paymentMethod.kind === 'mobile_money' ? data.paymentMethod.phone : null,
        delivery: data.delivery,
        at: event.at,
      });
    return outcome;
  }

  /**
   * The earning decision for one order (the tier of the customer at `at`, its multiplier, the
   * points), recorded once, then booked; a second call books the recorded decision again and the
   * ledger answers `exists`.
   */
  async function grant(input: {
    orderId: string;
    userId: string;
    baseMinor: bigint;
    sourceEvent: string;
    at: Date;
  }): Promise<AwardOutcome> {
    const tier = tierOf(await earnedLastYear(input.userId, input.at), tiers);
    const multiplier = tiers.multipliers[tier];
    const award = await repository.recordAward({
      order_id: input.orderId,
      user_id: input.userId,
      base_minor: input.baseMinor,
      tier,
      multiplier,
      points: pointsFor(input.baseMinor, multiplier),
      source_event: input.sourceEvent,
    });
    return book(award);
  }

  async function handle(event: RecordedEvent): Promise<void> {
    const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
    const data = event.data as { refundMinor?: number; at?: string };
    const at = data.at === undefined ? event.createdAt : new Date(data.at);
    const outcome = await awardOrder(orderId, {
      type: event.type,
      ...(event.type === 'OrderDisputeResolved' ? { refundMinor: data.refundMinor ?? 0 } : {}),
      at,
    });
    for (const listener of listeners) listener(orderId, outcome);
  }

  const reactor = createReactor({
    name: AWARD_REACTOR,
    db,
    checkpointTable: 'loyalty_reactor_checkpoints',
    eventStore,
    filter: { streamPrefixes: [ORDER_STREAM_PREFIX], eventTypes: [...EARNING_EVENTS] },
    logger,
    handle,
  });

  /** Balance (ledger writer), tier and progress, what expires next (read model). */
  async function summary(userId: string) {
    const at = now();
    const accountId = customerPointsId(userId);
    const account = await ledger.account(accountId);
    const earned = await earnedLastYear(userId, at);
    const next = nextTierOf(earned, tiers);
    const lots = await repository.openLots(accountId);
    const first = lots[0];
    const tier = tierOf(earned, tiers);
    return {
      balance: account?.availableMinor ?? 0n,
      held: account?.debitsPending ?? 0n,
      tier,
      multiplier: tiers.multipliers[tier],
      earnedLast12Months: earned,
      nextTier: next,
      nextExpiry:
        first === undefined
          ? null
          : {
              points: lots
                .filter((lot) => sameExpiryDay(lot.timestamp_ns, first.timestamp_ns))
                .reduce((sum, lot) => sum + BigInt(lot.remaining), 0n),
              at: expiryAtOf(first.timestamp_ns).toISOString(),
            },
    };
  }

  /** The first day a lot earned at `ns` is past its expiry (the daily job's period that books it). */
  function expiryAtOf(ns: bigint): Date {
    const earnedMs = Number(ns / NS_PER_MS);
    const day = 86_400_000;
    return new Date((Math.floor(earnedMs / day) + options.expiryDays + 1) * day);
  }
  const sameExpiryDay = (a: bigint, b: bigint) => expiryAtOf(a).getTime() === expiryAtOf(b).getTime();

  /** The points account's statement, newest first, with the wallet's cursor style. */
  async function history(userId: string, query: { cursor?: string; limit?: number }) {
    const limit = Math.min(Math.max(query.limit ?? 20, 1), MAX_HISTORY_PAGE);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && after === undefined)
      throw loyaltyErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API gave.');
    const rows = await repository.statement(customerPointsId(userId), {
      ...(after === undefined ? {} : { beforeEntry: BigInt(after.entryNo) }),
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => ({
        transferId: row.transfer_id,
        kind: historyKindOf(row.code, row.user_data),
        direction: row.side === 'credit' ? ('in' as const) : ('out' as const),
        points: BigInt(row.amount_minor),
        orderId: row.user_data?.orderId ?? null,
        at: isoOfNs(BigInt(row.timestamp_ns)),
      })),
      nextCursor:
        rows.length > limit && last !== undefined ? encodeCursor({ entryNo: String(last.entry_no) }) : null,
    };
  }

  /**
   * The daily job: for every customer, what remains of lots earned before the period's cutoff goes
   * back to issuance, one transfer per (customer, period). A re-run finds those lots consumed and
   * books nothing; a concurrent run computes the same amounts and the ledger answers `exists`.
   */
  async function expirePoints(
    at: Date = now(),
  ): Promise<{ expired: number; points: bigint; failed: number }> {
    const period = expiryPeriodOf(at);
    const cutoffNs = BigInt(expiryCutoff(at, options.expiryDays).getTime()) * NS_PER_MS;
    const counts = { expired: 0, points: 0n, failed: 0 };
    let afterId = '';
    for (let pass = 0; pass < MAX_EXPIRY_PASSES; pass += 1) {
      const due = await repository.dueExpiries(cutoffNs, afterId);
      for (const { account_id: accountId, due: points } of due) {
        const userId = accountSpec(accountId)?.subject;
        if (userId === undefined || BigInt(points) <= 0n) continue;
        const [outcome] = await ledger.submit([
          {
            id: expiryTransferId(userId, period),
            debitAccountId: accountId,
            creditAccountId: pointsIssuanceId(),
            amountMinor: BigInt(points),
            currency: 'PTS',
            code: 'adjustment',
            flags: {},
            userData: { userId, reason: EXPIRY_REASON, period },
          },
        ]);
        if (outcome!.result === 'ok') {
          counts.expired += 1;
          counts.points += BigInt(points);
        } else if (outcome!.result !== 'exists') {
          counts.failed += 1;
          logger.warn(
            { userId, period, result: outcome!.result },
            'points expiry not booked; the next run tries again',
          );
        }
      }
      const last = await repository.lastAccountOfBatch(afterId);
      if (last === null) break;
      afterId = last;
    }
    return counts;
  }

  /** The customer's tier at `at`, by the points earned in the 12 months before. */
  async function tierAt(userId: string, at: Date): Promise<Tier> {
    return tierOf(await earnedLastYear(userId, at), tiers);
  }

  return {
    awardOrder,
    grant,
    tierAt,
    summary,
    history,
    expirePoints,
    start: reactor.start,
    stop: reactor.stop,
    /** Called after each earning event handled by the reactor (tests wait on it). */
    onAward(listener: (orderId: string, outcome: AwardOutcome) => void) {
      listeners.push(listener);
    },
  };
}

export type Loyalty = ReturnType<typeof createLoyalty>;
