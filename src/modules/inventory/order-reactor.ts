/**
 * Orders take from the inventory (issue #27): a checkpointed reactor on the orders' events. When
 * an order is placed (`OrderCreated`, when the catalog's dish counters are taken too), each dish's
 * recipe is taken from its ingredients; when the order ends uncooked (the events on which orders
 * restores the dish counters: payment failed or expired, rejected, cancelled), what it took is
 * given back. Delivery is at least once: a movement names its order, and an order consumes or
 * returns an ingredient at most once (checked under the ingredient's lock, and a unique index).
 */
import type { Logger } from 'pino';
import type { EventStore, RecordedEvent } from '../../eventstore/index.js';
import { createReactor } from '../../eventstore/reactor.js';
import {
  ORDER_EVENT_TYPES,
  ORDER_STREAM_PREFIX,
  stockOutcomeOf,
  type OrderCreatedData,
} from '../orders/index.js';
import { ingredientsFor } from './rules.js';
import { applyMovement, orderMovements, type AlertChange } from './stock.js';
import type { InventoryDb } from './tables.js';

export const INVENTORY_ORDER_REACTOR = 'inventory-orders';
const RETURNING = ORDER_EVENT_TYPES.filter((type) => stockOutcomeOf(type) === 'restored');

export interface OrderReactorOptions {
  db: InventoryDb;
  eventStore: EventStore;
  logger: Logger;
  announce(ownerId: string, changes: readonly AlertChange[]): Promise<void>;
  ownerOf(restaurantId: string): Promise<string | undefined>;
}

export function createOrderReactor(options: OrderReactorOptions) {
  const { db } = options;

  async function consume(data: OrderCreatedData): Promise<AlertChange[]> {
    const recipes = await db
      .selectFrom('inventory_recipes')
      .select(['item_id', 'ingredient_id', 'quantity'])
      .where('restaurant_id', '=', data.restaurantId)
      .where(
        'item_id',
        'in',
        data.lines.map((line) => line.itemId),
      )
      .execute();
    if (recipes.length === 0) return [];
    const needs = ingredientsFor(
      data.lines,
      recipes.map((row) => ({
        itemId: row.item_id,
        ingredientId: row.ingredient_id,
        quantity: BigInt(row.quantity),
      })),
    );
    return db.transaction().execute(async (transaction) => {
      const done = new Set(
        (await orderMovements(transaction, data.orderId))
          .filter((movement) => movement.kind === 'consumption')
          .map((movement) => movement.ingredientId),
      );
      const alerts: AlertChange[] = [];
      // Ingredients in id order: two orders lock shared ingredients in the same order.
      for (const [ingredientId, quantity] of [...needs].sort(([left], [right]) =>
        left.localeCompare(right),
      )) {
        if (done.has(ingredientId)) continue;
        const result = await applyMovement(transaction, {
          restaurantId: data.restaurantId,
          ingredientId,
          kind: 'consumption',
          quantity: -quantity,
          orderId: data.orderId,
        });
        if (result.alert !== undefined) alerts.push(result.alert);
      }
      return alerts;
    });
  }

  async function giveBack(
    orderId: string,
  ): Promise<{ restaurantId: string; alerts: AlertChange[] } | undefined> {
    return db.transaction().execute(async (transaction) => {
      const movements = await orderMovements(transaction, orderId);
      const returned = new Set(
        movements.filter((row) => row.kind === 'return').map((row) => row.ingredientId),
      );
      const taken = movements
        .filter((row) => row.kind === 'consumption' && !returned.has(row.ingredientId))
        .sort((left, right) => left.ingredientId.localeCompare(right.ingredientId));
      if (taken.length === 0) return undefined;
      const first = await transaction
        .selectFrom('inventory_movements')
        .select('restaurant_id')
        .where('order_id', '=', orderId)
        .executeTakeFirstOrThrow();
      const alerts: AlertChange[] = [];
      for (const movement of taken) {
        const result = await applyMovement(transaction, {
          restaurantId: first.restaurant_id,
          ingredientId: movement.ingredientId,
          kind: 'return',
          quantity: -movement.quantity,
          orderId,
        });
        if (result.alert !== undefined) alerts.push(result.alert);
      }
      return { restaurantId: first.restaurant_id, alerts };
    });
  }

  async function handle(event: RecordedEvent): Promise<void> {
    if (event.type === 'OrderCreated') {
      const data = event.data as OrderCreatedData;
      const alerts = await consume(data);
      if (alerts.length > 0) await options.announce(data.restaurantOwnerId, alerts);
      return;
    }
    const orderId = event.stream.slice(ORDER_STREAM_PREFIX.length);
    const outcome = await giveBack(orderId);
    if (outcome === undefined || outcome.alerts.length === 0) return;
    const ownerId = await options.ownerOf(outcome.restaurantId);
    if (ownerId !== undefined) await options.announce(ownerId, outcome.alerts);
  }

  return createReactor({
    name: INVENTORY_ORDER_REACTOR,
    db,
    checkpointTable: 'inventory_reactor_checkpoints',
    eventStore: options.eventStore,
    filter: { streamPrefixes: [ORDER_STREAM_PREFIX], eventTypes: ['OrderCreated', ...RETURNING] },
    logger: options.logger,
    handle,
    // Orders placed before inventory existed took nothing from it.
    firstStart: 'end',
  });
}
