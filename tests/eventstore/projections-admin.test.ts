import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectionDefinition } from '../../projections/index.js';
import { defineContext } from '../../src/platform/context.js';
import { listProjections, requestProjectionRebuild } from '../../src/modules/projections/service.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authHeader, createUser } from '../helpers/auth.js';

/** A read model brought by a context of the test's own, as any context brings one. */
const orderTotals: ProjectionDefinition = {
  name: 'admin_order_totals',
  version: 1,
  tables: ['admin_order_totals'],
  filter: { streamPrefixes: ['admintest-'] },
  async setup({ db, schema }) {
    await sql`CREATE TABLE ${sql.id(schema, 'admin_order_totals')} (stream text PRIMARY KEY, total bigint NOT NULL)`.execute(
      db,
    );
  },
  async handle(event, { db, schema }) {
    const amount = (event.data as { amountMinor: number }).amountMinor;
    await sql`INSERT INTO ${sql.id(schema, 'admin_order_totals')} AS t VALUES (${event.stream}, ${amount})
              ON CONFLICT (stream) DO UPDATE SET total = t.total + excluded.total`.execute(db);
  },
};
const adminTestContext = defineContext({
  name: 'adminTest',
  needs: {},
  projections: [orderTotals],
  create: () => ({ service: {} }),
});

describe('projections admin: service functions, HTTP routes, metrics', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await createTestApp({ extraContexts: [adminTestContext] });
    await testApp.services.eventStore.append('admintest-1', [
      { type: 'OrderPriced', data: { amountMinor: 1500 } },
      { type: 'OrderPriced', data: { amountMinor: 500 } },
    ]);
    await testApp.services.projections.waitUntilCaughtUp('admin_order_totals');
  });
  afterAll(async () => testApp?.close());

  it('lists the projection with its generation, checkpoint and lag (the runner started with the app)', async () => {
    const { items } = await listProjections(testApp.services.projections);
    expect(items).toContainEqual(
      expect.objectContaining({
        name: 'admin_order_totals',
        version: 1,
        generation: 1,
        status: 'active',
        eventsProcessed: 2,
        lagEvents: 0,
        failed: null,
        running: true,
        registered: true,
      }),
    );
  });

  it('rebuilds through the service function and swaps to the new generation', async () => {
    await expect(requestProjectionRebuild(testApp.services.projections, 'nope')).rejects.toMatchObject({
      kind: 'not_found',
      code: 'not_found',
    });
    const started = await requestProjectionRebuild(testApp.services.projections, 'admin_order_totals');
    expect(started).toEqual({ name: 'admin_order_totals', generation: 2, status: 'building' });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const items = (await listProjections(testApp.services.projections)).items.filter(
        (item) => item.name === 'admin_order_totals',
      );
      if (items.length === 1 && items[0]!.generation === 2 && items[0]!.status === 'active') break;
      if (Date.now() > deadline) throw new Error(`rebuild did not swap: ${JSON.stringify(items)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const totals = await sql<{ total: bigint }>`SELECT total FROM admin_order_totals`.execute(
      testApp.services.db,
    );
    expect(totals.rows).toEqual([{ total: 2000n }]);
  });

  it('exports lag in events and seconds on /metrics', async () => {
    const response = await testApp.app.inject({ method: 'GET', url: '/metrics' });
    expect(response.body).toMatch(
      /projection_lag_events\{projection="admin_order_totals",status="active"\} 0/,
    );
    expect(response.body).toMatch(
      /projection_lag_seconds\{projection="admin_order_totals",status="active"\} 0/,
    );
    expect(response.body).toMatch(/projection_failed\{projection="admin_order_totals",status="active"\} 0/);
  });

  it('admits only FULL_SYSTEM_ACCESS over HTTP: 401 without a token, 403 for a customer, 200/202 for an admin', async () => {
    const anonymous = await testApp.app.inject({ method: 'GET', url: '/v1/admin/projections' });
    expect(anonymous.statusCode).toBe(401);
    const customer = await createUser(testApp, { roles: ['customer'] });
    const forbidden = await testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/projections/admin_order_totals/rebuild',
      headers: authHeader(customer.accessToken),
    });
    expect(forbidden.statusCode).toBe(403);
    const admin = await createUser(testApp, { roles: ['admin'] });
    const list = await testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/projections',
      headers: authHeader(admin.accessToken),
    });
    expect(list.statusCode).toBe(200);
    expect((list.json() as { items: { name: string }[] }).items.map((item) => item.name)).toContain(
      'admin_order_totals',
    );
    const missing = await testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/projections/nope/rebuild',
      headers: authHeader(admin.accessToken),
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    const rebuild = await testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/projections/admin_order_totals/rebuild',
      headers: authHeader(admin.accessToken),
    });
    expect(rebuild.statusCode).toBe(202);
    expect(rebuild.json()).toMatchObject({ name: 'admin_order_totals', status: 'building' });
  });
});
