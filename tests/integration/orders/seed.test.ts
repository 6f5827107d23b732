import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogSeedStep } from '../../../src/modules/catalog/seed.js';
import { identitySeedStep } from '../../../src/modules/identity/seed.js';
import { ordersSeedStep } from '../../../src/modules/orders/seed.js';
import type { TestApp } from '../../helpers/app.js';
import { catalogTestApp } from '../catalog/helpers.js';

let testApp: TestApp;
beforeAll(async () => {
  testApp = await catalogTestApp();
});
afterAll(async () => testApp?.close());

describe('orders demo seed', () => {
  it('places orders in various states through the real service, once', async () => {
    await identitySeedStep.run(testApp.services);
    await catalogSeedStep.run(testApp.services);
    const lines = await ordersSeedStep.run(testApp.services);
    expect(lines, lines.join('\n')).toHaveLength(7);
    const statuses = lines.map((line) => line.split(' ')[2]);
    expect(statuses).toEqual(['PLACED', 'ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP', 'PICKED_UP', 'DELIVERED', 'CANCELLED']);
    const { orders } = testApp.services.orders;
    for (const line of lines) {
      const [, id, status] = line.split(' ');
      expect((await orders.load(id!)).state.status).toBe(status);
    }
    expect(await ordersSeedStep.run(testApp.services)).toEqual([]);
  });
});
