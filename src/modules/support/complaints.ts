import type { SupportDb } from './tables.js';

/** Orders asked about in one call (a driver's deliveries over dispatch's longest period). */
export const COMPLAINT_ORDERS_MAX = 5_000;

/** Where a ticket counts as a complaint: opened by the customer, not by our own automation. */
const COMPLAINT_SOURCES = ['app', 'sms', 'email', 'dispute'] as const;

export interface ComplaintCount {
  /** Tickets the customers opened about these orders (at most one counted per order). */
  orders: number;
  byCategory: Record<string, number>;
}

/**
 * Complaints about a set of orders, for dispatch's driver performance (issue #20): the orders of
 * the set that a customer opened a ticket about (the app, SMS, e-mail or a dispute; the tickets
 * our automation opens for a failed delivery are not complaints), each order counted once, with
 * the category of its first ticket. Nothing of the tickets' content leaves support.
 */
export function createComplaintCounts(db: SupportDb) {
  return {
    async aboutOrders(orderIds: readonly string[]): Promise<ComplaintCount> {
      const ids = [...new Set(orderIds)].slice(0, COMPLAINT_ORDERS_MAX);
      if (ids.length === 0) return { orders: 0, byCategory: {} };
      const rows = await db
        .selectFrom('support_tickets')
        .select(['order_id', 'category'])
        .distinctOn('order_id')
        .where('order_id', 'in', ids)
        .where('opener_role', '=', 'customer')
        .where('source', 'in', [...COMPLAINT_SOURCES])
        .orderBy('order_id')
        .orderBy('created_at')
        .execute();
      const byCategory: Record<string, number> = {};
      for (const row of rows) byCategory[row.category] = (byCategory[row.category] ?? 0) + 1;
      return { orders: rows.length, byCategory };
    },
  };
}

export type ComplaintCounts = ReturnType<typeof createComplaintCounts>;
