import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogSeedStep } from '../../../src/modules/catalog/seed.js';
import { identitySeedStep } from '../../../src/modules/identity/seed.js';
import { ordersSeedStep } from '../../../src/modules/orders/seed.js';
import type { TestApp } from '../../helpers/app.js';
import { catalogTestApp } from '../catalog/helpers.js';
import { createTestApp } from '../../helpers/app.js';

const catalogTestAppWith = (env: Record<string, string>) =>
  createTestApp({ env: { MAX_EVENT_LOOP_DELAY_MS: '0', ...env } });

let testApp: TestApp;
beforeAll(async () => {
  testApp = await catalogTestApp();
});
afterAll(async () => testApp?.close());

describe('orders demo seed', () => {
  it('with the real payment port, tops the demo wallet up through the simulators and pays from it', async () => {
    const ledgerApp = await catalogTestAppWith({ ORDERS_PAYMENT_PORT: 'ledger' });
    try {
      await identitySeedStep.run(ledgerApp.services);
      await catalogSeedStep.run(ledgerApp.services);
      const lines = await ordersSeedStep.run(ledgerApp.services);
      expect(
        lines.map((line) => line.split(' ')[2]),
        lines.join('\n'),
      ).toEqual([
        'PLACED',
        'ACCEPTED',
        'PREPARING',
        'READY_FOR_PICKUP',
        'PICKED_UP',
        'DELIVERED',
        'CANCELLED',
      ]);
    } finally {
      await ledgerApp.close();
    }
  }, 60_000);

  it('places orders in various states through the real service, once', async () => {
    await identitySeedStep.run(testApp.services);
    await catalogSeedStep.run(testApp.services);
    const lines = await ordersSeedStep.run(testApp.services);
    expect(lines, lines.join('\n')).toHaveLength(7);
    const statuses = lines.map((line) => line.split(' ')[2]);
    expect(statuses).toEqual([
      'PLACED',
      'ACCEPTED',
      'PREPARING',
      'READY_FOR_PICKUP',
      'PICKED_UP',
      'DELIVERED',
      'CANCELLED',
    ]);
    const { orders } = testApp.services.orders;
    for (const line of lines) {
      const [, id, status] = line.split(' ');
      expect((await orders.load(id!)).state.status).toBe(status);
    }
    expect(await ordersSeedStep.run(testApp.services)).toEqual([]);
  });
});
