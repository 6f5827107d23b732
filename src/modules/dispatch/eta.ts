/**
 * Customers' ETAs (issue #20): computed through the routing port (eta-rules.ts adds them up) at
 * acceptance (the driver's way to the restaurant, the food's ready time, the ride), at pickup, and
 * with the driver's positions (at most once per DISPATCH_ETA_INTERVAL_MS per order). The customer
 * hears `order-eta` on /ws/customer the first time and then when it moved by at least
 * DISPATCH_ETA_PUSH_MINUTES; each such move is also pushed to the customer's phone (`onMoved`).
 */
import type { Logger } from 'pino';
import { audiences, type RealtimeBus } from '../../realtime/index.js';
import type { CarriedOrder } from '../orders/index.js';
import { estimateArrival, shouldTell, type EtaPhase } from './eta-rules.js';
import type { Vehicle } from './fix-rules.js';
import { isValidPoint, type GeoPoint } from './geo.js';
import type { DispatchOpenedData } from './offers-decider.js';
import type { OffersRepository } from './offers-repository.js';
import type { RoutingPort } from './routing.js';
import type { Throttle } from './throttle.js';

export interface EtaServiceOptions {
  repository: OffersRepository;
  routing: RoutingPort;
  bus: RealtimeBus;
  throttle: Throttle;
  logger: Logger;
  /** The order's places from its dispatch (absent when the order was claimed by hand). */
  opened: (orderId: string) => Promise<DispatchOpenedData | null>;
  /** The driver's last accepted position and vehicle. */
  driver: (driverId: string) => Promise<{ position: GeoPoint | undefined; vehicle: Vehicle }>;
  pushThresholdMinutes: number;
  intervalMs: number;
  /**
   * An ETA that moved past the threshold after a first one was told: a push to the customer's
   * phone (notify's orderEta, named after the order and the new time). Not for the first ETA: the
   * acceptance itself is told by notify already.
   */
  onMoved?: (moved: { orderId: string; customerId: string; estimatedArrivalAt: Date }) => Promise<unknown>;
  now?: () => number;
}

export function createEtaService(options: EtaServiceOptions) {
  const { repository, routing } = options;
  const now = options.now ?? Date.now;

  async function compute(opened: DispatchOpenedData, driverId: string, phase: EtaPhase, position?: GeoPoint) {
    const driver = await options.driver(driverId);
    const from = position ?? driver.position ?? opened.pickup;
    const nowMs = now();
    const toCustomer =
      phase === 'to_customer'
        ? await routing.travel(from, opened.dropoff, driver.vehicle)
        : await routing.travel(opened.pickup, opened.dropoff, driver.vehicle);
    const toRestaurant =
      phase === 'to_restaurant'
        ? await routing.travel(from, opened.pickup, driver.vehicle)
        : { durationSeconds: 0 };
    return estimateArrival({
      phase,
      nowMs,
      readyAtMs: Date.parse(opened.readyAt),
      toRestaurantSeconds: toRestaurant.durationSeconds,
      toCustomerSeconds: toCustomer.durationSeconds,
    });
  }

  async function update(orderId: string, driverId: string, phase: EtaPhase, position?: GeoPoint) {
    const opened = await options.opened(orderId);
    if (opened === null || !isValidPoint(opened.dropoff)) return undefined;
    const etaMs = await compute(opened, driverId, phase, position);
    const previous = await repository.eta(orderId);
    const lastTold = previous?.told_eta_at?.getTime() ?? null;
    const tell = shouldTell(lastTold, etaMs, options.pushThresholdMinutes);
    await repository.saveEta({
      orderId,
      customerId: opened.customerId,
      driverId,
      phase,
      etaAt: new Date(etaMs),
      toldEtaAt: tell ? new Date(etaMs) : (previous?.told_eta_at ?? null),
    });
    if (tell)
      await options.bus.publish([
        {
          audiences: [audiences.customer(opened.customerId)],
          message: {
            type: 'OrderEta',
            channel: 'order-eta',
            orderId,
            at: new Date(now()).toISOString(),
            data: { phase, estimatedArrivalAt: new Date(etaMs).toISOString() },
          },
        },
      ]);
    if (tell && previous?.told_eta_at != null && options.onMoved !== undefined)
      await options
        .onMoved({ orderId, customerId: opened.customerId, estimatedArrivalAt: new Date(etaMs) })
        .catch((error: unknown) => {
          // The socket told it; a push that cannot be recorded is logged, the ETA stands.
          options.logger.warn({ err: error, orderId }, 'the push of a moved ETA could not be recorded');
        });
    return { etaAt: new Date(etaMs), told: tell };
  }

  return {
    /**
     * At acceptance: to the restaurant, wait for the food, ride to the customer. This first ETA is
     * also kept as the promise the driver's on-time rate is measured against.
     */
    async accepted(orderId: string, driverId: string) {
      const result = await update(orderId, driverId, 'to_restaurant');
      if (result !== undefined) await repository.promise(orderId, driverId, result.etaAt);
      return result;
    },
    /** The order was delivered at `at` (OrderDelivered): the promise is kept or missed. */
    async delivered(orderId: string, driverId: string, at: Date) {
      await repository.delivered(orderId, driverId, at);
    },
    /** At pickup: the ride from where the driver is. */
    pickedUp: (orderId: string, driverId: string) => update(orderId, driverId, 'to_customer'),
    /** A driver's accepted position: the ETAs of the orders they carry, throttled per order. */
    async positionChanged(driverId: string, position: GeoPoint, carried: readonly CarriedOrder[]) {
      for (const order of carried) {
        if (!(await options.throttle.pass(`dispatch:eta:${order.orderId}`, options.intervalMs))) continue;
        try {
          await update(
            order.orderId,
            driverId,
            order.status === 'PICKED_UP' ? 'to_customer' : 'to_restaurant',
            position,
          );
        } catch (error) {
          options.logger.warn({ err: error, orderId: order.orderId }, 'ETA update from a position failed');
        }
      }
    },
    async ended(orderId: string) {
      await repository.dropEta(orderId);
    },
    async current(orderId: string) {
      const row = await repository.eta(orderId);
      if (row === undefined) return undefined;
      return {
        orderId,
        customerId: row.customer_id,
        driverId: row.driver_id,
        phase: row.phase,
        estimatedArrivalAt: row.eta_at.toISOString(),
        updatedAt: row.updated_at.toISOString(),
      };
    },
  };
}

export type EtaService = ReturnType<typeof createEtaService>;
