/**
 * Coupon scopes (first order, items or categories, city) and a coupon with points on one order
 * (docs/loyalty.md, "Scopes" and "Points and a coupon"), against PostgreSQL and the real ledger.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerPointsId,
  customerWalletId,
  orderEscrowId,
  promotionsExpenseId,
  worldId,
} from '../../../ledger/rules/index.js';
import { keyedUuid } from '../../../src/http/idempotency.js';
import { authHeader, type CreatedUser } from '../../helpers/auth.js';
import { post } from '../catalog/helpers.js';
import { act, orderBody, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { fundedCustomer, loyaltyWorld, until } from './helpers.js';

let world: OrderWorld;
let drinksCategoryId: string;
let beerId: string;

beforeAll(async () => {
  world = await loyaltyWorld({ LOYALTY_POINT_VALUE_XAF: '1', LOYALTY_REDEEM_MAX_PERCENT: '50' });
  // A second category: drinks, with a 1 000 XAF beer (the world's dishes are in "Plats").
  const owner = world.actors.owner.accessToken;
  const category = await post(world.testApp, `/v1/restaurants/${world.restaurantId}/menu/categories`, owner, {
    name: { fr: 'Boissons' },
  });
  drinksCategoryId = category.json().id;
  const beer = await post(world.testApp, `/v1/restaurants/${world.restaurantId}/menu/items`, owner, {
    categoryId: drinksCategoryId,
    name: { fr: 'Bière' },
    price: 1000,
  });
  beerId = beer.json().id;
  expect([drinksCategoryId, beerId].every((id) => typeof id === 'string')).toBe(true);
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const account = (id: string) => services().ledger.account(id);
const pointsOf = async (userId: string) => (await account(customerPointsId(userId)))!;
const ndole = () => ({ items: [{ itemId: world.ndoleId, quantity: 1 }], tipMinor: 100 });
let codes = 0;
const nextCode = (prefix: string) => `${prefix}${process.pid}S${(codes += 1)}`;
const window = () => ({
  startsAt: new Date(Date.now() - 60_000).toISOString(),
  endsAt: new Date(Date.now() + 86_400_000).toISOString(),
});

async function createCoupon(token: string, body: Record<string, unknown>) {
  return world.testApp.app.inject({
    method: 'POST',
    url: '/v1/coupons',
    headers: authHeader(token),
    payload: { ...window(), ...body },
  });
}

async function coupon(token: string, body: Record<string, unknown>) {
  const response = await createCoupon(token, { code: nextCode('c'), ...body });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { id: string; code: string };
}

async function orderCreated(orderId: string) {
  const [first] = await services().eventStore.readStream(`order-${orderId}`, { maxCount: 1 });
  return first!.data as Record<string, unknown>;
}

async function couponRow(id: string) {
  return services().db.selectFrom('coupons').select(['uses']).where('id', '=', id).executeTakeFirstOrThrow();
}

async function reservations(couponId: string) {
  return services()
    .db.selectFrom('coupon_redemptions')
    .select(['order_id', 'status', 'discount_minor'])
    .where('coupon_id', '=', couponId)
    .execute();
}

/** A funded customer holding `points` (an award booked through loyalty's own path). */
async function customerWithPoints(points: bigint, walletMinor = 50_000n): Promise<CreatedUser> {
  const customer = await fundedCustomer(world, walletMinor);
  const outcome = await services().loyalty.grant({
    orderId: randomUUID(),
    userId: customer.userId,
    baseMinor: points * 100n,
    sourceEvent: 'OrderCompleted',
    at: new Date(),
  });
  expect(outcome).toBe('booked');
  return customer;
}

/** The posted credit a transfer booked (the ledger's read model), 0 when none. */
async function credited(transferId: string): Promise<bigint> {
  const result = await sql<{ amount_minor: string }>`
    SELECT amount_minor::text FROM ledger_entries
    WHERE transfer_id = ${transferId} AND side = 'credit' AND phase = 'posted'`.execute(services().db);
  return BigInt(result.rows[0]?.amount_minor ?? '0');
}

async function deliver(order: { id: string; deliveryPin: string }) {
  const owner = world.actors.owner.accessToken;
  const accepted = await act(world, order.id, 'accept', owner, { preparationMinutes: 10 });
  expect(accepted.statusCode, accepted.body).toBe(200);
  await act(world, order.id, 'prepare', owner);
  await act(world, order.id, 'claim', world.driver.accessToken);
  await act(world, order.id, 'ready', owner);
  await act(world, order.id, 'pickup', world.driver.accessToken, { pickupCode: accepted.json().pickupCode });
  const delivered = await act(world, order.id, 'deliver', world.driver.accessToken, {
    deliveryPin: order.deliveryPin,
  });
  expect(delivered.statusCode, delivered.body).toBe(200);
  const escrow = await until(
    () => account(orderEscrowId(order.id, 'XAF')),
    (view) => view?.closed === true,
  );
  // The escrow ends at zero whatever funded the discount.
  expect(escrow!.creditsPosted - escrow!.debitsPosted).toBe(0n);
  expect(escrow!.debitsPending + escrow!.creditsPending).toBe(0n);
}

describe('coupon scopes', () => {
  it('a category coupon discounts only the matching lines, exactly, and the order’s event says which', async () => {
    const drinks = await coupon(world.actors.owner.accessToken, {
      kind: 'percent',
      percent: '15',
      restaurantId: world.restaurantId,
      categoryIds: [drinksCategoryId],
      // The catalog stores "Douala"; typed otherwise, it is the same city.
      city: ' DOUALA ',
    });
    const customer = await fundedCustomer(world);
    const placed = await placeOrder(world, customer.accessToken, {
      items: [
        { itemId: world.ndoleId, quantity: 1 },
        { itemId: beerId, quantity: 3 },
      ],
      tipMinor: 0,
      couponCode: drinks.code,
    });
    expect(placed.statusCode, placed.body).toBe(201);
    // 15 % of the beers (3 000), not of the 5 500 of food: 450.
    expect(placed.json().pricing).toMatchObject({ subtotalMinor: 5_500, discountMinor: 450 });
    expect(await orderCreated(placed.json().id)).toMatchObject({
      coupon: { id: drinks.id, fundedBy: 'restaurant', discountMinor: 450, lineIndexes: [1] },
      pricing: { discountMinor: 450 },
    });
    expect((await reservations(drinks.id)).map((row) => row.discount_minor)).toEqual([450n]);

    // The same coupon on an order without drinks does not apply; an item coupon likewise.
    const juice = await coupon(world.actors.admin.accessToken, {
      kind: 'fixed',
      amountMinor: 200,
      itemIds: [world.jusId],
    });
    for (const code of [drinks.code, juice.code]) {
      const refused = await placeOrder(world, customer.accessToken, { ...ndole(), couponCode: code });
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.json()).toMatchObject({ code: 'coupon_invalid' });
      expect(refused.json().detail).toMatch(/none of these dishes/);
    }
    // A fixed item coupon never gives more than its lines: 200 on a 500 juice.
    const withJuice = await placeOrder(world, customer.accessToken, {
      items: [
        { itemId: world.ndoleId, quantity: 1 },
        { itemId: world.jusId, quantity: 1 },
      ],
      tipMinor: 0,
      couponCode: juice.code,
    });
    expect(withJuice.statusCode, withJuice.body).toBe(201);
    expect(withJuice.json().pricing.discountMinor).toBe(200);

    // Another city: refused, nothing reserved.
    const yaounde = await coupon(world.actors.admin.accessToken, {
      kind: 'fixed',
      amountMinor: 100,
      city: 'Yaoundé',
    });
    const elsewhere = await placeOrder(world, customer.accessToken, { ...ndole(), couponCode: yaounde.code });
    expect(elsewhere.statusCode, elsewhere.body).toBe(422);
    expect(elsewhere.json().detail).toMatch(/another city/);
    expect(await reservations(yaounde.id)).toEqual([]);
  });

  it('a first-order coupon: a new customer’s first order, once; a failed first order does not count', async () => {
    const first = await coupon(world.actors.admin.accessToken, {
      kind: 'fixed',
      amountMinor: 300,
      firstOrderOnly: true,
    });
    const other = await coupon(world.actors.admin.accessToken, {
      kind: 'fixed',
      amountMinor: 300,
      firstOrderOnly: true,
    });
    // 1 000 XAF cannot pay: the first order fails (PAYMENT_FAILED), which is no first order.
    const customer = await fundedCustomer(world, 1_000n);
    const failed = await placeOrder(world, customer.accessToken, { ...ndole(), couponCode: first.code });
    expect(failed.statusCode, failed.body).toBe(402);
    await until(
      async () => (await reservations(first.id)).map((row) => row.status),
      (statuses) => statuses.join() === 'released',
    );
    const [topUp] = await services().ledger.submit([
      {
        id: `fund-more:${customer.userId}`,
        debitAccountId: worldId('XAF'),
        creditAccountId: customerWalletId(customer.userId, 'XAF'),
        amountMinor: 20_000n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
    ]);
    expect(topUp!.result).toBe('ok');
    const placed = await placeOrder(world, customer.accessToken, { ...ndole(), couponCode: first.code });
    expect(placed.statusCode, placed.body).toBe(201);
    expect(placed.json().pricing.discountMinor).toBe(300);
    // Once the orders' view shows that order, no first-order coupon applies any more.
    await until(
      () =>
        sql<{
          n: string;
        }>`SELECT count(*)::text AS n FROM orders_view WHERE order_id = ${placed.json().id}`.execute(
          services().db,
        ),
      (result) => result.rows[0]!.n === '1',
    );
    for (const code of [first.code, other.code]) {
      const again = await placeOrder(world, customer.accessToken, { ...ndole(), couponCode: code });
      expect(again.statusCode, again.body).toBe(422);
      expect(again.json().code).toMatch(/^coupon_(invalid|customer_limit)$/);
    }
    expect((await reservations(other.id)).length).toBe(0);
  });

  it('bad scopes are 400 and create nothing', async () => {
    const admin = world.actors.admin.accessToken;
    const bad: Record<string, unknown>[] = [
      { itemIds: [] },
      { itemIds: ['not-a-uuid'] },
      { categoryIds: null },
      { categoryIds: Array.from({ length: 51 }, () => randomUUID()) },
      { city: '' },
      { city: 'Dou\u0000ala' },
      { city: 'x'.repeat(81) },
      { city: 12 },
      { city: ' - ' },
      { firstOrderOnly: 'yes' },
      { firstOrderOnly: null },
    ];
    for (const fields of bad) {
      const code = nextCode('bad');
      const response = await createCoupon(admin, { code, kind: 'fixed', amountMinor: 100, ...fields });
      expect(response.statusCode, `${JSON.stringify(fields)}: ${response.body}`).toBe(400);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
      const row = await services()
        .db.selectFrom('coupons')
        .select('id')
        .where('code', '=', code.toUpperCase())
        .executeTakeFirst();
      expect(row).toBeUndefined();
    }
  });
});

describe('a coupon and points on one order', () => {
  it('coupon first, then points on the food left; each funder pays its part; points posted, coupon used, escrow zero', async () => {
    const owners = await coupon(world.actors.owner.accessToken, {
      kind: 'fixed',
      amountMinor: 500,
      restaurantId: world.restaurantId,
    });
    const customer = await customerWithPoints(2_000n);
    // 50 % of the 2 000 the coupon left: at most 1 000 points.
    const over = await placeOrder(world, customer.accessToken, {
      ...ndole(),
      couponCode: owners.code,
      usePoints: 1_001,
    });
    expect(over.statusCode, over.body).toBe(422);
    expect(over.json()).toMatchObject({ code: 'points_over_cap', maxPoints: 1_000 });
    expect((await couponRow(owners.id)).uses).toBe(0);

    const expenseBefore = (await account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n;
    const placed = await placeOrder(world, customer.accessToken, {
      ...ndole(),
      couponCode: owners.code,
      usePoints: 1_000,
    });
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    expect(order.pricing).toMatchObject({ subtotalMinor: 2_500, discountMinor: 1_500 });
    expect(order.pricing.totalMinor).toBeGreaterThan(0);
    expect(await orderCreated(order.id)).toMatchObject({
      coupon: { id: owners.id, fundedBy: 'restaurant', discountMinor: 500 },
      pointsUsed: 1_000,
      pointsDiscountMinor: 1_000,
    });
    // Paid from the wallet at placement: the hold is posted, the coupon stays held until delivery.
    await until(
      () => pointsOf(customer.userId),
      (points) => points.debitsPosted === 1_000n && points.debitsPending === 0n,
    );
    expect((await reservations(owners.id)).map((row) => [row.status, row.discount_minor])).toEqual([
      ['held', 500n],
    ]);

    await deliver(order);
    await until(
      () => credited(`settle:${order.id}:restaurant_share`),
      (amount) => amount > 0n,
    );
    // The points' 1 000 from the promotions expense; the coupon's 500 from the restaurant's share:
    // share + commission = the food less the restaurant's own discount.
    expect(await credited(`settle:${order.id}:promotion_funding`)).toBe(1_000n);
    expect((await account(promotionsExpenseId('XAF')))!.debitsPosted - expenseBefore).toBe(1_000n);
    const share = await credited(`settle:${order.id}:restaurant_share`);
    const commission = await credited(`settle:${order.id}:platform_commission`);
    expect(share + commission).toBe(2_000n);
    await until(
      async () => (await reservations(owners.id))[0]!.status,
      (status) => status === 'used',
    );
    const roi = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/coupons/${owners.id}/roi`,
      headers: authHeader(world.actors.owner.accessToken),
    });
    // Their first order ever: one new customer.
    expect(roi.json()).toMatchObject({ orders: 1, discountCostMinor: 500, customers: 1, newCustomers: 1 });
    const report = await services().ledger.verify({ projections: false });
    expect(report.ok).toBe(true);
  });

  it('a failed payment voids the hold and releases the coupon; a retried request after a crash books each once', async () => {
    const platform = await coupon(world.actors.admin.accessToken, { kind: 'fixed', amountMinor: 200 });
    // 1 000 XAF cannot pay what is left: PAYMENT_FAILED, points back whole, the coupon's use back.
    const poor = await customerWithPoints(1_000n, 1_000n);
    const failed = await placeOrder(world, poor.accessToken, {
      ...ndole(),
      couponCode: platform.code,
      usePoints: 500,
    });
    expect(failed.statusCode, failed.body).toBe(402);
    await until(
      () => pointsOf(poor.userId),
      (points) => points.debitsPending === 0n && points.availableMinor === 1_000n,
    );
    expect((await pointsOf(poor.userId)).debitsPosted).toBe(0n);
    await until(
      async () => (await reservations(platform.id)).map((row) => row.status).join(),
      (statuses) => statuses === 'released',
    );
    expect((await couponRow(platform.id)).uses).toBe(0);

    // The first attempt reserved the coupon and held the points, then its process stopped before
    // the order was appended; the client retries with the same key, twice at once.
    const customer = await customerWithPoints(1_000n);
    const key = `scopes-retry-${randomUUID()}`;
    const orderId = keyedUuid('order', `orders:${customer.userId}`, key);
    const reserved = await services().loyalty.coupons.reserve({
      couponId: platform.id,
      orderId,
      customerId: customer.userId,
      restaurantId: world.restaurantId,
      discountMinor: 200n,
      subtotalMinor: 2_500n,
      totalMinor: 0n,
      at: new Date(),
    });
    expect(reserved).toEqual({ reserved: true });
    expect(await services().loyalty.points.hold(orderId, customer.userId, 600n)).toBe(true);
    const retry = () =>
      world.testApp.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...authHeader(customer.accessToken), 'idempotency-key': key },
        payload: orderBody(world, { ...ndole(), couponCode: platform.code, usePoints: 600 }),
      });
    const answers = await Promise.all([retry(), retry()]);
    for (const answer of answers) expect([201, 409], answer.body).toContain(answer.statusCode);
    const settled = answers.find((answer) => answer.statusCode === 201) ?? (await retry());
    expect(settled.statusCode, settled.body).toBe(201);
    expect(settled.json()).toMatchObject({ id: orderId, pricing: { discountMinor: 800 } });
    await until(
      () => pointsOf(customer.userId),
      (points) => points.debitsPosted === 600n && points.debitsPending === 0n,
    );
    expect((await pointsOf(customer.userId)).availableMinor).toBe(400n);
    expect((await reservations(platform.id)).filter((row) => row.order_id === orderId)).toHaveLength(1);
    expect((await couponRow(platform.id)).uses).toBe(1);
    const wallet = (await account(customerWalletId(customer.userId, 'XAF')))!;
    expect(wallet.debitsPosted).toBe(BigInt(settled.json().pricing.totalMinor));
  });

  it('points refused after the coupon was reserved give the coupon’s use back at once', async () => {
    const platform = await coupon(world.actors.admin.accessToken, { kind: 'fixed', amountMinor: 100 });
    // Four orders at once on the same 300 points: each quote sees 300, one hold wins.
    const customer = await customerWithPoints(300n);
    const answers = await Promise.all(
      Array.from({ length: 4 }, () =>
        placeOrder(world, customer.accessToken, { ...ndole(), couponCode: platform.code, usePoints: 300 }),
      ),
    );
    const placed = answers.filter((answer) => answer.statusCode === 201);
    expect(placed).toHaveLength(1);
    for (const answer of answers.filter((each) => each.statusCode !== 201)) {
      expect(answer.statusCode, answer.body).toBe(422);
      expect(answer.json().code).toBe('points_insufficient');
    }
    // Only the placed order keeps a reservation; the refused ones left nothing for the sweep.
    expect((await reservations(platform.id)).map((row) => row.order_id)).toEqual([placed[0]!.json().id]);
    expect((await couponRow(platform.id)).uses).toBe(1);
    await until(
      () => pointsOf(customer.userId),
      (points) => points.debitsPosted === 300n && points.debitsPending === 0n,
    );
  });
});
