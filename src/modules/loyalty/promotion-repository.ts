/** Promotions' SQL: the promotions, the delivered orders that had one, the campaign's figures. */
import { sql, type Selectable } from 'kysely';
import type { Promotion } from './promotion-rules.js';
import type { LoyaltyDb, PromotionOrdersTable, PromotionsTable } from './tables.js';

export const MAX_PROMOTION_PAGE = 100;
/** Promotions of one restaurant (and the platform's) considered for one order at most. */
const MAX_CANDIDATES = 50;

export function promotionOf(row: Selectable<PromotionsTable>): Promotion {
  return {
    id: row.id,
    name: row.name,
    fundedBy: row.funded_by,
    restaurantId: row.restaurant_id,
    kind: row.kind,
    percent: row.percent,
    amountMinor: row.amount_minor,
    maxDiscountMinor: row.max_discount_minor,
    minSubtotalMinor: row.min_subtotal_minor,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    weekdays: row.weekdays,
    startMinute: row.start_minute,
    endMinute: row.end_minute,
    disabledAt: row.disabled_at,
    itemIds: row.item_ids,
    buyQuantity: row.buy_quantity,
    getQuantity: row.get_quantity,
    comboPriceMinor: row.combo_price_minor,
  };
}

export type NewPromotionRow = Omit<Selectable<PromotionsTable>, 'created_at' | 'disabled_at'>;

export function createPromotionRepository(db: LoyaltyDb) {
  return {
    async insert(row: NewPromotionRow): Promise<boolean> {
      const inserted = await db
        .insertInto('promotions')
        .values(row)
        .onConflict((c) => c.doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    async byId(id: string): Promise<Promotion | undefined> {
      const row = await db.selectFrom('promotions').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? undefined : promotionOf(row);
    },

    /** The restaurant's and the platform-wide promotions running at `at` (not withdrawn). */
    async running(restaurantId: string, at: Date): Promise<Promotion[]> {
      const rows = await db
        .selectFrom('promotions')
        .selectAll()
        .where((eb) => eb.or([eb('restaurant_id', '=', restaurantId), eb('restaurant_id', 'is', null)]))
        .where('starts_at', '<=', at)
        .where('ends_at', '>', at)
        .where('disabled_at', 'is', null)
        .orderBy('ends_at')
        .limit(MAX_CANDIDATES)
        .execute();
      return rows.map(promotionOf);
    },

    /** When the next promotion of this restaurant (or the platform) not yet started starts. */
    async nextStart(restaurantId: string, at: Date): Promise<Date | undefined> {
      const row = await db
        .selectFrom('promotions')
        .select((eb) => eb.fn.min('starts_at').as('next'))
        .where((eb) => eb.or([eb('restaurant_id', '=', restaurantId), eb('restaurant_id', 'is', null)]))
        .where('starts_at', '>', at)
        .where('disabled_at', 'is', null)
        .executeTakeFirst();
      return row?.next ?? undefined;
    },

    /** Newest first, paged by (created_at, id). */
    async list(filter: { restaurantId?: string; before?: { createdAt: Date; id: string }; limit: number }) {
      let query = db.selectFrom('promotions').selectAll();
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

    async disable(id: string, at: Date): Promise<Promotion | undefined> {
      await db
        .updateTable('promotions')
        .set({ disabled_at: at })
        .where('id', '=', id)
        .where('disabled_at', 'is', null)
        .execute();
      return this.byId(id);
    },

    /** Once per order (a redelivered event finds the row). */
    async recordDelivered(row: PromotionOrdersTable): Promise<void> {
      await db
        .insertInto('promotion_orders')
        .values(row)
        .onConflict((c) => c.column('order_id').doNothing())
        .execute();
    },

    /** The promotion's delivered orders in order id order after `after` (a page of its figures' orders). */
    async deliveredOrders(promotionId: string, after: string | undefined, limit: number) {
      return db
        .selectFrom('promotion_orders')
        .select(['order_id', 'customer_id'])
        .where('promotion_id', '=', promotionId)
        .$if(after !== undefined, (query) => query.where('order_id', '>', after!))
        .orderBy('order_id')
        .limit(limit)
        .execute();
    },

    async figures(promotionId: string) {
      const result = await sql<{
        orders: string;
        revenue_minor: string | null;
        food_minor: string | null;
        discount_minor: string | null;
        customers: string;
        repeat_customers: string;
        promotion_funding_minor: string | null;
        restaurant_share_minor: string | null;
      }>`
        WITH used AS (SELECT * FROM promotion_orders WHERE promotion_id = ${promotionId}),
        per_customer AS (SELECT customer_id, count(*) AS n FROM used GROUP BY customer_id)
        SELECT
          (SELECT count(*) FROM used)::text AS orders,
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
