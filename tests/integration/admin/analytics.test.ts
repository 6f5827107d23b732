/**
 * Order analytics (docs/admin.md "Analytics"): real orders placed, delivered and cancelled through
 * the API are counted by the `admin_analytics` projection and reported by day, restaurant and city
 * (Douala's box from the catalog); revenue is the delivered orders' totals. Pages follow a cursor,
 * the CSV streams every group across pages with hostile names escaped; bad periods and other roles
 * are refused with a problem. Real PostgreSQL, Redis, ledger and payment simulators.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, worldId } from '../../../ledger/rules/index.js';
import { insightsProjection } from '../../../src/modules/admin/insights.js';
import { ORDER_STREAM_PREFIX } from '../../../src/modules/orders/index.js';
import { authHeader } from '../../helpers/auth.js';
import { act, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { listeningPaymentsWorld, until } from '../payments/helpers.js';

let world: OrderWorld;
let delivered: { id: string; totalMinor: number };
const today = new Date(Date.now() + 3_600_000).toISOString().slice(0, 10); // Douala is UTC+1
const yesterday = new Date(Date.now() + 3_600_000 - 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  world = await listeningPaymentsWorld();
  const { customer, owner } = world.actors;
  await world.testApp.services.ledger.submit([
    {
      id: `fund:${customer.userId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: customerWalletId(customer.userId, 'XAF'),
      amountMinor: 100_000n,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  const orders: { id: string; deliveryPin: string; pricing: { totalMinor: number } }[] = [];
  for (let i = 0; i < 3; i += 1) {
    const placed = await placeOrder(world, customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    orders.push(placed.json());
  }
  const step = async (
    orderId: string,
    action: string,
    token: string,
    payload: Record<string, unknown> = {},
  ) => {
    const response = await act(world, orderId, action, token, payload);
    expect(response.statusCode, `${action}: ${response.body}`).toBe(200);
    return response.json();
  };
  const first = orders[0]!;
  const { pickupCode } = await step(first.id, 'accept', owner.accessToken, { preparationMinutes: 10 });
  await step(first.id, 'prepare', owner.accessToken);
  await step(first.id, 'claim', world.driver.accessToken);
  await step(first.id, 'ready', owner.accessToken);
  await step(first.id, 'pickup', world.driver.accessToken, { pickupCode });
  await step(first.id, 'deliver', world.driver.accessToken, { deliveryPin: first.deliveryPin });
  await step(orders[1]!.id, 'cancel', customer.accessToken, { reason: 'changed my mind' });
  delivered = { id: first.id, totalMinor: first.pricing.totalMinor };
}, 180_000);
afterAll(async () => world?.testApp.close());

const admin = () => authHeader(world.actors.admin.accessToken);
const report = (query: string, headers = admin()) =>
  world.testApp.app.inject({ method: 'GET', url: `/v1/admin/analytics/orders?${query}`, headers });

describe('order analytics', () => {
  it('counts the orders of the day, by day, restaurant and city; revenue is what was delivered', async () => {
    const expected = {
      orders: 3,
      delivered: 1,
      cancelled: 1,
      grossMinor: delivered.totalMinor,
      averageBasketMinor: delivered.totalMinor,
    };
    const byDay = await until(
      async () => (await report(`groupBy=day&from=${yesterday}&to=${today}`)).json(),
      (body: {
        items: { key: string; delivered: number; cancelled: number; paid: number; grossMinor: number }[];
      }) => body.items.some((row) => row.key === today && row.delivered === 1 && row.cancelled === 1),
      30_000,
    );
    expect(byDay.items).toEqual([expect.objectContaining({ key: today, label: today, ...expected })]);
    expect(byDay.items[0]!.paid).toBeGreaterThanOrEqual(2);
    expect(byDay.items[0]!.grossMinor).toBeGreaterThan(0);

    const byRestaurant = (await report(`groupBy=restaurant&from=${today}&to=${today}`)).json();
    expect(byRestaurant.items).toEqual([expect.objectContaining({ key: world.restaurantId, ...expected })]);
    expect(typeof byRestaurant.items[0].label).toBe('string');

    const byCity = (await report(`groupBy=city&from=${today}&to=${today}`)).json();
    expect(byCity.items).toEqual([expect.objectContaining({ key: 'douala', label: 'Douala', ...expected })]);

    const before = (await report(`groupBy=day&from=2020-01-01&to=2020-01-31`)).json();
    expect(before).toEqual({ items: [], nextCursor: null });
  });

  it('pages follow the cursor, and the CSV streams every group across its pages with hostile names escaped', async () => {
    // 700 restaurants' past orders written into the read model (more than one CSV page of 500).
    const day = '2025-03-10';
    const rows = Array.from({ length: 700 }, (_, index) => ({
      order_id: randomUUID(),
      restaurant_id: randomUUID(),
      restaurant_name: index === 0 ? '=HYPERLINK("http://x"), Chez "Mama"' : `Resto ${index}`,
      day,
      created_at: `${day}T12:00:00Z`,
      latitude: 3.87,
      longitude: 11.52, // Yaoundé
      total_minor: 1_000 + index,
      discount_minor: 0,
      delivery_fee_minor: 500,
      tip_minor: 0,
      paid: true,
      outcome: 'delivered',
    }));
    const db = world.testApp.services.runtime.database.db;
    for (let i = 0; i < rows.length; i += 100)
      await db
        .insertInto('admin_analytics_orders' as never)
        .values(rows.slice(i, i + 100) as never)
        .execute();

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const response = await report(
        `groupBy=restaurant&from=${day}&to=${day}&limit=300${cursor === null ? '' : `&cursor=${cursor}`}`,
      );
      expect(response.statusCode, response.body).toBe(200);
      const body = response.json() as { items: { key: string }[]; nextCursor: string | null };
      seen.push(...body.items.map((item) => item.key));
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(rows.map((row) => row.restaurant_id).sort());

    const csv = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/analytics/orders.csv?groupBy=restaurant&from=${day}&to=${day}`,
      headers: admin(),
    });
    expect(csv.statusCode, csv.body.slice(0, 300)).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toContain('orders-by-restaurant');
    const lines = csv.body.split('\r\n').filter((line) => line.length > 0);
    expect(lines[0]).toBe(
      '\uFEFFkey,label,orders,paid,delivered,cancelled,grossMinor,discountMinor,deliveryFeesMinor,tipsMinor,averageBasketMinor',
    );
    expect(lines).toHaveLength(701);
    const hostile = lines.find((line) => line.startsWith(rows[0]!.restaurant_id))!;
    expect(hostile).toBe(
      `${rows[0]!.restaurant_id},"'=HYPERLINK(""http://x""), Chez ""Mama""",1,1,1,0,1000,0,500,0,1000`,
    );
    const total = lines.slice(1).reduce((sum, line) => sum + Number(line.split(',').at(-5)), 0);
    expect(total).toBe(rows.reduce((sum, row) => sum + row.total_minor, 0));

    const byCity = (await report(`groupBy=city&from=${day}&to=${day}`)).json();
    expect(byCity.items).toEqual([expect.objectContaining({ key: 'yaounde', orders: 700, delivered: 700 })]);
    const counted = await sql<{
      n: string;
    }>`SELECT count(*) AS n FROM admin_analytics_orders WHERE day = ${day}`.execute(db);
    expect(Number(counted.rows[0]!.n)).toBe(700);
  });

  it('bad periods and parameters are a problem; only admins read it', async () => {
    for (const query of [
      `groupBy=day&from=${today}&to=${yesterday}`,
      'groupBy=day&from=2024-01-01&to=2025-06-01',
      'groupBy=day&from=2026-02-30&to=2026-03-01',
      `groupBy=week&from=${today}&to=${today}`,
      `groupBy=day&from=${today}`,
      `groupBy=day&from=${today}&to=${today}&extra=1`,
      `groupBy=day&from=${today}&to=${today}&cursor=%2F%2F`,
      `groupBy=day&from=${today}&to=${today}&limit=100000`,
    ]) {
      const refused = await report(query);
      expect(refused.statusCode, query).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    expect((await report('groupBy=day&from=2024-01-01&to=2025-06-01')).json().code).toBe(
      'analytics_range_invalid',
    );
    const csv = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/analytics/orders.csv?groupBy=day&from=${today}&to=${yesterday}`,
      headers: admin(),
    });
    expect(csv.statusCode).toBe(400);
    expect(csv.json().code).toBe('analytics_range_invalid');
    for (const token of [
      world.actors.owner.accessToken,
      world.actors.customer.accessToken,
      world.support.accessToken,
    ]) {
      expect((await report(`groupBy=day&from=${today}&to=${today}`, authHeader(token))).statusCode).toBe(403);
    }
    const anonymous = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/analytics/orders?groupBy=day&from=${today}&to=${today}`,
    });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('insights', () => {
  const insight = (path: string, headers = admin()) =>
    world.testApp.app.inject({ method: 'GET', url: `/v1/admin/insights/${path}`, headers });

  it('peak hours, best sellers, customers, restaurant health and the forecast follow the real orders', async () => {
    const range = `from=${today}&to=${today}`;
    const customers = await until(
      async () => (await insight(`customers?${range}`)).json(),
      (body: { items: { customerId: string }[] }) =>
        body.items.some((row) => row.customerId === world.actors.customer.userId),
      30_000,
    );
    // One delivered order of the customer's: recent, once, its total; a new customer's segment.
    expect(customers.items).toEqual([
      expect.objectContaining({
        customerId: world.actors.customer.userId,
        recencyDays: 0,
        frequency: 1,
        monetaryMinor: delivered.totalMinor,
        segment: 'new_or_promising',
        churnRisk: false,
        lifetimeValueMinor: delivered.totalMinor * 12,
      }),
    ]);

    // The three orders were placed today, within the same hour or two of it.
    const peaks = (await insight(`peak-hours?${range}`)).json();
    expect(peaks.items.reduce((sum: number, row: { orders: number }) => sum + row.orders, 0)).toBe(3);
    expect(peaks.items.reduce((sum: number, row: { delivered: number }) => sum + row.delivered, 0)).toBe(1);

    // Best sellers count what was delivered: the ndolé twice, the juice once.
    const best = (await insight(`best-sellers?${range}`)).json();
    expect(best.items.map((row: { itemId: string; quantity: number }) => [row.itemId, row.quantity])).toEqual(
      [
        [world.ndoleId, 2],
        [world.jusId, 1],
      ],
    );
    expect(best.items[0]).toMatchObject({ rank: 1, orders: 1 });

    // One of three orders delivered, one cancelled by the customer (above the 10 % mark).
    const health = (await insight(`restaurant-health?${range}`)).json();
    expect(health.items).toEqual([
      expect.objectContaining({
        restaurantId: world.restaurantId,
        orders: 3,
        delivered: 1,
        cancelled: 1,
        deliveredRate: 0.33,
        score: 33,
      }),
    ]);
    expect(health.items[0].suggestions).toContain('fewer_cancellations');
    expect(health.items[0].suggestions).toContain('visibility');

    // Seven days ahead; the same weekday next week is a quarter of today's delivered revenue.
    const forecast = (await insight(`revenue-forecast?${range}`)).json();
    expect(forecast.items).toHaveLength(7);
    expect(forecast.items[6]).toEqual({
      day: new Date(Date.parse(`${today}T00:00:00Z`) + 7 * 86_400_000).toISOString().slice(0, 10),
      forecastMinor: Math.round(delivered.totalMinor / 4),
      basis: 'seasonal_naive_4_weeks',
    });

    const csv = await insight(`best-sellers/csv?${range}`);
    expect(csv.statusCode, csv.body.slice(0, 300)).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = csv.body.split('\r\n').filter((line) => line.length > 0);
    expect(lines[0]).toBe('\uFEFFrank,itemId,name,restaurantName,quantity,revenueMinor,orders');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(new RegExp(`^1,${world.ndoleId},`));

    // Customer figures are personal data: every read and export is in the audit log, by whom.
    const audits = await sql<{
      action: string;
      resource: string;
      actor_id: string | null;
      new_value: unknown;
    }>`
      SELECT action, resource, actor_id, new_value FROM audit_logs
      WHERE action IN ('admin.analytics_viewed', 'admin.analytics_exported')
        AND resource IN ('analytics:revenue-forecast', 'analytics:best-sellers')`.execute(
      world.testApp.services.runtime.database.db,
    );
    expect(audits.rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'admin.analytics_viewed', resource: 'analytics:revenue-forecast' }),
        expect.objectContaining({
          action: 'admin.analytics_exported',
          resource: 'analytics:best-sellers',
          actor_id: world.actors.admin.userId,
          new_value: expect.objectContaining({ report: 'best-sellers' }),
        }),
      ]),
    );
  });

  it('a redelivered order event counts once; history segments customers and flags churn risk', async () => {
    const db = world.testApp.services.runtime.database.db;
    // Two customers' past orders in the read model: one ordered often until two months ago, one
    // ordered once last week.
    const regular = randomUUID();
    const recent = randomUUID();
    const row = (customerId: string, day: string, total: number) => ({
      order_id: randomUUID(),
      customer_id: customerId,
      restaurant_id: world.restaurantId,
      restaurant_name: 'Chez Mama',
      created_at: `${day}T12:00:00Z`,
      day,
      weekday: 1,
      hour: 13,
      total_minor: total,
      outcome: 'delivered',
    });
    await db
      .insertInto('admin_insight_orders' as never)
      .values([
        row(regular, '2025-01-06', 5_000),
        row(regular, '2025-01-13', 5_000),
        row(regular, '2025-01-20', 5_000),
        row(recent, '2025-03-24', 2_000),
      ] as never)
      .execute();
    const body = (await insight('customers?from=2025-01-01&to=2025-03-31')).json();
    const byId = new Map(body.items.map((item: { customerId: string }) => [item.customerId, item]));
    expect(byId.get(regular)).toMatchObject({
      frequency: 3,
      recencyDays: 70,
      churnRisk: true,
      monetaryMinor: 15_000,
    });
    expect(byId.get(recent)).toMatchObject({ frequency: 1, recencyDays: 7, churnRisk: false });

    // The projection's handler given the delivered order's OrderCreated again adds nothing.
    const before = (await insight(`best-sellers?from=${today}&to=${today}`)).json();
    const events = await world.testApp.services.eventStore.readStream(
      `${ORDER_STREAM_PREFIX}${delivered.id}`,
    );
    const created = events.find((event) => event.type === 'OrderCreated')!;
    const generation = await sql<{
      schema: string;
    }>`SELECT table_schema AS schema FROM information_schema.tables
      WHERE table_name = 'admin_insight_orders' AND table_type = 'BASE TABLE'`.execute(db);
    expect(generation.rows).toHaveLength(1);
    await insightsProjection.handle!(created, { db, schema: generation.rows[0]!.schema } as never);
    expect((await insight(`best-sellers?from=${today}&to=${today}`)).json()).toEqual(before);
  });

  it('bad reports, periods and limits are a problem; only admins read them', async () => {
    for (const path of [
      `unknown?from=${today}&to=${today}`,
      `customers?from=${today}&to=${yesterday}`,
      `customers?from=${today}`,
      `customers?from=${today}&to=${today}&limit=0`,
      `customers?from=${today}&to=${today}&limit=5000`,
      `customers?from=${today}&to=${today}&extra=1`,
      `peak-hours/csv?from=2024-01-01&to=2025-06-01`,
    ]) {
      const refused = await insight(path);
      expect(refused.statusCode, path).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    for (const token of [
      world.actors.owner.accessToken,
      world.actors.customer.accessToken,
      world.support.accessToken,
    ])
      expect((await insight(`customers?from=${today}&to=${today}`, authHeader(token))).statusCode).toBe(403);
  });
});
