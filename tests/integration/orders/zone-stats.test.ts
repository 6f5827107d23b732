import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../../helpers/auth.js';
import type { CreatedUser } from '../../helpers/auth.js';
import { act, NEAR, orderWorld, placeOrder, RESTAURANT_AT, type OrderWorld } from './helpers.js';

/**
 * Orders record their zone and zone statistics (issue #26), on PostgreSQL: the zone of the
 * delivery point at placement goes into `OrderCreated` and the orders projection; paid orders are
 * counted per zone and local day with their delivery fees and the surges in them; the admin
 * route pages them and refuses bad input.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
}, 120_000);
afterAll(async () => world?.testApp.close());

const caughtUp = () => world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);
const get = (url: string, token = world.actors.admin.accessToken) =>
  world.testApp.app.inject({ method: 'GET', url, headers: authHeader(token) });
const around = (point: { latitude: number; longitude: number }, half: number) => [
  { latitude: point.latitude - half, longitude: point.longitude - half },
  { latitude: point.latitude - half, longitude: point.longitude + half },
  { latitude: point.latitude + half, longitude: point.longitude + half },
  { latitude: point.latitude + half, longitude: point.longitude - half },
];
/** HH:MM in Douala (UTC+1 all year), `minutes` from now. */
const local = (minutes: number) => new Date(Date.now() + (60 + minutes) * 60_000).toISOString().slice(11, 16);
const today = () => new Date(Date.now() + 3_600_000).toISOString().slice(0, 10);
const SOUTH = {
  latitude: RESTAURANT_AT.latitude - 0.006,
  longitude: RESTAURANT_AT.longitude,
  text: 'Rue 2, Akwa',
};

async function addZone(body: Record<string, unknown>) {
  const created = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/admin/cities/douala/zones',
    headers: authHeader(world.actors.admin.accessToken),
    payload: body,
  });
  expect(created.statusCode, created.body).toBe(201);
}

async function placed(delivery: typeof NEAR) {
  const order = await placeOrder(world, world.actors.customer.accessToken, { delivery });
  expect(order.statusCode, order.body).toBe(201);
  return order.json() as { id: string; pricing: { deliveryFeeMinor: number } };
}

/** A zone's row before any of its orders is delivered. */
const NONE_DELIVERED = {
  deliveredOrders: 0,
  timedOrders: 0,
  medianDeliveryMinutes: null,
  averageDeliveryMinutes: null,
  drivers: 0,
};

async function delivered(delivery: typeof NEAR, driver: CreatedUser): Promise<string> {
  const { owner } = world.actors;
  const order = (await placed(delivery)) as { id: string; deliveryPin?: string };
  const accepted = (
    await act(world, order.id, 'accept', owner.accessToken, { preparationMinutes: 15 })
  ).json();
  await act(world, order.id, 'prepare', owner.accessToken);
  await act(world, order.id, 'ready', owner.accessToken);
  expect((await act(world, order.id, 'claim', driver.accessToken)).statusCode).toBe(200);
  await act(world, order.id, 'pickup', driver.accessToken, { pickupCode: accepted.pickupCode });
  const done = await act(world, order.id, 'deliver', driver.accessToken, { deliveryPin: order.deliveryPin });
  expect(done.json().status, done.body).toBe('DELIVERED');
  return order.id;
}

describe('zone statistics', () => {
  it('records the zone at placement and counts paid orders per zone and day with fees and surges', async () => {
    // Before Douala has zones: the order records its city and no zone, and counts nowhere.
    const unzoned = await placed(NEAR);
    await addZone({
      id: 'bonapriso-test',
      name: 'Bonapriso',
      polygon: around(NEAR, 0.003),
      feeAdjustmentXaf: 100,
      surges: [{ window: `${local(-60)}-${local(60)}`, addXaf: 150 }],
    });
    await addZone({ id: 'akwa-test', name: 'Akwa', polygon: around(SOUTH, 0.003) });
    const north = [await placed(NEAR), await placed(NEAR)];
    const south = await placed(SOUTH);
    await caughtUp();

    const views = await sql<{
      order_id: string;
      city_id: string;
      zone_id: string | null;
      surge_minor: string;
    }>`
      SELECT order_id, city_id, zone_id, surge_minor::text FROM orders_view
      WHERE order_id = ANY(${[unzoned.id, north[0]!.id, south.id]}::uuid[]) ORDER BY created_at`.execute(
      world.testApp.services.db,
    );
    expect(views.rows.map(({ city_id, zone_id, surge_minor }) => [city_id, zone_id, surge_minor])).toEqual([
      ['douala', null, '0'],
      ['douala', 'bonapriso-test', '150'],
      ['douala', 'akwa-test', '0'],
    ]);

    const stats = await get('/v1/admin/zone-stats?city=douala');
    expect(stats.statusCode, stats.body).toBe(200);
    expect(stats.json()).toMatchObject({ to: today(), nextCursor: null });
    expect(stats.json().items).toEqual([
      {
        day: today(),
        cityId: 'douala',
        zoneId: 'akwa-test',
        orders: 1,
        deliveryFeeMinor: south.pricing.deliveryFeeMinor,
        surgeMinor: 0,
        surgedOrders: 0,
        ...NONE_DELIVERED,
      },
      {
        day: today(),
        cityId: 'douala',
        zoneId: 'bonapriso-test',
        orders: 2,
        deliveryFeeMinor: north[0]!.pricing.deliveryFeeMinor + north[1]!.pricing.deliveryFeeMinor,
        surgeMinor: 300,
        surgedOrders: 2,
        ...NONE_DELIVERED,
      },
    ]);
    // The surge and the zone's adjustment are in the fee the customer paid.
    expect(north[0]!.pricing.deliveryFeeMinor).toBe(unzoned.pricing.deliveryFeeMinor + 250);

    // Pages of one, a zone filter, an empty city.
    const first = await get('/v1/admin/zone-stats?city=douala&limit=1');
    expect(first.json().items.map((row: { zoneId: string }) => row.zoneId)).toEqual(['akwa-test']);
    const second = await get(`/v1/admin/zone-stats?city=douala&limit=1&cursor=${first.json().nextCursor}`);
    expect(second.json().items.map((row: { zoneId: string }) => row.zoneId)).toEqual(['bonapriso-test']);
    expect(second.json().nextCursor).toBeNull();
    const one = await get('/v1/admin/zone-stats?zone=bonapriso-test');
    expect(one.json().items).toHaveLength(1);
    expect((await get('/v1/admin/zone-stats?city=yaounde')).json().items).toEqual([]);
  });

  it('counts delivered orders, their minutes from placement to delivery and distinct drivers per zone and day', async () => {
    // The zones of the first test: bonapriso-test around NEAR, akwa-test around SOUTH.
    const north = [
      await delivered(NEAR, world.driver),
      await delivered(NEAR, world.otherDriver),
      await delivered(NEAR, world.driver),
    ];
    await delivered(SOUTH, world.otherDriver);
    await caughtUp();
    const seconds = async (ids: string[]) =>
      (
        await sql<{ s: number }>`SELECT extract(epoch FROM delivered_at - placed_at)::float8 AS s
          FROM orders_view WHERE order_id = ANY(${ids}::uuid[])`.execute(world.testApp.services.db)
      ).rows.map((row) => row.s);
    const rowOf = async (zoneId: string) =>
      (await get(`/v1/admin/zone-stats?zone=${zoneId}`))
        .json()
        .items.find((row: { day: string }) => row.day === today());
    const minutes = (value: number) => Math.round(value / 6) / 10;
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / values.length;

    // The real flow: three delivered in bonapriso-test by two drivers (the first test's two
    // orders there were paid and never delivered), one in akwa-test.
    const northSeconds = await seconds(north);
    expect(await rowOf('bonapriso-test')).toMatchObject({
      orders: 5,
      deliveredOrders: 3,
      timedOrders: 3,
      drivers: 2,
      medianDeliveryMinutes: minutes(median(northSeconds)),
      averageDeliveryMinutes: minutes(mean(northSeconds)),
    });
    expect(await rowOf('akwa-test')).toMatchObject({ orders: 2, deliveredOrders: 1, drivers: 1 });

    // The flow takes seconds here; give the read model's placements times minutes apart (10, 20
    // and 60 minutes before delivery) to see the median and the mean apart.
    await sql`UPDATE orders_view SET placed_at = delivered_at - make_interval(mins => v.m)
      FROM unnest(${north}::uuid[], ${[10, 20, 60]}::int[]) AS v(id, m) WHERE order_id = v.id`.execute(
      world.testApp.services.db,
    );
    expect(await rowOf('bonapriso-test')).toMatchObject({
      deliveredOrders: 3,
      medianDeliveryMinutes: 20,
      averageDeliveryMinutes: 30,
      drivers: 2,
    });
    // Dispatch reads the same through its port, over the last days.
    const dispatch = world.testApp.services.dispatch;
    expect(await dispatch.zoneDeliveryMinutes('douala', 'bonapriso-test', 1)).toEqual({
      cityId: 'douala',
      zoneId: 'bonapriso-test',
      days: 1,
      deliveredOrders: 3,
      timedOrders: 3,
      medianDeliveryMinutes: 20,
      averageDeliveryMinutes: 30,
      drivers: 2,
    });
    expect(await dispatch.zoneDeliveryMinutes('douala', 'nowhere-test')).toMatchObject({
      deliveredOrders: 0,
      medianDeliveryMinutes: null,
      drivers: 0,
    });
    await expect(dispatch.zoneDeliveryMinutes('douala', 'akwa-test', 93)).rejects.toThrow(RangeError);
  });

  it('answers bad input with a 4xx problem and others than admins with 403', async () => {
    const cases: [string, number, string][] = [
      ['/v1/admin/zone-stats?cursor=not-a-cursor', 400, 'invalid_cursor'],
      [
        `/v1/admin/zone-stats?cursor=${Buffer.from('["2026-01-01","douala",7]').toString('base64url')}`,
        400,
        'invalid_cursor',
      ],
      ['/v1/admin/zone-stats?from=2026-12-06&to=2026-12-01', 422, 'invalid_period'],
      ['/v1/admin/zone-stats?from=2026-01-01&to=2026-12-01', 422, 'invalid_period'],
      ['/v1/admin/zone-stats?city=Douala', 400, 'validation_failed'],
      ['/v1/admin/zone-stats?zone=%00', 400, 'invalid_characters'],
      ['/v1/admin/zone-stats?from=yesterday', 400, 'validation_failed'],
      ['/v1/admin/zone-stats?limit=51', 400, 'validation_failed'],
      ['/v1/admin/zone-stats?other=1', 400, 'validation_failed'],
    ];
    for (const [url, status, code] of cases) {
      const answer = await get(url);
      expect(answer.statusCode, url).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.json().code, url).toBe(code);
    }
    expect((await get('/v1/admin/zone-stats', world.actors.customer.accessToken)).statusCode).toBe(403);
    expect((await get('/v1/admin/zone-stats', world.actors.owner.accessToken)).statusCode).toBe(403);
    expect((await get('/v1/admin/zone-stats', world.support.accessToken)).statusCode).toBe(403);
    expect((await world.testApp.app.inject({ method: 'GET', url: '/v1/admin/zone-stats' })).statusCode).toBe(
      401,
    );
  });
});
