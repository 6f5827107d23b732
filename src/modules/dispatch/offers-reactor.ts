/**
 * What dispatch does on order events (a checkpointed reactor over `order-*`, at least once, so
 * every effect is idempotent):
 *   OrderAccepted                 open the dispatch (the first offer), when matching is enabled
 *   OrderCancelled / Rejected     end an open dispatch, drop the ETA
 *   OrderDriverClaimed            a claim by another route (staff override, the claim endpoint)
 *                                 ends an open dispatch
 *   OrderPickedUp                 the ETA from the driver's position to the customer
 *   OrderDelivered                the promised ETA kept or missed (on-time rate); drop the ETA
 *   OrderDeliveryFailed           drop the ETA
 * A new deployment starts at the end of the log: it does not dispatch last year's orders.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { createReactor } from '../../eventstore/reactor.js';
import type { EventStore, RecordedEvent } from '../../eventstore/index.js';
import type { Reactor } from '../../platform/context.js';
import { ORDER_STREAM_PREFIX } from '../orders/index.js';
import type { EtaService } from './eta.js';
import type { OffersService } from './offers.js';
import type { OffersTables } from './offers-tables.js';

export const DISPATCH_REACTOR = 'dispatch-orders';

const WATCHED = [
  'OrderAccepted',
  'OrderCancelled',
  'OrderRejected',
  'OrderDriverClaimed',
  'OrderPickedUp',
  'OrderDelivered',
  'OrderDeliveryFailed',
] as const;

export function dispatchReactor(options: {
  db: Kysely<OffersTables>;
  eventStore: EventStore;
  offers: OffersService;
  eta: EtaService;
  logger: Logger;
  matchingEnabled: boolean;
}): Reactor {
  const { offers, eta, logger } = options;

  async function handle(event: RecordedEvent): Promise<void> {
    const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
    const data = event.data as { driverId?: string; reason?: string; at?: string };
    switch (event.type) {
      case 'OrderAccepted':
        if (!options.matchingEnabled) return;
        // Whatever fails after the work row is written, the sweep finishes; only log here.
        await offers.open(orderId).catch((error: unknown) => {
          logger.warn({ err: error, orderId }, 'opening a dispatch failed; the sweep retries');
        });
        return;
      case 'OrderCancelled':
      case 'OrderRejected':
        await offers.cancel(orderId, event.type === 'OrderCancelled' ? 'order_cancelled' : 'order_rejected');
        await eta.ended(orderId);
        return;
      case 'OrderDriverClaimed': {
        const { state } = await offers.load(orderId);
        if (state.status === 'assigned' && state.driverId === data.driverId) return;
        await offers.cancel(orderId, 'claimed_outside_dispatch');
        return;
      }
      case 'OrderPickedUp':
        if (data.driverId !== undefined)
          await eta.pickedUp(orderId, data.driverId).catch((error: unknown) => {
            logger.warn({ err: error, orderId }, 'ETA at pickup failed');
          });
        return;
      case 'OrderDelivered':
        // The promise kept or missed (on-time rate), before the ETA goes.
        if (data.driverId !== undefined) {
          const at = data.at === undefined ? event.createdAt : new Date(data.at);
          await eta.delivered(orderId, data.driverId, Number.isNaN(at.getTime()) ? event.createdAt : at);
        }
        await eta.ended(orderId);
        return;
      case 'OrderDeliveryFailed':
        await eta.ended(orderId);
        return;
      default:
        return;
    }
  }

  const reactor = createReactor({
    name: DISPATCH_REACTOR,
    db: options.db,
    checkpointTable: 'dispatch_reactor_checkpoints',
    eventStore: options.eventStore,
    filter: { streamPrefixes: [ORDER_STREAM_PREFIX], eventTypes: WATCHED },
    logger,
    handle,
    firstStart: 'end',
  });
  return { name: 'dispatch orders reactor', start: () => reactor.start(), stop: () => reactor.stop() };
}

/** Each instance sweeps due dispatches (expired offers) on an interval; claims keep it to one. */
export function dispatchSweep(offers: OffersService, intervalMs: number, logger: Logger): Reactor {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  return {
    name: 'dispatch offers sweep',
    async start() {
      timer = setInterval(() => {
        if (running !== undefined) return;
        running = offers
          .sweep()
          .catch((error: unknown) => logger.error({ err: error }, 'dispatch sweep failed'))
          .finally(() => {
            running = undefined;
          });
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      // The pool closes after the reactors: let a sweep in flight finish first.
      await running;
    },
  };
}
