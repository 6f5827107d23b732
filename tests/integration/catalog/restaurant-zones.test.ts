import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser } from '../../helpers/auth.js';
import { NEAR, orderWorld, placeOrder, RESTAURANT_AT, type OrderWorld } from '../orders/helpers.js';

/**
 * A restaurant's delivery area as zones of its city (issue #26), on PostgreSQL: the owner names
 * zones; placement (and its quote), `checkDelivery` and the profile refuse a point outside them,
 * placing nothing; unknown zones and malformed lists are refused, changing nothing; null gives the
 * radius back.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
}, 120_000);
afterAll(async () => world?.testApp.close());

const SOUTH = {
  latitude: RESTAURANT_AT.latitude - 0.006,
  longitude: RESTAURANT_AT.longitude,
  text: 'Rue 2, Akwa',
};
const db = () => world.testApp.services.db;
const around = (point: { latitude: number; longitude: number }, half: number) => [
  { latitude: point.latitude - half, longitude: point.longitude - half },
  { latitude: point.latitude - half, longitude: point.longitude + half },
  { latitude: point.latitude + half, longitude: point.longitude + half },
  { latitude: point.latitude + half, longitude: point.longitude - half },
];
const patchRestaurant = (payload: unknown, token = world.actors.owner.accessToken) =>
  world.testApp.app.inject({
    method: 'PATCH',
    url: `/v1/restaurants/${world.restaurantId}`,
    headers: authHeader(token),
    payload: payload as Record<string, unknown>,
  });
const zonesOfRestaurant = async () =>
  (
    await db()
      .selectFrom('restaurants')
      .select('delivery_zones')
      .where('id', '=', world.restaurantId)
      .executeTakeFirstOrThrow()
  ).delivery_zones;
const profileAt = async (point: { latitude: number; longitude: number }) =>
  (
    await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants/${world.restaurantId}?lat=${point.latitude}&lng=${point.longitude}`,
    })
  ).json().delivery.deliversHere as boolean;

const foundAt = async (point: { latitude: number; longitude: number }) =>
  (
    await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants?lat=${point.latitude}&lng=${point.longitude}&limit=50`,
    })
  )
    .json()
    .items.map((item: { id: string }) => item.id) as string[];

async function placementState() {
  const [item, reservations] = await Promise.all([
    db().selectFrom('menu_items').select('stock').where('id', '=', world.ndoleId).executeTakeFirstOrThrow(),
    db()
      .selectFrom('order_stock_reservations')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { stock: item.stock, reservations: Number(reservations.n) };
}

describe("a restaurant's delivery zones", () => {
  it('delivers only inside the zones it names: placement, checkDelivery and the profile agree', async () => {
    for (const [id, point] of [
      ['bonapriso-r', NEAR],
      ['akwa-r', SOUTH],
    ] as const) {
      const created = await world.testApp.app.inject({
        method: 'POST',
        url: '/v1/admin/cities/douala/zones',
        headers: authHeader(world.actors.admin.accessToken),
        payload: { id, name: id, polygon: around(point, 0.003) },
      });
      expect(created.statusCode, created.body).toBe(201);
    }
    // Both points are served by the city and within the radius.
    expect((await placeOrder(world, world.actors.customer.accessToken)).statusCode).toBe(201);

    const set = await patchRestaurant({ deliveryZones: ['akwa-r'] });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json().deliveryZones).toEqual(['akwa-r']);

    const before = await placementState();
    const refused = await placeOrder(world, world.actors.customer.accessToken);
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({
      code: 'outside_delivery_zone',
      reason: 'outside_restaurant_zones',
      zone: 'bonapriso-r',
      restaurantZones: ['akwa-r'],
    });
    expect(await placementState()).toEqual(before);
    expect((await placeOrder(world, world.actors.customer.accessToken, { delivery: SOUTH })).statusCode).toBe(
      201,
    );

    const check = await world.testApp.services.catalog.orders.checkDelivery(
      world.restaurantId,
      NEAR,
      new Date(),
    );
    expect(check).toMatchObject({
      deliverable: false,
      reason: 'outside_restaurant_zones',
      zoneId: 'bonapriso-r',
    });
    expect(
      (await world.testApp.services.catalog.orders.checkDelivery(world.restaurantId, SOUTH, new Date()))
        ?.deliverable,
    ).toBe(true);
    expect(await profileAt(NEAR)).toBe(false);
    expect(await profileAt(SOUTH)).toBe(true);
    // Search ("delivers here", the default with a point) follows the same rule.
    expect(await foundAt(NEAR)).not.toContain(world.restaurantId);
    expect(await foundAt(SOUTH)).toContain(world.restaurantId);

    // null: the radius alone again.
    expect((await patchRestaurant({ deliveryZones: null })).statusCode).toBe(200);
    expect(await zonesOfRestaurant()).toBeNull();
    expect((await placeOrder(world, world.actors.customer.accessToken)).statusCode).toBe(201);
    expect(await profileAt(NEAR)).toBe(true);
    expect(await foundAt(NEAR)).toContain(world.restaurantId);
  });

  it('refuses unknown zones and malformed lists, and other owners, changing nothing', async () => {
    expect((await patchRestaurant({ deliveryZones: ['akwa-r'] })).statusCode).toBe(200);
    const unknown = await patchRestaurant({ deliveryZones: ['akwa-r', 'bastos'] });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json()).toMatchObject({ code: 'delivery_zone_unknown', unknown: ['bastos'] });
    expect(unknown.json().zones).toEqual(expect.arrayContaining(['akwa-r', 'bonapriso-r']));
    for (const bad of [
      [],
      ['Akwa'],
      ['akwa-r', 'akwa-r'],
      Array.from({ length: 21 }, (_, index) => `zone-${index}`),
      'akwa-r',
      [null],
      ['akwa\u0000'],
    ])
      expect((await patchRestaurant({ deliveryZones: bad })).statusCode, JSON.stringify(bad)).toBe(400);
    const stranger = await createUser(world.testApp, { roles: ['restaurant_owner'] });
    expect((await patchRestaurant({ deliveryZones: null }, stranger.accessToken)).statusCode).toBe(403);
    expect(await zonesOfRestaurant()).toEqual(['akwa-r']);
    // A zone switched off stays named (the restaurant then delivers nowhere there) but cannot be added anew.
    expect((await patchRestaurant({ deliveryZones: null })).statusCode).toBe(200);
  });
});
