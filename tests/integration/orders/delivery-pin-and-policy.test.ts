/**
 * The order policy comes from the ORDER_* variables and is captured in each OrderCreated; the
 * delivery PIN lockout (a wrong PIN is an OrderDeliveryPinRejected event, the limit is per order)
 * works over HTTP against PostgreSQL, with a smaller limit configured than the default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.js';
import { orderStream } from '../../../src/modules/orders/index.js';
import { testEnvironment } from '../../helpers/app.js';
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
  world = await orderWorld({
    ORDER_PAYMENT_TIMEOUT_MINUTES: '9',
    ORDER_ACCEPT_TIMEOUT_MINUTES: '7',
    ORDER_DISPUTE_WINDOW_MINUTES: '120',
    ORDER_TRACKING_EXPIRY_MINUTES: '60',
    ORDER_LATE_CANCELLATION_FEE_PERCENT: '0',
    ORDER_DELIVERY_PIN_MAX_ATTEMPTS: '3',
    ORDER_DELIVERY_PIN_LOCK_MINUTES: '20',
    ORDER_PICKUP_CODE_MAX_ATTEMPTS: '3',
    ORDER_PICKUP_CODE_LOCK_MINUTES: '25',
    ORDER_SCHEDULE_MIN_LEAD_MINUTES: '90',
    ORDER_SCHEDULE_MAX_DAYS: '2',
    ORDER_SCHEDULED_RELEASE_MINUTES: '45',
  });
});
afterAll(async () => world?.testApp.close());

/** An order ready at the counter, claimed by `world.driver`, with its pickup code. */
async function readyOrder(): Promise<{ id: string; deliveryPin: string; pickupCode: string }> {
  const { customer, owner } = world.actors;
  const placed = await placeOrder(world, customer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  const { id, deliveryPin } = placed.json() as { id: string; deliveryPin: string };
  const accepted = await act(world, id, 'accept', owner.accessToken, { preparationMinutes: 10 });
  expect(accepted.statusCode, accepted.body).toBe(200);
  for (const [action, token] of [
    ['prepare', owner.accessToken],
    ['claim', world.driver.accessToken],
    ['ready', owner.accessToken],
  ] as const) {
    const moved = await act(world, id, action, token);
    expect(moved.statusCode, moved.body).toBe(200);
  }
  return { id, deliveryPin, pickupCode: accepted.json().pickupCode as string };
}

async function pickedUpOrder(): Promise<{ id: string; deliveryPin: string }> {
  const { customer, owner } = world.actors;
  const placed = await placeOrder(world, customer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  const { id, deliveryPin } = placed.json() as { id: string; deliveryPin: string };
  const accepted = await act(world, id, 'accept', owner.accessToken, { preparationMinutes: 10 });
  expect(accepted.statusCode, accepted.body).toBe(200);
  const pickupCode = accepted.json().pickupCode as string;
  for (const [action, token] of [
    ['prepare', owner.accessToken],
    ['claim', world.driver.accessToken],
    ['ready', owner.accessToken],
  ] as const) {
    const moved = await act(world, id, action, token);
    expect(moved.statusCode, moved.body).toBe(200);
  }
  const pickedUp = await act(world, id, 'pickup', world.driver.accessToken, { pickupCode });
  expect(pickedUp.json().status).toBe('PICKED_UP');
  return { id, deliveryPin };
}

const wrongPin = (pin: string) => (pin === '0000' ? '1111' : '0000');

describe('order policy from configuration', () => {
  it('captures the configured time limits and PIN limit in OrderCreated', async () => {
    const placed = await placeOrder(world, world.actors.customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const events = await world.testApp.services.eventStore.readStream(orderStream(placed.json().id));
    expect(events[0]?.type).toBe('OrderCreated');
    expect((events[0]?.data as { policy: unknown }).policy).toEqual({
      paymentTimeoutMinutes: 9,
      acceptTimeoutMinutes: 7,
      disputeWindowMinutes: 120,
      trackingExpiryMinutes: 60,
      lateCancellationFeePercent: 0,
      deliveryPinMaxAttempts: 3,
      deliveryPinLockMinutes: 20,
      pickupCodeMaxAttempts: 3,
      pickupCodeLockMinutes: 25,
      scheduledReleaseMinutes: 45,
    });
  });

  it('takes scheduled orders only within the configured window, and says which it is', async () => {
    const token = world.actors.customer.accessToken;
    const at = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();
    for (const minutes of [60, 3 * 1_440]) {
      // In English: test users' profiles are French, and problems follow the profile (docs/api.md).
      const refused = await world.testApp.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...authHeader(token), 'idempotency-key': idempotencyKey(), 'accept-language': 'en' },
        payload: orderBody(world, { scheduledFor: at(minutes) }),
      });
      expect(refused.statusCode, refused.body).toBe(422);
      expect(refused.json()).toMatchObject({ code: 'invalid_schedule' });
      expect(refused.json().detail).toContain('90 minutes to 2 days ahead');
    }
    // Within the window the order is taken (or refused only for the restaurant's hours then).
    const inside = await placeOrder(world, token, { scheduledFor: at(120) });
    expect(inside.json().code).not.toBe('invalid_schedule');
  });

  it('a scheduled order is not rejected as unanswered before its release; an order for now is', async () => {
    const token = world.actors.customer.accessToken;
    const scheduledFor = new Date(Date.now() + 5 * 60 * 60_000);
    const later = await placeOrder(world, token, { scheduledFor: scheduledFor.toISOString() });
    expect(later.statusCode, later.body).toBe(201);
    expect(later.json().status).toBe('PLACED');
    const now = await placeOrder(world, token);
    expect(now.json().status).toBe('PLACED');
    await world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);
    const { orders } = world.testApp.services.orders;

    // 8 minutes on (accept timeout 7): the order for now is rejected, the one for later waits;
    // the sweeper's query does not even offer it (it would otherwise fill every sweep until then).
    const due = await world.testApp.services.orders.repository.due(
      'PLACED',
      new Date(Date.now() + 60_000),
      45,
    );
    expect(due).toContain(now.json().id);
    expect(due).not.toContain(later.json().id);
    await orders.sweep(new Date(Date.now() + 8 * 60_000));
    expect((await orders.load(now.json().id)).state.status).toBe('REJECTED');
    expect((await orders.load(later.json().id)).state.status).toBe('PLACED');
    // Released 45 minutes before its time, unanswered 7 minutes after that: rejected and refunded.
    await orders.sweep(new Date(scheduledFor.getTime() - 39 * 60_000));
    expect((await orders.load(later.json().id)).state.status).toBe('PLACED');
    await orders.sweep(new Date(scheduledFor.getTime() - 37 * 60_000));
    const rejected = await orders.load(later.json().id);
    expect(rejected.state.status).toBe('REJECTED');
    expect(rejected.state.refundMinor).toBe(BigInt(later.json().pricing.totalMinor));
  });

  it('refuses an out-of-range value at start with the variable named', () => {
    expect(() => loadConfig(testEnvironment({ ORDER_LATE_CANCELLATION_FEE_PERCENT: '150' }))).toThrowError(
      /ORDER_LATE_CANCELLATION_FEE_PERCENT="?150"? is invalid/,
    );
    expect(() => loadConfig(testEnvironment({ ORDER_DELIVERY_PIN_MAX_ATTEMPTS: '0' }))).toThrowError(
      /ORDER_DELIVERY_PIN_MAX_ATTEMPTS="?0"? is invalid/,
    );
  });
});

describe('delivery PIN lockout over HTTP', () => {
  it('records each wrong PIN, says how many tries are left, then refuses even the right PIN with 429', async () => {
    const { id, deliveryPin } = await pickedUpOrder();
    const driver = world.driver.accessToken;

    const first = await act(world, id, 'deliver', driver, { deliveryPin: wrongPin(deliveryPin) });
    expect(first.statusCode).toBe(422);
    expect(first.headers['content-type']).toContain('application/problem+json');
    expect(first.json()).toMatchObject({
      code: 'invalid_delivery_pin',
      attemptsLeft: 2,
      currentStatus: 'PICKED_UP',
    });
    const second = await act(world, id, 'deliver', driver, { deliveryPin: wrongPin(deliveryPin) });
    expect(second.json()).toMatchObject({ code: 'invalid_delivery_pin', attemptsLeft: 1 });
    const third = await act(world, id, 'deliver', driver, { deliveryPin: wrongPin(deliveryPin) });
    expect(third.json()).toMatchObject({ code: 'invalid_delivery_pin', attemptsLeft: 0 });

    const locked = await act(world, id, 'deliver', driver, { deliveryPin });
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ code: 'delivery_pin_locked', currentStatus: 'PICKED_UP' });
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(19 * 60);
    expect(retryAfter).toBeLessThanOrEqual(20 * 60);
    expect(Date.parse(locked.json().lockedUntil)).toBeGreaterThan(Date.now() + 19 * 60_000);

    // The stream keeps the three attempts (a dispute can read who tried when); the order is unmoved.
    const events = await world.testApp.services.eventStore.readStream(orderStream(id));
    const rejected = events.filter((event) => event.type === 'OrderDeliveryPinRejected');
    expect(rejected).toHaveLength(3);
    expect(
      rejected.every((event) => (event.data as { driverId: string }).driverId === world.driver.userId),
    ).toBe(true);
    expect(events.some((event) => event.type === 'OrderDelivered')).toBe(false);
    const seen = await getOrder(world, id, world.actors.customer.accessToken);
    expect(seen.json().status).toBe('PICKED_UP');
    // The customer and support see when wrong PINs were given; the driver and restaurant do not.
    expect(seen.json().wrongDeliveryPinsAt).toEqual(
      rejected.map((event) => (event.data as { at: string }).at),
    );
    const bySupport = await getOrder(world, id, world.support.accessToken);
    expect(bySupport.json().wrongDeliveryPinsAt).toHaveLength(3);
    // Support sees what a ticket needs, not what moves the order: no PIN, pickup code or tracking
    // link, the street hidden; each such read is audited.
    expect(seen.json().deliveryPin).toMatch(/^\d+$/);
    expect(bySupport.json()).not.toHaveProperty('deliveryPin');
    expect(bySupport.json()).not.toHaveProperty('pickupCode');
    expect(bySupport.json()).not.toHaveProperty('trackingUrl');
    expect(bySupport.json().delivery.text).toMatch(/^•••/);
    expect(bySupport.json().delivery).not.toHaveProperty('latitude');
    const audited = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select(['actor_id', 'subject_user_id'])
      .where('action', '=', 'order.viewed_by_support')
      .where('resource', '=', `order:${id}`)
      .execute();
    expect(audited).toEqual([
      { actor_id: world.support.userId, subject_user_id: world.actors.customer.userId },
    ]);
    expect((await getOrder(world, id, world.driver.accessToken)).json().wrongDeliveryPinsAt).toBeUndefined();
    expect(
      (await getOrder(world, id, world.actors.owner.accessToken)).json().wrongDeliveryPinsAt,
    ).toBeUndefined();
  });

  it('lets the right PIN through before the limit, and another driver cannot use up the tries', async () => {
    const { id, deliveryPin } = await pickedUpOrder();
    const stranger = await act(world, id, 'deliver', world.otherDriver.accessToken, {
      deliveryPin: wrongPin(deliveryPin),
    });
    expect(stranger.statusCode).toBe(404); // the order is not the other driver's to see
    const wrong = await act(world, id, 'deliver', world.driver.accessToken, {
      deliveryPin: wrongPin(deliveryPin),
    });
    expect(wrong.json()).toMatchObject({ code: 'invalid_delivery_pin', attemptsLeft: 2 });
    const delivered = await act(world, id, 'deliver', world.driver.accessToken, { deliveryPin });
    expect(delivered.statusCode, delivered.body).toBe(200);
    expect(delivered.json().status).toBe('DELIVERED');
  });
});

describe('pickup code lockout over HTTP', () => {
  it('records each wrong code, says how many tries are left, then refuses even the right code with 429', async () => {
    const { id, pickupCode } = await readyOrder();
    const driver = world.driver.accessToken;

    const first = await act(world, id, 'pickup', driver, { pickupCode: wrongPin(pickupCode) });
    expect(first.statusCode).toBe(422);
    expect(first.headers['content-type']).toContain('application/problem+json');
    expect(first.json()).toMatchObject({
      code: 'invalid_pickup_code',
      attemptsLeft: 2,
      currentStatus: 'READY_FOR_PICKUP',
    });
    const second = await act(world, id, 'pickup', driver, { pickupCode: wrongPin(pickupCode) });
    expect(second.json()).toMatchObject({ code: 'invalid_pickup_code', attemptsLeft: 1 });
    const third = await act(world, id, 'pickup', driver, { pickupCode: wrongPin(pickupCode) });
    expect(third.json()).toMatchObject({ code: 'invalid_pickup_code', attemptsLeft: 0 });

    const locked = await act(world, id, 'pickup', driver, { pickupCode });
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ code: 'pickup_code_locked', currentStatus: 'READY_FOR_PICKUP' });
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(24 * 60);
    expect(retryAfter).toBeLessThanOrEqual(25 * 60);
    expect(Date.parse(locked.json().lockedUntil)).toBeGreaterThan(Date.now() + 24 * 60_000);

    const events = await world.testApp.services.eventStore.readStream(orderStream(id));
    const rejected = events.filter((event) => event.type === 'OrderPickupCodeRejected');
    expect(rejected).toHaveLength(3);
    expect(
      rejected.every((event) => (event.data as { driverId: string }).driverId === world.driver.userId),
    ).toBe(true);
    expect(events.some((event) => event.type === 'OrderPickedUp')).toBe(false);
    // The restaurant and staff see when wrong codes were given; the customer and the driver do not.
    const byOwner = await getOrder(world, id, world.actors.owner.accessToken);
    expect(byOwner.json().status).toBe('READY_FOR_PICKUP');
    expect(byOwner.json().wrongPickupCodesAt).toEqual(
      rejected.map((event) => (event.data as { at: string }).at),
    );
    expect((await getOrder(world, id, world.support.accessToken)).json().wrongPickupCodesAt).toHaveLength(3);
    expect((await getOrder(world, id, world.driver.accessToken)).json().wrongPickupCodesAt).toBeUndefined();
    expect(
      (await getOrder(world, id, world.actors.customer.accessToken)).json().wrongPickupCodesAt,
    ).toBeUndefined();
  });

  it('lets the right code through before the limit, and another driver cannot use up the tries', async () => {
    const { id, pickupCode } = await readyOrder();
    const stranger = await act(world, id, 'pickup', world.otherDriver.accessToken, {
      pickupCode: wrongPin(pickupCode),
    });
    expect(stranger.statusCode).toBe(404); // the order is not the other driver's to see
    const wrong = await act(world, id, 'pickup', world.driver.accessToken, {
      pickupCode: wrongPin(pickupCode),
    });
    expect(wrong.json()).toMatchObject({ code: 'invalid_pickup_code', attemptsLeft: 2 });
    const pickedUp = await act(world, id, 'pickup', world.driver.accessToken, { pickupCode });
    expect(pickedUp.statusCode, pickedUp.body).toBe(200);
    expect(pickedUp.json().status).toBe('PICKED_UP');
  });
});
