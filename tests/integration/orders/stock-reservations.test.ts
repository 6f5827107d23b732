/**
 * Stock taken at placement is given back exactly once, whatever stops: the process that ends
 * the order settles at once, the stock reactor settles what it left open, and the stranded sweep
 * restores stock taken for an order that was never appended. Against PostgreSQL, through HTTP
 * where a person would act.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../../src/modules/orders/decider.js';
import { orderStream } from '../../../src/modules/orders/index.js';
import { STRANDED_STOCK_GRACE_MS, type StockOutcome } from '../../../src/modules/orders/stock.js';
import { act, orderWorld, placeOrder, type OrderWorld } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
});
afterAll(async () => world?.testApp.close());

const db = () => world.testApp.services.db;
const stock = () => world.testApp.services.orders.stock;
const stockOf = async (itemId: string) =>
  (await db().selectFrom('menu_items').select('stock').where('id', '=', itemId).executeTakeFirstOrThrow())
    .stock;
const reservation = (orderId: string) =>
  db()
    .selectFrom('order_stock_reservations')
    .select(['restaurant_id', 'lines', 'settled_at', 'outcome'])
    .where('order_id', '=', orderId)
    .executeTakeFirst();

/** Resolves when this process settles the order's reservation (the reactor included). */
function settled(orderId: string, timeoutMs = 10_000): Promise<StockOutcome> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no settlement for ${orderId} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    stock().onSettled((id, outcome) => {
      if (id !== orderId) return;
      clearTimeout(timer);
      resolve(outcome);
    });
  });
}

describe('stock reservations', () => {
  it('records what an order took; cancelling gives it back once, and a redelivery gives nothing more', async () => {
    const before = await stockOf(world.ndoleId);
    const placed = await placeOrder(world, world.actors.customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const id = placed.json().id as string;
    expect(await stockOf(world.ndoleId)).toBe(before! - 2);
    expect(await reservation(id)).toMatchObject({
      restaurant_id: world.restaurantId,
      lines: [{ itemId: world.ndoleId, quantity: 2 }],
      settled_at: null,
      outcome: null,
    });

    const cancelled = await act(world, id, 'cancel', world.actors.customer.accessToken, {
      reason: 'changed my mind',
    });
    expect(cancelled.json().status).toBe('CANCELLED');
    expect(await stockOf(world.ndoleId)).toBe(before);
    expect((await reservation(id))?.outcome).toBe('restored');

    // The reactor sees OrderCancelled too (at least once), and a retry of the settlement finds nothing open.
    expect(await stock().settle(id, 'restored')).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await stockOf(world.ndoleId)).toBe(before);
  });

  it('the reactor restores the stock of an order ended by a process that stopped right after its append', async () => {
    const before = await stockOf(world.ndoleId);
    const id = (await placeOrder(world, world.actors.customer.accessToken)).json().id as string;
    expect(await stockOf(world.ndoleId)).toBe(before! - 2);
    // What the service appends for a cancellation, appended here without the service's own restore.
    const { state, revision } = await world.testApp.services.orders.orders.load(id);
    const events = decide(
      {
        type: 'CancelOrder',
        data: { by: { role: 'customer', id: world.actors.customer.userId }, reason: 'gone', at: new Date() },
      },
      state,
    );
    const waiting = settled(id);
    await world.testApp.services.eventStore.append(orderStream(id), events, { expectedRevision: revision });
    expect(await waiting).toBe('restored');
    expect(await stockOf(world.ndoleId)).toBe(before);
    expect((await reservation(id))?.outcome).toBe('restored');
  });

  it('marks the stock consumed when the driver picks the food up; a later settlement restores nothing', async () => {
    const { owner, customer } = world.actors;
    const before = await stockOf(world.ndoleId);
    const id = (await placeOrder(world, customer.accessToken)).json().id as string;
    const pickupCode = (await act(world, id, 'accept', owner.accessToken, { preparationMinutes: 5 })).json()
      .pickupCode;
    await act(world, id, 'prepare', owner.accessToken);
    await act(world, id, 'claim', world.driver.accessToken);
    await act(world, id, 'ready', owner.accessToken);
    const waiting = settled(id);
    expect((await act(world, id, 'pickup', world.driver.accessToken, { pickupCode })).json().status).toBe(
      'PICKED_UP',
    );
    expect(await waiting).toBe('consumed');
    expect(await reservation(id)).toMatchObject({ outcome: 'consumed' });
    expect(await stock().settle(id, 'restored')).toBe(false);
    expect(await stockOf(world.ndoleId)).toBe(before! - 2);
  });

  it('the stranded sweep restores stock taken for an order never appended, after the grace period, once', async () => {
    const before = await stockOf(world.ndoleId);
    const orphan = randomUUID();
    expect(
      await stock().reserve(orphan, world.restaurantId, [{ itemId: world.ndoleId, quantity: 3 }]),
    ).toEqual({ ok: true });
    expect(await stockOf(world.ndoleId)).toBe(before! - 3);
    // A placed order's reservation is never the sweep's, whatever the clock says.
    const placedId = (await placeOrder(world, world.actors.customer.accessToken)).json().id as string;
    expect(await stockOf(world.ndoleId)).toBe(before! - 5);

    const soon = await stock().sweepStranded(new Date(Date.now() + STRANDED_STOCK_GRACE_MS - 60_000));
    expect(soon).toEqual({ restored: 0, failed: 0 });
    expect(await stockOf(world.ndoleId)).toBe(before! - 5);

    const later = new Date(Date.now() + STRANDED_STOCK_GRACE_MS + 60_000);
    expect(await stock().sweepStranded(later)).toEqual({ restored: 1, failed: 0 });
    expect(await stockOf(world.ndoleId)).toBe(before! - 2);
    expect((await reservation(orphan))?.outcome).toBe('restored');
    expect((await reservation(placedId))?.outcome).toBeNull();
    expect(await stock().sweepStranded(later)).toEqual({ restored: 0, failed: 0 });
    expect(await stockOf(world.ndoleId)).toBe(before! - 2);
  });

  it('asks the event store, not the projection, before restoring: an appended order keeps its stock', async () => {
    const before = await stockOf(world.ndoleId);
    const id = (await placeOrder(world, world.actors.customer.accessToken)).json().id as string;
    expect(await stock().restoreIfUnplaced(id)).toBe(false);
    expect(await stockOf(world.ndoleId)).toBe(before! - 2);
    expect((await reservation(id))?.settled_at).toBeNull();
  });

  it('a refused reservation takes nothing and records nothing', async () => {
    const before = await stockOf(world.ndoleId);
    const orderId = randomUUID();
    const refused = await stock().reserve(orderId, world.restaurantId, [
      { itemId: world.ndoleId, quantity: before! + 1 },
    ]);
    expect(refused.ok).toBe(false);
    expect(await stockOf(world.ndoleId)).toBe(before);
    expect(await reservation(orderId)).toBeUndefined();
  });
});
