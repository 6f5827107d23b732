import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { authHeader } from '../../helpers/auth.js';
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

beforeAll(async () => {
  testApp = await catalogTestApp();
  actors = await createActors(testApp);
});
afterAll(async () => testApp?.close());

describe('restaurant life cycle', () => {
  it('an owner publishes a menu, an admin verifies, a customer finds it by a misspelt dish near a point', async () => {
    const created = await post(
      testApp,
      '/v1/restaurants',
      actors.owner.accessToken,
      restaurantBody({ name: 'Saveurs du Wouri' }),
    );
    expect(created.statusCode).toBe(201);
    const restaurant = created.json();
    expect(restaurant.status).toBe('pending_verification');
    const id = restaurant.id as string;

    const category = await post(testApp, `/v1/restaurants/${id}/menu/categories`, actors.owner.accessToken, {
      name: { fr: 'Plats', en: 'Mains' },
    });
    expect(category.statusCode).toBe(201);
    const item = await post(testApp, `/v1/restaurants/${id}/menu/items`, actors.owner.accessToken, {
      categoryId: category.json().id,
      name: { fr: 'Ndolè aux crevettes', en: 'Ndole with shrimp' },
      price: 3500,
      discountPrice: 3000,
      costPrice: 1800,
    });
    expect(item.statusCode).toBe(201);
    const group = await post(
      testApp,
      `/v1/restaurants/${id}/menu/modifier-groups`,
      actors.owner.accessToken,
      {
        itemId: item.json().id,
        name: { fr: 'Accompagnement', en: 'Side' },
        minSelections: 1,
        maxSelections: 1,
        options: [
          { name: { fr: 'Miondo' } },
          { name: { fr: 'Plantain mûr', en: 'Ripe plantain' }, priceDelta: 300 },
        ],
      },
    );
    expect(group.statusCode).toBe(201);

    // Not listed before verification.
    const before = await testApp.app.inject({ method: 'GET', url: '/v1/restaurants?q=ndolle' });
    expect(before.json().items.map((row: { id: string }) => row.id)).not.toContain(id);
    expect((await testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${id}` })).statusCode).toBe(404);

    const verified = await post(testApp, `/v1/admin/restaurants/${id}/verify`, actors.admin.accessToken, {
      decision: 'verify',
    });
    expect(verified.statusCode).toBe(200);
    expect(verified.json().status).toBe('active');

    const found = await testApp.app.inject({
      method: 'GET',
      url: '/v1/restaurants?q=ndolle&lat=4.06&lng=9.77&radiusKm=5&sort=distance',
    });
    expect(found.statusCode).toBe(200);
    const hit = found.json().items.find((row: { id: string }) => row.id === id);
    expect(hit).toMatchObject({ name: 'Saveurs du Wouri', deliversHere: true });
    expect(hit.distanceM).toBeGreaterThan(0);

    const menu = await testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants/${id}/menu`,
      headers: { 'accept-language': 'en' },
    });
    expect(menu.statusCode).toBe(200);
    const dish = menu.json().categories[0].items[0];
    expect(dish).toMatchObject({ name: 'Ndole with shrimp', price: 3000, was: 3500, orderable: true });
    expect(dish).not.toHaveProperty('costPrice');
    expect(JSON.stringify(menu.json())).not.toMatch(/null|\[\]|false|""/);
  });

  it('records an audit line for each owner and admin change', async () => {
    const id = await activeRestaurant(testApp, actors);
    const lines = await testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'actor_id'])
      .where('resource', '=', `restaurant:${id}`)
      .orderBy('id')
      .execute();
    expect(lines.map((line) => line.action)).toEqual(['restaurant.created', 'restaurant.verify']);
    expect(lines[1]!.actor_id).toBe(actors.admin.userId);
  });

  it('rejects with a reason, refuses a rejection without one, and suspends an active restaurant', async () => {
    const created = await post(testApp, '/v1/restaurants', actors.owner.accessToken, restaurantBody());
    const id = created.json().id as string;
    const noReason = await post(testApp, `/v1/admin/restaurants/${id}/verify`, actors.admin.accessToken, {
      decision: 'reject',
    });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().code).toBe('reason_required');
    const rejected = await post(testApp, `/v1/admin/restaurants/${id}/verify`, actors.admin.accessToken, {
      decision: 'reject',
      reason: 'NIU illisible',
    });
    expect(rejected.json()).toMatchObject({ status: 'rejected', statusReason: 'NIU illisible' });
    const active = await activeRestaurant(testApp, actors);
    const suspended = await post(
      testApp,
      `/v1/admin/restaurants/${active}/verify`,
      actors.admin.accessToken,
      { decision: 'suspend', reason: 'hygiène' },
    );
    expect(suspended.json().status).toBe('suspended');
    expect(
      (await testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${active}/menu` })).statusCode,
    ).toBe(404);
    const again = await post(testApp, `/v1/admin/restaurants/${active}/verify`, actors.admin.accessToken, {
      decision: 'suspend',
      reason: 'x',
    });
    expect(again.statusCode).toBe(409);
    // The owner still sees their own suspended restaurant.
    const own = await testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants/${active}`,
      headers: authHeader(actors.owner.accessToken),
    });
    expect(own.json()).toMatchObject({ status: 'suspended', statusReason: 'hygiène' });
  });

  it('only admins verify', async () => {
    const created = await post(testApp, '/v1/restaurants', actors.owner.accessToken, restaurantBody());
    const response = await post(
      testApp,
      `/v1/admin/restaurants/${created.json().id}/verify`,
      actors.owner.accessToken,
      { decision: 'verify' },
    );
    expect(response.statusCode).toBe(403);
  });

  it('grants the owner role to a customer who registers a restaurant', async () => {
    const { createUser } = await import('../../helpers/auth.js');
    const customer = await createUser(testApp, { roles: ['customer'] });
    const created = await post(testApp, '/v1/restaurants', customer.accessToken, restaurantBody());
    expect(created.statusCode).toBe(201);
    const user = await testApp.services.db
      .selectFrom('users')
      .select('roles')
      .where('id', '=', customer.userId)
      .executeTakeFirstOrThrow();
    expect(user.roles).toContain('restaurant_owner');
  });

  it('profile says open now, closing time, rating and a delivery estimate for a point; ETag gives 304', async () => {
    const id = await activeRestaurant(testApp, actors);
    const url = `/v1/restaurants/${id}?lat=4.0611&lng=9.7679`;
    const first = await testApp.app.inject({ method: 'GET', url });
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body).toMatchObject({
      openNow: true,
      rating: { average: 0, count: 0 },
      delivery: { deliversHere: true },
    });
    expect(body.delivery.distanceM).toBeGreaterThan(1000);
    expect(body.delivery.minutes).toBeGreaterThan(20);
    expect(body).not.toHaveProperty('taxId');
    const etag = first.headers.etag as string;
    const second = await testApp.app.inject({ method: 'GET', url, headers: { 'if-none-match': etag } });
    expect(second.statusCode).toBe(304);
    expect(second.body).toBe('');
  });

  it('a closed restaurant reports its next opening', async () => {
    const id = await activeRestaurant(testApp, actors, { openingHours: {}, holidays: [] });
    const body = (await testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${id}` })).json();
    expect(body.openNow).toBe(false);
    expect(body).not.toHaveProperty('nextOpeningAt');
    const withHours = await activeRestaurant(testApp, actors, {
      openingHours: { mon: [{ opens: '22:00', closes: '02:00' }] },
    });
    const next = (await testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${withHours}` })).json();
    if (!next.openNow) expect(new Date(next.nextOpeningAt).getTime()).toBeGreaterThan(Date.now());
  });

  it('owner edits hours and closures; the edit is visible and audited', async () => {
    const id = await activeRestaurant(testApp, actors);
    const response = await patch(testApp, `/v1/restaurants/${id}`, actors.owner.accessToken, {
      closures: [{ startsAt: '2020-01-01T00:00', endsAt: '2099-01-01T00:00', reason: 'travaux' }],
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().openNow).toBe(false);
    const other = await testApp.app.inject({
      method: 'PATCH',
      url: `/v1/restaurants/${id}`,
      headers: authHeader(actors.customer.accessToken),
      payload: { name: 'Pirate' },
    });
    expect(other.statusCode).toBe(403);
  });

  it('serves the menu gzip-encoded when asked, with the same bytes as raw', async () => {
    const id = await activeRestaurant(testApp, actors);
    const category = await post(testApp, `/v1/restaurants/${id}/menu/categories`, actors.owner.accessToken, {
      name: { fr: 'Grillades' },
    });
    await post(testApp, `/v1/restaurants/${id}/menu/items`, actors.owner.accessToken, {
      categoryId: category.json().id,
      name: { fr: 'Poisson braisé' },
      price: 4000,
    });
    const raw = await testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${id}/menu` });
    const gzip = await testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants/${id}/menu`,
      headers: { 'accept-encoding': 'gzip, deflate' },
    });
    expect(gzip.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gzip.rawPayload).toString()).toBe(raw.body);
    expect(raw.headers.etag).toBe(gzip.headers.etag);
    expect(raw.headers.vary).toMatch(/Accept-Encoding/);
  });
});

describe('OpenAPI', () => {
  it('documents every catalog route with its schemas', async () => {
    const response = await testApp.app.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    const paths = Object.keys(response.json().paths);
    for (const path of [
      '/v1/restaurants',
      '/v1/restaurants/{id}',
      '/v1/restaurants/{id}/menu',
      '/v1/restaurants/{id}/menu/items',
      '/v1/restaurants/{id}/menu/items/{itemId}',
      '/v1/restaurants/{id}/menu/categories/{categoryId}',
      '/v1/restaurants/{id}/menu/modifier-groups/{groupId}',
      '/v1/admin/restaurants/{id}/verify',
      '/v1/search/autocomplete',
      '/v1/restaurants/{id}/reviews',
    ]) {
      expect(paths).toContain(path);
    }
  });
});
