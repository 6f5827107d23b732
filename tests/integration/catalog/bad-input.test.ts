import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import {
  activeRestaurant,
  createActors,
  patch,
  post,
  restaurantBody,
  type Actors,
  catalogTestApp,
} from './helpers.js';

let testApp: TestApp;
let actors: Actors;
let restaurantId: string;
let categoryId: string;
let itemId: string;

beforeAll(async () => {
  testApp = await catalogTestApp();
  actors = await createActors(testApp);
  restaurantId = await activeRestaurant(testApp, actors);
  categoryId = (
    await post(testApp, `/v1/restaurants/${restaurantId}/menu/categories`, actors.owner.accessToken, {
      name: { fr: 'Plats' },
    })
  ).json().id;
  itemId = (
    await post(testApp, `/v1/restaurants/${restaurantId}/menu/items`, actors.owner.accessToken, {
      categoryId,
      name: { fr: 'Eru' },
      price: 2500,
    })
  ).json().id;
});
afterAll(async () => testApp?.close());

/** Everything a bad request could have touched, to prove it changed nothing. */
async function snapshot() {
  const db = testApp.services.db;
  const [restaurants, items, groups, categories, audits] = await Promise.all([
    db.selectFrom('restaurants').selectAll().orderBy('id').execute(),
    db.selectFrom('menu_items').selectAll().orderBy('id').execute(),
    db.selectFrom('menu_modifier_groups').selectAll().orderBy('id').execute(),
    db.selectFrom('menu_categories').selectAll().orderBy('id').execute(),
    db.selectFrom('audit_logs').select('id').execute(),
  ]);
  return JSON.stringify({ restaurants, items, groups, categories, audits: audits.length }, (_key, value) =>
    typeof value === 'bigint' ? value.toString() : value,
  );
}

function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; json(): { code: string } },
  status: number,
  code?: string,
) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  if (code !== undefined) expect(response.json().code).toBe(code);
}

describe('bad input gets a clear problem+json 4xx and changes nothing', () => {
  const cases: {
    name: string;
    status: number;
    code?: string;
    send: () => Promise<Parameters<typeof expectProblem>[0]>;
  }[] = [
    {
      name: 'an unknown cuisine on registration',
      status: 400,
      code: 'unknown_cuisine',
      send: () =>
        post(testApp, '/v1/restaurants', actors.owner.accessToken, restaurantBody({ cuisines: ['martian'] })),
    },
    {
      name: 'an unknown cuisine in a search filter',
      status: 400,
      code: 'unknown_cuisine',
      send: () => testApp.app.inject({ method: 'GET', url: '/v1/restaurants?cuisine=cameroonian,martian' }),
    },
    {
      name: 'a latitude beyond 90',
      status: 400,
      code: 'validation_failed',
      send: () =>
        post(
          testApp,
          '/v1/restaurants',
          actors.owner.accessToken,
          restaurantBody({ location: { latitude: 94, longitude: 9.7 } }),
        ),
    },
    {
      name: 'a non-numeric longitude in search',
      status: 400,
      code: 'validation_failed',
      send: () => testApp.app.inject({ method: 'GET', url: '/v1/restaurants?lat=4.05&lng=abc' }),
    },
    {
      name: 'lat without lng',
      status: 400,
      code: 'invalid_coordinates',
      send: () => testApp.app.inject({ method: 'GET', url: '/v1/restaurants?lat=4.05' }),
    },
    {
      name: 'a delivery radius over the maximum',
      status: 400,
      code: 'validation_failed',
      send: () =>
        post(testApp, '/v1/restaurants', actors.owner.accessToken, restaurantBody({ deliveryRadiusKm: 31 })),
    },
    {
      name: 'a search radius over the maximum',
      status: 400,
      code: 'validation_failed',
      send: () => testApp.app.inject({ method: 'GET', url: '/v1/restaurants?lat=4.05&lng=9.7&radiusKm=500' }),
    },
    {
      name: 'a page size over the maximum',
      status: 400,
      code: 'validation_failed',
      send: () => testApp.app.inject({ method: 'GET', url: '/v1/restaurants?limit=51' }),
    },
    {
      name: 'a distance sort without a point',
      status: 400,
      code: 'point_required',
      send: () => testApp.app.inject({ method: 'GET', url: '/v1/restaurants?sort=distance' }),
    },
    {
      name: 'a malformed cursor',
      status: 400,
      code: 'invalid_cursor',
      send: () => testApp.app.inject({ method: 'GET', url: '/v1/restaurants?cursor=garbage' }),
    },
    {
      name: 'overlapping opening hours',
      status: 400,
      code: 'invalid_opening_hours',
      send: () =>
        post(
          testApp,
          '/v1/restaurants',
          actors.owner.accessToken,
          restaurantBody({
            openingHours: {
              mon: [
                { opens: '08:00', closes: '14:00' },
                { opens: '12:00', closes: '20:00' },
              ],
            },
          }),
        ),
    },
    {
      name: 'a closure that ends before it starts',
      status: 400,
      code: 'invalid_closures',
      send: () =>
        post(
          testApp,
          '/v1/restaurants',
          actors.owner.accessToken,
          restaurantBody({ closures: [{ startsAt: '2026-12-25T18:00', endsAt: '2026-12-25T08:00' }] }),
        ),
    },
    {
      name: 'a negative price',
      status: 400,
      code: 'validation_failed',
      send: () =>
        post(testApp, `/v1/restaurants/${restaurantId}/menu/items`, actors.owner.accessToken, {
          categoryId,
          name: { fr: 'Koki' },
          price: -500,
        }),
    },
    {
      name: 'a fractional price',
      status: 400,
      code: 'validation_failed',
      send: () =>
        post(testApp, `/v1/restaurants/${restaurantId}/menu/items`, actors.owner.accessToken, {
          categoryId,
          name: { fr: 'Koki' },
          price: 99.5,
        }),
    },
    {
      name: 'a discount above the price',
      status: 400,
      code: 'invalid_price',
      send: () =>
        patch(testApp, `/v1/restaurants/${restaurantId}/menu/items/${itemId}`, actors.owner.accessToken, {
          discountPrice: 9000,
        }),
    },
    {
      name: 'a modifier group whose min exceeds its max',
      status: 400,
      code: 'modifier_min_exceeds_max',
      send: () =>
        post(testApp, `/v1/restaurants/${restaurantId}/menu/modifier-groups`, actors.owner.accessToken, {
          itemId,
          name: { fr: 'Sauce' },
          minSelections: 3,
          maxSelections: 2,
          options: [{ name: { fr: 'a' } }, { name: { fr: 'b' } }, { name: { fr: 'c' } }],
        }),
    },
    {
      name: 'a schedule with no days',
      status: 400,
      code: 'validation_failed',
      send: () =>
        patch(testApp, `/v1/restaurants/${restaurantId}/menu/items/${itemId}`, actors.owner.accessToken, {
          schedule: [{ days: [], opens: '06:00', closes: '11:00' }],
        }),
    },
    {
      name: 'an item in a category of another restaurant',
      status: 404,
      code: 'category_not_found',
      send: () =>
        post(testApp, `/v1/restaurants/${restaurantId}/menu/items`, actors.owner.accessToken, {
          categoryId: '00000000-0000-4000-8000-000000000000',
          name: { fr: 'Koki' },
          price: 500,
        }),
    },
    {
      name: 'an unknown field in the body',
      status: 400,
      code: 'validation_failed',
      send: () =>
        patch(testApp, `/v1/restaurants/${restaurantId}/menu/items/${itemId}`, actors.owner.accessToken, {
          price: 100,
          ownerId: 'x',
        }),
    },
  ];

  for (const testCase of cases) {
    it(`${testCase.name} → ${testCase.status}${testCase.code === undefined ? '' : ` ${testCase.code}`}`, async () => {
      const before = await snapshot();
      expectProblem(await testCase.send(), testCase.status, testCase.code);
      expect(await snapshot()).toBe(before);
    });
  }

  it('lists opening-hours and closure problems in the reader’s language (French by Accept-Language)', async () => {
    const send = (language: string, body: Record<string, unknown>) =>
      testApp.app.inject({
        method: 'POST',
        url: '/v1/restaurants',
        headers: { ...authHeader(actors.owner.accessToken), 'accept-language': language },
        payload: restaurantBody(body),
      });
    const overlap = {
      openingHours: {
        mon: [
          { opens: '08:00', closes: '14:00' },
          { opens: '12:00', closes: '20:00' },
        ],
      },
    };
    const french = await send('fr', overlap);
    expect(french.statusCode).toBe(400);
    expect(french.headers['content-language']).toBe('fr');
    expect(french.json()).toMatchObject({
      code: 'invalid_opening_hours',
      detail: 'mon : des plages horaires se chevauchent (mon)',
      errors: [{ path: 'openingHours', message: 'mon : des plages horaires se chevauchent (mon)' }],
    });
    const english = await send('en', overlap);
    expect(english.json()).toMatchObject({
      detail: 'mon: ranges overlap (mon)',
      errors: [{ path: 'openingHours', message: 'mon: ranges overlap (mon)' }],
    });
    const closure = await send('fr-CM', {
      closures: [{ startsAt: '2026-12-25T18:00', endsAt: '2026-12-25T08:00' }],
    });
    expect(closure.json()).toMatchObject({
      code: 'invalid_closures',
      errors: [{ path: 'closures', message: 'fermeture 0 : endsAt doit être après startsAt' }],
    });
  });

  it("an owner editing someone else's menu → 403 not_restaurant_owner, nothing changed", async () => {
    const intruder = await createUser(testApp, { roles: ['restaurant_owner'] });
    const before = await snapshot();
    expectProblem(
      await patch(testApp, `/v1/restaurants/${restaurantId}/menu/items/${itemId}`, intruder.accessToken, {
        price: 1,
      }),
      403,
      'not_restaurant_owner',
    );
    expectProblem(
      await post(testApp, `/v1/restaurants/${restaurantId}/menu/items`, intruder.accessToken, {
        categoryId,
        name: { fr: 'Piège' },
        price: 1,
      }),
      403,
      'not_restaurant_owner',
    );
    expectProblem(
      await post(testApp, `/v1/restaurants/${restaurantId}/menu/categories`, intruder.accessToken, {
        name: { fr: 'Piège' },
      }),
      403,
      'not_restaurant_owner',
    );
    expectProblem(
      await patch(testApp, `/v1/restaurants/${restaurantId}`, intruder.accessToken, { name: 'Piège' }),
      403,
      'not_restaurant_owner',
    );
    expect(await snapshot()).toBe(before);
  });

  it('a customer without the menu permission → 403, anonymous → 401', async () => {
    expectProblem(
      await patch(
        testApp,
        `/v1/restaurants/${restaurantId}/menu/items/${itemId}`,
        actors.customer.accessToken,
        { price: 1 },
      ),
      403,
    );
    const anonymous = await testApp.app.inject({
      method: 'PATCH',
      url: `/v1/restaurants/${restaurantId}/menu/items/${itemId}`,
      payload: { price: 1 },
    });
    expectProblem(anonymous, 401);
  });

  it('an admin may edit any menu', async () => {
    const response = await patch(
      testApp,
      `/v1/restaurants/${restaurantId}/menu/items/${itemId}`,
      actors.admin.accessToken,
      { price: 2600 },
    );
    expect(response.statusCode).toBe(200);
    expect(response.json().price).toBe(2600);
  });

  it('a repeated Idempotency-Key returns the first answer without a second item', async () => {
    const headers = { 'idempotency-key': 'item-create-0001' };
    const send = () =>
      testApp.app.inject({
        method: 'POST',
        url: `/v1/restaurants/${restaurantId}/menu/items`,
        headers: { ...headers, authorization: `Bearer ${actors.owner.accessToken}` },
        payload: { categoryId, name: { fr: 'Achu' }, price: 3000 },
      });
    const first = await send();
    const second = await send();
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json().id).toBe(first.json().id);
    const count = await testApp.services.db
      .selectFrom('menu_items')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('name_fr', '=', 'Achu')
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
  });
});
