import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliveryExpenseId, driverPayableId, orderEscrowId } from '../../../ledger/rules/index.js';
import { authHeader, createUser, withStepUp } from '../../helpers/auth.js';
import { fundedCustomer, loyaltyWorld, until } from '../loyalty/helpers.js';
import { INCENTIVES_QUEUE, previousDoualaDay } from '../../../src/modules/dispatch/earnings-schedule.js';
import { act, NEAR, placeOrder, RESTAURANT_AT, type OrderWorld } from '../orders/helpers.js';

/**
 * Earnings on the real ledger: a delivered order books the driver fee and tip (payments), the
 * driver's trail gives the distance, administrators set incentive rules and settle a period
 * (fuel per km, peak hours, a challenge), each a transfer from the delivery expense; the driver's
 * `GET /v1/drivers/me/earnings` reads it all from the ledger's statement. A second settlement
 * books nothing; bad input is refused and changes nothing.
 */
let world: OrderWorld;
let adminToken: string;

beforeAll(async () => {
  world = await loyaltyWorld({ DISPATCH_LOCATION_MIN_INTERVAL_MS: '1' });
  adminToken = await withStepUp(world.testApp, world.actors.admin);
}, 120_000);
afterAll(async () => {
  await world?.testApp.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inject = (method: 'GET' | 'PUT' | 'POST', url: string, token: string, payload?: object, headers = {}) =>
  world.testApp.app.inject({
    method,
    url,
    headers: { ...authHeader(token), ...headers },
    ...(payload === undefined ? {} : { payload }),
  });

/** Delivered with a trail of three fixes from the restaurant towards the customer (~1.2 km). */
async function deliveredWithTrail(customerToken: string, driver = world.driver) {
  const placed = await placeOrder(world, customerToken, {
    items: [{ itemId: world.ndoleId, quantity: 1 }],
    tipMinor: 100,
  });
  expect(placed.statusCode, placed.body).toBe(201);
  const order = placed.json();
  const accepted = await act(world, order.id, 'accept', world.actors.owner.accessToken, {
    preparationMinutes: 10,
  });
  await act(world, order.id, 'prepare', world.actors.owner.accessToken);
  expect((await act(world, order.id, 'claim', driver.accessToken)).statusCode).toBe(200);
  await act(world, order.id, 'ready', world.actors.owner.accessToken);
  await act(world, order.id, 'pickup', driver.accessToken, { pickupCode: accepted.json().pickupCode });
  await world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);
  expect(
    (await inject('PUT', '/v1/drivers/me/availability', driver.accessToken, { online: true })).statusCode,
  ).toBe(200);
  const points = [
    RESTAURANT_AT,
    { latitude: 4.0561, longitude: 9.7699 },
    { latitude: NEAR.latitude, longitude: NEAR.longitude },
  ];
  for (const [index, point] of points.entries()) {
    const fix = await inject('PUT', '/v1/drivers/me/location', driver.accessToken, {
      ...point,
      accuracyMeters: 10,
      recordedAt: new Date(Date.now() - (points.length - index) * 20_000).toISOString(),
    });
    expect(fix.statusCode, fix.body).toBe(200);
    await sleep(5);
  }
  const delivered = await act(world, order.id, 'deliver', driver.accessToken, {
    deliveryPin: order.deliveryPin,
  });
  expect(delivered.statusCode, delivered.body).toBe(200);
  await until(
    () => world.testApp.services.ledger.account(orderEscrowId(order.id, 'XAF')),
    (account) => account?.closed === true,
  );
  return order as { id: string };
}

const balanceOf = async (id: string) => {
  const account = await world.testApp.services.ledger.account(id);
  return { debits: account?.debitsPosted ?? 0n, credits: account?.creditsPosted ?? 0n };
};

describe('driver earnings from the ledger', () => {
  it('per delivery and per period, with fuel, peak-hour and challenge incentives booked once', async () => {
    const customer = await fundedCustomer(world);
    const order = await deliveredWithTrail(customer.accessToken);
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date(Date.now() + 3_600_000).toISOString();
    const earningsUrl = `/v1/drivers/me/earnings?period=day&from=${from}&to=${to}`;
    const before = await until(
      async () => (await inject('GET', earningsUrl, world.driver.accessToken)).json(),
      (body) => body.deliveries?.length === 1,
    );
    expect(before.deliveries[0]).toMatchObject({ orderId: order.id, tipMinor: 100, incentivesMinor: 0 });
    const fee = before.deliveries[0].feeMinor as number;
    expect(fee).toBeGreaterThan(0);
    expect(before.totals).toEqual({
      feesMinor: fee,
      tipsMinor: 100,
      incentivesMinor: 0,
      totalMinor: fee + 100,
    });
    expect(before.buckets).toEqual([expect.objectContaining({ deliveries: 1, totalMinor: fee + 100 })]);

    // Rules: 100 XAF per km, 250 XAF per delivery at any hour of any day, 1,000 XAF for one delivery.
    const rules = [
      { kind: 'fuel_per_km', name: 'Carburant', amountMinor: 100 },
      {
        kind: 'peak_hour',
        name: 'Toujours',
        amountMinor: 250,
        weekdays: [0, 1, 2, 3, 4, 5, 6],
        startHour: 0,
        endHour: 24,
      },
      { kind: 'bonus_challenge', name: 'Première course', amountMinor: 1_000, target: 1, from, to },
    ];
    for (const rule of rules) {
      const created = await inject('POST', '/v1/admin/drivers/incentive-rules', adminToken, rule, {
        'idempotency-key': `rule-${rule.kind}-1`,
      });
      expect(created.statusCode, created.body).toBe(201);
      // A retried creation is the same rule.
      const again = await inject('POST', '/v1/admin/drivers/incentive-rules', adminToken, rule, {
        'idempotency-key': `rule-${rule.kind}-1`,
      });
      expect(again.json().id).toBe(created.json().id);
    }
    expect(
      (await inject('GET', '/v1/admin/drivers/incentive-rules?active=true', adminToken)).json().items,
    ).toHaveLength(3);

    const expense = await balanceOf(deliveryExpenseId('XAF'));
    const payable = await balanceOf(driverPayableId(world.driver.userId, 'XAF'));
    const settled = await inject('POST', '/v1/admin/drivers/incentives/settle', adminToken, { from, to });
    expect(settled.statusCode, settled.body).toBe(200);
    expect(settled.json()).toMatchObject({ transfers: 3, booked: 3, alreadyBooked: 0, refused: 0 });
    const bookedMinor = settled.json().bookedMinor as number;
    // Fuel: the trail is about 1.2 km, so 100-140 XAF; plus 250 and 1,000.
    expect(bookedMinor).toBeGreaterThan(1_250 + 90);
    expect(bookedMinor).toBeLessThan(1_250 + 150);
    // Nothing created or lost: what left the delivery expense is what the driver received.
    const expenseAfter = await balanceOf(deliveryExpenseId('XAF'));
    const payableAfter = await balanceOf(driverPayableId(world.driver.userId, 'XAF'));
    expect(expenseAfter.debits - expense.debits).toBe(BigInt(bookedMinor));
    expect(payableAfter.credits - payable.credits).toBe(BigInt(bookedMinor));

    // Settling again books nothing.
    const twice = await inject('POST', '/v1/admin/drivers/incentives/settle', adminToken, { from, to });
    expect(twice.json()).toMatchObject({ transfers: 3, booked: 0, alreadyBooked: 3, bookedMinor: 0 });
    expect(await balanceOf(deliveryExpenseId('XAF'))).toEqual(expenseAfter);

    const after = await until(
      async () => (await inject('GET', earningsUrl, world.driver.accessToken)).json(),
      (body) => body.totals?.incentivesMinor === bookedMinor,
    );
    expect(after.deliveries[0].incentivesMinor).toBe(bookedMinor - 1_000);
    expect(after.otherIncentives).toEqual([
      expect.objectContaining({ incentive: 'bonus_challenge', amountMinor: 1_000 }),
    ]);
    expect(after.totals.totalMinor).toBe(fee + 100 + bookedMinor);
    const monthly = (
      await inject('GET', earningsUrl.replace('period=day', 'period=month'), world.driver.accessToken)
    ).json();
    expect(monthly.totals).toEqual(after.totals);

    // Performance: the delivery counts as a success; a claim by hand was no offer and made no
    // promise, so the rates have nothing to divide; nobody rated or complained about it.
    const performanceUrl = `performance?from=${from}&to=${to}`;
    const mine = await inject('GET', `/v1/drivers/me/${performanceUrl}`, world.driver.accessToken);
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json()).toMatchObject({
      deliveries: 1,
      failedDeliveries: 0,
      successRate: 1,
      acceptanceRate: null,
      onTimeRate: null,
    });
    expect(mine.json()).toMatchObject({
      ratingTrend: { current: { count: 0 }, previous: { count: 0 }, change: null },
      complaints: { orders: 0, rate: 0, byCategory: {} },
    });
    const staffView = await inject(
      'GET',
      `/v1/admin/drivers/${world.driver.userId}/${performanceUrl}`,
      world.support.accessToken,
    );
    expect(staffView.json()).toEqual(mine.json());
    expect(
      (
        await inject(
          'GET',
          `/v1/admin/drivers/${world.driver.userId}/${performanceUrl}`,
          world.otherDriver.accessToken,
        )
      ).statusCode,
    ).toBe(403);

    // Another driver sees none of it.
    const other = (await inject('GET', earningsUrl, world.otherDriver.accessToken)).json();
    expect(other.totals.totalMinor).toBe(0);
  });

  it('refuses bad periods, wrong roles and bad rules, changing nothing', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const backwards = await inject(
      'GET',
      `/v1/drivers/me/earnings?from=${iso(now)}&to=${iso(now - 1)}`,
      world.driver.accessToken,
    );
    expect(backwards.statusCode).toBe(422);
    expect(backwards.json().code).toBe('invalid_period');
    const tooLong = await inject(
      'GET',
      `/v1/drivers/me/earnings?from=${iso(now - 200 * 86_400_000)}&to=${iso(now)}`,
      world.driver.accessToken,
    );
    expect(tooLong.json().code).toBe('invalid_period');
    expect(
      (await inject('GET', `/v1/drivers/me/earnings?from=x&to=y`, world.driver.accessToken)).statusCode,
    ).toBe(400);
    expect(
      (
        await inject(
          'GET',
          `/v1/drivers/me/earnings?from=${iso(now - 1)}&to=${iso(now)}`,
          customer.accessToken,
        )
      ).statusCode,
    ).toBe(403);

    const rulesBefore = (
      await inject('GET', '/v1/admin/drivers/incentive-rules?limit=100', adminToken)
    ).json().items.length;
    const bad: [object, number][] = [
      [{ kind: 'peak_hour', name: 'x', amountMinor: 100 }, 400],
      [{ kind: 'peak_hour', name: 'x', amountMinor: 100, weekdays: [1], startHour: 20, endHour: 18 }, 400],
      [{ kind: 'bonus_challenge', name: 'x', amountMinor: 100, target: 3 }, 400],
      [{ kind: 'fuel_per_km', name: 'x', amountMinor: -5 }, 400],
      [{ kind: 'fuel_per_km', name: 'x', amountMinor: null }, 400],
      [{ kind: 'fuel_per_km', name: 'x\u0000', amountMinor: 5 }, 400],
      [{ kind: 'fuel_per_km', name: 'x'.repeat(5_000), amountMinor: 5 }, 400],
    ];
    for (const [body, status] of bad)
      expect((await inject('POST', '/v1/admin/drivers/incentive-rules', adminToken, body)).statusCode).toBe(
        status,
      );
    // Only finance administrators with a fresh second factor set rules or settle.
    expect(
      (
        await inject('POST', '/v1/admin/drivers/incentive-rules', world.driver.accessToken, {
          kind: 'fuel_per_km',
          name: 'x',
          amountMinor: 5,
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await inject('POST', '/v1/admin/drivers/incentives/settle', world.support.accessToken, {
          from: iso(now - 1),
          to: iso(now),
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (await inject('GET', '/v1/admin/drivers/incentive-rules?limit=100', adminToken)).json().items,
    ).toHaveLength(rulesBefore);
    const missing = await inject(
      'POST',
      `/v1/admin/drivers/incentive-rules/${crypto.randomUUID()}/deactivate`,
      adminToken,
    );
    expect(missing.json().code).toBe('incentive_rule_not_found');
  });
});

describe('the nightly settlement', () => {
  it("settles the day's incentives from a scheduled job: one run per day across instances, idempotent by period", async () => {
    const customer = await fundedCustomer(world);
    // Another driver: their own trail, whatever the first test's fixes were.
    const driver = world.otherDriver;
    const order = await deliveredWithTrail(customer.accessToken, driver);
    const created = await inject(
      'POST',
      '/v1/admin/drivers/incentive-rules',
      adminToken,
      { kind: 'fuel_per_km', name: 'Carburant nuit', amountMinor: 50 },
      { 'idempotency-key': `rule-nightly-${order.id}` },
    );
    expect(created.statusCode, created.body).toBe(201);
    // The tick after the Douala midnight that ends today settles today.
    const today = previousDoualaDay(new Date(Date.now() + 86_400_000));
    expect(today.from.getTime()).toBeLessThanOrEqual(Date.now());
    const tick = new Date(today.to.getTime() + 90 * 60_000);
    const { incentivesSchedule } = world.testApp.services.dispatch;
    expect(incentivesSchedule.cron).toBe('30 1 * * *');
    const payable = await balanceOf(driverPayableId(driver.userId, 'XAF'));
    // Two instances tick at once: one job (its id names the day).
    await Promise.all([incentivesSchedule.run(tick), incentivesSchedule.run(tick)]);
    await world.testApp.services.jobs.queue.drain(INCENTIVES_QUEUE, 30_000);
    const resource = `driver_incentives:${today.from.toISOString()}/${today.to.toISOString()}`;
    const audits = () =>
      world.testApp.services.db
        .selectFrom('audit_logs')
        .select(['action'])
        .where('resource', '=', resource)
        .execute();
    await until(audits, (rows) => rows.length >= 1);
    expect(await audits()).toEqual([{ action: 'driver_incentives.settled' }]);
    const paid = await balanceOf(driverPayableId(driver.userId, 'XAF'));
    // This delivery's fuel (about 1.2 km at 50 + 100 XAF per km) and peak bonus reached the driver.
    expect(paid.credits - payable.credits).toBeGreaterThan(250n);
    const earningsUrl = `/v1/drivers/me/earnings?period=day&from=${today.from.toISOString()}&to=${today.to.toISOString()}`;
    const mine = await until(
      async () => (await inject('GET', earningsUrl, driver.accessToken)).json(),
      (body) =>
        (body.deliveries as { orderId: string; incentivesMinor: number }[] | undefined)?.some(
          (delivery) => delivery.orderId === order.id && delivery.incentivesMinor > 0,
        ) === true,
    );
    expect(mine.deliveries).toHaveLength(1);

    // The same period again (a retry an hour later, a new job id): nothing more moves.
    await world.testApp.services.dispatch.earnings.settle(today.from, today.to, { kind: 'system' });
    expect(await balanceOf(driverPayableId(driver.userId, 'XAF'))).toEqual(paid);
  });
});
