/**
 * Who hears which order event (pure), and the orders context's WebSocket endpoint. The transport
 * (src/realtime) only delivers: every message goes to audiences (src/realtime/audiences.ts), and
 * a connection hears the audiences its endpoint granted.
 *
 *   user:<customerId>    /ws/customer   order-updates (every change of the customer's orders)
 *   owner:<ownerId>      /ws/restaurant new-orders (paid orders), driver-assigned, order-updates
 *   drivers              /ws/driver     order-assignments (an order became claimable / was taken)
 *   driver:<driverId>    /ws/driver     order-assignments (changes of the orders the driver claimed)
 *   admin                /ws/admin      live-analytics (every change), support-tickets (disputes)
 *   support              /ws/support    escalations (disputes, failed deliveries: the order id and
 *                                       status only; the order itself through a ticket)
 *   order:<orderId>      /ws/track      tracking (the public view; holders of the tracking token)
 *
 * The role namespaces (/ws/customer …) belong to identity (src/modules/identity/channels.ts);
 * /ws/track is ours.
 */
import type { Logger } from 'pino';
import { domainErrors } from '../../shared/errors.js';
import { audiences, type ChannelEndpoint, type Publication, type RealtimeBus } from '../../realtime/index.js';
import type { OrderEvent } from './events.js';
import type { OrderChange, OrdersService } from './service.js';
import { resolveTrackingToken } from './tracking.js';
import { trackingView } from './views.js';

/** The public tracking audience of one order. */
const ordersErrors = domainErrors('orders');

export const orderAudience = (orderId: string) => `order:${orderId}`;

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
      audiences: [orderAudience(order.orderId)],
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
    // Every support agent hears that an order needs help, not its contents: a plain agent reads
    // the order through a ticket of theirs (support opens one and assigns it), and the reason
    // reaches that ticket's agent as its first message.
    publications.push({
      audiences: [audiences.support],
      message: { ...base, channel: 'escalations', data: { status: state.status, revision: data.revision } },
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

/** Publishes each change after its append. Fire-and-forget: a lost message is recovered by the client's resync or polling, never by the writer. */
export function orderPublisher(bus: RealtimeBus, logger: Logger) {
  return (change: OrderChange): void => {
    bus.publish(publicationsFor(change)).catch((error: unknown) => {
      logger.warn({ err: error, orderId: change.order.orderId }, 'real-time publish failed');
    });
  };
}

/** `/ws/track?token=`: the public tracking page's live view of one order. */
export function trackingChannel(orders: OrdersService): ChannelEndpoint {
  return {
    path: '/ws/track',
    async audiencesOf(request) {
      const token = request.query.token;
      if (token === undefined) throw ordersErrors.unauthorized('Send the tracking token as ?token=.');
      const resolved = await resolveTrackingToken(orders, token);
      return [orderAudience(resolved.state.order!.orderId)];
    },
  };
}
