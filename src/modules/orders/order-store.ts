/**
 * Commands on order streams: every command through the event store's handleCommand (read,
 * decide, append with the expected revision, retry on a lost race) or on a state this process
 * just wrote; what follows every append (the fan-out to listeners, stock given back at once);
 * and reads of one order from its stream (strongly consistent, ETag = revision).
 */
import type { Logger } from 'pino';
import {
  aggregateStream,
  createAggregateCache,
  handleCommand,
  tracedDecide,
  WrongExpectedVersion,
  type EventMetadata,
  type EventStore,
} from '../../eventstore/index.js';
import { ordersErrors } from './errors.js';
import {
  decide,
  deliveryPinRefusal,
  pickupCodeRefusal,
  evolve,
  initialState,
  orderDecider,
  type OrderState,
} from './decider.js';
import { orderStream, type OrderCommand, type OrderCreatedData, type OrderEvent } from './events.js';
import { stockOutcomeOf, type StockReservations } from './stock.js';
import { trackingToken } from './tracking-token.js';

/** What the real-time fan-out receives after every successful append. */
export interface OrderChange {
  order: OrderCreatedData;
  state: OrderState;
  events: OrderEvent[];
  revision: bigint;
}

export interface OrderStoreDependencies {
  eventStore: EventStore;
  stock: Pick<StockReservations, 'settle'>;
  logger: Logger;
}

export type OrderStore = ReturnType<typeof createOrderStore>;

export function createOrderStore(deps: OrderStoreDependencies) {
  const { eventStore, logger } = deps;
  const listeners: ((change: OrderChange) => void)[] = [];

  // The last state written per order stream: a command on an order this process just moved
  // (a payment webhook after placement, say) needs no read (see AggregateCache).
  const orderStates = createAggregateCache<OrderState>();

  function notify(change: OrderChange): void {
    for (const listener of listeners) {
      try {
        listener(change);
      } catch (error) {
        logger.error({ err: error }, 'order change listener failed');
      }
    }
  }

  async function afterEvents(state: OrderState, events: OrderEvent[], revision: bigint) {
    const order = state.order!;
    notify({ order, state, events, revision });
    // Stock taken at placement comes back when the order ends without being cooked: here at once,
    // exactly once (should this fail or the process stop, the stock reactor settles it).
    // Consumed (pickup) is left to the reactor: it moves no stock and need not delay the answer.
    if (order.reservedStock.length > 0 && events.some((event) => stockOutcomeOf(event.type) === 'restored')) {
      await deps.stock.settle(order.orderId, 'restored').catch((error: unknown) => {
        logger.error(
          { err: error, orderId: order.orderId },
          'stock restore failed; the stock reactor retries',
        );
      });
    }
  }

  /** A refusal that is recorded before it is answered (a wrong PIN or pickup code counts towards its lockout). */
  function refuseAfterAppend(events: readonly OrderEvent[], state: OrderState): void {
    const refusal = deliveryPinRefusal(events, state) ?? pickupCodeRefusal(events, state);
    if (refusal !== undefined) throw refusal;
  }

  /** Decides on a state this process just wrote and appends at its revision: no re-read. */
  async function executeOnKnown(
    orderId: string,
    command: OrderCommand,
    known: { state: OrderState; revision: bigint },
    metadata?: EventMetadata,
  ) {
    const events = tracedDecide(orderStream(orderId), command, () => decide(command, known.state));
    if (events.length === 0) return known;
    try {
      const appended = await eventStore.append(
        orderStream(orderId),
        events.map((event) => ({ ...event, metadata })),
        { expectedRevision: known.revision },
      );
      const state = events.reduce(evolve, known.state);
      orderStates.set(orderStream(orderId), state, appended.nextRevision);
      await afterEvents(state, events, appended.nextRevision);
      refuseAfterAppend(events, state);
      return { state, revision: appended.nextRevision };
    } catch (error) {
      if (error instanceof WrongExpectedVersion) return execute(orderId, command, metadata);
      throw error;
    }
  }

  async function execute(orderId: string, command: OrderCommand, metadata?: EventMetadata) {
    const result = await handleCommand(eventStore, orderStream(orderId), orderDecider, command, {
      metadata,
      maxAttempts: 5,
      cache: orderStates,
    });
    if (result.newEvents.length > 0 && result.revision !== 'no_stream') {
      await afterEvents(result.state, result.newEvents, result.revision);
    }
    refuseAfterAppend(result.newEvents, result.state);
    return { state: result.state, revision: result.revision === 'no_stream' ? -1n : result.revision };
  }

  async function load(orderId: string): Promise<{ state: OrderState; revision: bigint }> {
    const loaded = await aggregateStream(eventStore, orderStream(orderId), evolve, initialState(), 10_000);
    if (loaded.revision === 'no_stream' || loaded.state.order === null)
      throw ordersErrors.of('not_found', 'order_not_found', 'There is no such order.');
    return { state: loaded.state, revision: loaded.revision };
  }

  /** The order placed under this id with its tracking token, or undefined when there is none. */
  async function find(orderId: string) {
    const loaded = await aggregateStream(eventStore, orderStream(orderId), evolve, initialState(), 10_000);
    if (loaded.revision === 'no_stream' || loaded.state.order === null) return undefined;
    const tracking = trackingToken(orderId, loaded.state.order.trackingSecret);
    return { state: loaded.state, revision: loaded.revision, trackingToken: tracking };
  }

  /** After an append made outside `execute` (placement): remembered, and what follows every append. */
  async function appended(orderId: string, state: OrderState, events: OrderEvent[], revision: bigint) {
    orderStates.set(orderStream(orderId), state, revision);
    await afterEvents(state, events, revision);
  }

  function onChange(listener: (change: OrderChange) => void): () => void {
    listeners.push(listener);
    return () => {
      const index = listeners.indexOf(listener);
      if (index >= 0) listeners.splice(index, 1);
    };
  }

  return { execute, executeOnKnown, load, find, appended, onChange };
}
