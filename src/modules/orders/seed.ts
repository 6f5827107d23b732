/**
 * The orders demo seed step: the demo customer places a few orders at the catalog's demo
 * restaurants and the restaurants and the demo driver move them to various states, through the
 * real orders service (decider, events, projections), so a new user sees a live system.
 * When no demo restaurant is open now, the orders are scheduled for its next opening hour.
 * Runs once per database (a `system_state` marker); development only.
 */
import { sql } from 'kysely';
import type { Runtime } from '../../runtime.js';
import { DEMO_OWNER_PHONES, demoRestaurants, type CatalogOrdersApi } from '../catalog/index.js';
import { DEMO_USERS, type Identity } from '../identity/index.js';
import type { OrderActor, OrderCommand } from './events.js';
import type { OrdersContext } from './index.js';

/** The payments context's wallets, as the seed uses them (a port: orders does not import payments). */
export interface DemoWallets {
  summary(userId: string, currency: 'XAF'): Promise<{ availableMinor: bigint }>;
  topUp(
    userId: string,
    amountMinor: bigint,
    phone: string,
    idempotencyKey: string,
  ): Promise<{ paymentId: string }>;
}

/** The payments context's payment attempts: the seed re-reads a top-up from the provider. */
export interface DemoPayments {
  refresh(paymentId: string): Promise<unknown>;
}

export interface OrdersSeedServices {
  runtime: Runtime;
  identity: Pick<Identity, 'repository'>;
  catalog: { orders: Pick<CatalogOrdersApi, 'checkDelivery' | 'readOrderSnapshot'> };
  payments: { wallets: DemoWallets; payments: DemoPayments };
  orders: Pick<OrdersContext, 'orders'>;
}

const MARKER = 'orders_demo_seeded_at';
/** How far ahead the seed looks for an opening hour when every demo restaurant is closed now. */
const SEARCH_HOURS = 72;

type Restaurant = ReturnType<typeof demoRestaurants>[number];

function simpleItems(restaurant: Restaurant) {
  return restaurant.items.filter(
    (item) =>
      item.schedule === null &&
      (item.stock === null || item.stock > 10) &&
      item.modifierGroups.every((group) => group.min === 0),
  );
}

/** A restaurant and an instant (now, or a scheduled time ≥ 35 minutes ahead) it can deliver at. */
async function findSlot(
  services: OrdersSeedServices,
  restaurants: Restaurant[],
): Promise<{ restaurant: Restaurant; itemIds: string[]; scheduledFor?: string } | undefined> {
  const now = Date.now();
  for (let hour = 0; hour <= SEARCH_HOURS; hour += 1) {
    const at = hour === 0 ? now : now + 35 * 60_000 + (hour - 1) * 3_600_000;
    for (const restaurant of restaurants) {
      const point = { latitude: restaurant.latitude + 0.005, longitude: restaurant.longitude };
      const check = await services.catalog.orders.checkDelivery(restaurant.id, point, new Date(at));
      if (check?.deliverable !== true) continue;
      // The catalog decides what is orderable at that instant (category and item schedules, stock).
      const candidates = simpleItems(restaurant).slice(0, 20);
      const snapshot = await services.catalog.orders.readOrderSnapshot(
        restaurant.id,
        candidates.map((item) => ({ itemId: item.id, quantity: 1 })),
        new Date(at),
      );
      const itemIds = (snapshot?.lines ?? [])
        .filter((line) => line.availability.orderable)
        .map((line) => line.itemId);
      if (itemIds.length >= 2)
        return { restaurant, itemIds, ...(hour === 0 ? {} : { scheduledFor: new Date(at).toISOString() }) };
    }
  }
  return undefined;
}

/**
 * With the real payment port (ORDERS_PAYMENT_PORT=ledger, the development default) the demo
 * customer pays from a wallet topped up through the in-process Mobile Money simulators; the
 * top-up completes asynchronously, so the seed waits for it (bounded).
 */
const TOP_UP_XAF = 150_000n;
const TOP_UP_WAIT_MS = 20_000;
/** A number the simulators approve after a second (the demo customer's own ends in 0001: "not enough funds"). */
const TOP_UP_PHONE = '+237670001234';

async function fundWallet(services: OrdersSeedServices, userId: string): Promise<boolean> {
  if (services.runtime.config.ORDERS_PAYMENT_PORT !== 'ledger') return true;
  const { wallets } = services.payments;
  if ((await wallets.summary(userId, 'XAF')).availableMinor >= TOP_UP_XAF / 2n) return true;
  const payment = await wallets.topUp(userId, TOP_UP_XAF, TOP_UP_PHONE, `demo-orders-topup-${userId}`);
  const deadline = Date.now() + TOP_UP_WAIT_MS;
  for (let round = 1; Date.now() < deadline; round += 1) {
    if ((await wallets.summary(userId, 'XAF')).availableMinor >= TOP_UP_XAF / 2n) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
    // Ask the provider too, every second: `npm run seed:demo` has no server listening for the
    // simulator's webhook (the embedded start does, and the webhook usually wins).
    if (round % 4 === 0) await services.payments.payments.refresh(payment.paymentId).catch(() => undefined);
  }
  return false;
}

export const ordersSeedStep = {
  name: 'orders',
  async run(services: OrdersSeedServices): Promise<string[]> {
    if (services.runtime.config.isProduction) throw new Error('demo orders never exist in production');
    const db = services.runtime.database.db;
    if (
      (await db.selectFrom('system_state').select('key').where('key', '=', MARKER).executeTakeFirst()) !==
      undefined
    )
      return [];
    const { identity } = services;
    const customer = await identity.repository.findUserByPhone(
      DEMO_USERS.find((user) => user.role === 'customer')!.phone,
    );
    const driver = await identity.repository.findUserByPhone(
      DEMO_USERS.find((user) => user.role === 'driver')!.phone,
    );
    const owners = await Promise.all(
      DEMO_OWNER_PHONES.map((phone) => identity.repository.findUserByPhone(phone)),
    );
    if (customer == null || driver == null || owners.some((owner) => owner == null))
      return ['skipped: the identity and catalog demo steps must run first'];
    const slot = await findSlot(services, demoRestaurants(owners.map((owner) => owner!.id)));
    if (slot === undefined) return [`skipped: no demo restaurant opens within ${SEARCH_HOURS} hours`];

    if (!(await fundWallet(services, customer.id)))
      return ["skipped: the demo customer's wallet could not be topped up"];
    const { orders } = services.orders;
    const restaurant = slot.restaurant;
    const items = slot.itemIds;
    const owner: OrderActor = { role: 'restaurant', id: restaurant.ownerId };
    // Each entry: how far this order goes.
    const journeys = [
      'PLACED',
      'ACCEPTED',
      'PREPARING',
      'READY_FOR_PICKUP',
      'PICKED_UP',
      'DELIVERED',
      'CANCELLED',
    ] as const;
    const lines: string[] = [];
    for (const [index, target] of journeys.entries()) {
      const placed = await orders.place(
        {
          restaurantId: restaurant.id,
          items: [
            { itemId: items[index % items.length]!, quantity: 1 + (index % 2) },
            { itemId: items[(index + 1) % items.length]!, quantity: 1 },
          ],
          delivery: {
            latitude: restaurant.latitude + 0.005,
            longitude: restaurant.longitude,
            text: `Rue ${100 + index}, ${restaurant.district}, ${restaurant.city}`,
          },
          // The wallet answers at once (a Mobile Money push would wait for the customer's PIN).
          payment: { kind: 'wallet' },
          tipMinor: index * 100,
          ...(slot.scheduledFor === undefined ? {} : { scheduledFor: slot.scheduledFor }),
        },
        { kind: 'user', id: customer.id },
        { actorId: customer.id, actorRole: 'seed' },
      );
      const id = placed.state.order!.orderId;
      if (placed.state.status !== 'PLACED') {
        lines.push(`order ${id} ${placed.state.status} at "${restaurant.name}" (payment did not go through)`);
        continue;
      }
      const at = () => new Date();
      const steps: OrderCommand[] = [
        { type: 'AcceptOrder', data: { by: owner, preparationMinutes: 20, at: at() } },
        { type: 'StartPreparing', data: { by: owner, at: at() } },
        { type: 'ClaimOrder', data: { driverId: driver.id, at: at() } },
        { type: 'MarkReady', data: { by: owner, at: at() } },
        {
          type: 'PickUpOrder',
          data: { driverId: driver.id, pickupCode: placed.state.order!.pickupCode, at: at() },
        },
        {
          type: 'DeliverOrder',
          data: { driverId: driver.id, deliveryPin: placed.state.order!.deliveryPin, at: at() },
        },
      ];
      const stepsFor: Record<(typeof journeys)[number], number> = {
        PLACED: 0,
        ACCEPTED: 1,
        PREPARING: 2,
        READY_FOR_PICKUP: 4,
        PICKED_UP: 5,
        DELIVERED: 6,
        CANCELLED: 0,
      };
      for (const command of steps.slice(0, stepsFor[target]))
        await orders.execute(id, command, { actorRole: 'seed' });
      if (target === 'CANCELLED') {
        await orders.execute(id, {
          type: 'CancelOrder',
          data: { by: { role: 'customer', id: customer.id }, reason: 'ordered twice by mistake', at: at() },
        });
      }
      lines.push(
        `order ${id} ${target} at "${restaurant.name}" (track: ${orders.trackingUrl(placed.state)})`,
      );
    }
    await db
      .insertInto('system_state')
      .values({ key: MARKER, value: JSON.stringify(new Date().toISOString()) })
      .onConflict((conflict) =>
        conflict.column('key').doUpdateSet({ value: sql`excluded.value`, updated_at: sql`now()` }),
      )
      .execute();
    return lines;
  },
};
