import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  catalogSeedStep,
  DEMO_OWNER_PHONES,
  DEMO_RESTAURANT_COUNT,
  DEMO_ZONES,
} from '../../../src/modules/catalog/seed.js';
import { generateCatalogFixture } from '../../../src/modules/catalog/fixtures.js';
import { demoRestaurants } from '../../../src/modules/catalog/seed.js';
import { DEMO_USERS } from '../../../src/modules/identity/seed.js';
import type { TestApp } from '../../helpers/app.js';
import { catalogTestApp } from './helpers.js';

let testApp: TestApp;
beforeAll(async () => {
  testApp = await catalogTestApp();
});
afterAll(async () => testApp?.close());

describe('catalog demo seed', () => {
  it('creates owners and active restaurants once, and running it again adds nothing', async () => {
    const first = await catalogSeedStep.run(testApp.services);
    expect(first.filter((line) => line.startsWith('restaurant')).length).toBe(DEMO_RESTAURANT_COUNT);
    expect(first.filter((line) => line.startsWith('owner')).length).toBe(DEMO_OWNER_PHONES.length);
    expect(await catalogSeedStep.run(testApp.services)).toEqual([]);
    const list = (await testApp.app.inject({ method: 'GET', url: '/v1/restaurants?limit=50' })).json();
    expect(list.total).toBe(DEMO_RESTAURANT_COUNT);
    const owner = await testApp.services.identity.repository.findUserByPhone(DEMO_OWNER_PHONES[0]);
    expect(owner?.roles).toContain('restaurant_owner');
    const menu = await testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${list.items[0].id}/menu` });
    expect(menu.json().categories.length).toBeGreaterThan(2);
  });

  it("the README's demo owner owns demo restaurants, and no two demo restaurants share a name", async () => {
    const readmeOwner = DEMO_USERS.find((user) => user.role === 'restaurant_owner')!;
    const owner = await testApp.services.identity.repository.findUserByPhone(readmeOwner.phone);
    const owned = await testApp.services.db
      .selectFrom('restaurants')
      .select(['name'])
      .where('owner_id', '=', owner!.id)
      .execute();
    expect(owned.length).toBeGreaterThan(0);
    const names = demoRestaurants(['a', 'b', 'c']).map((restaurant) => restaurant.name);
    expect(new Set(names).size).toBe(names.length);
    // The whole test fixture too (200 restaurants drawn from a few patterns and districts).
    const fixtureNames = generateCatalogFixture({ seed: 7 }).map((restaurant) => restaurant.name);
    expect(new Set(fixtureNames).size).toBe(fixtureNames.length);
  });
});

describe('demo zones', () => {
  it('Douala and Yaoundé get zones that serve every demo restaurant, and the port is not served', async () => {
    await catalogSeedStep.run(testApp.services);
    expect(await catalogSeedStep.run(testApp.services)).toEqual([]);
    for (const city of ['douala', 'yaounde']) {
      const zones = await testApp.app.inject({ method: 'GET', url: `/v1/cities/${city}/zones` });
      expect(zones.statusCode, zones.body).toBe(200);
      const expected = DEMO_ZONES.filter((zone) => zone.cityId === city).map((zone) => zone.id);
      expect(
        zones
          .json()
          .items.map((zone: { id: string }) => zone.id)
          .sort(),
      ).toEqual(expected.sort());
    }
    const { cities } = testApp.services.catalog;
    cities.invalidate();
    const rows = await testApp.services.db
      .selectFrom('restaurants')
      .select(['id', 'city', 'latitude', 'longitude'])
      .execute();
    expect(rows.length).toBe(DEMO_RESTAURANT_COUNT);
    const noon = new Date('2026-12-07T11:00:00Z');
    for (const row of rows) {
      // The restaurant's point and the orders seed's customer point (0.005° north of it).
      for (const point of [
        { latitude: row.latitude, longitude: row.longitude },
        { latitude: row.latitude + 0.005, longitude: row.longitude },
      ]) {
        const terms = await cities.deliveryTerms(row.city, point, noon);
        expect(terms?.refusal, `${row.id} at ${JSON.stringify(point)}`).toBeUndefined();
        expect(terms?.zoneId).not.toBeNull();
      }
    }
    const port = await cities.deliveryTerms('douala', { latitude: 4.05, longitude: 9.68 }, noon);
    expect(port).toMatchObject({ zoneId: 'port', refusal: 'zone_not_served' });
  });
});
