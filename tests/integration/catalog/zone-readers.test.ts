import { compactCells, polygonToCells } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEAR, RESTAURANT_AT, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { patch, post } from './helpers.js';

/**
 * The readers that finish issue #26's zones on the real PostgreSQL: a restaurant's profile
 * (`delivery.deliversHere`) and `orders.checkDelivery` answer by the city's delivery terms
 * (zones, zones not served, distance cap), as placement does; and the apps' public map of a
 * city's zones, with an ETag that changes when an admin changes a zone.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
}, 180_000);
afterAll(async () => world?.testApp.close());

const admin = () => world.actors.admin.accessToken;
const customer = () => world.actors.customer.accessToken;

function around(point: { latitude: number; longitude: number }, half: number) {
  return [
    { latitude: point.latitude - half, longitude: point.longitude - half },
    { latitude: point.latitude - half, longitude: point.longitude + half },
    { latitude: point.latitude + half, longitude: point.longitude + half },
    { latitude: point.latitude + half, longitude: point.longitude - half },
  ];
}

async function profileAt(point: { latitude: number; longitude: number }) {
  const found = await world.testApp.app.inject({
    method: 'GET',
    url: `/v1/restaurants/${world.restaurantId}?lat=${point.latitude}&lng=${point.longitude}`,
  });
  expect(found.statusCode, found.body).toBe(200);
  return { delivery: found.json().delivery, etag: found.headers.etag as string };
}

/** checkDelivery at an instant the restaurant is open (the test restaurant opens all week). */
async function check(point: { latitude: number; longitude: number }) {
  const result = await world.testApp.services.catalog.orders.checkDelivery(
    world.restaurantId,
    point,
    new Date(),
  );
  expect(result).toBeDefined();
  return result!;
}

async function setDoualaRules(rules: Record<string, unknown>) {
  const changed = await patch(world.testApp, '/v1/admin/cities/douala', admin(), { rules });
  expect(changed.statusCode, changed.body).toBe(200);
}

async function publicZones(city: string, headers: Record<string, string> = {}) {
  return world.testApp.app.inject({ method: 'GET', url: `/v1/cities/${city}/zones`, headers });
}

describe("the profile's deliversHere and checkDelivery follow the city's terms", () => {
  it('answer by the nearer of the radius and the city cap, and by the zones, as placement does', async () => {
    // No city rules, no zones: the radius alone.
    expect((await profileAt(NEAR)).delivery.deliversHere).toBe(true);
    const plain = await check(NEAR);
    expect(plain).toMatchObject({ deliverable: true, zoneId: null });
    const radiusM = plain.deliveryRadiusM;
    expect(plain.distanceM).toBeLessThan(radiusM);

    // A city cap under the distance: both refuse, and so does placement.
    await setDoualaRules({ maxDeliveryDistanceM: 500 });
    const capped = await profileAt(NEAR);
    expect(capped.delivery.deliversHere).toBe(false);
    expect(await check(NEAR)).toMatchObject({
      deliverable: false,
      reason: 'outside_radius',
      deliveryRadiusM: 500,
    });
    expect((await placeOrder(world, customer())).json().code).toBe('outside_delivery_radius');
    await setDoualaRules({});
    expect((await check(NEAR)).deliveryRadiusM).toBe(radiusM);

    // A zone around NEAR: the restaurant's own point is now outside the zones.
    const zone = await post(world.testApp, '/v1/admin/cities/douala/zones', admin(), {
      id: 'bonapriso',
      name: 'Bonapriso',
      polygon: around(NEAR, 0.005),
    });
    expect(zone.statusCode, zone.body).toBe(201);
    const served = await profileAt(NEAR);
    expect(served.delivery.deliversHere).toBe(true);
    expect(await check(NEAR)).toMatchObject({ deliverable: true, zoneId: 'bonapriso' });
    expect((await profileAt(RESTAURANT_AT)).delivery.deliversHere).toBe(false);
    expect(await check(RESTAURANT_AT)).toMatchObject({
      deliverable: false,
      reason: 'outside_zones',
      zoneId: null,
    });

    // The zone no longer served: refused, and the profile's ETag changes with its answer.
    const off = await patch(world.testApp, '/v1/admin/cities/douala/zones/bonapriso', admin(), {
      delivers: false,
    });
    expect(off.statusCode, off.body).toBe(200);
    const refused = await profileAt(NEAR);
    expect(refused.delivery.deliversHere).toBe(false);
    expect(refused.etag).not.toBe(served.etag);
    expect(await check(NEAR)).toMatchObject({ deliverable: false, reason: 'zone_not_served' });
    expect((await placeOrder(world, customer())).json().code).toBe('outside_delivery_zone');

    // Switched off: a city without active zones delivers by the radius again.
    const inactive = await patch(world.testApp, '/v1/admin/cities/douala/zones/bonapriso', admin(), {
      active: false,
    });
    expect(inactive.statusCode, inactive.body).toBe(200);
    expect((await profileAt(RESTAURANT_AT)).delivery.deliversHere).toBe(true);
    expect(await check(NEAR)).toMatchObject({ deliverable: true, zoneId: null });
  });
});

describe("the apps' map of a city's zones", () => {
  it('lists active zones with outline and served flag only, with an ETag that follows admin changes', async () => {
    const created = await post(world.testApp, '/v1/admin/cities/yaounde/zones', admin(), {
      id: 'bastos',
      name: 'Bastos',
      polygon: around({ latitude: 3.895, longitude: 11.51 }, 0.01),
      feeAdjustmentXaf: 200,
      surges: [{ window: '19:00-22:00', addXaf: 100 }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const hidden = await post(world.testApp, '/v1/admin/cities/yaounde/zones', admin(), {
      id: 'mvan',
      name: 'Mvan',
      polygon: around({ latitude: 3.82, longitude: 11.52 }, 0.01),
      active: false,
    });
    expect(hidden.statusCode, hidden.body).toBe(201);

    const first = await publicZones('yaounde');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().items).toEqual([
      {
        id: 'bastos',
        name: 'Bastos',
        served: true,
        polygon: around({ latitude: 3.895, longitude: 11.51 }, 0.01),
        // The outline's H3 cells at the configured resolution, compacted: what decides a point's zone.
        cells: compactCells(
          polygonToCells(
            around({ latitude: 3.895, longitude: 11.51 }, 0.01).map((p) => [p.latitude, p.longitude]),
            9,
          ),
        ),
      },
    ]);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"z-/);
    const again = await publicZones('yaounde', { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');

    const changed = await patch(world.testApp, '/v1/admin/cities/yaounde/zones/bastos', admin(), {
      delivers: false,
    });
    expect(changed.statusCode, changed.body).toBe(200);
    const after = await publicZones('yaounde', { 'if-none-match': etag });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(after.json().items[0].served).toBe(false);
  });

  it('answers 404 for an unknown or inactive city and 400 for a malformed id, as problem+json', async () => {
    const unknown = await publicZones('atlantis');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(unknown.json().code).toBe('city_not_found');

    const city = await post(world.testApp, '/v1/admin/cities', admin(), {
      id: 'garoua',
      name: { fr: 'Garoua', en: 'Garoua' },
      center: { latitude: 9.3, longitude: 13.4 },
      bounds: { south: 9.2, west: 13.3, north: 9.4, east: 13.5 },
    });
    expect(city.statusCode, city.body).toBe(201);
    const inactive = await publicZones('garoua');
    expect(inactive.statusCode).toBe(404);
    expect(inactive.json().code).toBe('city_not_found');

    const malformed = await publicZones('NOT%20A%20CITY');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.headers['content-type']).toMatch(/^application\/problem\+json/);
  });
});
