/**
 * A dependency that is down answers 503 `service_unavailable` with Retry-After, never a 500 and
 * never the driver's message: PostgreSQL unreachable (its port closed behind a proxy), the pool
 * exhausted. (Redis, the event store and providers: src/http/errors.test.ts.)
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authHeader, createUser } from '../helpers/auth.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/** A TCP proxy to a real service that can be cut: every connection dropped and the port closed. */
async function cuttableProxy(target: { host: string; port: number }) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const upstream = net.connect(target.port, target.host);
    for (const end of [socket, upstream]) {
      sockets.add(end);
      end.on('error', () => undefined);
      end.on('close', () => sockets.delete(end));
    }
    socket.pipe(upstream).pipe(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    async cut() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

function expectUnavailable(response: { statusCode: number; body: string; headers: Record<string, unknown> }) {
  expect(response.statusCode, response.body).toBe(503);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(body).toMatchObject({ status: 503, code: 'service_unavailable' });
  expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  // `type` is the problem's page on this API (PUBLIC_BASE_URL, here 127.0.0.1); the rest names no dependency.
  const { type, ...rest } = body;
  expect(type).toMatch(/\/problems\/service_unavailable$/);
  expect(JSON.stringify(rest)).not.toMatch(
    /ECONNREFUSED|terminated|timeout exceeded|127\.0\.0\.1|Connection/,
  );
}

describe('PostgreSQL unreachable', () => {
  let database: TestDatabase;
  let testApp: TestApp;
  let proxy: Awaited<ReturnType<typeof cuttableProxy>>;
  beforeAll(async () => {
    database = await createTestDatabase();
    const url = new URL(database.url);
    proxy = await cuttableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    testApp = await createTestApp({ database, env: { DATABASE_URL: url.toString() } });
  });
  afterAll(async () => {
    await testApp?.close().catch(() => undefined);
    await database?.drop();
  });

  it('answers 503 with Retry-After on reads and on an order, once its port is closed', async () => {
    const customer = await createUser(testApp, { roles: ['customer'] });
    const wallet = () =>
      testApp.app.inject({ method: 'GET', url: '/v1/wallet', headers: authHeader(customer.accessToken) });
    expect((await wallet()).statusCode).toBe(200);
    await proxy.cut();
    expectUnavailable(await wallet());
    expectUnavailable(
      await testApp.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...authHeader(customer.accessToken), 'idempotency-key': 'outage-order-0001' },
        payload: {
          restaurantId: '3f0c6d3e-8a52-4c47-9d2e-0a1b2c3d4e5f',
          items: [{ itemId: '3f0c6d3e-8a52-4c47-9d2e-0a1b2c3d4e5f', quantity: 1 }],
          delivery: { latitude: 4.05, longitude: 9.77, text: 'Rue 1, Akwa' },
          payment: { kind: 'wallet' },
        },
      }),
    );
  });
});

describe('the pool exhausted', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await createTestApp({ env: { DATABASE_POOL_MAX: '3' } });
  });
  afterAll(async () => testApp?.close());

  it('answers 503 when no connection frees up in time', { timeout: 60_000 }, async () => {
    const { pool } = testApp.services.runtime.database;
    const held = await Promise.all(Array.from({ length: 3 }, () => pool.connect()));
    try {
      expectUnavailable(await testApp.app.inject({ method: 'GET', url: '/v1/restaurants' }));
    } finally {
      for (const client of held) client.release();
    }
    expect((await testApp.app.inject({ method: 'GET', url: '/v1/restaurants' })).statusCode).toBe(200);
  });
});
