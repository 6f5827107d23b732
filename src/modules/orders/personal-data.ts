import type { OrdersDb } from './tables.js';
import type { PersonalDataHook } from '../../platform/context.js';
import type { OrdersService } from './service.js';
import { deliveryOf, paymentMethodOf, REDACTED } from './views.js';

/**
 * The orders context's share of one person's data (GDPR export and erasure, issue #15).
 *
 * Export: the person's orders (lines, amounts, status, times, the delivery address and payment
 * method they gave, read from the events), their carts, and the deliveries they made as a driver.
 *
 * Erasure deletes the person's carts. Orders stay (they are the record of money that moved):
 * their delivery address and payment method are sealed in `OrderCreated` under the person's data
 * key, which the event store's erasure (after this hook) shreds, so every view shows
 * "[redacted]" in their place; the read models hold the pseudonymous user id only. Idempotent.
 */
export const EXPORT_ROWS_MAX = 1_000;

export function ordersPersonalData(options: {
  db: OrdersDb;
  orders: Pick<OrdersService, 'load'>;
}): PersonalDataHook {
  const { db } = options;
  return {
    async export(userId) {
      const rows = await db
        .selectFrom('orders_view')
        .select(['order_id', 'status', 'restaurant_id', 'restaurant_name', 'total_minor', 'created_at'])
        .where('customer_id', '=', userId)
        .orderBy('created_at', 'desc')
        .limit(EXPORT_ROWS_MAX)
        .execute();
      const orders = [];
      for (const row of rows) {
        const { state } = await options.orders.load(row.order_id);
        const order = state.order;
        if (order === null) continue;
        const method = paymentMethodOf(order);
        orders.push({
          orderId: order.orderId,
          status: state.status,
          restaurant: { id: order.restaurantId, name: order.restaurantName },
          lines: order.lines,
          pricing: order.pricing,
          couponCode: order.couponCode,
          delivery: deliveryOf(order),
          paymentMethod: method ?? REDACTED,
          scheduledFor: order.scheduledFor,
          timeline: state.timeline,
          createdAt: order.at,
        });
      }
      const carts = await db
        .selectFrom('order_carts')
        .select(['restaurant_id', 'items', 'updated_at'])
        .where('owner_kind', '=', 'user')
        .where('owner_key', '=', userId)
        .execute();
      const deliveries = await db
        .selectFrom('orders_view')
        .select(['order_id', 'status', 'restaurant_id', 'created_at', 'delivered_at'])
        .where('driver_id', '=', userId)
        .orderBy('created_at', 'desc')
        .limit(EXPORT_ROWS_MAX)
        .execute();
      return {
        orders,
        carts: carts.map((cart) => ({
          restaurantId: cart.restaurant_id,
          items: cart.items,
          updatedAt: cart.updated_at.toISOString(),
        })),
        deliveriesAsDriver: deliveries.map((row) => ({
          orderId: row.order_id,
          status: row.status,
          restaurantId: row.restaurant_id,
          createdAt: row.created_at.toISOString(),
          deliveredAt: row.delivered_at?.toISOString() ?? null,
        })),
      };
    },

    async erase(userId) {
      const deleted = await db
        .deleteFrom('order_carts')
        .where('owner_kind', '=', 'user')
        .where('owner_key', '=', userId)
        .executeTakeFirst();
      return { cartsDeleted: Number(deleted.numDeletedRows) };
    },
  };
}
