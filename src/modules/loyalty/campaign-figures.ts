/**
 * A campaign's new customers (issue #21, "ROI per campaign"): the customers whose order with the
 * coupon or promotion was their first order ever. Loyalty keeps no order history; orders answers
 * which orders were first (`firstOrders`, from its view), asked in pages of the campaign's orders,
 * so a read of the figures never holds more than a page. Off the placement path: only the ROI
 * routes read it.
 */
export interface CampaignOrder {
  order_id: string;
  customer_id: string;
}

/** Orders asked per page (orders' own maximum per call). */
export const NEW_CUSTOMERS_PAGE = 1_000;
/** At most this many pages (100 000 orders): beyond, the figure counts the first 100 000. */
export const MAX_NEW_CUSTOMERS_PAGES = 100;

export type FirstOrders = (orderIds: readonly string[]) => Promise<Set<string>>;

/**
 * Customers whose campaign order was their first; null when no order history is wired (a loyalty
 * built without orders, in unit set-ups). `page(after)` answers the campaign's orders in order id
 * order after `after`, at most NEW_CUSTOMERS_PAGE.
 */
export async function newCustomers(
  page: (after: string | undefined) => Promise<CampaignOrder[]>,
  firstOrders: FirstOrders | undefined,
): Promise<number | null> {
  if (firstOrders === undefined) return null;
  const customers = new Set<string>();
  let after: string | undefined;
  for (let index = 0; index < MAX_NEW_CUSTOMERS_PAGES; index += 1) {
    const rows = await page(after);
    if (rows.length === 0) break;
    const firsts = await firstOrders(rows.map((row) => row.order_id));
    for (const row of rows) if (firsts.has(row.order_id)) customers.add(row.customer_id);
    if (rows.length < NEW_CUSTOMERS_PAGE) break;
    after = rows.at(-1)!.order_id;
  }
  return customers.size;
}
