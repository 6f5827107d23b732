import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  catalogSeedStep,
  DEMO_OWNER_PHONES,
  DEMO_RESTAURANT_COUNT,
} from '../../../src/modules/catalog/seed.js';
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
});
