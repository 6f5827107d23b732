import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerPointsId,
  customerWalletId,
  orderEscrowId,
  promotionsExpenseId,
} from '../../../ledger/rules/index.js';
import { benefitPeriodOf } from '../../../src/modules/loyalty/free-deliveries.js';
import { authHeader } from '../../helpers/auth.js';
import { act, idempotencyKey, orderBody, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { fundedCustomer, loyaltyOf, loyaltyWorld, until } from './helpers.js';

// Silver from 100 points earned, 2 free deliveries a month for silver, none for bronze.
let world: OrderWorld;
beforeAll(async () => {
  world = await loyaltyWorld({
    LOYALTY_POINT_VALUE_XAF: '1',
    LOYALTY_REDEEM_MAX_PERCENT: '50',
    LOYALTY_SILVER_POINTS: '100',
    LOYALTY_GOLD_POINTS: '100000',
    LOYALTY_FREE_DELIVERIES_SILVER: '2',
  });
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const itemCategory = async (itemId: string) =>
  (
    await services()
      .db.selectFrom('menu_items')
      .select('category_id')
      .where('id', '=', itemId)
      .executeTakeFirst()
  )?.category_id;
const account = (id: string) => services().ledger.account(id);
const ndole = () => ({ items: [{ itemId: world.ndoleId, quantity: 1 }], tipMinor: 0 });
const expense = async () => (await account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n;
const window = () => ({
  startsAt: new Date(Date.now() - 60_000).toISOString(),
  endsAt: new Date(Date.now() + 86_400_000).toISOString(),
});

/** Granted points (earned, so they count toward the tier), the tier read back from the API. */
async function customerWith(points: bigint, tier: 'bronze' | 'silver', walletMinor = 50_000n) {
  const customer = await fundedCustomer(world, walletMinor);
  const outcome = await services().loyalty.grant({
    orderId: randomUUID(),
    userId: customer.userId,
    baseMinor: points * 100n,
    sourceEvent: 'OrderCompleted',
    at: new Date(),
  });
  expect(outcome).toBe('booked');
  await until(
    async () => (await loyaltyOf(world, customer.accessToken)).json(),
    (view) => view.tier === tier && view.balance === Number(points),
  );
  return customer;
}

async function credited(transferId: string): Promise<bigint> {
  const result = await sql<{ amount_minor: string }>`
    SELECT amount_minor::text FROM ledger_entries
    WHERE transfer_id = ${transferId} AND side = 'credit' AND phase = 'posted'`.execute(services().db);
  return BigInt(result.rows[0]?.amount_minor ?? '0');
}

async function created(orderId: string) {
  const [first] = await services().eventStore.readStream(`order-${orderId}`, { maxCount: 1 });
  return first!.data as Record<string, unknown>;
}

async function deliver(order: { id: string; deliveryPin: string }) {
  const { owner } = world.actors;
  const accepted = await act(world, order.id, 'accept', owner.accessToken, { preparationMinutes: 10 });
  expect(accepted.statusCode, accepted.body).toBe(200);
  await act(world, order.id, 'prepare', owner.accessToken);
  await act(world, order.id, 'claim', world.driver.accessToken);
  await act(world, order.id, 'ready', owner.accessToken);
  await act(world, order.id, 'pickup', world.driver.accessToken, { pickupCode: accepted.json().pickupCode });
  const delivered = await act(world, order.id, 'deliver', world.driver.accessToken, {
    deliveryPin: order.deliveryPin,
  });
  expect(delivered.statusCode, delivered.body).toBe(200);
  const escrow = await until(
    () => account(orderEscrowId(order.id, 'XAF')),
    (view) => view?.closed === true,
  );
  expect(escrow!.creditsPosted - escrow!.debitsPosted).toBe(0n);
  await until(
    () => credited(`settle:${order.id}:restaurant_share`),
    (amount) => amount > 0n,
  );
}

async function promotion(token: string, body: Record<string, unknown>) {
  const response = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/promotions',
    headers: authHeader(token),
    payload: { ...window(), ...body },
  });
  return response;
}

async function withdraw(token: string, id: string) {
  const response = await world.testApp.app.inject({
    method: 'POST',
    url: `/v1/promotions/${id}/disable`,
    headers: authHeader(token),
  });
  expect(response.statusCode, response.body).toBe(200);
}

async function roi(id: string) {
  return (
    await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/promotions/${id}/roi`,
      headers: authHeader(world.actors.admin.accessToken),
    })
  ).json();
}

const heldFreeDeliveries = async (customerId: string) =>
  services()
    .db.selectFrom('loyalty_free_deliveries')
    .select(['order_id', 'status'])
    .where('customer_id', '=', customerId)
    .execute();

describe('a tier free delivery, item and combo promotions, points beside a promotion', () => {
  it('a silver customer’s free deliveries: the fee waived and paid by the platform on its own leg, counted once on a retry and under concurrency, released by a failed payment', async () => {
    const customer = await customerWith(150n, 'silver');
    const key = idempotencyKey();
    const send = () =>
      world.testApp.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...authHeader(customer.accessToken), 'idempotency-key': key, 'accept-language': 'en' },
        payload: orderBody(world, ndole()),
      });
    const first = await send();
    expect(first.statusCode, first.body).toBe(201);
    const order = first.json();
    const fee = order.pricing.deliveryFeeMinor as number;
    expect(fee).toBeGreaterThan(0);
    expect(order.pricing).toMatchObject({ subtotalMinor: 2_500, discountMinor: fee });
    expect((await created(order.id)).freeDelivery).toEqual({
      tier: 'silver',
      period: benefitPeriodOf(new Date()),
      discountMinor: fee,
    });
    // The same request again: the same order, the same single free delivery.
    const retry = await send();
    expect([200, 201]).toContain(retry.statusCode);
    expect(retry.json().id).toBe(order.id);
    expect(await heldFreeDeliveries(customer.userId)).toEqual([{ order_id: order.id, status: 'held' }]);

    // One left: three orders at once, exactly one gets it. An order priced while it was still free
    // and beaten to it is refused (409) and charges nothing; one priced after it was taken (the
    // requests do not always overlap on a loaded machine) pays its delivery.
    const walletBefore = (await account(customerWalletId(customer.userId, 'XAF')))!.availableMinor;
    const racing = await Promise.all([1, 2, 3].map(() => placeOrder(world, customer.accessToken, ndole())));
    const bodies = racing.map((response) => response.body).join('\n');
    for (const response of racing) expect([201, 409], bodies).toContain(response.statusCode);
    for (const refused of racing.filter((response) => response.statusCode === 409))
      expect(refused.json().code).toBe('free_delivery_taken');
    const placed = racing
      .filter((response) => response.statusCode === 201)
      .map((response) => response.json());
    expect(
      placed.filter((one) => one.pricing.discountMinor === fee),
      bodies,
    ).toHaveLength(1);
    expect(
      placed
        .filter((one) => one.pricing.discountMinor !== fee)
        .every((one) => one.pricing.discountMinor === 0),
    ).toBe(true);
    const charged = placed.reduce((sum, one) => sum + BigInt(one.pricing.totalMinor), 0n);
    expect(walletBefore - (await account(customerWalletId(customer.userId, 'XAF')))!.availableMinor).toBe(
      charged,
    );
    expect(await heldFreeDeliveries(customer.userId)).toHaveLength(2);
    // None left this month: the next order pays its delivery.
    const paying = await placeOrder(world, customer.accessToken, ndole());
    expect(paying.statusCode, paying.body).toBe(201);
    expect(paying.json().pricing.discountMinor).toBe(0);
    expect((await created(paying.json().id)).freeDelivery).toBeUndefined();

    // Delivered: the promotions expense paid the fee into the escrow on `delivery_benefit`, the
    // driver got the full driver fee, the restaurant the full food, the escrow closed at zero.
    const before = await expense();
    await deliver(order);
    expect(await credited(`settle:${order.id}:delivery_benefit`)).toBe(BigInt(fee));
    expect((await expense()) - before).toBe(BigInt(fee));
    expect(await credited(`settle:${order.id}:promotion_funding`)).toBe(0n);
    const share = await credited(`settle:${order.id}:restaurant_share`);
    const commission = await credited(`settle:${order.id}:platform_commission`);
    expect(share + commission).toBe(2_500n);
    expect(await credited(`settle:${order.id}:driver_fee`)).toBeGreaterThan(0n);

    // A silver customer whose wallet cannot pay: the order fails and its free delivery goes back.
    const poor = await customerWith(150n, 'silver', 1_000n);
    const failed = await placeOrder(world, poor.accessToken, ndole());
    expect([201, 402]).toContain(failed.statusCode);
    await until(
      () => heldFreeDeliveries(poor.userId),
      (rows) => rows.length === 1 && rows[0]!.status === 'released',
    );
    // A bronze customer gets none.
    const bronze = await customerWith(50n, 'bronze');
    const plain = await placeOrder(world, bronze.accessToken, ndole());
    expect(plain.json().pricing.discountMinor).toBe(0);
    const report = await services().ledger.verify({ projections: false });
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('the month’s count holds under 12 reservations at once (the lock on customer and month), and a retried order keeps its own', async () => {
    const customer = await customerWith(150n, 'silver');
    const period = benefitPeriodOf(new Date());
    const orderIds = Array.from({ length: 12 }, () => randomUUID());
    const reserve = (orderId: string) =>
      services().loyalty.freeDeliveries.reserve({
        orderId,
        customerId: customer.userId,
        tier: 'silver',
        period,
        discountMinor: 610n,
      });
    const answers = await Promise.all(orderIds.map(reserve));
    expect(answers.filter(Boolean)).toHaveLength(2);
    const held = await heldFreeDeliveries(customer.userId);
    expect(held).toHaveLength(2);
    // A retry of an order that got one answers true again and takes nothing more; a refused one stays refused.
    const winner = held[0]!.order_id;
    expect(await reserve(winner)).toBe(true);
    expect(await reserve(orderIds.find((id) => !held.some((row) => row.order_id === id))!)).toBe(false);
    expect(await heldFreeDeliveries(customer.userId)).toHaveLength(2);
    // Released, it goes back to the month once.
    expect(await services().loyalty.freeDeliveries.release(winner, new Date())).toBe(true);
    expect(await services().loyalty.freeDeliveries.release(winner, new Date())).toBe(false);
    expect(await services().loyalty.freeDeliveries.available(customer.userId, new Date())).toEqual({
      tier: 'silver',
      period,
    });
  });

  it('a free delivery whose order was never appended is released by the stranded sweep (once), after the timeout; a placed order’s is kept', async () => {
    const customer = await customerWith(150n, 'silver');
    const period = benefitPeriodOf(new Date());
    const freeDeliveries = services().loyalty.freeDeliveries;
    // A placed order holds one (its order exists); a placement that died after the reservation holds the other.
    const placed = await placeOrder(world, customer.accessToken, ndole());
    expect(placed.statusCode, placed.body).toBe(201);
    expect(placed.json().pricing.discountMinor).toBeGreaterThan(0);
    // Earlier tests' reservations of orders never appended go first (the sweep is global).
    await freeDeliveries.sweepStranded(new Date(Date.now() + 11 * 60_000));
    expect(await heldFreeDeliveries(customer.userId)).toEqual([
      { order_id: placed.json().id, status: 'held' },
    ]);
    const lost = randomUUID();
    expect(
      await freeDeliveries.reserve({
        orderId: lost,
        customerId: customer.userId,
        tier: 'silver',
        period,
        discountMinor: 610n,
      }),
    ).toBe(true);
    expect(await freeDeliveries.available(customer.userId, new Date())).toBeUndefined();
    // Too recent to judge: nothing moves.
    expect(await freeDeliveries.sweepStranded(new Date(Date.now() + 9 * 60_000))).toBe(0);
    expect(await heldFreeDeliveries(customer.userId)).toHaveLength(2);
    // Past the timeout: the lost one goes back once, the placed order's stays held.
    const later = new Date(Date.now() + 11 * 60_000);
    expect(await freeDeliveries.sweepStranded(later)).toBe(1);
    expect(await freeDeliveries.sweepStranded(later)).toBe(0);
    const rows = await heldFreeDeliveries(customer.userId);
    expect(rows.find((row) => row.order_id === lost)!.status).toBe('released');
    expect(rows.find((row) => row.order_id === placed.json().id)!.status).toBe('held');
    expect(await freeDeliveries.available(customer.userId, new Date())).toEqual({ tier: 'silver', period });
  });

  it('a combo price and "buy 2 get 1": the larger applies, stated per line, funded by its creator, counted in ROI', async () => {
    const combo = await promotion(world.actors.admin.accessToken, {
      name: 'Ndolé + jus',
      kind: 'combo',
      itemIds: [world.ndoleId, world.jusId],
      comboPriceMinor: 2_700,
    });
    expect(combo.statusCode, combo.body).toBe(201);
    const buyGet = await promotion(world.actors.owner.accessToken, {
      name: 'Jus: 2 achetés, 1 offert',
      kind: 'buy_get',
      itemIds: [world.jusId],
      buyQuantity: 2,
      getQuantity: 1,
      restaurantId: world.restaurantId,
    });
    expect(buyGet.statusCode, buyGet.body).toBe(201);
    const menu = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants/${world.restaurantId}/promotions`,
    });
    expect(menu.json().items.find((item: { id: string }) => item.id === combo.json().id)).toMatchObject({
      kind: 'combo',
      itemIds: [world.ndoleId, world.jusId],
      comboPriceMinor: 2_700,
      activeNow: true,
    });

    const customer = await fundedCustomer(world);
    // 1 ndolé + 2 jus: one set at 2 700 instead of 3 000 (buy 2 get 1 needs 3 jus): 300, split 250 / 50.
    const withCombo = await placeOrder(world, customer.accessToken, {
      items: [
        { itemId: world.ndoleId, quantity: 1 },
        { itemId: world.jusId, quantity: 2 },
      ],
      tipMinor: 0,
    });
    expect(withCombo.statusCode, withCombo.body).toBe(201);
    expect(withCombo.json().pricing).toMatchObject({ subtotalMinor: 3_500, discountMinor: 300 });
    expect((await created(withCombo.json().id)).promotion).toEqual({
      id: combo.json().id,
      fundedBy: 'platform',
      kind: 'combo',
      discountMinor: 300,
      lines: [
        { index: 0, discountMinor: 250 },
        { index: 1, discountMinor: 50 },
      ],
    });
    // 1 ndolé + 3 jus: one free jus (500) beats the combo (300); the restaurant funds it.
    const withBuyGet = await placeOrder(world, customer.accessToken, {
      items: [
        { itemId: world.ndoleId, quantity: 1 },
        { itemId: world.jusId, quantity: 3 },
      ],
      tipMinor: 0,
    });
    expect(withBuyGet.statusCode, withBuyGet.body).toBe(201);
    expect(withBuyGet.json().pricing).toMatchObject({ subtotalMinor: 4_000, discountMinor: 500 });
    expect((await created(withBuyGet.json().id)).promotion).toMatchObject({
      id: buyGet.json().id,
      fundedBy: 'restaurant',
      lines: [{ index: 1, discountMinor: 500 }],
    });

    const before = await expense();
    await deliver(withCombo.json());
    expect((await expense()) - before).toBe(300n);
    expect(await credited(`settle:${withCombo.json().id}:promotion_funding`)).toBe(300n);
    await deliver(withBuyGet.json());
    expect((await expense()) - before).toBe(300n);
    const id = withBuyGet.json().id;
    expect(
      (await credited(`settle:${id}:restaurant_share`)) +
        (await credited(`settle:${id}:platform_commission`)),
    ).toBe(3_500n);
    const comboRoi = await until(
      () => roi(combo.json().id),
      (body) => body.orders === 1 && body.ledger.promotionFundingMinor === 300,
    );
    expect(comboRoi).toMatchObject({ discountCostMinor: 300, foodMinor: 3_500, customers: 1 });
    const buyGetRoi = await until(
      () => roi(buyGet.json().id),
      (body) => body.orders === 1,
    );
    expect(buyGetRoi).toMatchObject({ discountCostMinor: 500, ledger: { promotionFundingMinor: 0 } });

    // Bad item promotions: 400 problems, nothing created.
    const count = async () =>
      (
        await services()
          .db.selectFrom('promotions')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n;
    const countBefore = await count();
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'x', kind: 'combo', itemIds: [world.ndoleId], comboPriceMinor: 100 }, 'invalid_promotion'],
      [{ name: 'x', kind: 'combo', itemIds: [world.ndoleId, world.jusId] }, 'invalid_promotion'],
      [{ name: 'x', kind: 'buy_get', itemIds: [world.jusId], buyQuantity: 2 }, 'invalid_promotion'],
      [{ name: 'x', kind: 'buy_get', buyQuantity: 2, getQuantity: 1 }, 'invalid_promotion'],
      [{ name: 'x', kind: 'free_delivery', itemIds: [world.jusId] }, 'invalid_promotion'],
      [{ name: 'x', kind: 'percent', percent: '10', buyQuantity: 1 }, 'invalid_promotion'],
      [{ name: 'x', kind: 'combo', itemIds: ['nope', world.jusId], comboPriceMinor: 1 }, 'validation_failed'],
      [
        { name: 'x', kind: 'buy_get', itemIds: [world.jusId], buyQuantity: 0, getQuantity: 1 },
        'validation_failed',
      ],
      [
        { name: 'x', kind: 'combo', itemIds: [world.jusId, world.jusId], comboPriceMinor: 1 },
        'validation_failed',
      ],
      [{ name: 'x', kind: 'combo', itemIds: null, comboPriceMinor: 1 }, 'validation_failed'],
      [{ name: 'x', kind: 'bundle' }, 'validation_failed'],
    ];
    for (const [body, code] of cases) {
      const response = await promotion(world.actors.admin.accessToken, body);
      expect(response.statusCode, `${JSON.stringify(body)}: ${response.body}`).toBe(400);
      expect(response.json().code).toBe(code);
    }
    expect(await count()).toBe(countBefore);
    await withdraw(world.actors.admin.accessToken, combo.json().id);
    await withdraw(world.actors.owner.accessToken, buyGet.json().id);
  });

  it('a restaurant’s item promotion naming a dish not on its menu is a 422 listing it, and creates nothing', async () => {
    const count = async () =>
      (
        await services()
          .db.selectFrom('promotions')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n;
    const before = await count();
    const stranger = randomUUID();
    for (const token of [world.actors.owner.accessToken, world.actors.admin.accessToken]) {
      const refused = await promotion(token, {
        name: 'Ndolé + inconnu',
        kind: 'combo',
        itemIds: [world.ndoleId, stranger],
        comboPriceMinor: 2_000,
        restaurantId: world.restaurantId,
      });
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.json()).toMatchObject({ code: 'promotion_items_unknown', unknownItemIds: [stranger] });
    }
    expect(await count()).toBe(before);
    // The same promotion on the menu's own dishes is created.
    const accepted = await promotion(world.actors.owner.accessToken, {
      name: 'Ndolé + jus',
      kind: 'combo',
      itemIds: [world.ndoleId, world.jusId],
      comboPriceMinor: 2_000,
      restaurantId: world.restaurantId,
    });
    expect(accepted.statusCode, accepted.body).toBe(201);
    await withdraw(world.actors.owner.accessToken, accepted.json().id);

    // A platform-wide promotion names dishes of some menu: an unknown id is refused the same way.
    const platformWide = await promotion(world.actors.admin.accessToken, {
      name: 'Ndolé partout',
      kind: 'percent',
      percent: '10',
      itemIds: [world.ndoleId, stranger],
    });
    expect(platformWide.statusCode, platformWide.body).toBe(422);
    expect(platformWide.json()).toMatchObject({
      code: 'promotion_items_unknown',
      unknownItemIds: [stranger],
    });
    // An archived dish is no longer on the menu.
    const owner = authHeader(world.actors.owner.accessToken);
    const dish = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/restaurants/${world.restaurantId}/menu/items`,
      headers: owner,
      payload: { categoryId: (await itemCategory(world.ndoleId))!, name: { fr: 'Plat retiré' }, price: 900 },
    });
    expect(dish.statusCode, dish.body).toBe(201);
    const archived = await world.testApp.app.inject({
      method: 'PATCH',
      url: `/v1/restaurants/${world.restaurantId}/menu/items/${dish.json().id}`,
      headers: owner,
      payload: { archived: true },
    });
    expect(archived.statusCode, archived.body).toBe(200);
    const onArchived = await promotion(world.actors.owner.accessToken, {
      name: 'Plat retiré offert',
      kind: 'percent',
      percent: '10',
      itemIds: [dish.json().id],
      restaurantId: world.restaurantId,
    });
    expect(onArchived.statusCode, onArchived.body).toBe(422);
    expect(onArchived.json().unknownItemIds).toEqual([dish.json().id]);
    expect(Number(await count())).toBe(Number(before) + 1); // the accepted one only
    // The platform's own on a dish that is on a menu is created.
    const known = await promotion(world.actors.admin.accessToken, {
      name: 'Ndolé partout',
      kind: 'percent',
      percent: '10',
      itemIds: [world.ndoleId],
    });
    expect(known.statusCode, known.body).toBe(201);
    await withdraw(world.actors.admin.accessToken, known.json().id);
  });

  it('points beside a restaurant’s promotion: the promotion first, points on the food left; each part funded by its own', async () => {
    const happy = await promotion(world.actors.owner.accessToken, {
      name: '10 % tous les jours',
      kind: 'percent',
      percent: '10',
      restaurantId: world.restaurantId,
    });
    expect(happy.statusCode, happy.body).toBe(201);
    const customer = await customerWith(90n, 'bronze');
    // 2 500 of food: 10 % = 250, then at most 50 % of 2 250 = 1 125 points; 1 126 is too many.
    const over = await placeOrder(world, customer.accessToken, { ...ndole(), usePoints: 1_126 });
    expect(over.statusCode, over.body).toBe(422);
    expect(over.json()).toMatchObject({ code: 'points_over_cap', maxPoints: 1_125 });
    const placed = await placeOrder(world, customer.accessToken, { ...ndole(), usePoints: 90 });
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    expect(order.pricing).toMatchObject({ subtotalMinor: 2_500, discountMinor: 340 });
    const data = await created(order.id);
    expect(data.promotion).toMatchObject({ id: happy.json().id, fundedBy: 'restaurant', discountMinor: 250 });
    expect(data).toMatchObject({ pointsUsed: 90, pointsDiscountMinor: 90 });
    await until(
      () => account(customerPointsId(customer.userId)),
      (points) => points?.debitsPosted === 90n && points.debitsPending === 0n,
    );
    const before = await expense();
    await deliver(order);
    // The platform pays the points' 90, the restaurant bears its 250.
    expect((await expense()) - before).toBe(90n);
    expect(
      (await credited(`settle:${order.id}:restaurant_share`)) +
        (await credited(`settle:${order.id}:platform_commission`)),
    ).toBe(2_250n);
    const figures = await until(
      () => roi(happy.json().id),
      (body) => body.orders === 1,
    );
    expect(figures).toMatchObject({ discountCostMinor: 250, ledger: { promotionFundingMinor: 90 } });
    await withdraw(world.actors.owner.accessToken, happy.json().id);
    const report = await services().ledger.verify({ projections: false });
    expect(report.ok).toBe(true);
  });
});
