import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../../helpers/auth.js';
import { NEAR, RESTAURANT_AT, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { activeRestaurant, patch, post } from './helpers.js';

/**
 * Zones and per-city rules (issue #26) on the real PostgreSQL: an admin draws zones and sets a
 * city's rules, and order placement (fee, tax, minimum, distance cap, service hours, where the
 * platform delivers) and search follow at once; a third city gets its own zone and fee rule.
 * Every refusal is a 4xx problem+json that places nothing; every admin write is audited.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
}, 180_000);
afterAll(async () => world?.testApp.close());

const admin = () => world.actors.admin.accessToken;
const customer = () => world.actors.customer.accessToken;
const db = () => world.testApp.services.db;

/** An axis-aligned square around a point (half-side in degrees). */
function around(point: { latitude: number; longitude: number }, half: number) {
  return [
    { latitude: point.latitude - half, longitude: point.longitude - half },
    { latitude: point.latitude - half, longitude: point.longitude + half },
    { latitude: point.latitude + half, longitude: point.longitude + half },
    { latitude: point.latitude + half, longitude: point.longitude - half },
  ];
}

/** What a refused order must leave untouched: the dish's stock and the stock reservations. */
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

async function expectRefused(overrides: Record<string, unknown>, code: string) {
  const before = await placementState();
  const refused = await placeOrder(world, customer(), overrides);
  expect(refused.statusCode, refused.body).toBe(422);
  expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(refused.json().code).toBe(code);
  expect(await placementState()).toEqual(before);
  return refused.json();
}

async function setDoualaRules(rules: Record<string, unknown>) {
  const changed = await patch(world.testApp, '/v1/admin/cities/douala', admin(), { rules });
  expect(changed.statusCode, changed.body).toBe(200);
}

async function auditActions(resource: string) {
  const rows = await db()
    .selectFrom('audit_logs')
    .select('action')
    .where('resource', '=', resource)
    .orderBy('created_at')
    .execute();
  return rows.map((row) => row.action);
}

async function search(query: string) {
  const found = await world.testApp.app.inject({ method: 'GET', url: `/v1/restaurants?${query}` });
  expect(found.statusCode, found.body).toBe(200);
  return found.json().items.map((item: { id: string }) => item.id) as string[];
}

const at = (point: { latitude: number; longitude: number }) => `lat=${point.latitude}&lng=${point.longitude}`;

describe("a city's rules priced into the order", () => {
  it('charges the global rule without city rules, then the city base, per-km rate and tax rate', async () => {
    const plain = await placeOrder(world, customer());
    expect(plain.statusCode, plain.body).toBe(201);
    const distance = plain.json().pricing.distanceMetres as number;
    const segments = Math.ceil(distance / 100);
    expect(plain.json().pricing.deliveryFeeMinor).toBe(500 + 10 * segments);

    await setDoualaRules({ deliveryFeeXaf: 700, deliveryFeePerKmXaf: 200, taxRatePercent: 10 });
    const ruled = await placeOrder(world, customer());
    expect(ruled.statusCode, ruled.body).toBe(201);
    const pricing = ruled.json().pricing;
    expect(pricing.deliveryFeeMinor).toBe(700 + 20 * segments);
    expect(pricing.taxRatePercent).toBe('10');
    const taxed = pricing.subtotalMinor - pricing.discountMinor + pricing.deliveryFeeMinor;
    expect(pricing.taxMinor).toBe(Math.round(taxed * 0.1));
    expect(pricing.totalMinor).toBe(taxed + pricing.taxMinor + pricing.tipMinor);
    await setDoualaRules({});
  });

  it('refuses below the minimum order, beyond the distance cap and outside service hours, placing nothing', async () => {
    await setDoualaRules({ minimumOrderXaf: 50_000 });
    const below = await expectRefused({}, 'below_minimum_order');
    expect(below.minimumOrderXaf).toBe(50_000);
    await setDoualaRules({ maxDeliveryDistanceM: 500 });
    await expectRefused({}, 'outside_delivery_radius');
    // A one-hour window two hours from now (Africa/Douala, UTC+1): never now.
    const localHour = (new Date().getUTCHours() + 1) % 24;
    const hh = (hour: number) => String(hour % 24).padStart(2, '0');
    await setDoualaRules({ serviceHours: `${hh(localHour + 2)}:00-${hh(localHour + 3)}:00` });
    await expectRefused({}, 'outside_service_hours');
    await setDoualaRules({ serviceOpen: false });
    await expectRefused({}, 'city_service_closed');
    await setDoualaRules({});
    expect((await placeOrder(world, customer())).statusCode).toBe(201);
  });
});

describe('zones within a city', () => {
  it('adds a zone with a fee adjustment: audited, idempotent, and the order pays it', async () => {
    const before = await placeOrder(world, customer());
    const baseFee = before.json().pricing.deliveryFeeMinor as number;
    const body = { id: 'bonapriso', name: 'Bonapriso', polygon: around(NEAR, 0.005), feeAdjustmentXaf: 300 };
    const request = {
      method: 'POST' as const,
      url: '/v1/admin/cities/douala/zones',
      headers: { ...authHeader(admin()), 'idempotency-key': 'zone-bonapriso-1' },
      payload: body,
    };
    const created = await world.testApp.app.inject(request);
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.location).toBe('/v1/admin/cities/douala/zones/bonapriso');
    expect(created.json()).toMatchObject({ id: 'bonapriso', cityId: 'douala', active: true, delivers: true });
    const replay = await world.testApp.app.inject(request);
    expect(replay.statusCode).toBe(201);
    expect(replay.json()).toEqual(created.json());
    expect(await auditActions('zone:douala/bonapriso')).toEqual(['zone.created']);

    const zoned = await placeOrder(world, customer());
    expect(zoned.statusCode, zoned.body).toBe(201);
    expect(zoned.json().pricing.deliveryFeeMinor).toBe(baseFee + 300);

    const listed = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/cities/douala/zones',
      headers: authHeader(admin()),
    });
    expect(listed.json().items.map((zone: { id: string }) => zone.id)).toEqual(['bonapriso']);
  });

  it('delivers only inside the zones once a city has some, and never to a zone not served; search follows', async () => {
    // The restaurant's own point is outside Bonapriso: no delivery there now.
    await expectRefused({ delivery: { ...RESTAURANT_AT, text: 'Akwa' } }, 'outside_delivery_zone');
    expect(await search(at(RESTAURANT_AT))).not.toContain(world.restaurantId);
    expect(await search(at(NEAR))).toContain(world.restaurantId);

    // A zone the platform does not serve inside Bonapriso (the smaller zone wins).
    const port = await post(world.testApp, '/v1/admin/cities/douala/zones', admin(), {
      id: 'port',
      name: 'Port',
      polygon: around(NEAR, 0.002),
      delivers: false,
    });
    expect(port.statusCode, port.body).toBe(201);
    const refused = await expectRefused({}, 'outside_delivery_zone');
    expect(refused.reason).toBe('zone_not_served');
    expect(await search(at(NEAR))).not.toContain(world.restaurantId);

    // Switched off: audited, and deliveries to the point resume.
    const off = await patch(world.testApp, '/v1/admin/cities/douala/zones/port', admin(), { active: false });
    expect(off.statusCode, off.body).toBe(200);
    expect(await auditActions('zone:douala/port')).toEqual(['zone.created', 'zone.deactivated']);
    expect(await search(at(NEAR))).toContain(world.restaurantId);
    expect((await placeOrder(world, customer())).statusCode).toBe(201);

    // Widened to the restaurant: an outline change is an update, and the restaurant's point is served.
    const widened = await patch(world.testApp, '/v1/admin/cities/douala/zones/bonapriso', admin(), {
      polygon: around(RESTAURANT_AT, 0.03),
    });
    expect(widened.statusCode, widened.body).toBe(200);
    expect(await auditActions('zone:douala/bonapriso')).toEqual(['zone.created', 'zone.updated']);
    expect(await search(at(RESTAURANT_AT))).toContain(world.restaurantId);
  });

  it('refuses bad zones with a 4xx problem that writes nothing, and anyone but an admin', async () => {
    const count = async () =>
      Number(
        (
          await db()
            .selectFrom('city_zones')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = { zones: await count(), audit: await auditActions('zone:douala/bad') };
    const bowTie = [
      { latitude: 4.0, longitude: 9.7 },
      { latitude: 4.1, longitude: 9.8 },
      { latitude: 4.1, longitude: 9.7 },
      { latitude: 4.0, longitude: 9.8 },
    ];
    const cases: [string, unknown, number, string][] = [
      ['/v1/admin/cities/douala/zones', { id: 'bad', name: 'Bad', polygon: bowTie }, 400, 'invalid_zone'],
      [
        '/v1/admin/cities/douala/zones',
        { id: 'bad', name: 'Bad', polygon: around({ latitude: 3.848, longitude: 11.5021 }, 0.01) },
        400,
        'invalid_zone',
      ],
      [
        '/v1/admin/cities/douala/zones',
        {
          id: 'bad',
          name: 'Bad',
          polygon: around(NEAR, 0.01),
          surges: [{ window: '25:00-26:00', addXaf: 1 }],
        },
        400,
        'invalid_zone',
      ],
      [
        '/v1/admin/cities/douala/zones',
        { id: 'bad', name: 'Bad', polygon: around(NEAR, 0.01).slice(0, 2) },
        400,
        'validation_failed',
      ],
      [
        '/v1/admin/cities/douala/zones',
        { id: 'bad', name: 'Bad', polygon: around(NEAR, 0.01), feeAdjustmentXaf: 99_999 },
        400,
        'validation_failed',
      ],
      [
        '/v1/admin/cities/kribi/zones',
        { id: 'bad', name: 'Bad', polygon: around(NEAR, 0.01) },
        404,
        'city_not_found',
      ],
      [
        '/v1/admin/cities/douala/zones',
        { id: 'bonapriso', name: 'Again', polygon: around(NEAR, 0.01) },
        409,
        'zone_exists',
      ],
    ];
    for (const [url, payload, status, code] of cases) {
      const refused = await post(world.testApp, url, admin(), payload);
      expect(refused.statusCode, `${JSON.stringify(payload)}: ${refused.body}`).toBe(status);
      expect(refused.json().code).toBe(code);
    }
    const missing = await patch(world.testApp, '/v1/admin/cities/douala/zones/nowhere', admin(), {
      active: false,
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('zone_not_found');
    const asOwner = await post(
      world.testApp,
      '/v1/admin/cities/douala/zones',
      world.actors.owner.accessToken,
      {
        id: 'bad',
        name: 'Bad',
        polygon: around(NEAR, 0.01),
      },
    );
    expect(asOwner.statusCode).toBe(403);
    expect(await count()).toBe(before.zones);
    expect(await auditActions('zone:douala/bad')).toEqual(before.audit);
  });
});

describe('a third city', () => {
  it('an admin adds Bafoussam with a zone and a fee rule; search by city, delivery and pricing follow', async () => {
    const bafoussam = { latitude: 5.4778, longitude: 10.4176 };
    const created = await post(world.testApp, '/v1/admin/cities', admin(), {
      id: 'bafoussam',
      name: { fr: 'Bafoussam', en: 'Bafoussam' },
      center: bafoussam,
      bounds: { south: 5.4, west: 10.33, north: 5.56, east: 10.5 },
      active: true,
      rules: { deliveryFeeXaf: 300, deliveryFeePerKmXaf: 50 },
    });
    expect(created.statusCode, created.body).toBe(201);
    const zone = await post(world.testApp, '/v1/admin/cities/bafoussam/zones', admin(), {
      id: 'centre',
      name: 'Centre commercial',
      polygon: around(bafoussam, 0.03),
      surges: [{ window: '00:00-00:00', addXaf: 150 }],
    });
    expect(zone.statusCode, zone.body).toBe(201);
    const restaurantId = await activeRestaurant(world.testApp, world.actors, {
      name: 'La Bafoussamoise',
      city: 'Bafoussam',
      location: bafoussam,
    });
    const owner = world.actors.owner.accessToken;
    const category = (
      await post(world.testApp, `/v1/restaurants/${restaurantId}/menu/categories`, owner, {
        name: { fr: 'Plats' },
      })
    ).json();
    const dish = (
      await post(world.testApp, `/v1/restaurants/${restaurantId}/menu/items`, owner, {
        categoryId: category.id,
        name: { fr: 'Taro sauce jaune' },
        price: 3000,
      })
    ).json();

    expect(await search('city=bafoussam')).toEqual([restaurantId]);
    expect(await search('city=Douala')).toContain(world.restaurantId);
    expect(await search('city=douala')).not.toContain(restaurantId);
    expect(await search(`${at(bafoussam)}`)).toEqual([restaurantId]);
    const unknown = await world.testApp.app.inject({ method: 'GET', url: '/v1/restaurants?city=kribi' });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().code).toBe('city_unknown');

    const near = { latitude: bafoussam.latitude + 0.005, longitude: bafoussam.longitude, text: 'Marché A' };
    const placed = await placeOrder(world, customer(), {
      restaurantId,
      items: [{ itemId: dish.id, quantity: 1 }],
      delivery: near,
    });
    expect(placed.statusCode, placed.body).toBe(201);
    const pricing = placed.json().pricing;
    expect(pricing.deliveryFeeMinor).toBe(300 + 5 * Math.ceil(pricing.distanceMetres / 100) + 150);
    // Outside Bafoussam's only zone: not delivered.
    const far = {
      latitude: bafoussam.latitude + 0.05,
      longitude: bafoussam.longitude,
      text: 'Route de Dschang',
    };
    const refused = await placeOrder(world, customer(), {
      restaurantId,
      items: [{ itemId: dish.id, quantity: 1 }],
      delivery: far,
    });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json().code).toBe('outside_delivery_zone');
  });
});
