import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { act, NEAR, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { until } from '../payments/helpers.js';

/**
 * Promotion abuse and collusion (docs/admin.md "Promotion abuse and collusion"), from real orders:
 * three accounts redeeming one coupon at one delivery point, or from one payment phone, open a
 * case, three at three places or phones do not; three orders between one driver and one customer
 * disputed or failed at delivery open a collusion case naming both, the same troubles spread over
 * two drivers do not.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld({
    FRAUD_COUPON_ACCOUNTS_PER_PHONE: '3',
    FRAUD_COUPON_ACCOUNTS_PER_ADDRESS: '3',
    FRAUD_COLLUSION_COUNT: '3',
    FRAUD_ORDERS_PER_ACCOUNT: '100',
    FRAUD_CANCELS_PER_ACCOUNT: '100',
    FRAUD_ACCOUNTS_PER_PHONE: '100',
    FRAUD_RATE_MIN_COUNT: '100',
  });
}, 120_000);
afterAll(async () => world?.testApp.close());

const db = () => world.testApp.services.db;
let codes = 0;

async function coupon(): Promise<{ id: string; code: string }> {
  const response = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/coupons',
    headers: authHeader(world.actors.admin.accessToken),
    payload: {
      code: `ABUSE${process.pid}X${(codes += 1)}`,
      kind: 'percent',
      percent: '10',
      maxDiscountMinor: 1_000,
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 86_400_000).toISOString(),
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

const customers = (count: number) =>
  Promise.all(Array.from({ length: count }, () => createUser(world.testApp, { roles: ['customer'] })));

async function placed(customer: CreatedUser, overrides: Record<string, unknown> = {}) {
  const response = await placeOrder(world, customer.accessToken, overrides);
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { id: string; deliveryPin: string };
}

/** About 110 m apart per step: another building, still within the restaurant's radius. */
const point = (step: number) => ({ ...NEAR, latitude: NEAR.latitude + step * 0.001 });

const casesFor = (rule: string, userIds: string[]) =>
  db()
    .selectFrom('admin_fraud_cases')
    .select(['rule', 'subject', 'user_id', 'related_user_id', 'signals', 'reason', 'score'])
    .where('rule', '=', rule)
    .where((eb) => eb.or([eb('user_id', 'in', userIds), eb('related_user_id', 'in', userIds)]))
    .execute();

const signalsFor = async (rule: string, userIds: string[]) =>
  Number(
    (
      await sql<{ n: string }>`SELECT count(*) AS n FROM admin_fraud_signals
        WHERE ${rule} = ANY(rules) AND user_id = ANY(${userIds}::uuid[])`.execute(db())
    ).rows[0]!.n,
  );

describe('promotion abuse', () => {
  it('three accounts redeeming one coupon at one delivery point open a case; at three points, none', async () => {
    const shared = await coupon();
    const ring = await customers(3);
    for (const customer of ring) await placed(customer, { couponCode: shared.code, delivery: NEAR });
    const [opened] = await until(
      () =>
        casesFor(
          'coupon_accounts_per_address',
          ring.map((c) => c.userId),
        ),
      (rows) => rows.length === 1,
      30_000,
    );
    expect(opened!.subject).toMatch(new RegExp(`^coupon:${shared.id}:address:`));
    expect(opened!.subject).not.toContain(String(NEAR.latitude));
    expect(opened).toMatchObject({ signals: 3, user_id: ring[2]!.userId, score: 50 });
    expect(opened!.reason).toBe(
      '3 accounts redeeming one coupon at one delivery point within 30 days (threshold 3)',
    );

    const spread = await coupon();
    const neighbours = await customers(3);
    for (const [index, customer] of neighbours.entries())
      await placed(customer, { couponCode: spread.code, delivery: point(index + 1) });
    const ids = neighbours.map((c) => c.userId);
    await until(
      () => signalsFor('coupon_accounts_per_address', ids),
      (count) => count === 3,
      30_000,
    );
    expect(await casesFor('coupon_accounts_per_address', ids)).toEqual([]);
  });

  it('three accounts redeeming one coupon from one payment phone open a case; from three phones, none', async () => {
    const mobileMoney = (phone: string) => ({ kind: 'mobile_money', provider: 'MTN', phone });
    const shared = await coupon();
    const ring = await customers(3);
    for (const [index, customer] of ring.entries())
      await placed(customer, {
        couponCode: shared.code,
        delivery: point(index + 1),
        payment: mobileMoney('+237670009911'),
      });
    const [opened] = await until(
      () =>
        casesFor(
          'coupon_accounts_per_phone',
          ring.map((c) => c.userId),
        ),
      (rows) => rows.length === 1,
      30_000,
    );
    expect(opened!.subject).toMatch(new RegExp(`^coupon:${shared.id}:phone:`));
    expect(opened!.subject).not.toContain('670009911');
    expect(opened).toMatchObject({ signals: 3, user_id: ring[2]!.userId });

    const spread = await coupon();
    const strangers = await customers(3);
    for (const [index, customer] of strangers.entries())
      await placed(customer, {
        couponCode: spread.code,
        delivery: point(index + 4),
        payment: mobileMoney(`+23767000992${index}`),
      });
    const ids = strangers.map((c) => c.userId);
    await until(
      () => signalsFor('coupon_accounts_per_phone', ids),
      (count) => count === 3,
      30_000,
    );
    expect(await casesFor('coupon_accounts_per_phone', ids)).toEqual([]);
  });
});

/** Placed, taken to the door by `driver`, then disputed by its customer or failed at delivery. */
async function troubled(customer: CreatedUser, driver: CreatedUser, how: 'dispute' | 'failed') {
  const order = await placed(customer);
  const { owner } = world.actors;
  const step = async (action: string, token: string, payload: Record<string, unknown> = {}) => {
    const response = await act(world, order.id, action, token, payload);
    expect(response.statusCode, `${action}: ${response.body}`).toBe(200);
    return response.json();
  };
  const { pickupCode } = await step('accept', owner.accessToken, { preparationMinutes: 10 });
  await step('prepare', owner.accessToken);
  await step('claim', driver.accessToken);
  await step('ready', owner.accessToken);
  await step('pickup', driver.accessToken, { pickupCode });
  if (how === 'failed') {
    await step('delivery-failed', world.support.accessToken, { reason: 'customer not reachable' });
    return;
  }
  await step('deliver', driver.accessToken, { deliveryPin: order.deliveryPin });
  await step('dispute', customer.accessToken, { reason: 'nothing arrived' });
}

describe('collusion between a driver and a customer', () => {
  it('three troubled orders between one driver and one customer open a case naming both', async () => {
    const [customer] = await customers(1);
    await troubled(customer!, world.driver, 'dispute');
    await troubled(customer!, world.driver, 'dispute');
    await troubled(customer!, world.driver, 'failed');
    const [opened] = await until(
      () => casesFor('driver_customer_collusion', [customer!.userId]),
      (rows) => rows.length === 1,
      60_000,
    );
    expect(opened).toMatchObject({
      user_id: world.driver.userId,
      related_user_id: customer!.userId,
      signals: 3,
      reason:
        '3 disputed or failed deliveries between one driver and one customer within 30 days (threshold 3)',
    });
    expect(opened!.subject).toMatch(/^pair:/);
    expect(opened!.subject).not.toContain(customer!.userId);
    expect(opened!.subject).not.toContain(world.driver.userId);
    // Admins read the customer beside the driver.
    const listed = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/fraud/cases?status=open&limit=100',
      headers: authHeader(world.actors.admin.accessToken),
    });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items).toContainEqual(
      expect.objectContaining({
        rule: 'driver_customer_collusion',
        userId: world.driver.userId,
        relatedUserId: customer!.userId,
      }),
    );
    // The customer's data: the case is in their export; erased, it no longer names them.
    const fraud = world.testApp.services.admin.fraud;
    expect((await fraud.personalData.export(customer!.userId)).fraudCases).toContainEqual(
      expect.objectContaining({ rule: 'driver_customer_collusion' }),
    );
    await fraud.personalData.erase(customer!.userId);
    const [erased] = await casesFor('driver_customer_collusion', [world.driver.userId]);
    expect(erased).toMatchObject({ user_id: world.driver.userId, related_user_id: null });
  });

  it('three disputes over two drivers open none', async () => {
    const [customer] = await customers(1);
    await troubled(customer!, world.driver, 'dispute');
    await troubled(customer!, world.driver, 'dispute');
    await troubled(customer!, world.otherDriver, 'dispute');
    // Each dispute is a signal of the customer's; the reactor has judged all three.
    await until(
      () => signalsFor('driver_customer_collusion', [customer!.userId]),
      (count) => count === 3,
      60_000,
    );
    expect(await casesFor('driver_customer_collusion', [customer!.userId])).toEqual([]);
  });
});
