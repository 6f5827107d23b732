/**
 * A tier's free deliveries (docs/loyalty.md, "Tier benefits"): each tier gets a number of free
 * deliveries a month (Cameroon time) from configuration. Orders asks at the quote whether the
 * customer has one left (advisory), then reserves it at placement: one row per order, counted
 * under a lock on (customer, month), so the count holds under concurrent orders and a retried
 * placement (same order id) finds its own row instead of taking a second one. The reservation is
 * released when the order fails or is cancelled (the redemption reactor), or at once when the
 * placement stops before the order exists; a placement that died before either (its order never
 * appended, never retried) is released by `sweepStranded` after the coupons' timeout. Nothing moves on the ledger here: the delivery fee is
 * in the order's discount and the settlement's `delivery_benefit` leg pays it from the promotions
 * expense.
 */
import { sql } from 'kysely';
import type { EventStore } from '../../eventstore/index.js';
import { orderStreamExists, type FreeDeliveryReservation } from '../orders/index.js';
import { CAMEROON_OFFSET_MINUTES } from './promotion-rules.js';
import type { Tier } from './rules.js';
import type { LoyaltyDb } from './tables.js';

/** The month a free delivery counts in: `YYYY-MM`, Cameroon time. */
export function benefitPeriodOf(at: Date): string {
  return new Date(at.getTime() + CAMEROON_OFFSET_MINUTES * 60_000).toISOString().slice(0, 7);
}

export interface FreeDeliveriesOptions {
  db: LoyaltyDb;
  tierAt: (userId: string, at: Date) => Promise<Tier>;
  /** Free deliveries a month, per tier (configuration). */
  allowance: Readonly<Record<Tier, number>>;
  /** Whether an order was appended (the stranded sweep keeps the reservations of placed orders). */
  eventStore: Pick<EventStore, 'readStream'>;
  logger: { warn(object: object, message: string): void };
}

/** A reservation held this long without its order is looked at by the stranded sweep (as coupons'). */
export const STRANDED_FREE_DELIVERY_AFTER_MS = 10 * 60_000;
/** Stranded reservations looked at per sweep at most. */
const STRANDED_BATCH = 100;

export function createFreeDeliveries(options: FreeDeliveriesOptions) {
  const { db, allowance } = options;
  /** All counts 0 (the default): the benefit is off and the quote asks nothing. */
  const off = Object.values(allowance).every((count) => count === 0);

  const used = (executor: LoyaltyDb, customerId: string, period: string, exceptOrderId?: string) =>
    executor
      .selectFrom('loyalty_free_deliveries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('customer_id', '=', customerId)
      .where('period', '=', period)
      .where('status', '=', 'held')
      .$if(exceptOrderId !== undefined, (query) => query.where('order_id', '!=', exceptOrderId!))
      .executeTakeFirstOrThrow()
      .then((row) => Number(row.n));

  /** The customer's tier and month when a free delivery is left (advisory: placement reserves it). */
  async function available(
    customerId: string,
    at: Date,
    orderId?: string,
  ): Promise<{ tier: string; period: string } | undefined> {
    if (off) return undefined;
    const tier = await options.tierAt(customerId, at);
    if (allowance[tier] === 0) return undefined;
    const period = benefitPeriodOf(at);
    // A keyed retry's own reservation does not count against it.
    return (await used(db, customerId, period, orderId)) < allowance[tier] ? { tier, period } : undefined;
  }

  /** Takes one of the month's free deliveries for the order; true when it is the order's (again). */
  async function reserve(reservation: FreeDeliveryReservation): Promise<boolean> {
    return db.transaction().execute(async (transaction) => {
      const key = `loyalty-free-delivery:${reservation.customerId}:${reservation.period}`;
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(transaction);
      const own = await transaction
        .selectFrom('loyalty_free_deliveries')
        .select('status')
        .where('order_id', '=', reservation.orderId)
        .executeTakeFirst();
      if (own !== undefined) return own.status === 'held';
      const tier = reservation.tier as Tier;
      if ((await used(transaction, reservation.customerId, reservation.period)) >= (allowance[tier] ?? 0))
        return false;
      await transaction
        .insertInto('loyalty_free_deliveries')
        .values({
          order_id: reservation.orderId,
          customer_id: reservation.customerId,
          period: reservation.period,
          tier: reservation.tier,
          discount_minor: reservation.discountMinor,
          status: 'held',
        })
        .execute();
      return true;
    });
  }

  /** The order failed or was cancelled: its free delivery goes back to the month (once). */
  async function release(orderId: string, at: Date): Promise<boolean> {
    const released = await db
      .updateTable('loyalty_free_deliveries')
      .set({ status: 'released', released_at: at })
      .where('order_id', '=', orderId)
      .where('status', '=', 'held')
      .executeTakeFirst();
    return released.numUpdatedRows > 0n;
  }

  /**
   * Releases the reservations held for more than STRANDED_FREE_DELIVERY_AFTER_MS whose order was
   * never appended (the placement stopped between the reservation and the append and was never
   * retried), so the month gets them back. A placed order's reservation is kept (the redemption
   * reactor ends it). A placement retried after the sweep finds its row released and is refused
   * the free delivery (409 `free_delivery_taken`), as a coupon's is. Answers how many it released.
   */
  async function sweepStranded(at: Date = new Date()): Promise<number> {
    const candidates = await db
      .selectFrom('loyalty_free_deliveries')
      .select('order_id')
      .where('status', '=', 'held')
      .where('created_at', '<', new Date(at.getTime() - STRANDED_FREE_DELIVERY_AFTER_MS))
      .orderBy('created_at')
      .limit(STRANDED_BATCH)
      .execute();
    let released = 0;
    for (const { order_id: orderId } of candidates) {
      if (await orderStreamExists(options.eventStore, orderId)) continue;
      if (await release(orderId, at)) released += 1;
    }
    if (released > 0)
      options.logger.warn({ released }, 'free deliveries of orders never placed were released');
    return released;
  }

  return { available, reserve, release, sweepStranded };
}

export type FreeDeliveries = ReturnType<typeof createFreeDeliveries>;
