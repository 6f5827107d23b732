/**
 * Fault schedules for the commission of a city (issue #26, docs/catalog.md "Commission per city"):
 * a city's `commissionPercent` is recorded on each order at placement and charged at settlement
 * between the platform's tiers and a restaurant's override. Schedules: the city's rate changes
 * between placement and delivery; the process stops after the settlement row (with its rate) was
 * written and before the ledger booked, while the city's rate changes again and the escrow reactor
 * is down; the release is then replayed three times at once; a restaurant's override wins.
 *
 * After each schedule: the order was settled once, at the rate it recorded (12.5 % of 2,500 XAF =
 * 312.5, half to even: 312 XAF of commission; the restaurant gets 2,188), the escrow closed at
 * zero, the settlement row names the `city` tier, and the ledger verifies.
 */
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEscrowId, restaurantPayableId } from '../../ledger/rules/index.js';
import { createCommissionRepository } from '../../src/modules/payments/commission-repository.js';
import { createEscrowRelease } from '../../src/modules/payments/escrow-release.js';
import { createSettlementsRepository } from '../../src/modules/payments/settlements-repository.js';
import { authHeader } from '../helpers/auth.js';
import { deliveredOrder, fundedCustomer, loyaltyWorld, until } from '../integration/loyalty/helpers.js';
import { act, placeOrder, type OrderWorld } from '../integration/orders/helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({});
  expect((await setCommission(12.5)).statusCode).toBe(200);
}, 120_000);
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const admin = () => authHeader(world.actors.admin.accessToken);
const paymentsDb = () => services().db as unknown as Parameters<typeof createSettlementsRepository>[0];

function setCommission(percent: number | undefined) {
  return world.testApp.app.inject({
    method: 'PATCH',
    url: '/v1/admin/cities/douala',
    headers: admin(),
    payload: { rules: percent === undefined ? {} : { commissionPercent: percent } },
  });
}

const payable = async () =>
  (await services().ledger.account(restaurantPayableId(world.restaurantId, 'XAF')))?.availableMinor ?? 0n;

async function settlementOf(orderId: string) {
  return services()
    .db.selectFrom('order_settlements')
    .select(['commission_rate', 'commission_tier', 'commission_minor', 'restaurant_share_minor'])
    .where('order_id', '=', orderId)
    .execute();
}

/** Each settlement transfer of the order once in the ledger's read model (no leg booked twice). */
async function legsBookedOnce(orderId: string) {
  const result = await sql<{ transfer_id: string; n: string }>`
    SELECT transfer_id, count(*)::text AS n FROM ledger_entries
    WHERE transfer_id LIKE ${`settle:${orderId}:%`} AND side = 'credit' GROUP BY transfer_id`.execute(
    services().db,
  );
  expect(result.rows.length).toBeGreaterThan(0);
  for (const row of result.rows) expect(row.n, row.transfer_id).toBe('1');
}

async function invariants(orderId: string, payableDelta: bigint, rate = '0.125', tier = 'city') {
  expect(await settlementOf(orderId)).toEqual([
    {
      commission_rate: rate,
      commission_tier: tier,
      commission_minor: 2_500n - payableDelta,
      restaurant_share_minor: payableDelta,
    },
  ]);
  const escrow = await services().ledger.account(orderEscrowId(orderId, 'XAF'));
  expect(escrow?.closed).toBe(true);
  await services()
    .projections.waitUntilCaughtUp('ledger', 20_000)
    .catch(() => undefined);
  await legsBookedOnce(orderId);
  const report = await services().ledger.verify({ projections: false });
  expect(report.mismatches).toEqual([]);
  expect(report.ok).toBe(true);
}

/** Placed, accepted, picked up and delivered, without waiting for the settlement. */
async function deliverOnly(customerToken: string): Promise<string> {
  const placed = await placeOrder(world, customerToken, {
    items: [{ itemId: world.ndoleId, quantity: 1 }],
    tipMinor: 100,
  });
  expect(placed.statusCode, placed.body).toBe(201);
  return deliverPlaced(placed.json());
}

async function deliverPlaced(order: { id: string; deliveryPin: string }): Promise<string> {
  const accepted = await act(world, order.id, 'accept', world.actors.owner.accessToken, {
    preparationMinutes: 10,
  });
  await act(world, order.id, 'prepare', world.actors.owner.accessToken);
  await act(world, order.id, 'claim', world.driver.accessToken);
  await act(world, order.id, 'ready', world.actors.owner.accessToken);
  await act(world, order.id, 'pickup', world.driver.accessToken, { pickupCode: accepted.json().pickupCode });
  const delivered = await act(world, order.id, 'deliver', world.driver.accessToken, {
    deliveryPin: order.deliveryPin,
  });
  expect(delivered.statusCode, delivered.body).toBe(200);
  return order.id;
}

describe("a city's commission under faults", () => {
  it('the city changes its rate between placement and delivery: the order pays the rate it recorded', async () => {
    expect((await setCommission(12.5)).statusCode).toBe(200);
    const customer = await fundedCustomer(world);
    const before = await payable();
    const placed = await placeOrder(world, customer.accessToken, {
      items: [{ itemId: world.ndoleId, quantity: 1 }],
      tipMinor: 100,
    });
    expect(placed.statusCode, placed.body).toBe(201);
    // Placed at 12.5 %; the city moves to 20 % before it is delivered.
    expect((await setCommission(20)).statusCode).toBe(200);
    const order = placed.json();
    await deliverPlaced(order);
    await until(
      () => services().ledger.account(orderEscrowId(order.id, 'XAF')),
      (account) => account?.closed === true,
    );
    expect((await payable()) - before).toBe(2_188n);
    await invariants(order.id, 2_188n);
    // The change is audited with the old and new rules.
    const audit = await services()
      .db.selectFrom('audit_logs')
      .select(['old_value', 'new_value'])
      .where('resource', '=', 'city:douala')
      .where('action', '=', 'city.updated')
      .execute();
    expect(audit.at(-1)).toMatchObject({
      old_value: expect.objectContaining({ rules: { commissionPercent: 12.5 } }),
      new_value: expect.objectContaining({ rules: { commissionPercent: 20 } }),
    });
    // The next order pays 20 %: 500 XAF of 2,500.
    const next = await deliveredOrder(world, customer.accessToken);
    await invariants(next.id, 2_000n, '0.2');
    expect((await setCommission(12.5)).statusCode).toBe(200);
  });

  it('the process stops after writing the settlement and before booking, the reactor is down, the city changes: one settlement at the recorded rate', async () => {
    expect((await setCommission(12.5)).statusCode).toBe(200);
    const customer = await fundedCustomer(world);
    const before = await payable();
    await services().payments.stop();
    let orderId: string;
    try {
      orderId = await deliverOnly(customer.accessToken);
      // Another instance's release: it writes the settlement row and stops before the ledger.
      const crashing = createEscrowRelease({
        settlements: createSettlementsRepository(paymentsDb()),
        commission: createCommissionRepository(paymentsDb()),
        orders: () => services().orders.orders,
        escrowAvailable: (id) => services().payments.escrow.escrowAvailable(id),
        book: async () => {
          throw new Error('fault: the process stopped before the ledger booked');
        },
        logger: pino({ level: 'silent' }),
        now: () => new Date(),
      });
      await expect(crashing.release(orderId)).rejects.toThrow(/before the ledger booked/);
      expect(await settlementOf(orderId)).toHaveLength(1);
      expect(await payable()).toBe(before);
      expect((await setCommission(30)).statusCode).toBe(200);
    } finally {
      await services().payments.start();
    }
    await until(
      () => services().ledger.account(orderEscrowId(orderId, 'XAF')),
      (account) => account?.closed === true,
    );
    // Replayed three times at once (a redelivered OrderDelivered on three instances): nothing more.
    await Promise.all([0, 1, 2].map(() => services().payments.escrow.release(orderId)));
    expect((await payable()) - before).toBe(2_188n);
    await invariants(orderId, 2_188n);
    expect((await setCommission(12.5)).statusCode).toBe(200);
  });

  it("a restaurant's override wins over its city's rate; cleared, the city's applies again", async () => {
    expect((await setCommission(12.5)).statusCode).toBe(200);
    const customer = await fundedCustomer(world);
    const override = (rate: string | null) =>
      world.testApp.app.inject({
        method: 'PUT',
        url: `/v1/admin/restaurants/${world.restaurantId}/commission`,
        headers: admin(),
        payload: { rate, reason: 'launch partner' },
      });
    expect((await override('0.08')).statusCode).toBe(204);
    const overridden = await deliveredOrder(world, customer.accessToken);
    await invariants(overridden.id, 2_300n, '0.08', 'override');
    expect((await override(null)).statusCode).toBe(204);
    const city = await deliveredOrder(world, customer.accessToken);
    await invariants(city.id, 2_188n);
  });

  it('refuses a commission a city cannot have, changing nothing', async () => {
    for (const bad of [-1, 50.5, 12.345, '12', null])
      expect((await setCommission(bad as number)).statusCode, String(bad)).toBe(400);
    const cities = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/cities',
      headers: admin(),
    });
    const douala = cities.json().items.find((city: { id: string }) => city.id === 'douala');
    expect(douala.rules).toEqual({ commissionPercent: 12.5 });
  });
});
