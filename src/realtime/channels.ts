/**
 * Spec §8.1 namespaces and channels, and who hears what (pure). Every message goes to audiences;
 * a connection subscribes only to the audiences its principal owns, so visibility is decided
 * here once and the transport never filters:
 *
 *   user:<customerId>    /ws/customer   order-updates (every change of the customer's orders)
 *   owner:<ownerId>      /ws/restaurant new-orders (paid orders), driver-assigned, order-updates
 *   drivers              /ws/driver     order-assignments (an order became claimable / was taken)
 *   driver:<driverId>    /ws/driver     order-assignments (changes of the orders the driver claimed)
 *   admin                /ws/admin      live-analytics (every change), support-tickets (disputes)
 *   support              /ws/support    escalations (disputes, failed deliveries)
 *   order:<orderId>      /ws/track      tracking (the public view; holders of the tracking token)
 *
 * Channels without a producer yet (driver-location, promotions, customer-messages, route-updates,
 * earnings-updates, system-alerts, new-tickets, customer-chat) are declared for the clients.
 */
import type { OrderEvent } from '../modules/orders/events.js';
import type { OrderChange } from '../modules/orders/service.js';
import { trackingView } from '../modules/orders/views.js';
import type { Publication } from './bus.js';

export const NAMESPACES = {
  customer: ['order-updates', 'driver-location', 'promotions'],
  restaurant: ['new-orders', 'driver-assigned', 'customer-messages', 'order-updates'],
  driver: ['order-assignments', 'route-updates', 'earnings-updates'],
  admin: ['system-alerts', 'live-analytics', 'support-tickets'],
  support: ['new-tickets', 'customer-chat', 'escalations'],
} as const;
export type Namespace = keyof typeof NAMESPACES;

export const audiences = {
  customer: (userId: string) => `user:${userId}`,
  owner: (userId: string) => `owner:${userId}`,
  drivers: 'drivers',
  driver: (userId: string) => `driver:${userId}`,
  admin: 'admin',
  support: 'support',
  order: (orderId: string) => `order:${orderId}`,
};

function summary(change: OrderChange) {
  const { order, state } = change;
  return {
    status: state.status,
    restaurantId: order.restaurantId,
    restaurantName: order.restaurantName,
    totalMinor: order.pricing.totalMinor,
    driverId: state.driverId,
    revision: Number(change.revision),
  };
}

function forEvent(change: OrderChange, event: OrderEvent): Publication[] {
  const { order, state } = change;
  const at = (event.data as { at?: string }).at ?? new Date().toISOString();
  const base = { type: event.type, at, orderId: order.orderId };
  const data = summary(change);
  const publications: Publication[] = [
    {
      audiences: [audiences.customer(order.customer.id)],
      message: { ...base, channel: 'order-updates', data },
    },
    { audiences: [audiences.admin], message: { ...base, channel: 'live-analytics', data } },
    {
      audiences: [audiences.order(order.orderId)],
      message: { ...base, channel: 'tracking', data: { view: trackingView(state) } },
    },
  ];
  const restaurantChannel =
    event.type === 'OrderPaymentCaptured'
      ? 'new-orders'
      : event.type === 'OrderDriverClaimed'
        ? 'driver-assigned'
        : 'order-updates';
  if (event.type !== 'OrderCreated') {
    // A restaurant hears of an order once it is paid, never of unpaid attempts.
    publications.push({
      audiences: [audiences.owner(order.restaurantOwnerId)],
      message: { ...base, channel: restaurantChannel, data },
    });
  }
  if (event.type === 'OrderAccepted' || event.type === 'OrderDriverClaimed') {
    publications.push({
      audiences: [audiences.drivers],
      message: {
        ...base,
        channel: 'order-assignments',
        data: { ...data, claimable: state.driverId === null },
      },
    });
  }
  if (state.driverId !== null) {
    publications.push({
      audiences: [audiences.driver(state.driverId)],
      message: { ...base, channel: 'order-assignments', data },
    });
  }
  if (event.type === 'OrderDisputeOpened' || event.type === 'OrderDeliveryFailed') {
    const reason = (event.data as { reason: string }).reason;
    publications.push({
      audiences: [audiences.support],
      message: { ...base, channel: 'escalations', data: { ...data, reason } },
    });
    publications.push({
      audiences: [audiences.admin],
      message: { ...base, channel: 'support-tickets', data: { ...data, reason } },
    });
  }
  return publications;
}

/** The publications of one change: the state after all of `events`, one message per event. */
export function publicationsFor(change: OrderChange): Publication[] {
  return change.events.flatMap((event) => forEvent(change, event));
}
