/**
 * Stock reservations: what an order took from the catalog's tracked stock, recorded in the same
 * transaction as the decrement (`order_stock_reservations`), and settled exactly once:
 *   restored  when the order ends uncooked (PAYMENT_FAILED, PAYMENT_EXPIRED, REJECTED, CANCELLED):
 *             the quantities go back to the menu in the transaction that settles the row;
 *   consumed  when the driver picks the food up (no cancellation is possible after that).
 * The process that appended the ending event settles at once (the dish is back on the menu in
 * the same request); the stock reactor (a checkpointed subscription to the orders' events) settles
 * what a crash left open; `sweepStranded` (scheduled) restores reservations whose order was never
 * appended (the stock was taken, then the append failed or the process stopped).
 */
import type { Logger } from 'pino';
import type { Transaction } from 'kysely';
import type { OrderTables, OrdersDb } from './tables.js';
import type { EventStore, RecordedEvent } from '../../eventstore/index.js';
import { createReactor } from '../../eventstore/reactor.js';
import type { StockResult } from '../catalog/index.js';
import { ORDER_STREAM_PREFIX, orderStreamExists } from './events.js';
import type { CatalogPort } from './ports.js';

export const STOCK_REACTOR = 'orders-stock';
const RESTORING = ['OrderPaymentFailed', 'OrderPaymentExpired', 'OrderRejected', 'OrderCancelled'] as const;
const CONSUMING = ['OrderPickedUp'] as const;

/** What an order event does to the order's stock reservation, if anything (the one list of it). */
export function stockOutcomeOf(eventType: string): StockOutcome | undefined {
  if ((RESTORING as readonly string[]).includes(eventType)) return 'restored';
  if ((CONSUMING as readonly string[]).includes(eventType)) return 'consumed';
  return undefined;
}
/** An open reservation without an order is left alone this long (placement takes, then appends). */
export const STRANDED_STOCK_GRACE_MS = 10 * 60_000;
const STRANDED_BATCH = 100;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Lines = { itemId: string; quantity: number }[];
export type StockOutcome = 'restored' | 'consumed';

export interface StockReservationsOptions {
  db: OrdersDb;
  eventStore: EventStore;
  catalog: Pick<CatalogPort, 'decrementStock' | 'restoreStock'>;
  logger: Logger;
  now?: () => Date;
}

export function createStockReservations(options: StockReservationsOptions) {
  const { db, catalog, logger, eventStore } = options;
  const now = options.now ?? (() => new Date());
  const listeners: ((orderId: string, outcome: StockOutcome) => void)[] = [];

  /**
   * Takes the stock for every line or none, and records what was taken for this order. `resume`
   * (a retried placement, same order id): an open reservation of the order is the one its first
   * attempt took, and stands; one already restored (by the stranded-stock sweep) is taken anew.
   */
  async function reserve(
    orderId: string,
    restaurantId: string,
    lines: Lines,
    options: { resume?: boolean } = {},
  ): Promise<StockResult> {
    return db.transaction().execute(async (transaction) => {
      if (options.resume === true) {
        const earlier = await transaction
          .selectFrom('order_stock_reservations')
          .select('settled_at')
          .where('order_id', '=', orderId)
          .forUpdate()
          .executeTakeFirst();
        if (earlier !== undefined && earlier.settled_at === null) return { ok: true };
        if (earlier !== undefined)
          await transaction.deleteFrom('order_stock_reservations').where('order_id', '=', orderId).execute();
      }
      const taken = await catalog.decrementStock(restaurantId, lines, transaction);
      if (!taken.ok) return taken; // nothing was decremented
      await transaction
        .insertInto('order_stock_reservations')
        .values({ order_id: orderId, restaurant_id: restaurantId, lines: JSON.stringify(lines) })
        .execute();
      return taken;
    });
  }

  /** Settles the order's open reservation (true) or finds none open (false: settled or never taken). */
  async function settle(orderId: string, outcome: StockOutcome): Promise<boolean> {
    if (!UUID.test(orderId)) return false;
    const close = (executor: OrdersDb | Transaction<OrderTables>) =>
      executor
        .updateTable('order_stock_reservations')
        .set({ settled_at: now(), outcome })
        .where('order_id', '=', orderId)
        .where('settled_at', 'is', null)
        .returning(['restaurant_id', 'lines'])
        .executeTakeFirst();
    // Consumed moves no stock: one statement (most orders have none to close: untracked stock).
    const settled =
      outcome === 'consumed'
        ? (await close(db)) !== undefined
        : await db.transaction().execute(async (transaction) => {
            const row = await close(transaction);
            if (row === undefined) return false;
            await catalog.restoreStock(row.restaurant_id, row.lines, transaction);
            return true;
          });
    if (settled) for (const listener of listeners) listener(orderId, outcome);
    return settled;
  }

  /** Restores the reservation of an order that was never appended; leaves an appended one to the reactor. */
  async function restoreIfUnplaced(orderId: string): Promise<boolean> {
    if (await orderStreamExists(eventStore, orderId)) return false;
    return settle(orderId, 'restored');
  }

  async function handle(event: RecordedEvent): Promise<void> {
    const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
    const outcome = stockOutcomeOf(event.type);
    if (outcome === undefined) return;
    if ((await settle(orderId, outcome)) && outcome === 'restored')
      logger.warn(
        { orderId, event: event.type },
        'stock restored by the reactor (the appending process did not)',
      );
  }

  const reactor = createReactor({
    name: STOCK_REACTOR,
    db,
    checkpointTable: 'orders_reactor_checkpoints',
    eventStore,
    filter: { streamPrefixes: [ORDER_STREAM_PREFIX], eventTypes: [...RESTORING, ...CONSUMING] },
    logger,
    handle,
  });

  /**
   * Scheduled: open reservations older than the grace period whose order the projection has not
   * seen are checked against the event store and restored when no order was ever appended (at most
   * STRANDED_BATCH a run; one failure does not stop the others).
   */
  async function sweepStranded(at: Date = now()): Promise<{ restored: number; failed: number }> {
    const counts = { restored: 0, failed: 0 };
    const candidates = await db
      .selectFrom('order_stock_reservations as r')
      .select('r.order_id')
      .where('r.settled_at', 'is', null)
      .where('r.reserved_at', '<', new Date(at.getTime() - STRANDED_STOCK_GRACE_MS))
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('orders_view as v').select('v.order_id').whereRef('v.order_id', '=', 'r.order_id'),
          ),
        ),
      )
      .orderBy('r.reserved_at')
      .limit(STRANDED_BATCH)
      .execute();
    for (const { order_id: orderId } of candidates) {
      try {
        if (await restoreIfUnplaced(orderId)) {
          counts.restored += 1;
          logger.warn({ orderId }, 'stock of an order that was never appended restored');
        }
      } catch (error) {
        counts.failed += 1;
        logger.error({ err: error, orderId }, 'stranded stock restore failed; the next sweep tries again');
      }
    }
    return counts;
  }

  return {
    reserve,
    settle,
    restoreIfUnplaced,
    sweepStranded,
    start: reactor.start,
    stop: reactor.stop,
    /** Called after each reservation settled by this process (tests wait on it). */
    onSettled(listener: (orderId: string, outcome: StockOutcome) => void) {
      listeners.push(listener);
    },
  };
}

export type StockReservations = ReturnType<typeof createStockReservations>;
