import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import WebSocket from 'ws';
import { registerRealtime, registerWebsocketPlugin } from '../../../src/realtime/index.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { createUser, type CreatedUser } from '../../helpers/auth.js';
import { connectWs, type WsClient } from '../../helpers/ws-client.js';
import { act, orderWorld, placeOrder, type OrderWorld } from './helpers.js';

/**
 * Two app instances on one database and one Redis prefix: commands go to instance A, sockets
 * listen on instance B, so every message crosses Redis pub/sub.
 */
let world: OrderWorld;
let second: TestApp;
let baseB: string;

const shared = {
  REDIS_KEY_PREFIX: `rt${randomBytes(3).toString('hex')}:`,
  ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  JWT_SECRET: randomBytes(24).toString('hex'),
  JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
};

beforeAll(async () => {
  world = await orderWorld(shared);
  second = await createTestApp({
    database: world.testApp.database,
    env: { MAX_EVENT_LOOP_DELAY_MS: '0', ...shared },
  });
  const address = await second.app.listen({ host: '127.0.0.1', port: 0 });
  baseB = address.replace('http', 'ws');
});
afterAll(async () => {
  await second?.close();
  await world?.testApp.close();
});

const connect = (path: string, query: Record<string, string>): Promise<WsClient> =>
  connectWs(baseB, path, query);

const forOrder = (orderId: string, type?: string) => (message: Record<string, unknown>) =>
  message.orderId === orderId && (type === undefined || message.type === type);

describe('real-time over WebSocket, fanned out across two instances through Redis', () => {
  it('refuses upgrades without a valid token (401) or with the wrong role (403)', async () => {
    await expect(connect('/ws/customer', {})).rejects.toThrow('HTTP 401');
    await expect(connect('/ws/customer', { access_token: 'not-a-jwt' })).rejects.toThrow('HTTP 401');
    await expect(
      connect('/ws/restaurant', { access_token: world.actors.customer.accessToken }),
    ).rejects.toThrow('HTTP 403');
    await expect(connect('/ws/admin', { access_token: world.actors.owner.accessToken })).rejects.toThrow(
      'HTTP 403',
    );
    await expect(connect('/ws/track', { token: 'x'.repeat(44) })).rejects.toThrow('HTTP 404');
  });

  it("a client receives only what it may see: not another customer's order, not another restaurant's orders", async () => {
    const otherCustomer: CreatedUser = await createUser(world.testApp, { roles: ['customer'] });
    const otherOwner: CreatedUser = await createUser(world.testApp, {
      roles: ['customer', 'restaurant_owner'],
    });
    const mine = await connect('/ws/customer', { access_token: world.actors.customer.accessToken });
    const theirs = await connect('/ws/customer', { access_token: otherCustomer.accessToken });
    const restaurant = await connect('/ws/restaurant', { access_token: world.actors.owner.accessToken });
    const otherRestaurant = await connect('/ws/restaurant', { access_token: otherOwner.accessToken });
    const admin = await connect('/ws/admin', { access_token: world.actors.admin.accessToken });
    const driver = await connect('/ws/driver', { access_token: world.driver.accessToken });

    const order = (await placeOrder(world, world.actors.customer.accessToken)).json();
    const token = (order.trackingUrl as string).split('/').pop()!;
    const tracker = await connect('/ws/track', { token });
    expect(await mine.next(forOrder(order.id, 'OrderPaymentCaptured'))).toMatchObject({
      channel: 'order-updates',
      data: { status: 'PLACED' },
    });
    expect(await restaurant.next(forOrder(order.id, 'OrderPaymentCaptured'))).toMatchObject({
      channel: 'new-orders',
    });
    expect(await admin.next(forOrder(order.id, 'OrderPaymentCaptured'))).toMatchObject({
      channel: 'live-analytics',
    });
    await act(world, order.id, 'accept', world.actors.owner.accessToken, { preparationMinutes: 12 });
    expect(await driver.next(forOrder(order.id, 'OrderAccepted'))).toMatchObject({
      channel: 'order-assignments',
      data: { claimable: true },
    });
    expect(await tracker.next(forOrder(order.id, 'OrderAccepted'))).toMatchObject({
      channel: 'tracking',
      data: { view: { status: 'ACCEPTED' } },
    });
    // The restaurant never hears of the unpaid attempt; the others never hear of this order at all.
    expect(restaurant.messages.some(forOrder(order.id, 'OrderCreated'))).toBe(false);
    await mine.next(forOrder(order.id, 'OrderAccepted'));
    expect(theirs.messages.filter((message) => message.orderId !== undefined)).toEqual([]);
    expect(otherRestaurant.messages.filter((message) => message.orderId !== undefined)).toEqual([]);
    expect(JSON.stringify(tracker.messages)).not.toContain(
      order.deliveryPin === '0000' ? '"never"' : `"deliveryPin"`,
    );
    for (const client of [mine, theirs, restaurant, otherRestaurant, admin, driver, tracker])
      await client.close();
  });

  it('resumes after a reconnect from the last event id: nothing missed, nothing twice', async () => {
    const customer = await connect('/ws/customer', { access_token: world.actors.customer.accessToken });
    const order = (await placeOrder(world, world.actors.customer.accessToken)).json();
    const placed = await customer.next(forOrder(order.id, 'OrderPaymentCaptured'));
    const cursor = placed.cursor as string;
    await customer.close();
    // While the phone is offline the order moves on.
    await act(world, order.id, 'accept', world.actors.owner.accessToken, { preparationMinutes: 12 });
    await act(world, order.id, 'prepare', world.actors.owner.accessToken);
    const back = await connect('/ws/customer', {
      access_token: world.actors.customer.accessToken,
      lastEventId: cursor,
    });
    const replayed = back.messages.filter(forOrder(order.id));
    expect(replayed.map((message) => message.type)).toEqual(['OrderAccepted', 'OrderPreparationStarted']);
    await act(world, order.id, 'ready', world.actors.owner.accessToken);
    await back.next(forOrder(order.id, 'OrderReadyForPickup'));
    expect(back.messages.filter(forOrder(order.id)).map((message) => message.type)).toEqual([
      'OrderAccepted',
      'OrderPreparationStarted',
      'OrderReadyForPickup',
    ]);
    // A cursor older than the kept log gets `resync` instead of a silent gap.
    const stale = Buffer.from(JSON.stringify({ [`user:${world.actors.customer.userId}`]: '1-0' })).toString(
      'base64url',
    );
    const key = `${shared.REDIS_KEY_PREFIX}rt:user:${world.actors.customer.userId}`;
    const redis = second.services.runtime.redis!;
    await redis.xtrim(key, 'MAXLEN', 1);
    const old = await connect('/ws/customer', {
      access_token: world.actors.customer.accessToken,
      lastEventId: stale,
    });
    expect(old.messages.some((message) => message.type === 'resync')).toBe(true);
    await back.close();
    await old.close();
  });

  it('answers application-level pings and closes cleanly', async () => {
    const client = await connect('/ws/customer', { access_token: world.actors.customer.accessToken });
    client.socket.send('{"type":"ping"}');
    expect(await client.next((message) => message.type === 'pong')).toEqual({ type: 'pong' });
    await client.close();
  });

  it('heartbeats: a client that stops answering pings is cut, one that answers stays', async () => {
    // A small app with the same endpoints and a 150 ms heartbeat (25 s in production).
    const small = Fastify();
    await registerWebsocketPlugin(small);
    registerRealtime(small, {
      bus: second.services.realtime.bus,
      channels: second.services.contexts.flatMap(({ contribution }) => contribution.channels ?? []),
      heartbeatMs: 150,
    });
    const base = (await small.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
    try {
      const open = (autoPong: boolean) =>
        new Promise<WebSocket>((resolve, reject) => {
          const socket = new WebSocket(
            `${base}/ws/customer?access_token=${world.actors.customer.accessToken}`,
            { autoPong },
          );
          socket.once('error', reject);
          socket.once('open', () => resolve(socket));
        });
      const silent = await open(false);
      const lively = await open(true);
      const closed = new Promise<number>((resolve) => silent.once('close', (code) => resolve(code)));
      expect(await closed).toBe(1006); // terminated, no close frame
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(lively.readyState).toBe(WebSocket.OPEN);
      lively.close();
    } finally {
      await small.close();
    }
  });
});
