import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEscrowId, promotionsExpenseId } from '../../../ledger/rules/index.js';
import { cameroonClock, nextCameroonMinute } from '../../../src/modules/loyalty/promotion-rules.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { act, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { fundedCustomer, loyaltyWorld, until } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({});
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const account = (id: string) => services().ledger.account(id);
const ndole = () => ({ items: [{ itemId: world.ndoleId, quantity: 1 }], tipMinor: 0 });
const window = () => ({
  startsAt: new Date(Date.now() - 60_000).toISOString(),
  endsAt: new Date(Date.now() + 86_400_000).toISOString(),
});

async function createPromotion(token: string, body: Record<string, unknown>) {
  return world.testApp.app.inject({
    method: 'POST',
    url: '/v1/promotions',
    headers: authHeader(token),
    payload: { ...window(), ...body },
  });
}

async function promotion(token: string, body: Record<string, unknown>) {
  const response = await createPromotion(token, body);
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { id: string; fundedBy: string };
}

async function credited(transferId: string): Promise<bigint> {
  const result = await sql<{ amount_minor: string }>`
    SELECT amount_minor::text FROM ledger_entries
    WHERE transfer_id = ${transferId} AND side = 'credit' AND phase = 'posted'`.execute(services().db);
  return BigInt(result.rows[0]?.amount_minor ?? '0');
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

const expense = async () => (await account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n;

describe('promotions without codes', () => {
  it('free delivery above an amount (platform) is applied, shown beside the menu, paid by the promotions expense', async () => {
    const freeDelivery = await promotion(world.actors.admin.accessToken, {
      name: 'Free delivery above 2 000',
      kind: 'free_delivery',
      minSubtotalMinor: 2_000,
    });
    expect(freeDelivery.fundedBy).toBe('platform');
    // Another day of the week only: never applies today.
    const today = cameroonClock(new Date()).weekday;
    await promotion(world.actors.admin.accessToken, {
      name: 'Another day',
      kind: 'fixed',
      amountMinor: 2_000,
      weekdays: [(today + 3) % 7],
    });
    const menu = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants/${world.restaurantId}/promotions`,
    });
    expect(menu.statusCode, menu.body).toBe(200);
    const shown = menu.json().items.find((item: { id: string }) => item.id === freeDelivery.id);
    expect(shown).toMatchObject({ kind: 'free_delivery', minSubtotalMinor: 2_000, activeNow: true });
    expect(new Date(shown.endsAt).getTime()).toBeGreaterThan(Date.now());
    expect(menu.json().items.find((item: { name: string }) => item.name === 'Another day').activeNow).toBe(
      false,
    );

    const customer = await fundedCustomer(world);
    const before = await expense();
    const placed = await placeOrder(world, customer.accessToken, ndole());
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    expect(order.pricing.discountMinor).toBe(order.pricing.deliveryFeeMinor);
    const [first] = await services().eventStore.readStream(`order-${order.id}`, { maxCount: 1 });
    expect(first!.data).toMatchObject({ promotion: { id: freeDelivery.id, fundedBy: 'platform' } });
    await deliver(order);
    expect((await expense()) - before).toBe(BigInt(order.pricing.deliveryFeeMinor));
    const roi = await until(
      async () =>
        (
          await world.testApp.app.inject({
            method: 'GET',
            url: `/v1/promotions/${freeDelivery.id}/roi`,
            headers: authHeader(world.actors.admin.accessToken),
          })
        ).json(),
      (body) => body.orders === 1 && body.ledger.promotionFundingMinor > 0,
    );
    expect(roi).toMatchObject({
      discountCostMinor: order.pricing.deliveryFeeMinor,
      revenueMinor: order.pricing.totalMinor,
      ledger: { promotionFundingMinor: order.pricing.deliveryFeeMinor },
      customers: 1,
    });
  });

  it('a restaurant’s happy hour, larger, wins and reduces its share; a coupon replaces any promotion', async () => {
    const happy = await promotion(world.actors.owner.accessToken, {
      name: 'Happy hour',
      kind: 'percent',
      percent: '30',
      restaurantId: world.restaurantId,
      from: '00:00',
      until: '24:00',
    });
    expect(happy.fundedBy).toBe('restaurant');
    const customer = await fundedCustomer(world);
    const before = await expense();
    const placed = await placeOrder(world, customer.accessToken, ndole());
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    expect(order.pricing).toMatchObject({ subtotalMinor: 2_500, discountMinor: 750 });
    await deliver(order);
    expect(await expense()).toBe(before);
    const share = await credited(`settle:${order.id}:restaurant_share`);
    const commission = await credited(`settle:${order.id}:platform_commission`);
    expect(share + commission).toBe(1_750n);

    // A coupon replaces the promotion (one discount per order).
    const coupon = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/coupons',
      headers: authHeader(world.actors.admin.accessToken),
      payload: { code: `SMALL${process.pid}`, kind: 'fixed', amountMinor: 100, ...window() },
    });
    expect(coupon.statusCode, coupon.body).toBe(201);
    const withCoupon = await placeOrder(world, customer.accessToken, {
      ...ndole(),
      couponCode: coupon.json().code,
    });
    expect(withCoupon.statusCode, withCoupon.body).toBe(201);
    expect(withCoupon.json().pricing.discountMinor).toBe(100);
    const [created] = await services().eventStore.readStream(`order-${withCoupon.json().id}`, {
      maxCount: 1,
    });
    expect((created!.data as { promotion?: unknown }).promotion).toBeUndefined();

    // Withdrawn, the happy hour no longer applies (the free delivery does again).
    const disabled = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/promotions/${happy.id}/disable`,
      headers: authHeader(world.actors.owner.accessToken),
    });
    expect(disabled.statusCode, disabled.body).toBe(200);
    const after = await placeOrder(world, customer.accessToken, ndole());
    expect(after.json().pricing.discountMinor).toBe(after.json().pricing.deliveryFeeMinor);
    const audited = await services()
      .db.selectFrom('audit_logs')
      .select('action')
      .where('resource', '=', `promotion:${happy.id}`)
      .orderBy('id')
      .execute();
    expect(audited.map((row) => row.action)).toEqual([
      'loyalty.promotion_created',
      'loyalty.promotion_disabled',
    ]);
  });

  it('bad definitions, wrong roles and other owners are 4xx problems and create nothing', async () => {
    const count = async () =>
      (
        await services()
          .db.selectFrom('promotions')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .executeTakeFirstOrThrow()
      ).n;
    const before = await count();
    const valid = { name: 'Lunch', kind: 'percent', percent: '10' };
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...valid, percent: '0' }, 400, 'invalid_promotion'],
      [{ ...valid, from: '14:00', until: '12:00' }, 400, 'invalid_promotion'],
      [{ ...valid, kind: 'free_delivery' }, 400, 'invalid_promotion'],
      [{ ...valid, from: '25:00' }, 400, 'validation_failed'],
      [{ ...valid, weekdays: [] }, 400, 'validation_failed'],
      [{ ...valid, weekdays: [7] }, 400, 'validation_failed'],
      [{ ...valid, name: null }, 400, 'validation_failed'],
      [{ ...valid, name: 'x'.repeat(81) }, 400, 'validation_failed'],
      [{ ...valid, name: 'a\u0000' }, 400, 'invalid_characters'],
      [{ ...valid, restaurantId: randomUUID() }, 404, 'restaurant_not_found'],
    ];
    for (const [body, status, code] of cases) {
      const response = await createPromotion(world.actors.admin.accessToken, body);
      expect(response.statusCode, `${JSON.stringify(body)}: ${response.body}`).toBe(status);
      expect(response.json().code).toBe(code);
    }
    const stranger = await createUser(world.testApp, { roles: ['restaurant_owner'] });
    const mine = await createPromotion(stranger.accessToken, { ...valid, restaurantId: world.restaurantId });
    expect(mine.statusCode).toBe(403);
    expect(mine.json().code).toBe('not_restaurant_owner');
    expect((await createPromotion(world.actors.customer.accessToken, valid)).statusCode).toBe(403);
    expect(await count()).toBe(before);
    const unknownMenu = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants/${randomUUID()}/promotions`,
    });
    expect(unknownMenu.statusCode).toBe(404);
    expect(unknownMenu.json().code).toBe('restaurant_not_found');
    const notMine = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/promotions/${randomUUID()}/roi`,
      headers: authHeader(stranger.accessToken),
    });
    expect(notMine.statusCode).toBe(404);
  });
  it('the menu itself shows the promotions with their end times; a new or withdrawn one shows at once', async () => {
    const menu = () =>
      world.testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${world.restaurantId}/menu` });
    const before = await menu();
    expect(before.statusCode, before.body).toBe(200);
    const endsAt = new Date(Date.now() + 3 * 3_600_000);
    const shown = await promotion(world.actors.owner.accessToken, {
      name: 'Menu offer',
      kind: 'fixed',
      amountMinor: 100,
      restaurantId: world.restaurantId,
      from: '00:00',
      until: '24:00',
      endsAt: endsAt.toISOString(),
    });
    // The cached menu was dropped by the write: the next read shows the promotion.
    const after = await menu();
    expect(after.statusCode, after.body).toBe(200);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    const item = after.json().promotions.find((entry: { id: string }) => entry.id === shown.id);
    const midnight = nextCameroonMinute(1440, new Date());
    expect(item).toMatchObject({
      name: 'Menu offer',
      kind: 'fixed',
      amountMinor: 100,
      restaurantId: world.restaurantId,
      endsAt: endsAt.toISOString(),
      activeNow: true,
      // Until today's hours end (midnight in Douala) or the validity ends, whichever is first.
      activeUntil: (midnight < endsAt ? midnight : endsAt).toISOString(),
    });
    expect(item.disabledAt).toBeUndefined();
    // The menu's answer is cached only until the next edge of any of its promotions.
    const source = await services().loyalty.promotions.menuPromotions(world.restaurantId, new Date());
    expect(source.validUntilMs).toBeGreaterThan(Date.now());
    expect(source.validUntilMs).toBeLessThanOrEqual(Math.min(endsAt.getTime(), midnight.getTime()));

    const withdrawn = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/promotions/${shown.id}/disable`,
      headers: authHeader(world.actors.owner.accessToken),
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    const gone = await menu();
    expect((gone.json().promotions ?? []).some((entry: { id: string }) => entry.id === shown.id)).toBe(false);
  });
});
