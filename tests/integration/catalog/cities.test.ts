import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as citiesMigration from '../../../src/db/migrations/2026-12-06T0850_cities.js';
import * as zonesMigration from '../../../src/db/migrations/2026-12-06T1150_city_zones.js';
import type { TestApp } from '../../helpers/app.js';
import { authHeader } from '../../helpers/auth.js';
import { catalogTestApp, createActors, patch, post, restaurantBody, type Actors } from './helpers.js';

/**
 * Cities as data (issue #26) on the real PostgreSQL: the seeded cities, an admin adding a third
 * one without a deploy, restaurants naming their city by id or name, every refusal a 4xx
 * problem+json that changes nothing, and the migration of the old free-text cities.
 */
let testApp: TestApp;
let actors: Actors;

beforeAll(async () => {
  testApp = await catalogTestApp();
  actors = await createActors(testApp);
}, 120_000);
afterAll(async () => testApp?.close());

const db = () => testApp.services.db;
const bafoussam = (overrides: Record<string, unknown> = {}) => ({
  id: 'bafoussam',
  name: { fr: 'Bafoussam', en: 'Bafoussam' },
  center: { latitude: 5.4778, longitude: 10.4176 },
  bounds: { south: 5.4, west: 10.33, north: 5.56, east: 10.5 },
  rules: { deliveryFeeXaf: 500, minimumOrderXaf: 2000 },
  ...overrides,
});

async function snapshot() {
  const [cities, restaurants, audit] = await Promise.all([
    db().selectFrom('cities').selectAll().orderBy('id').execute(),
    db()
      .selectFrom('restaurants')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
    db()
      .selectFrom('audit_logs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { cities, restaurants: Number(restaurants.n), audit: Number(audit.n) };
}

async function auditOf(resource: string) {
  return db()
    .selectFrom('audit_logs')
    .select(['action'])
    .where('resource', '=', resource)
    .orderBy('created_at')
    .execute();
}

describe('cities as data', () => {
  it('serves Douala and Yaoundé from the migration, and restaurants name them by id or name', async () => {
    const listed = await testApp.app.inject({ method: 'GET', url: '/v1/cities' });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items.map((city: { id: string }) => city.id)).toEqual(['douala', 'yaounde']);
    expect(listed.json().items[1]).toMatchObject({
      name: { fr: 'Yaoundé', en: 'Yaounde' },
      timeZone: 'Africa/Douala',
      currency: 'XAF',
      country: 'CM',
    });
    for (const [input, id] of [
      ['Yaoundé', 'yaounde'],
      ['YAOUNDE', 'yaounde'],
      ['douala', 'douala'],
      ['  Douala ', 'douala'],
    ] as const) {
      const created = await post(
        testApp,
        '/v1/restaurants',
        actors.owner.accessToken,
        restaurantBody({ city: input }),
      );
      expect(created.statusCode, created.body).toBe(201);
      expect(created.json().city).toBe(id);
    }
  });

  it('refuses a restaurant in a city it does not serve with a 422 listing the cities, writing nothing', async () => {
    const before = await snapshot();
    const refused = await post(
      testApp,
      '/v1/restaurants',
      actors.owner.accessToken,
      restaurantBody({ city: 'Kribi' }),
    );
    expect(refused.statusCode).toBe(422);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json().code).toBe('city_unknown');
    expect(await snapshot()).toEqual(before);
  });

  it('lets an admin add a third city without a deploy, audited, and restaurants follow once it is active', async () => {
    const admin = actors.admin.accessToken;
    const created = await post(testApp, '/v1/admin/cities', admin, bafoussam());
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.location).toBe('/v1/admin/cities/bafoussam');
    expect(created.json()).toMatchObject({ id: 'bafoussam', active: false, timeZone: 'Africa/Douala' });
    // Inactive: not offered, no restaurant there yet.
    const offered = await testApp.app.inject({ method: 'GET', url: '/v1/cities' });
    expect(offered.json().items.map((city: { id: string }) => city.id)).not.toContain('bafoussam');
    const early = await post(
      testApp,
      '/v1/restaurants',
      actors.owner.accessToken,
      restaurantBody({ city: 'Bafoussam' }),
    );
    expect(early.statusCode).toBe(422);
    const activated = await patch(testApp, '/v1/admin/cities/bafoussam', admin, { active: true });
    expect(activated.statusCode, activated.body).toBe(200);
    expect(activated.json().active).toBe(true);
    const restaurant = await post(
      testApp,
      '/v1/restaurants',
      actors.owner.accessToken,
      restaurantBody({ city: 'Bafoussam', location: { latitude: 5.4778, longitude: 10.4176 } }),
    );
    expect(restaurant.statusCode, restaurant.body).toBe(201);
    expect(restaurant.json().city).toBe('bafoussam');
    // Renamed and re-ruled: rules are replaced whole, names field by field.
    const renamed = await patch(testApp, '/v1/admin/cities/bafoussam', admin, {
      name: { en: 'Bafoussam (West)' },
      rules: { deliveryFeeXaf: 700 },
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json()).toMatchObject({
      name: { fr: 'Bafoussam', en: 'Bafoussam (West)' },
      rules: { deliveryFeeXaf: 700 },
    });
    expect(renamed.json().rules.minimumOrderXaf).toBeUndefined();
    expect((await auditOf('city:bafoussam')).map((line) => line.action)).toEqual([
      'city.created',
      'city.activated',
      'city.updated',
    ]);
    const all = await testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/cities',
      headers: authHeader(admin),
    });
    expect(all.statusCode).toBe(200);
    expect(all.json().items.map((city: { id: string }) => city.id)).toEqual([
      'bafoussam',
      'douala',
      'yaounde',
    ]);
  });

  it("tells the apps a city's support hours and whether support answers now, in the city's time", async () => {
    const admin = actors.admin.accessToken;
    // Douala is UTC+1 all year: a window around now, and one that ended an hour ago.
    const local = (offsetMinutes: number) => {
      const at = new Date(Date.now() + (60 + offsetMinutes) * 60_000);
      return `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
    };
    const supportOf = async () =>
      (await testApp.app.inject({ method: 'GET', url: '/v1/cities' }))
        .json()
        .items.find((city: { id: string }) => city.id === 'yaounde').support;
    expect(await supportOf()).toBeUndefined();
    const open = `${local(-60)}-${local(60)}`;
    expect(
      (await patch(testApp, '/v1/admin/cities/yaounde', admin, { rules: { supportHours: open } })).statusCode,
    ).toBe(200);
    expect(await supportOf()).toEqual({ hours: open, openNow: true });
    const closed = `${local(-180)}-${local(-60)}`;
    expect(
      (await patch(testApp, '/v1/admin/cities/yaounde', admin, { rules: { supportHours: closed } }))
        .statusCode,
    ).toBe(200);
    expect(await supportOf()).toEqual({ hours: closed, openNow: false });
    for (const bad of ['8:00-20:00', '25:00-26:00', '08:00-20:00\u0000', 'always'])
      expect(
        (await patch(testApp, '/v1/admin/cities/yaounde', admin, { rules: { supportHours: bad } }))
          .statusCode,
        bad,
      ).toBe(400);
    expect(await supportOf()).toEqual({ hours: closed, openNow: false });
    expect((await patch(testApp, '/v1/admin/cities/yaounde', admin, { rules: {} })).statusCode).toBe(200);
  });

  it('replays a retried create with the same Idempotency-Key, and answers 409 to a second create of the id', async () => {
    const admin = actors.admin.accessToken;
    const body = bafoussam({
      id: 'garoua',
      name: { fr: 'Garoua', en: 'Garoua' },
      center: { latitude: 9.3, longitude: 13.4 },
      bounds: { south: 9.2, west: 13.3, north: 9.4, east: 13.5 },
    });
    const headers = { ...authHeader(admin), 'idempotency-key': 'city-garoua-1' };
    const first = await testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/cities',
      headers,
      payload: body,
    });
    const retried = await testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/cities',
      headers,
      payload: body,
    });
    expect(first.statusCode, first.body).toBe(201);
    expect(retried.statusCode).toBe(201);
    expect(retried.json()).toEqual(first.json());
    expect(await auditOf('city:garoua')).toHaveLength(1);
    const again = await post(testApp, '/v1/admin/cities', admin, body);
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('city_exists');
  });

  it('refuses bad cities with a 4xx problem+json and changes nothing', async () => {
    const admin = actors.admin.accessToken;
    const before = await snapshot();
    const cases: [Record<string, unknown>, number, string][] = [
      [
        bafoussam({ id: 'limbe', bounds: { south: 4.1, west: 9.1, north: 4.0, east: 9.3 } }),
        400,
        'invalid_city',
      ],
      [bafoussam({ id: 'limbe', center: { latitude: 4.0, longitude: 9.2 } }), 400, 'invalid_city'],
      [
        bafoussam({
          id: 'limbe',
          bounds: { south: 1, west: 9, north: 5, east: 10 },
          center: { latitude: 3, longitude: 9.5 },
        }),
        400,
        'invalid_city',
      ],
      [bafoussam({ id: 'limbe', timeZone: 'Mars/Olympus' }), 400, 'invalid_city'],
      [bafoussam({ id: 'limbe', name: { fr: 'Lim\u0000be', en: 'Limbe' } }), 400, 'invalid_characters'],
      [bafoussam({ id: 'Limbé' }), 400, 'validation_failed'],
      [bafoussam({ id: 'limbe', currency: 'EUR' }), 400, 'validation_failed'],
      [bafoussam({ id: 'limbe', name: { fr: 'x'.repeat(100_000), en: 'Limbe' } }), 400, 'validation_failed'],
      [bafoussam({ id: 'limbe', rules: { deliveryFeeXaf: -1 } }), 400, 'validation_failed'],
      [bafoussam({ id: 'limbe', rules: { deliveryFeeXaf: '500' } }), 400, 'validation_failed'],
      [bafoussam({ id: 'limbe', center: null }), 400, 'validation_failed'],
    ];
    for (const [payload, status, code] of cases) {
      const refused = await post(testApp, '/v1/admin/cities', admin, payload);
      expect(refused.statusCode, JSON.stringify(payload).slice(0, 200)).toBe(status);
      expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(refused.json().code).toBe(code);
    }
    // The field problems in the reader's language.
    const french = await testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/cities',
      headers: { ...authHeader(admin), 'accept-language': 'fr' },
      payload: bafoussam({ id: 'limbe', bounds: { south: 4.1, west: 9.1, north: 4.0, east: 9.3 } }),
    });
    expect(french.statusCode).toBe(400);
    expect(french.json().errors).toContainEqual({
      path: 'bounds',
      message: 'south doit être inférieur à north',
    });
    const centreOut = await patch(testApp, '/v1/admin/cities/douala', admin, {
      center: { latitude: 3.8, longitude: 11.5 },
    });
    expect(centreOut.statusCode).toBe(400);
    const missing = await patch(testApp, '/v1/admin/cities/kribi', admin, { active: true });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('city_not_found');
    expect(await snapshot()).toEqual(before);
  });

  it('lets only admins manage cities', async () => {
    const before = await snapshot();
    for (const token of [actors.owner.accessToken, actors.customer.accessToken]) {
      const created = await post(testApp, '/v1/admin/cities', token, bafoussam({ id: 'limbe' }));
      expect(created.statusCode).toBe(403);
      const changed = await patch(testApp, '/v1/admin/cities/douala', token, { active: false });
      expect(changed.statusCode).toBe(403);
    }
    const anonymous = await testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/cities',
      payload: bafoussam({ id: 'limbe' }),
    });
    expect(anonymous.statusCode).toBe(401);
    expect(await snapshot()).toEqual(before);
  });

  it('moves a restaurant only to an active city, and keeps its city on other edits', async () => {
    const admin = actors.admin.accessToken;
    const created = await post(
      testApp,
      '/v1/restaurants',
      actors.owner.accessToken,
      restaurantBody({ city: 'Douala' }),
    );
    const id = created.json().id as string;
    await post(
      testApp,
      '/v1/admin/cities',
      admin,
      bafoussam({
        id: 'limbe',
        name: { fr: 'Limbé', en: 'Limbe' },
        center: { latitude: 4.02, longitude: 9.2 },
        bounds: { south: 3.95, west: 9.1, north: 4.1, east: 9.3 },
      }),
    );
    const moved = await patch(testApp, `/v1/restaurants/${id}`, actors.owner.accessToken, { city: 'Limbé' });
    expect(moved.statusCode).toBe(422);
    expect(moved.json().code).toBe('city_unknown');
    const renamed = await patch(testApp, `/v1/restaurants/${id}`, actors.owner.accessToken, {
      city: 'Douala',
      name: 'Chez Mama (Akwa)',
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json().city).toBe('douala');
  });
});

describe('the migration of free-text cities', () => {
  it('keeps known names on the seeded cities and gives any other value an inactive city of its own', async () => {
    const created = await post(
      testApp,
      '/v1/restaurants',
      actors.owner.accessToken,
      restaurantBody({ city: 'Douala' }),
    );
    expect(created.statusCode).toBe(201);
    const known = created.json().id as string;
    const others = await Promise.all(
      [1, 2].map(async () => {
        const made = await post(
          testApp,
          '/v1/restaurants',
          actors.owner.accessToken,
          restaurantBody({ city: 'Douala' }),
        );
        return made.json().id as string;
      }),
    );
    // Back to the schema before cities (zones first: they reference cities), with free text as
    // the old code stored it.
    await zonesMigration.down(db());
    await citiesMigration.down(db());
    await sql`UPDATE restaurants SET city = 'kribi', latitude = 2.94, longitude = 9.91 WHERE id = ${others[0]}`.execute(
      db(),
    );
    await sql`UPDATE restaurants SET city = 'limbe-(s.w.)' WHERE id = ${others[1]}`.execute(db());
    await citiesMigration.up(db());
    await zonesMigration.up(db());
    const rows = await db()
      .selectFrom('restaurants')
      .innerJoin('cities', 'cities.id', 'restaurants.city')
      .select([
        'restaurants.id',
        'cities.id as city',
        'cities.name_fr',
        'cities.active',
        'cities.south',
        'cities.north',
      ])
      .where('restaurants.id', 'in', [known, ...others])
      .execute();
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(known)).toMatchObject({ city: 'douala', active: true });
    expect(byId.get(others[0]!)).toMatchObject({ city: 'kribi', name_fr: 'kribi', active: false });
    expect(byId.get(others[0]!)!.south).toBeLessThan(2.94);
    expect(byId.get(others[0]!)!.north).toBeGreaterThan(2.94);
    expect(byId.get(others[1]!)!.city).toMatch(/^city-[0-9a-f]{12}$/);
    expect(byId.get(others[1]!)!.name_fr).toBe('limbe-(s.w.)');
    // Every restaurant references a city now.
    const orphans = await sql<{ n: string }>`
      SELECT count(*) AS n FROM restaurants r LEFT JOIN cities c ON c.id = r.city WHERE c.id IS NULL`.execute(
      db(),
    );
    expect(Number(orphans.rows[0]!.n)).toBe(0);
    testApp.services.catalog.cities.invalidate();
  });
});
