import { sql } from 'kysely';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../../helpers/auth.js';
import { orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { until } from '../payments/helpers.js';

/**
 * The live dashboard (docs/admin.md "Live dashboard"): the REST snapshot moves when an order is
 * placed and a driver goes online; a tick publishes it on /ws/admin `live-analytics`, and an alert
 * that no longer holds is cleared on `system-alerts`.
 */
let world: OrderWorld;
let base: string;

beforeAll(async () => {
  world = await orderWorld({ ADMIN_LIVE_INTERVAL_SECONDS: '10' });
  const address = await world.testApp.app.listen({ host: '127.0.0.1', port: 0 });
  base = address.replace('http', 'ws');
}, 120_000);
afterAll(async () => world?.testApp.close());

const dashboard = async (token = world.actors.admin.accessToken) =>
  world.testApp.app.inject({ method: 'GET', url: '/v1/admin/dashboard', headers: authHeader(token) });

async function adminSocket(): Promise<{ messages: Record<string, unknown>[]; close(): void }> {
  const socket = new WebSocket(`${base}/ws/admin?access_token=${world.actors.admin.accessToken}`);
  const messages: Record<string, unknown>[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  await until(
    async () => messages,
    (list) => list.some((message) => message.type === 'ready'),
  );
  return { messages, close: () => socket.close() };
}

describe('live dashboard', () => {
  it('the snapshot shows orders placed and drivers online as they happen', async () => {
    const first = await dashboard();
    expect(first.statusCode, first.body).toBe(200);
    const before = first.json().dashboard;
    const placed = await placeOrder(world, world.actors.customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const online = await world.testApp.app.inject({
      method: 'PUT',
      url: '/v1/drivers/me/availability',
      headers: authHeader(world.driver.accessToken),
      payload: { online: true, vehicle: 'motorbike' },
    });
    expect(online.statusCode, online.body).toBe(200);
    // The gauges are cached 5 s by their owners: wait for the figures to move.
    const after = await until(
      async () => (await dashboard()).json().dashboard,
      (figures) =>
        figures.drivers.online > before.drivers.online &&
        Object.values(figures.orders.byStatus as Record<string, number>).reduce((a, b) => a + b, 0) >
          Object.values(before.orders.byStatus as Record<string, number>).reduce((a, b) => a + b, 0),
      20_000,
    );
    expect(after.orders.perMinute).toBeGreaterThan(0);
    expect(after.projections.map((line: { name: string }) => line.name)).toContain('orders');
    expect(after.http.requests).toBeGreaterThan(0);
  });

  it('a tick publishes the figures on live-analytics and clears an alert that no longer holds', async () => {
    const socket = await adminSocket();
    // An alert raised earlier (by any instance) that the figures no longer support.
    await sql`INSERT INTO admin_settings (key, value) VALUES ('live_alerts', '["projection_lag:ghost"]')
      ON CONFLICT (key) DO UPDATE SET value = excluded.value`.execute(world.testApp.services.db);
    await world.testApp.services.admin.live.tick(new Date());
    const messages = await until(
      async () => socket.messages,
      (list) =>
        list.some((message) => message.channel === 'live-analytics' && message.type === 'dashboard') &&
        list.some((message) => message.type === 'alert-cleared'),
    );
    const figures = messages.find((message) => message.type === 'dashboard')!;
    expect(figures.data).toMatchObject({
      drivers: { online: expect.any(Number) },
      orders: expect.any(Object),
    });
    expect(messages.find((message) => message.type === 'alert-cleared')).toMatchObject({
      channel: 'system-alerts',
      data: { key: 'projection_lag:ghost' },
    });
    const stored = await world.testApp.services.db
      .selectFrom('admin_settings')
      .select('value')
      .where('key', '=', 'live_alerts')
      .executeTakeFirstOrThrow();
    expect(stored.value).toEqual([]);
    socket.close();
    expect(world.testApp.services.jobs.schedules().map((schedule) => schedule.name)).toContain(
      'admin-live-dashboard',
    );
  });

  it('admins only', async () => {
    expect((await dashboard(world.actors.customer.accessToken)).statusCode).toBe(403);
    expect((await dashboard(world.support.accessToken)).statusCode).toBe(403);
    expect((await world.testApp.app.inject({ method: 'GET', url: '/v1/admin/dashboard' })).statusCode).toBe(
      401,
    );
  });
});
