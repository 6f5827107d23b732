/**
 * Coupons' SQL: the coupons, one reservation per order, the campaign's figures (its own rows and
 * the ledger's read model of the orders' settlements). Caps are checked under the coupon's row
 * lock in the reservation's transaction, so concurrent orders cannot pass them.
 */
import { sql, type Selectable } from 'kysely';
import type { Coupon } from './coupon-rules.js';
import type { CouponsTable, LoyaltyDb } from './tables.js';

export const MAX_COUPON_PAGE = 100;
/** Stranded reservations released per sweep at most. */
const STRANDED_BATCH = 100;

export function couponOf(row: Selectable<CouponsTable>): Coupon {
  return {
    id: row.id,
    code: row.code,
    fundedBy: row.funded_by,
    restaurantId: row.restaurant_id,
    kind: row.kind,
    percent: row.percent,
    amountMinor: row.amount_minor,
    maxDiscountMinor: row.max_discount_minor,
    minSubtotalMinor: row.min_subtotal_minor,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    totalLimit: row.total_limit,
    perCustomerLimit: row.per_customer_limit,
    uses: row.uses,
    disabledAt: row.disabled_at,
    firstOrderOnly: row.first_order_only,
    itemIds: row.item_ids,
    categoryIds: row.category_ids,
    city: row.city,
  };
}

export interface NewCouponRow {
  id: string;
  code: string;
  funded_by: 'platform' | 'restaurant';
  restaurant_id: string | null;
  kind: 'percent' | 'fixed';
  percent: string | null;
  amount_minor: bigint | null;
  max_discount_minor: bigint | null;
  min_subtotal_minor: bigint;
  starts_at: Date;
  ends_at: Date;
  total_limit: number | null;
  per_customer_limit: number | null;
  created_by: string;
  first_order_only: boolean;
  item_ids: string[] | null;
  category_ids: string[] | null;
  city: string | null;
}

export interface RedemptionRow {
  order_id: string;
  coupon_id: string;
  customer_id: string;
  restaurant_id: string;
  discount_minor: bigint;
  subtotal_minor: bigint;
  total_minor: bigint;
}

export type ReserveDecision = (
  coupon: Coupon,
  customerUses: number,
) => { code: string; reason: string } | undefined;

export function createCouponRepository(db: LoyaltyDb) {
  return {
    /** Inserts the coupon; false when its code is taken (or the id exists: a retried creation). */
    async insert(row: NewCouponRow): Promise<boolean> {
      const inserted = await db
        .insertInto('coupons')
        .values(row)
        .onConflict((c) => c.doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async byId(id: string): Promise<Coupon | undefined> {
      const row = await db.selectFrom('coupons').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : couponOf(row);
    },

    async byCode(code: string): Promise<Coupon | undefined> {
      const row = await db.selectFrom('coupons').selectAll().where('code', '=', code).executeTakeFirst();
      return row === undefined ? undefined : couponOf(row);
    },

    async customerUses(couponId: string, customerId: string): Promise<number> {
      const row = await db
        .selectFrom('coupon_redemptions')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('coupon_id', '=', couponId)
        .where('customer_id', '=', customerId)
        .where('status', '<>', 'released')
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    /** Newest first; `before` is the last page's (created_at, id). */
    async list(filter: {
      restaurantId?: string;
      before?: { createdAt: Date; id: string };
      limit: number;
    }): Promise<Selectable<CouponsTable>[]> {
      let query = db.selectFrom('coupons').selectAll();
      if (filter.restaurantId !== undefined) query = query.where('restaurant_id', '=', filter.restaurantId);
      if (filter.before !== undefined) {
        const { createdAt, id } = filter.before;
        query = query.where((eb) =>
          eb.or([
            eb('created_at', '<', createdAt),
            eb.and([eb('created_at', '=', createdAt), eb('id', '<', id)]),
          ]),
        );
      }
      return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(filter.limit).execute();
    },

    async disable(id: string, at: Date): Promise<Selectable<CouponsTable> | undefined> {
      await db
        .updateTable('coupons')
        .set({ disabled_at: at })
        .where('id', '=', id)
        .where('disabled_at', 'is', null)
        .execute();
      return db.selectFrom('coupons').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /**
     * One use for the order, under the coupon's row lock: the order's own reservation answers
     * again (a retried placement); otherwise `decide` sees the coupon's uses and the customer's
     * as they are for every concurrent order, and a refusal leaves nothing behind.
     */
    async reserve(
      row: RedemptionRow,
      decide: ReserveDecision,
    ): Promise<{ reserved: true } | { reserved: false; code: string; reason: string }> {
      return db.transaction().execute(async (trx) => {
        const locked = await trx
          .selectFrom('coupons')
          .selectAll()
          .where('id', '=', row.coupon_id)
          .forUpdate()
          .executeTakeFirst();
        if (locked === undefined)
          return { reserved: false, code: 'coupon_invalid', reason: 'unknown coupon code' };
        const existing = await trx
          .selectFrom('coupon_redemptions')
          .select(['coupon_id', 'status'])
          .where('order_id', '=', row.order_id)
          .executeTakeFirst();
        if (existing !== undefined) {
          if (existing.coupon_id === row.coupon_id && existing.status !== 'released')
            return { reserved: true };
          return { reserved: false, code: 'coupon_invalid', reason: 'the order already ended its coupon' };
        }
        const uses = await trx
          .selectFrom('coupon_redemptions')
          .select((eb) => eb.fn.countAll<string>().as('count'))
          .where('coupon_id', '=', row.coupon_id)
          .where('customer_id', '=', row.customer_id)
          .where('status', '<>', 'released')
          .executeTakeFirstOrThrow();
        const refusal = decide(couponOf(locked), Number(uses.count));
        if (refusal !== undefined) return { reserved: false, ...refusal };
        await trx
          .insertInto('coupon_redemptions')
          .values({ ...row, status: 'held', ended_at: null })
          .execute();
        await trx
          .updateTable('coupons')
          .set((eb) => ({ uses: eb('uses', '+', 1) }))
          .where('id', '=', row.coupon_id)
          .execute();
        return { reserved: true };
      });
    },

    /** Held → used (the order was delivered); false when it was not held. */
    async markUsed(orderId: string, at: Date): Promise<boolean> {
      const result = await db
        .updateTable('coupon_redemptions')
        .set({ status: 'used', ended_at: at })
        .where('order_id', '=', orderId)
        .where('status', '=', 'held')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    /** Held → released and the use given back to the coupon, once; false when it was not held. */
    async release(orderId: string, at: Date): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const released = await trx
          .updateTable('coupon_redemptions')
          .set({ status: 'released', ended_at: at })
          .where('order_id', '=', orderId)
          .where('status', '=', 'held')
          .returning('coupon_id')
          .executeTakeFirst();
        if (released === undefined) return false;
        await trx
          .updateTable('coupons')
          .set((eb) => ({ uses: eb('uses', '-', 1) }))
          .where('id', '=', released.coupon_id)
          .execute();
        return true;
      });
    },

    /**
     * Deletes the held reservation of an order that will never exist (its placement was refused
     * after the reservation) and gives the use back: a retry of that placement reserves afresh.
     */
    async forget(orderId: string): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const removed = await trx
          .deleteFrom('coupon_redemptions')
          .where('order_id', '=', orderId)
          .where('status', '=', 'held')
          .returning('coupon_id')
          .executeTakeFirst();
        if (removed === undefined) return false;
        await trx
          .updateTable('coupons')
          .set((eb) => ({ uses: eb('uses', '-', 1) }))
          .where('id', '=', removed.coupon_id)
          .execute();
        return true;
      });
    },

    /** The coupon's delivered orders (used), in order id order after `after`: a page of its figures' orders. */
    async usedOrders(couponId: string, after: string | undefined, limit: number) {
      return db
        .selectFrom('coupon_redemptions')
        .select(['order_id', 'customer_id'])
        .where('coupon_id', '=', couponId)
        .where('status', '=', 'used')
        .$if(after !== undefined, (query) => query.where('order_id', '>', after!))
        .orderBy('order_id')
        .limit(limit)
        .execute();
    },

    /** Reservations still held since before `before` (candidates for the stranded sweep). */
    async heldBefore(before: Date): Promise<string[]> {
      const rows = await db
        .selectFrom('coupon_redemptions')
        .select('order_id')
        .where('status', '=', 'held')
        .where('created_at', '<', before)
        .orderBy('created_at')
        .limit(STRANDED_BATCH)
        .execute();
      return rows.map((row) => row.order_id);
    },

    async redemption(orderId: string) {
      return db
        .selectFrom('coupon_redemptions')
        .selectAll()
        .where('order_id', '=', orderId)
        .executeTakeFirst();
    },

    /**
     * The campaign's figures: its delivered orders (used), their money, its customers; and what
     * the ledger booked for those orders' settlements (the promotions expense's funding and the
     * restaurants' shares), read from the ledger's read model.
     */
    async figures(couponId: string) {
      const result = await sql<{
        orders: string;
        held: string;
        released: string;
        revenue_minor: string | null;
        food_minor: string | null;
        discount_minor: string | null;
        customers: string;
        repeat_customers: string;
        promotion_funding_minor: string | null;
        restaurant_share_minor: string | null;
      }>`
        WITH used AS (
          SELECT order_id, customer_id, subtotal_minor, total_minor, discount_minor
          FROM coupon_redemptions WHERE coupon_id = ${couponId} AND status = 'used'
        ), per_customer AS (SELECT customer_id, count(*) AS n FROM used GROUP BY customer_id)
        SELECT
          (SELECT count(*) FROM used)::text AS orders,
          (SELECT count(*) FROM coupon_redemptions WHERE coupon_id = ${couponId} AND status = 'held')::text AS held,
          (SELECT count(*) FROM coupon_redemptions WHERE coupon_id = ${couponId} AND status = 'released')::text AS released,
          (SELECT sum(total_minor) FROM used)::text AS revenue_minor,
          (SELECT sum(subtotal_minor) FROM used)::text AS food_minor,
          (SELECT sum(discount_minor) FROM used)::text AS discount_minor,
          (SELECT count(*) FROM per_customer)::text AS customers,
          (SELECT count(*) FROM per_customer WHERE n >= 2)::text AS repeat_customers,
          (SELECT sum(e.amount_minor) FROM ledger_entries e JOIN used u
             ON e.transfer_id = 'settle:' || u.order_id::text || ':promotion_funding'
            WHERE e.side = 'credit' AND e.phase = 'posted')::text AS promotion_funding_minor,
          (SELECT sum(e.amount_minor) FROM ledger_entries e JOIN used u
             ON e.transfer_id = 'settle:' || u.order_id::text || ':restaurant_share'
            WHERE e.side = 'credit' AND e.phase = 'posted')::text AS restaurant_share_minor`.execute(db);
      const row = result.rows[0]!;
      return {
        orders: Number(row.orders),
        held: Number(row.held),
        released: Number(row.released),
        revenueMinor: BigInt(row.revenue_minor ?? '0'),
        foodMinor: BigInt(row.food_minor ?? '0'),
        discountMinor: BigInt(row.discount_minor ?? '0'),
        customers: Number(row.customers),
        repeatCustomers: Number(row.repeat_customers),
        promotionFundingMinor: BigInt(row.promotion_funding_minor ?? '0'),
        restaurantShareMinor: BigInt(row.restaurant_share_minor ?? '0'),
      };
    },
  };
}

export type CouponRepository = ReturnType<typeof createCouponRepository>;
