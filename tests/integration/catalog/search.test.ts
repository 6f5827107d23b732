import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateCatalogFixture,
  insertCatalogFixture,
  type FixtureRestaurant,
} from '../../../src/modules/catalog/fixtures.js';
import { haversineMeters } from '../../../src/modules/catalog/rules/geo.js';
import type { TestApp } from '../../helpers/app.js';
import { catalogTestApp } from './helpers.js';

let testApp: TestApp;
let fixture: FixtureRestaurant[];
const AKWA = { lat: 4.0511, lng: 9.7679 };

beforeAll(async () => {
  testApp = await catalogTestApp();
  fixture = generateCatalogFixture({ seed: 7 });
  await insertCatalogFixture(testApp.services.db, fixture);
}, 120_000);
afterAll(async () => testApp?.close());

async function search(query: string) {
  const response = await testApp.app.inject({ method: 'GET', url: `/v1/restaurants?${query}` });
  return { status: response.statusCode, body: response.json() };
}

const serving = (dish: string) =>
  fixture.filter((restaurant) => restaurant.items.some((item) => item.nameFr.startsWith(dish)));

describe('restaurant search over the fixture (200 restaurants, 5,200 items)', () => {
  it('finds Ndolè by "ndole" (accents ignored) and by the typo "ndolle"', async () => {
    const expected = serving('Ndolè')
      .map((restaurant) => restaurant.id)
      .sort();
    expect(expected.length).toBeGreaterThan(10);
    for (const q of ['ndole', 'ndolle', 'NDOLÈ']) {
      const { status, body } = await search(`q=${encodeURIComponent(q)}&limit=50`);
      expect(status).toBe(200);
      expect(body.total).toBeGreaterThanOrEqual(expected.length);
      const ids = new Set<string>(body.items.map((item: { id: string }) => item.id));
      expect(expected.filter((id) => ids.has(id)).length).toBeGreaterThan(
        Math.min(expected.length, 50) * 0.8,
      );
    }
  });

  it('finds "Poulet DG" by "poulet dg" and ranks restaurants serving it first', async () => {
    const { body } = await search('q=poulet%20dg&limit=10');
    const servingIds = new Set(serving('Poulet DG').map((restaurant) => restaurant.id));
    expect(body.items.length).toBe(10);
    expect(body.items.every((item: { id: string }) => servingIds.has(item.id))).toBe(true);
  });

  it('finds dishes by their English names (beef suya, grilled fish)', async () => {
    const { body } = await search('q=grilled%20fish&limit=5');
    expect(body.items.length).toBe(5);
    const ids = new Set(serving('Poisson braisé').map((restaurant) => restaurant.id));
    expect(body.items.some((item: { id: string }) => ids.has(item.id))).toBe(true);
  });

  it('sorts by distance from a point within a radius, every result inside it', async () => {
    const { body } = await search(`lat=${AKWA.lat}&lng=${AKWA.lng}&radiusKm=3&sort=distance&limit=50`);
    const distances = body.items.map((item: { distanceM: number }) => item.distanceM);
    expect(distances.length).toBeGreaterThan(0);
    expect([...distances].sort((a, b) => a - b)).toEqual(distances);
    expect(Math.max(...distances)).toBeLessThanOrEqual(3000);
    const inside = fixture.filter(
      (restaurant) => haversineMeters({ latitude: AKWA.lat, longitude: AKWA.lng }, restaurant) <= 3000,
    );
    expect(body.total).toBe(inside.length);
  });

  it('filters by cuisine, rating, price and delivery time, and counts facets', async () => {
    const { body } = await search(
      `cuisine=fish_seafood&minRating=4&priceMax=4000&lat=${AKWA.lat}&lng=${AKWA.lng}&maxDeliveryMinutes=60&limit=50`,
    );
    for (const item of body.items) {
      expect(item.cuisines).toContain('fish_seafood');
      expect(item.rating.average).toBeGreaterThanOrEqual(4);
      expect(item.priceAverage).toBeLessThanOrEqual(4000);
      expect(item.deliveryMinutes).toBeLessThanOrEqual(60);
    }
    expect(body.facets.cuisines.fish_seafood).toBe(body.total);
    // Cuisine facets ignore the cuisine filter itself, so other cuisines still show their counts.
    expect(Object.keys(body.facets.cuisines).length).toBeGreaterThan(1);
    const tiers = Object.values(body.facets.priceTiers as Record<string, number>).reduce(
      (sum, count) => sum + count,
      0,
    );
    expect(tiers).toBe(body.total);
  });

  it('shows under each restaurant the dishes that matched, with their price, in the asked language', async () => {
    const { body } = await search('q=ndole&limit=20');
    expect(body.items.length).toBeGreaterThan(0);
    // A restaurant may match by its own name or description: its list is then empty, but present.
    expect(
      body.items.filter((item: { matchedItems: unknown[] }) => item.matchedItems.length > 0).length,
    ).toBeGreaterThan(10);
    for (const item of body.items) {
      const restaurant = fixture.find((candidate) => candidate.id === item.id)!;
      expect(item.matchedItems.length).toBeLessThanOrEqual(3);
      for (const dish of item.matchedItems) {
        const source = restaurant.items.find((candidate) => candidate.id === dish.id);
        expect(source, `${dish.name} is a dish of ${restaurant.name}`).toBeDefined();
        expect(dish.price).toBe(Number(source!.price));
      }
    }
    // The best match first: a restaurant serving Ndolè shows it, not another dish.
    const withNdole = body.items.filter((item: { id: string }) =>
      serving('Ndolè').some((restaurant) => restaurant.id === item.id),
    );
    expect(withNdole.length).toBeGreaterThan(0);
    for (const item of withNdole) expect(item.matchedItems[0].name).toMatch(/^Ndolè/);

    const english = await testApp.app.inject({
      method: 'GET',
      url: '/v1/restaurants?q=grilled%20fish&limit=5',
      headers: { 'accept-language': 'en' },
    });
    const names = english
      .json()
      .items.flatMap((item: { matchedItems: { name: string }[] }) =>
        item.matchedItems.map((dish) => dish.name),
      );
    expect(names.some((name: string) => /grilled fish/i.test(name))).toBe(true);
    // Without text there is nothing to match: no matchedItems at all.
    expect((await search('limit=5')).body.items[0].matchedItems).toBeUndefined();
  });

  it('without a radius, a customer sees only restaurants that deliver to them; far away, none', async () => {
    const { body } = await search(`lat=${AKWA.lat}&lng=${AKWA.lng}&limit=50&sort=distance`);
    const point = { latitude: AKWA.lat, longitude: AKWA.lng };
    const delivering = fixture.filter(
      (restaurant) => haversineMeters(point, restaurant) <= restaurant.deliveryRadiusM,
    );
    expect(delivering.length).toBeGreaterThan(0);
    expect(body.total).toBe(delivering.length);
    expect(body.items.every((item: { deliversHere: boolean }) => item.deliversHere)).toBe(true);
    // Bafoussam, about 200 km from Douala and Yaoundé: nothing delivers there.
    const far = await search('lat=5.4781&lng=10.4176&limit=50');
    expect(far.body.total).toBe(0);
    // An explicit radius browses further, showing whether each restaurant delivers.
    const browsing = await search(`lat=${AKWA.lat}&lng=${AKWA.lng}&radiusKm=8&limit=50`);
    expect(browsing.body.total).toBeGreaterThanOrEqual(body.total);
  });

  it('counts delivery-time bands that agree with the items of every page', async () => {
    const items: { deliveryMinutes: number }[] = [];
    let first: { total: number; facets: { deliveryTimes: Record<string, number> } } | undefined;
    let cursor = '';
    do {
      const { body } = await search(`lat=${AKWA.lat}&lng=${AKWA.lng}&limit=50${cursor}`);
      first ??= body;
      items.push(...body.items);
      cursor = body.nextCursor === undefined ? '' : `&cursor=${encodeURIComponent(body.nextCursor)}`;
    } while (cursor !== '');
    expect(items.length).toBe(first!.total);
    for (const band of [20, 30, 45, 60]) {
      const within = items.filter((item) => item.deliveryMinutes <= band).length;
      expect(first!.facets.deliveryTimes[String(band)]).toBe(within);
    }
    expect(first!.facets.deliveryTimes['60']).toBeGreaterThan(0);
  });

  it('open-now filter agrees with each restaurant profile', async () => {
    const { body } = await search('openNow=true&limit=20&sort=rating');
    expect(body.total).toBe(body.facets.openNow);
    for (const item of body.items.slice(0, 5)) {
      const profile = (await testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${item.id}` })).json();
      expect(profile.openNow).toBe(true);
    }
  });

  it('walks every page with the cursor: no duplicates, no gaps, same order as one big page', async () => {
    for (const sort of ['rating', 'price', 'distance', 'delivery_time', 'relevance']) {
      const base = `q=poisson&lat=${AKWA.lat}&lng=${AKWA.lng}&sort=${sort}`;
      const all = (await search(`${base}&limit=50`)).body;
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 40; page += 1) {
        const { body } = await search(`${base}&limit=25${cursor === undefined ? '' : `&cursor=${cursor}`}`);
        seen.push(...body.items.map((item: { id: string }) => item.id));
        cursor = body.nextCursor;
        if (cursor === undefined) break;
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.slice(0, all.items.length)).toEqual(all.items.map((item: { id: string }) => item.id));
      expect(seen.length).toBe(all.total);
    }
  });

  it('refuses a cursor replayed against another query', async () => {
    const { body } = await search('q=poisson&limit=2');
    const replay = await search(`q=ndole&limit=2&cursor=${body.nextCursor}`);
    expect(replay.status).toBe(400);
    expect(replay.body.code).toBe('invalid_cursor');
  });

  it('autocompletes restaurants, dishes and cuisines', async () => {
    const response = await testApp.app.inject({
      method: 'GET',
      url: '/v1/search/autocomplete?q=ndol',
      headers: { 'accept-language': 'en' },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.dishes.map((dish: { name: string }) => dish.name)).toContain('Ndole with shrimp');
    const grill = (
      await testApp.app.inject({ method: 'GET', url: '/v1/search/autocomplete?q=grill' })
    ).json();
    expect(grill.cuisines.map((cuisine: { code: string }) => cuisine.code)).toContain('grill');
    const typo = (
      await testApp.app.inject({ method: 'GET', url: '/v1/search/autocomplete?q=poulet%20dj' })
    ).json();
    expect(typo.dishes.map((dish: { name: string }) => dish.name)).toContain('Poulet DG');
  });

  it('the fixture is deterministic: same seed, same catalog', () => {
    expect(generateCatalogFixture({ seed: 7 })).toEqual(fixture);
    expect(fixture.length).toBeGreaterThanOrEqual(200);
    expect(fixture.reduce((sum, restaurant) => sum + restaurant.items.length, 0)).toBeGreaterThanOrEqual(
      5000,
    );
    expect(new Set(fixture.map((restaurant) => restaurant.city))).toEqual(new Set(['douala', 'yaounde']));
  });
});
