/**
 * The SQL of order settlements: one row per order once its escrow is released or refunded (what
 * went where, at which commission), the restaurant's commission clock that a release advances,
 * and the escrows stranded without an order.
 */
import { sql, type Insertable } from 'kysely';
import type { PaymentTables, PaymentsDb } from './tables.js';

export type SettlementRow = Insertable<PaymentTables['order_settlements']>;

/** An escrow account holding money with no order, with when and from whom it was credited. */
export interface StrandedEscrow {
  id: string;
  first_ns: string;
  payers: string[];
}

export type SettlementsRepository = ReturnType<typeof createSettlementsRepository>;

export function createSettlementsRepository(db: PaymentsDb) {
  return {
    get(orderId: string) {
      return db
        .selectFrom('order_settlements')
        .selectAll()
        .where('order_id', '=', orderId)
        .executeTakeFirstOrThrow();
    },

    find(orderId: string) {
      return db
        .selectFrom('order_settlements')
        .selectAll()
        .where('order_id', '=', orderId)
        .executeTakeFirst();
    },

    /**
     * Records a release once, and with it one more completed order on the restaurant's commission
     * clock (started at its first settlement), in one transaction.
     */
    async recordRelease(row: SettlementRow, at: Date): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('order_settlements')
          .values(row)
          .onConflict((conflict) => conflict.column('order_id').doNothing())
          .returning('order_id')
          .executeTakeFirst();
        if (inserted === undefined) return;
        await trx
          .insertInto('restaurant_commission_clock')
          .values({ restaurant_id: row.restaurant_id, first_settled_at: at, completed_orders: 1 })
          .onConflict((conflict) =>
            conflict.column('restaurant_id').doUpdateSet((eb) => ({
              completed_orders: eb('restaurant_commission_clock.completed_orders', '+', 1),
            })),
          )
          .execute();
      });
    },

    /** Records a refund once. */
    async recordRefund(row: SettlementRow): Promise<void> {
      await db
        .insertInto('order_settlements')
        .values(row)
        .onConflict((conflict) => conflict.column('order_id').doNothing())
        .execute();
    },

    /** A dispute refunded after release: the released row becomes resolved. */
    async resolveAfterRelease(orderId: string, refundMinor: bigint): Promise<void> {
      await db
        .updateTable('order_settlements')
        .set({ refund_minor: refundMinor, outcome: 'resolved' })
        .where('order_id', '=', orderId)
        .where('outcome', '=', 'released')
        .execute();
    },

    /**
     * Escrows holding money for an order stream that does not exist, first credited before
     * `creditedBeforeNs`, those paid by one customer wallet first (the others stay until finance
     * acts, and must not crowd them out of the batch). The ledger projection's partial index on
     * open order escrows (ledger/projections/index.ts) keeps the work proportional to the orders
     * in flight, not to all accounts. Each open escrow costs one primary-key probe into
     * `eventstore_streams` (`OFFSET 0` keeps it a probe: unnested, the planner may hash the whole
     * streams table instead), and each streamless one a probe into its entries.
     *
     * It reads the ledger's read model and the event store's streams, no payments table. With the
     * events in PostgreSQL the stream table says whether the order was appended; with EventStoreDB
     * that table is empty, and the orders projection (which lags by far less than the grace
     * period) says it (`ordersIn`). Either way the escrow asks the event store itself last.
     */
    async strandedEscrows(query: {
      creditedBeforeNs: bigint;
      ordersIn: 'event_store' | 'orders_view';
      escrowPrefix: string;
      orderStreamPrefix: string;
      walletPrefix: string;
      limit: number;
    }): Promise<StrandedEscrow[]> {
      const subject = sql`split_part(a.id, ':', 3)`;
      const noOrderStream =
        query.ordersIn === 'event_store'
          ? sql`NOT EXISTS (SELECT FROM eventstore_streams s WHERE s.stream_id = ${query.orderStreamPrefix} || ${subject} OFFSET 0)`
          : sql`NOT EXISTS (SELECT FROM orders_view v WHERE ${subject} ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                          AND v.order_id = ${subject}::uuid OFFSET 0)`;
      const result = await sql<StrandedEscrow>`
      SELECT a.id, c.first_ns::text AS first_ns, c.payers
        FROM ledger_accounts a
        CROSS JOIN LATERAL (
          SELECT min(e.timestamp_ns) AS first_ns, array_agg(DISTINCT e.counterparty_account_id) AS payers
            FROM ledger_entries e
           WHERE e.account_id = a.id AND e.side = 'credit' AND e.phase IN ('posted', 'post_pending')) c
       WHERE a.id LIKE ${sql.lit(`${query.escrowPrefix}%`)} AND NOT a.closed AND a.credits_posted > a.debits_posted
         AND ${noOrderStream}
         AND c.first_ns < ${query.creditedBeforeNs.toString()}::int8
       ORDER BY (cardinality(c.payers) = 1 AND c.payers[1] LIKE ${`${query.walletPrefix}%`}) DESC, c.first_ns
       LIMIT ${query.limit}`.execute(db);
      return result.rows;
    },
  };
}
