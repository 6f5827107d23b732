import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuest, createUser } from '../../helpers/auth.js';
import {
  act,
  authHeader,
  getOrder,
  idempotencyKey,
  orderBody,
  orderWorld,
  placeOrder,
  type OrderWorld,
} from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
});
afterAll(async () => world?.testApp.close());

const stockOf = async (itemId: string) =>
  (
    await world.testApp.services.db
      .selectFrom('menu_items')
      .select('stock')
      .where('id', '=', itemId)
      .executeTakeFirstOrThrow()
  ).stock;

describe('orders over HTTP: a customer orders, the restaurant and a driver move it through every state', () => {
  it('places an order priced from the catalog at that moment, paid, with exact totals; a replay returns the same order', async () => {
    const key = idempotencyKey();
    const request = {
      method: 'POST' as const,
      url: '/v1/orders',
      headers: { ...authHeader(world.actors.customer.accessToken), 'idempotency-key': key },
      payload: orderBody(world),
    };
    const stockBefore = await stockOf(world.ndoleId);
    const placed = await world.testApp.app.inject(request);
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    expect(order.status).toBe('PLACED');
    expect(order.lines).toHaveLength(2);
    expect(order.lines[0]).toMatchObject({
      name: 'Ndolé',
      quantity: 2,
      unitPriceMinor: 2_500,
      lineTotalMinor: 6_000,
      modifiers: [{ name: 'Plantain', priceDeltaMinor: 500 }],
    });
    const pricing = order.pricing;
    expect(pricing.subtotalMinor).toBe(6_500);
    expect(pricing.deliveryFeeMinor).toBe(500 + 10 * Math.ceil(pricing.distanceMetres / 100));
    expect(pricing.totalMinor).toBe(6_500 + pricing.deliveryFeeMinor + pricing.taxMinor + 200);
    expect(order.deliveryPin).toMatch(/^\d{4}$/);
    expect(order.pickupCode).toBeUndefined();
    expect(order.trackingUrl).toMatch(/\/track\/[A-Za-z0-9_-]{44}$/);
    expect(await stockOf(world.ndoleId)).toBe(stockBefore! - 2);

    const replay = await world.testApp.app.inject(request);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(order.id);
    expect(await stockOf(world.ndoleId)).toBe(stockBefore! - 2);
  });

  it('goes PLACED → ACCEPTED → PREPARING → READY_FOR_PICKUP → PICKED_UP → DELIVERED with the right people and codes', async () => {
    const { customer, owner } = world.actors;
    const order = (await placeOrder(world, customer.accessToken)).json();
    const id = order.id as string;

    const accepted = await act(world, id, 'accept', owner.accessToken, { preparationMinutes: 25 });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({ status: 'ACCEPTED', preparationMinutes: 25 });
    const pickupCode = accepted.json().pickupCode as string;
    expect(pickupCode).toMatch(/^\d{4}$/);
    expect(accepted.json().deliveryPin).toBeUndefined();

    // Accepting twice is an illegal transition: 409 naming the current state.
    // In English: test users' profiles are French, and problems follow the profile (docs/api.md).
    const again = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/orders/${id}/accept`,
      headers: { ...authHeader(owner.accessToken), 'accept-language': 'en' },
      payload: { preparationMinutes: 25 },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'illegal_transition', currentStatus: 'ACCEPTED' });
    expect(again.json().detail).toContain('ACCEPTED');

    expect((await act(world, id, 'prepare', owner.accessToken)).json().status).toBe('PREPARING');
    const claimed = await act(world, id, 'claim', world.driver.accessToken);
    expect(claimed.statusCode, claimed.body).toBe(200);
    expect(claimed.json().driverId).toBe(world.driver.userId);
    const stolen = await act(world, id, 'claim', world.otherDriver.accessToken);
    expect(stolen.statusCode).toBe(404); // no longer claimable: the other driver cannot even see it
    expect((await act(world, id, 'ready', owner.accessToken)).json().status).toBe('READY_FOR_PICKUP');

    const wrongCode = await act(world, id, 'pickup', world.driver.accessToken, {
      pickupCode: pickupCode === '0000' ? '1111' : '0000',
    });
    expect(wrongCode.statusCode).toBe(422);
    expect(wrongCode.json().code).toBe('invalid_pickup_code');
    expect((await act(world, id, 'pickup', world.driver.accessToken, { pickupCode })).json().status).toBe(
      'PICKED_UP',
    );

    const wrongPin = await act(world, id, 'deliver', world.driver.accessToken, {
      deliveryPin: order.deliveryPin === '0000' ? '1111' : '0000',
    });
    expect(wrongPin.statusCode).toBe(422);
    expect(wrongPin.json()).toMatchObject({ code: 'invalid_delivery_pin', attemptsLeft: 4 });
    const delivered = await act(world, id, 'deliver', world.driver.accessToken, {
      deliveryPin: order.deliveryPin,
    });
    expect(delivered.statusCode).toBe(200);
    expect(delivered.json().timeline.map((entry: { status: string }) => entry.status)).toEqual([
      'PENDING_PAYMENT',
      'PLACED',
      'ACCEPTED',
      'PREPARING',
      'READY_FOR_PICKUP',
      'PICKED_UP',
      'DELIVERED',
    ]);

    // The dispute window: the customer disputes, support resolves with a partial refund.
    const disputed = await act(world, id, 'dispute', customer.accessToken, {
      reason: 'the juice was missing',
    });
    expect(disputed.json().status).toBe('DISPUTED');
    const resolved = await act(world, id, 'resolve', world.support.accessToken, {
      refundMinor: 500,
      note: 'refund the juice',
    });
    expect(resolved.json()).toMatchObject({ status: 'RESOLVED', refundMinor: 500 });
  });

  it('a guest with an OTP-verified session orders; an anonymous caller cannot', async () => {
    const guest = await createGuest(world.testApp);
    const placed = await placeOrder(world, guest.accessToken, {
      payment: { kind: 'mobile_money', provider: 'MTN', phone: guest.phone },
    });
    expect(placed.statusCode, placed.body).toBe(201);
    expect(placed.json().customer).toEqual({ kind: 'guest', id: guest.userId });
    const anonymous = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/orders',
      payload: orderBody(world),
    });
    expect(anonymous.statusCode).toBe(401);
    // The guest follows the order it placed, but cannot act as a restaurant.
    expect((await getOrder(world, placed.json().id, guest.accessToken)).statusCode).toBe(200);
    expect(
      (await act(world, placed.json().id, 'accept', guest.accessToken, { preparationMinutes: 5 })).statusCode,
    ).toBe(403);
  });

  it('checks ownership: other customers and other restaurants see 404, wrong roles 403', async () => {
    const order = (await placeOrder(world, world.actors.customer.accessToken)).json();
    const stranger = await createUser(world.testApp, { roles: ['customer'] });
    const otherOwner = await createUser(world.testApp, { roles: ['customer', 'restaurant_owner'] });
    expect((await getOrder(world, order.id, stranger.accessToken)).statusCode).toBe(404);
    expect((await getOrder(world, order.id, otherOwner.accessToken)).statusCode).toBe(404);
    expect(
      (await act(world, order.id, 'accept', otherOwner.accessToken, { preparationMinutes: 10 })).statusCode,
    ).toBe(404);
    expect(
      (await act(world, order.id, 'accept', world.actors.customer.accessToken, { preparationMinutes: 10 }))
        .statusCode,
    ).toBe(403);
    expect((await act(world, order.id, 'claim', world.driver.accessToken)).statusCode).toBe(404); // not accepted yet: not claimable
    // The admin sees everything, including both codes.
    const asAdmin = await getOrder(world, order.id, world.actors.admin.accessToken);
    expect(asAdmin.statusCode).toBe(200);
    expect(asAdmin.json().pickupCode).toMatch(/^\d{4}$/);
  });

  it('sends an ETag and answers 304 to If-None-Match until the order changes', async () => {
    const order = (await placeOrder(world, world.actors.customer.accessToken)).json();
    const first = await getOrder(world, order.id, world.actors.customer.accessToken);
    const etag = first.headers.etag as string;
    expect(etag).toBeTruthy();
    expect(
      (await getOrder(world, order.id, world.actors.customer.accessToken, { 'if-none-match': etag }))
        .statusCode,
    ).toBe(304);
    await act(world, order.id, 'accept', world.actors.owner.accessToken, { preparationMinutes: 10 });
    const changed = await getOrder(world, order.id, world.actors.customer.accessToken, {
      'if-none-match': etag,
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
  });

  it('cancellation rules over HTTP: free before acceptance, fee after, refused once cooking; stock comes back', async () => {
    const { customer, owner } = world.actors;
    const stockBefore = await stockOf(world.ndoleId);
    const early = (await placeOrder(world, customer.accessToken)).json();
    const cancelled = await act(world, early.id, 'cancel', customer.accessToken, {
      reason: 'changed my mind',
    });
    expect(cancelled.json()).toMatchObject({
      status: 'CANCELLED',
      refundMinor: early.pricing.totalMinor,
      cancellationFeeMinor: 0,
    });
    expect(await stockOf(world.ndoleId)).toBe(stockBefore);

    const late = (await placeOrder(world, customer.accessToken)).json();
    await act(world, late.id, 'accept', owner.accessToken, { preparationMinutes: 10 });
    const fee = Math.floor((late.pricing.subtotalMinor * 10) / 100);
    expect(
      (await act(world, late.id, 'cancel', customer.accessToken, { reason: 'too slow' })).json(),
    ).toMatchObject({
      status: 'CANCELLED',
      cancellationFeeMinor: fee,
      refundMinor: late.pricing.totalMinor - fee,
    });

    const cooking = (await placeOrder(world, customer.accessToken)).json();
    await act(world, cooking.id, 'accept', owner.accessToken, { preparationMinutes: 10 });
    await act(world, cooking.id, 'prepare', owner.accessToken);
    const refused = await act(world, cooking.id, 'cancel', customer.accessToken, { reason: 'too slow' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: 'cancellation_not_allowed', currentStatus: 'PREPARING' });
    const byRestaurant = await act(world, cooking.id, 'cancel', owner.accessToken, { reason: 'out of fish' });
    expect(byRestaurant.json()).toMatchObject({
      status: 'CANCELLED',
      refundMinor: cooking.pricing.totalMinor,
    });
  });

  it('declines with a reason; a failed Mobile Money payment ends in PAYMENT_FAILED and returns the stock', async () => {
    const order = (await placeOrder(world, world.actors.customer.accessToken)).json();
    const declined = await act(world, order.id, 'decline', world.actors.owner.accessToken, {
      reason: 'kitchen closed early',
    });
    expect(declined.json()).toMatchObject({
      status: 'REJECTED',
      reason: 'kitchen closed early',
      refundMinor: order.pricing.totalMinor,
    });
    const stockBefore = await stockOf(world.ndoleId);
    const failed = await placeOrder(world, world.actors.customer.accessToken, {
      payment: { kind: 'mobile_money', provider: 'ORANGE', phone: '+237690000000' },
    });
    expect(failed.json().status).toBe('PAYMENT_FAILED');
    expect(await stockOf(world.ndoleId)).toBe(stockBefore);
  });

  it('rejects bad input with a 4xx problem and changes nothing', async () => {
    const stockBefore = await stockOf(world.ndoleId);
    const token = world.actors.customer.accessToken;
    const cases: [Record<string, unknown>, number, string][] = [
      [{ items: [] }, 400, 'validation_failed'],
      [{ tipMinor: -5 }, 400, 'validation_failed'],
      [{ items: [{ itemId: world.ndoleId, quantity: 999 }] }, 400, 'validation_failed'],
      [
        { delivery: { latitude: 5.48, longitude: 10.42, text: 'Bafoussam centre' } },
        422,
        'outside_delivery_radius',
      ],
      [{ couponCode: 'BIENVENUE' }, 422, 'coupon_invalid'],
      [
        { items: [{ itemId: '00000000-0000-4000-8000-000000000000', quantity: 1 }] },
        422,
        'items_unavailable',
      ],
      [{ restaurantId: '00000000-0000-4000-8000-000000000000' }, 404, 'restaurant_not_found'],
      [{ scheduledFor: new Date(Date.now() + 60_000).toISOString() }, 422, 'invalid_schedule'],
    ];
    for (const [overrides, status, code] of cases) {
      const response = await placeOrder(world, token, overrides);
      expect(response.statusCode, JSON.stringify(overrides)).toBe(status);
      expect(response.json().code).toBe(code);
    }
    expect(await stockOf(world.ndoleId)).toBe(stockBefore);
  });

  it("reorders the same items at today's prices", async () => {
    const order = (await placeOrder(world, world.actors.customer.accessToken)).json();
    const again = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/orders/${order.id}/reorder`,
      headers: { ...authHeader(world.actors.customer.accessToken), 'idempotency-key': idempotencyKey() },
      payload: {},
    });
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json().id).not.toBe(order.id);
    expect(
      again.json().lines.map((line: { itemId: string; quantity: number }) => [line.itemId, line.quantity]),
    ).toEqual(order.lines.map((line: { itemId: string; quantity: number }) => [line.itemId, line.quantity]));
    const stranger = await createUser(world.testApp, { roles: ['customer'] });
    const notYours = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/orders/${order.id}/reorder`,
      headers: authHeader(stranger.accessToken),
      payload: {},
    });
    expect(notYours.statusCode).toBe(404);
  });
});
