import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { approvedDriver } from '../../helpers/drivers.js';
import { freePort } from '../../helpers/ports.js';
import {
  act,
  idempotencyKey,
  orderWorld,
  placeOrder,
  RESTAURANT_AT,
  type OrderWorld,
} from '../orders/helpers.js';

/**
 * Staff retry of a failed dispatch and answers to offers over /ws/driver, on PostgreSQL and Redis:
 * a dispatch that found nobody fails; support starts it again (audited, idempotent with a key, 409
 * unless failed and the order still waits for a driver); the driver accepts or declines over the
 * socket through the same service path as REST (same answers, same refusals).
 */
let world: OrderWorld;
let address: string;
const online: CreatedUser[] = [];
const sockets: WebSocket[] = [];

beforeAll(async () => {
  world = await orderWorld({
    DISPATCH_LOCATION_MIN_INTERVAL_MS: '0',
    DISPATCH_OFFER_TIMEOUT_SECONDS: '30',
    DISPATCH_SWEEP_INTERVAL_MS: '200',
    // One round, no wait for drivers: an order accepted with nobody online fails at once.
    DISPATCH_MAX_ROUNDS: '1',
    DISPATCH_EMPTY_ROUND_WAIT_SECONDS: '0',
    DISPATCH_RADIUS_KM: '3',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
  const port = await freePort();
  address = await world.testApp.app.listen({ host: '127.0.0.1', port });
}, 120_000);
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.close();
  await Promise.all(online.splice(0).map((driver) => goOnline(driver, false)));
});
afterAll(async () => {
  await world?.testApp.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inject = (
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  token: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) =>
  world.testApp.app.inject({
    method,
    url,
    headers: { ...authHeader(token), ...headers },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
const goOnline = (driver: CreatedUser, isOnline = true) =>
  inject('PUT', '/v1/drivers/me/availability', driver.accessToken, { online: isOnline });

async function driverAt(metresNorth: number): Promise<CreatedUser> {
  const driver = await approvedDriver(world.testApp);
  expect((await goOnline(driver)).statusCode).toBe(200);
  online.push(driver);
  const fix = await inject('PUT', '/v1/drivers/me/location', driver.accessToken, {
    latitude: RESTAURANT_AT.latitude + metresNorth / 111_320,
    longitude: RESTAURANT_AT.longitude,
    accuracyMeters: 10,
    recordedAt: new Date().toISOString(),
  });
  expect(fix.statusCode, fix.body).toBe(200);
  return driver;
}

async function acceptedOrder(): Promise<{ id: string }> {
  const buyer = await createUser(world.testApp);
  const placed = await placeOrder(world, buyer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  const accepted = await act(world, placed.json().id, 'accept', world.actors.owner.accessToken, {
    preparationMinutes: 10,
  });
  expect(accepted.statusCode, accepted.body).toBe(200);
  return { id: placed.json().id };
}

async function untilDispatch(orderId: string, status: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  const read = () => inject('GET', `/v1/admin/dispatch/${orderId}`, world.actors.admin.accessToken);
  while (Date.now() < deadline) {
    const response = await read();
    if (response.statusCode === 200 && response.json().status === status) return response.json();
    await sleep(150);
  }
  throw new Error(`dispatch of ${orderId} never reached ${status}: ${(await read()).body}`);
}

async function offerFor(driver: CreatedUser, orderId: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const listed = await inject('GET', '/v1/drivers/me/offers', driver.accessToken);
    const offer = (listed.json().items as { offerId: string; orderId: string }[]).find(
      (item) => item.orderId === orderId,
    );
    if (offer !== undefined) return offer.offerId;
    await sleep(100);
  }
  throw new Error(`no offer for ${orderId} reached the driver`);
}

const retry = (orderId: string, token: string, key?: string) =>
  inject(
    'POST',
    `/v1/admin/dispatch/${orderId}/retry`,
    token,
    {},
    key === undefined ? {} : { 'idempotency-key': key },
  );

/** A driver's socket: `send` sends one message and resolves with the answer of the same id. */
async function driverSocket(driver: CreatedUser) {
  const socket = new WebSocket(
    `${address.replace('http', 'ws')}/ws/driver?access_token=${driver.accessToken}`,
  );
  sockets.push(socket);
  const received: Record<string, unknown>[] = [];
  socket.on('message', (raw) => received.push(JSON.parse(raw.toString()) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let ids = 0;
  return {
    async send(type: string, data: unknown): Promise<Record<string, unknown>> {
      ids += 1;
      const id = `m-${ids}`;
      socket.send(JSON.stringify({ type, id, data }));
      for (let waited = 0; waited < 15_000; waited += 50) {
        const reply = received.find((message) => message.id === id);
        if (reply !== undefined) return reply;
        await sleep(50);
      }
      throw new Error(`no answer to ${type} ${id}`);
    },
  };
}

describe('staff retry of a failed dispatch', () => {
  it('support starts a failed dispatch again: audited, idempotent with a key, 409 once it runs', async () => {
    const order = await acceptedOrder();
    const failed = await untilDispatch(order.id, 'failed');
    expect(failed.events.at(-1).type).toBe('DispatchFailed');

    // Only staff; an order never dispatched is 404; a malformed id 400.
    const driver = await driverAt(150);
    expect((await retry(order.id, driver.accessToken)).statusCode).toBe(403);
    const stranger = await createUser(world.testApp);
    expect((await retry(order.id, stranger.accessToken)).statusCode).toBe(403);
    const never = await retry('00000000-0000-4000-8000-000000000000', world.support.accessToken);
    expect(never.json()).toMatchObject({ status: 404, code: 'dispatch_not_found' });
    expect((await retry('not-a-uuid', world.support.accessToken)).statusCode).toBe(400);

    const key = idempotencyKey();
    const retried = await retry(order.id, world.support.accessToken, key);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toEqual({ orderId: order.id, attempt: 1, status: 'offered' });
    // The same request again (same key): the same answer, nothing appended.
    const replay = await retry(order.id, world.support.accessToken, key);
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual(retried.json());
    // Another retry while it runs: 409, and nothing changes.
    const again = await retry(order.id, world.actors.admin.accessToken);
    expect(again.json()).toMatchObject({ status: 409, code: 'dispatch_not_retryable' });

    const offerId = await offerFor(driver, order.id);
    const audit = await untilDispatch(order.id, 'offered');
    const types = audit.events.map((event: { type: string }) => event.type);
    expect(types.filter((type: string) => type === 'DispatchRetried')).toHaveLength(1);
    expect(types.slice(-2)).toEqual(['DispatchRetried', 'DriverOffered']);
    const offered = audit.events.at(-1);
    expect(offered.data).toMatchObject({ offerId, driverId: driver.userId, round: 1, radiusKm: 3 });

    const lines = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'actor_id'])
      .where('resource', '=', `dispatch:${order.id}`)
      .execute();
    expect(lines).toEqual([{ action: 'dispatch.retried', actor_id: world.support.userId }]);

    // Accepted: an assigned dispatch is not retried.
    const accepted = await inject('POST', `/v1/drivers/me/offers/${offerId}/accept`, driver.accessToken, {});
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect((await retry(order.id, world.support.accessToken)).json()).toMatchObject({
      status: 409,
      code: 'dispatch_not_retryable',
    });
  });

  it('a failed dispatch whose order was claimed by hand since is not retried (409), and nothing is appended', async () => {
    const order = await acceptedOrder();
    await untilDispatch(order.id, 'failed');
    const hand = await approvedDriver(world.testApp);
    expect((await act(world, order.id, 'claim', hand.accessToken)).statusCode).toBe(200);
    const refused = await retry(order.id, world.support.accessToken, idempotencyKey());
    expect(refused.json()).toMatchObject({ status: 409, code: 'dispatch_not_retryable' });
    const audit = await untilDispatch(order.id, 'failed');
    expect(audit.events.some((event: { type: string }) => event.type === 'DispatchRetried')).toBe(false);
  });

  it('a retry that again finds nobody fails again and may be retried once more', async () => {
    const order = await acceptedOrder();
    await untilDispatch(order.id, 'failed');
    const first = await retry(order.id, world.support.accessToken);
    expect(first.json()).toEqual({ orderId: order.id, attempt: 1, status: 'failed' });
    const second = await retry(order.id, world.support.accessToken);
    expect(second.json()).toEqual({ orderId: order.id, attempt: 2, status: 'failed' });
    const audit = await untilDispatch(order.id, 'failed');
    expect(audit.events.filter((event: { type: string }) => event.type === 'DispatchFailed')).toHaveLength(3);
  });
});

describe('answers to offers over /ws/driver', () => {
  it('accept over the socket claims the order; a repeat answers the same; the REST retry agrees', async () => {
    const driver = await driverAt(120);
    const socket = await driverSocket(driver);
    const order = await acceptedOrder();
    const offerId = await offerFor(driver, order.id);

    const accepted = await socket.send('offer-accept', { offerId });
    expect(accepted).toMatchObject({
      type: 'offer-accept-ack',
      offerId,
      orderId: order.id,
      status: 'accepted',
    });
    expect(await socket.send('offer-accept', { offerId })).toMatchObject({
      type: 'offer-accept-ack',
      status: 'accepted',
    });
    const rest = await inject('POST', `/v1/drivers/me/offers/${offerId}/accept`, driver.accessToken, {});
    expect(rest.json()).toEqual({ offerId, orderId: order.id, status: 'accepted' });
    const seen = await inject('GET', `/v1/orders/${order.id}`, driver.accessToken);
    expect(seen.json()).toMatchObject({ driverId: driver.userId });
    const stream = await world.testApp.services.eventStore.readStream(`order-${order.id}`, { maxCount: 100 });
    expect(stream.filter((event) => event.type === 'OrderDriverClaimed')).toHaveLength(1);
    // A declined-after-accept answer is refused like over REST.
    expect(await socket.send('offer-decline', { offerId })).toMatchObject({
      type: 'error',
      code: 'offer_closed',
    });
  });

  it('decline over the socket goes to the next driver; bad input and foreign offers are refused with REST codes', async () => {
    const first = await driverAt(100);
    const second = await driverAt(400);
    const socket = await driverSocket(first);
    const otherSocket = await driverSocket(second);
    const order = await acceptedOrder();
    const offerId = await offerFor(first, order.id);

    expect(await socket.send('offer-decline', { offerId: 'nope' })).toMatchObject({
      type: 'error',
      code: 'validation_failed',
    });
    expect(await socket.send('offer-decline', { offerId, reason: 'x'.repeat(201) })).toMatchObject({
      type: 'error',
      code: 'validation_failed',
    });
    expect(await socket.send('offer-accept', { offerId, reason: 'no' })).toMatchObject({
      type: 'error',
      code: 'validation_failed',
    });
    expect(await otherSocket.send('offer-accept', { offerId })).toMatchObject({
      type: 'error',
      code: 'offer_not_yours',
    });
    expect(
      await socket.send('offer-accept', { offerId: '00000000-0000-4000-8000-000000000000' }),
    ).toMatchObject({ type: 'error', code: 'offer_not_found' });
    // Nothing of that changed the dispatch.
    expect((await untilDispatch(order.id, 'offered')).events.at(-1).type).toBe('DriverOffered');

    const declined = await socket.send('offer-decline', { offerId, reason: 'flat tyre' });
    expect(declined).toMatchObject({ type: 'offer-decline-ack', offerId, status: 'declined' });
    const nextOffer = await offerFor(second, order.id);
    expect((await otherSocket.send('offer-accept', { offerId: nextOffer })).status).toBe('accepted');
    const audit = await untilDispatch(order.id, 'assigned');
    const declinedEvent = audit.events.find((event: { type: string }) => event.type === 'OfferDeclined');
    expect(declinedEvent.data).toMatchObject({ driverId: first.userId, reason: 'flat tyre' });
  });
});
