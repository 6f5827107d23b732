import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RealtimeMessage } from '../../../src/realtime/index.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { approvedDriver } from '../../helpers/drivers.js';
import { act, orderWorld, placeOrder, RESTAURANT_AT, type OrderWorld } from '../orders/helpers.js';

/**
 * Matching and offers on PostgreSQL and Redis: a paid and accepted order is offered to the best
 * driver (over the realtime bus, audience driver:<id>), accept claims it (idempotent), another
 * driver's accept is 403, an unknown offer 404, an accept after the deadline 409; a decline or a
 * timeout (a persisted deadline swept by the job, no in-process timer) goes to the next driver;
 * nobody left: the dispatch fails, staff and the restaurant are told; a staff claim withdraws the
 * offer; a loaded driver gets a second order when batching fits; the customer's ETA.
 */
const OFFER_TIMEOUT_SECONDS = 4;
let world: OrderWorld;
const online: CreatedUser[] = [];

beforeAll(async () => {
  world = await orderWorld({
    DISPATCH_LOCATION_MIN_INTERVAL_MS: '0',
    DISPATCH_OFFER_TIMEOUT_SECONDS: String(OFFER_TIMEOUT_SECONDS),
    DISPATCH_SWEEP_INTERVAL_MS: '200',
    DISPATCH_OFFERS_PER_ROUND: '2',
    DISPATCH_MAX_ROUNDS: '2',
    // A round that finds nobody waits this long for drivers to come online before the next.
    DISPATCH_EMPTY_ROUND_WAIT_SECONDS: '3',
    DISPATCH_RADIUS_KM: '3',
    DISPATCH_RADIUS_STEP_KM: '2',
    DISPATCH_ETA_INTERVAL_MS: '1',
    DISPATCH_ETA_PUSH_MINUTES: '3',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  });
});
afterEach(async () => {
  // Every test starts with nobody online (the index is shared by the file).
  await Promise.all(online.splice(0).map((driver) => goOnline(driver, false)));
});
afterAll(async () => {
  await world?.testApp.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const inject = (method: 'GET' | 'POST' | 'PUT', url: string, token: string, payload?: unknown) =>
  world.testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
const goOnline = (driver: CreatedUser, isOnline = true) =>
  inject('PUT', '/v1/drivers/me/availability', driver.accessToken, { online: isOnline });

const sendFix = (driver: CreatedUser, metresNorth: number, agoMs = 0) =>
  inject('PUT', '/v1/drivers/me/location', driver.accessToken, {
    latitude: RESTAURANT_AT.latitude + metresNorth / 111_320,
    longitude: RESTAURANT_AT.longitude,
    accuracyMeters: 10,
    recordedAt: new Date(Date.now() - agoMs).toISOString(),
  });

/** A driver online at `metresNorth` of the restaurant, their fix recorded `agoMs` ago. */
async function driverAt(metresNorth: number, agoMs = 0): Promise<CreatedUser> {
  const driver = await approvedDriver(world.testApp);
  expect((await goOnline(driver)).statusCode).toBe(200);
  online.push(driver);
  const fix = await sendFix(driver, metresNorth, agoMs);
  expect(fix.statusCode, fix.body).toBe(200);
  return driver;
}

async function acceptedOrder(
  customer?: CreatedUser,
): Promise<{ id: string; customer: CreatedUser; pickupCode: string }> {
  const buyer = customer ?? (await createUser(world.testApp));
  const placed = await placeOrder(world, buyer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  const order = placed.json();
  const accepted = await act(world, order.id, 'accept', world.actors.owner.accessToken, {
    preparationMinutes: 10,
  });
  expect(accepted.statusCode, accepted.body).toBe(200);
  return { id: order.id, customer: buyer, pickupCode: accepted.json().pickupCode };
}

async function openOffers(driver: CreatedUser): Promise<{ offerId: string; orderId: string }[]> {
  const response = await inject('GET', '/v1/drivers/me/offers', driver.accessToken);
  expect(response.statusCode, response.body).toBe(200);
  return response.json().items;
}

/** Waits until `driver` holds an open offer for `orderId` (offers are made by the reactor). */
async function offerFor(driver: CreatedUser, orderId: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const offer = (await openOffers(driver)).find((item) => item.orderId === orderId);
    if (offer !== undefined) return offer.offerId;
    await sleep(100);
  }
  throw new Error(`no offer for ${orderId} reached the driver`);
}

async function dispatchOf(orderId: string) {
  const response = await inject('GET', `/v1/admin/dispatch/${orderId}`, world.actors.admin.accessToken);
  return response;
}

async function untilDispatch(orderId: string, status: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await dispatchOf(orderId);
    if (response.statusCode === 200 && response.json().status === status) return response.json();
    await sleep(150);
  }
  throw new Error(`dispatch of ${orderId} never reached ${status}: ${(await dispatchOf(orderId)).body}`);
}

const answer = (driver: CreatedUser, offerId: string, action: 'accept' | 'decline', payload: unknown = {}) =>
  inject('POST', `/v1/drivers/me/offers/${offerId}/${action}`, driver.accessToken, payload);

async function listen(audience: string): Promise<{ heard: RealtimeMessage[]; stop: () => Promise<void> }> {
  const heard: RealtimeMessage[] = [];
  const stop = await world.testApp.services.realtime.bus.subscribe(audience, (message) =>
    heard.push(message),
  );
  return { heard, stop };
}

describe('offers', () => {
  it('offers an accepted order to the best driver; accept claims it, idempotently; the audit names the score', async () => {
    const near = await driverAt(150);
    const far = await driverAt(2_000);
    const nearHears = await listen(`driver:${near.userId}`);
    const order = await acceptedOrder();

    const offerId = await offerFor(near, order.id);
    expect(await openOffers(far)).toEqual([]);
    for (
      let tries = 0;
      tries < 50 && !nearHears.heard.some((message) => message.type === 'DriverOffered');
      tries++
    )
      await sleep(100);
    const pushed = nearHears.heard.find((message) => message.type === 'DriverOffered');
    expect(pushed).toMatchObject({ channel: 'dispatch-offers', orderId: order.id, data: { offerId } });
    await nearHears.stop();

    // Someone else's offer: 403; an unknown one: 404; a malformed id: 400; a customer: 403.
    expect((await answer(far, offerId, 'accept')).json()).toMatchObject({
      status: 403,
      code: 'offer_not_yours',
    });
    const unknown = await answer(near, '00000000-0000-4000-8000-000000000000', 'accept');
    expect(unknown.json()).toMatchObject({ status: 404, code: 'offer_not_found' });
    expect((await answer(near, 'not-a-uuid', 'accept')).statusCode).toBe(400);
    expect((await answer(near, offerId, 'accept', { extra: 'x\u0000' })).statusCode).toBe(400);
    expect((await answer(order.customer, offerId, 'accept')).statusCode).toBe(403);

    const accepted = await answer(near, offerId, 'accept');
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toEqual({ offerId, orderId: order.id, status: 'accepted' });
    // A retry answers the same and claims nothing more.
    expect((await answer(near, offerId, 'accept')).json()).toEqual(accepted.json());
    const seen = await inject('GET', `/v1/orders/${order.id}`, near.accessToken);
    expect(seen.json()).toMatchObject({ driverId: near.userId });

    const audit = await untilDispatch(order.id, 'assigned');
    expect(audit.driverId).toBe(near.userId);
    const offered = audit.events.find((event: { type: string }) => event.type === 'DriverOffered');
    expect(offered.data).toMatchObject({ driverId: near.userId, round: 1, radiusKm: 3 });
    expect(offered.data.parts).toMatchObject({ load: 0, vehicleFit: 1 });
    expect(typeof offered.data.score).toBe('number');
    expect(audit.events.map((event: { type: string }) => event.type)).toEqual([
      'DispatchOpened',
      'DriverOffered',
      'OfferAccepted',
    ]);
    // Only staff read the audit.
    expect((await inject('GET', `/v1/admin/dispatch/${order.id}`, near.accessToken)).statusCode).toBe(403);

    // The customer's ETA at acceptance, theirs only.
    const eta = await inject('GET', `/v1/orders/${order.id}/eta`, order.customer.accessToken);
    expect(eta.statusCode, eta.body).toBe(200);
    expect(eta.json()).toMatchObject({ orderId: order.id, phase: 'to_restaurant' });
    expect(Date.parse(eta.json().estimatedArrivalAt)).toBeGreaterThan(Date.now() + 9 * 60_000);
    const stranger = await createUser(world.testApp);
    expect((await inject('GET', `/v1/orders/${order.id}/eta`, stranger.accessToken)).statusCode).toBe(404);
  });

  it('a decline goes to the next driver; a timeout expires by the sweep; nobody left: staff and restaurant told', async () => {
    const first = await driverAt(100);
    const second = await driverAt(600);
    const staff = await listen('admin');
    const restaurant = await listen(`owner:${world.actors.owner.userId}`);
    const order = await acceptedOrder();

    const firstOffer = await offerFor(first, order.id);
    const declined = await answer(first, firstOffer, 'decline', { reason: 'flat tyre' });
    expect(declined.json()).toEqual({ offerId: firstOffer, orderId: order.id, status: 'declined' });
    expect((await answer(first, firstOffer, 'decline')).statusCode).toBe(200); // retry
    expect((await answer(first, firstOffer, 'accept')).json()).toMatchObject({
      status: 409,
      code: 'offer_closed',
    });

    const secondOffer = await offerFor(second, order.id);
    // The deadline is a row the sweep reads, not a timer of this process.
    const work = await world.testApp.services.dispatch.offers.load(order.id);
    expect(work.state.current?.offerId).toBe(secondOffer);
    await sleep(OFFER_TIMEOUT_SECONDS * 1000 + 100);
    // After the deadline, before or after the sweep: 409, never a claim.
    expect((await answer(second, secondOffer, 'accept')).json()).toMatchObject({
      status: 409,
      code: 'offer_expired',
    });

    const audit = await untilDispatch(order.id, 'failed');
    const types = audit.events.map((event: { type: string }) => event.type);
    expect(types).toContain('OfferDeclined');
    expect(types).toContain('OfferExpired');
    expect(types).toContain('DispatchRadiusWidened');
    expect(types.at(-1)).toBe('DispatchFailed');
    expect(audit.events.find((event: { type: string }) => event.type === 'OfferDeclined').data.reason).toBe(
      'flat tyre',
    );
    // Nobody was asked twice.
    const asked = audit.events
      .filter((event: { type: string }) => event.type === 'DriverOffered')
      .map((event: { data: { driverId: string } }) => event.data.driverId);
    expect(asked).toEqual([first.userId, second.userId]);
    await sleep(200);
    expect(
      staff.heard.some((message) => message.type === 'DispatchFailed' && message.orderId === order.id),
    ).toBe(true);
    expect(
      restaurant.heard.some((message) => message.type === 'NoDriverFound' && message.orderId === order.id),
    ).toBe(true);
    await staff.stop();
    await restaurant.stop();
    const seen = await inject('GET', `/v1/orders/${order.id}`, world.actors.owner.accessToken);
    expect(seen.json().driverId ?? null).toBeNull();
  });

  it("an offer also reaches the driver's phone: one push naming the restaurant, the earnings and the distance", async () => {
    const driver = await driverAt(100);
    const token = `fcm-offer-token-${driver.userId.replaceAll('-', '')}`;
    const device = await inject('POST', '/v1/me/devices', driver.accessToken, { token, platform: 'android' });
    expect(device.statusCode, device.body).toBe(201);
    const order = await acceptedOrder();
    const offerId = await offerFor(driver, order.id);
    const outbox = world.testApp.services.notifications.outbox!;
    const deadline = Date.now() + 15_000;
    let pushes = await outbox.list({ to: token, channel: 'push', limit: 20 });
    while (pushes.length === 0 && Date.now() < deadline) {
      await sleep(100);
      pushes = await outbox.list({ to: token, channel: 'push', limit: 20 });
    }
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.subject).toBe('Nouvelle course proposée');
    expect(pushes[0]!.body).toMatch(/^Retrait chez \S.*, à \d+(,\d)? km : vous gagnez \d/);
    expect(pushes[0]!.metadata.ttlSeconds as number).toBeLessThanOrEqual(OFFER_TIMEOUT_SECONDS);
    // Taken, so that this order's dispatch does not go on to the next tests' drivers.
    expect((await answer(driver, offerId, 'accept')).statusCode).toBe(200);
  });

  it('nobody online when the order is accepted: the dispatch waits for drivers instead of failing at once, and a driver who comes online gets the offer', async () => {
    const late = await approvedDriver(world.testApp); // approved, not yet online
    const order = await acceptedOrder();
    // The first round found nobody and the radius widened; the next round waits for drivers.
    const deadline = Date.now() + 10_000;
    let audit = (await dispatchOf(order.id)).json();
    const types = () => (audit.events ?? []).map((event: { type: string }) => event.type);
    while (!types().includes('DispatchRadiusWidened') && Date.now() < deadline) {
      await sleep(50);
      audit = (await dispatchOf(order.id)).json();
    }
    expect(types()).toContain('DispatchRadiusWidened');
    expect(types()).not.toContain('DispatchFailed');
    expect(audit.status).toBe('searching');
    expect((await goOnline(late)).statusCode).toBe(200);
    online.push(late);
    expect((await sendFix(late, 100)).statusCode).toBe(200);
    const offerId = await offerFor(late, order.id);
    const accepted = await answer(late, offerId, 'accept');
    expect(accepted.statusCode, accepted.body).toBe(200);
  });

  it("a claim by hand (staff override) withdraws the open offer; the driver's accept is then 409", async () => {
    const driver = await driverAt(120);
    const order = await acceptedOrder();
    const offerId = await offerFor(driver, order.id);
    const other = await approvedDriver(world.testApp);
    expect((await act(world, order.id, 'claim', other.accessToken)).statusCode).toBe(200);
    await untilDispatch(order.id, 'cancelled');
    const late = await answer(driver, offerId, 'accept');
    expect(late.json()).toMatchObject({ status: 409, code: 'offer_closed' });
    expect(await openOffers(driver)).toEqual([]);
  });

  it('two accepts of one offer at once: one claim, both answered the same', async () => {
    const driver = await driverAt(80);
    const order = await acceptedOrder();
    const offerId = await offerFor(driver, order.id);
    const answers = await Promise.all([answer(driver, offerId, 'accept'), answer(driver, offerId, 'accept')]);
    expect(answers.map((response) => response.statusCode)).toEqual([200, 200]);
    const audit = await untilDispatch(order.id, 'assigned');
    expect(audit.events.filter((event: { type: string }) => event.type === 'OfferAccepted')).toHaveLength(1);
    const stream = await world.testApp.services.eventStore.readStream(`order-${order.id}`, { maxCount: 100 });
    expect(stream.filter((event) => event.type === 'OrderDriverClaimed')).toHaveLength(1);
  });

  it('a driver carrying an order gets a second from the same restaurant when the detour fits', async () => {
    const driver = await driverAt(90);
    const firstOrder = await acceptedOrder();
    expect((await answer(driver, await offerFor(driver, firstOrder.id), 'accept')).statusCode).toBe(200);
    await world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);

    const secondOrder = await acceptedOrder();
    const offerId = await offerFor(driver, secondOrder.id);
    const audit = await dispatchOf(secondOrder.id);
    const offered = audit.json().events.find((event: { type: string }) => event.type === 'DriverOffered');
    expect(offered.data).toMatchObject({ offerId, driverId: driver.userId });
    expect(offered.data.parts.load).toBe(1);
    expect((await answer(driver, offerId, 'accept')).statusCode).toBe(200);
  });
});

describe('ETAs', () => {
  it('at acceptance, at pickup and with positions; the customer is told when it moves by 3 minutes or more', async () => {
    // The driver's fix is 100 s old, so a later one 3 km away is a believable ride.
    const driver = await driverAt(100, 100_000);
    const customer = await createUser(world.testApp);
    const told = await listen(`user:${customer.userId}`);
    const order = await acceptedOrder(customer);
    expect((await answer(driver, await offerFor(driver, order.id), 'accept')).statusCode).toBe(200);

    const etaOf = async () =>
      (await inject('GET', `/v1/orders/${order.id}/eta`, customer.accessToken)).json();
    const atAcceptance = await etaOf();
    // ready in 10 minutes, then about 4 minutes of riding
    expect(atAcceptance.phase).toBe('to_restaurant');
    const minutesAway = (eta: { estimatedArrivalAt: string }) =>
      (Date.parse(eta.estimatedArrivalAt) - Date.now()) / 60_000;
    expect(minutesAway(atAcceptance)).toBeGreaterThan(12);
    expect(minutesAway(atAcceptance)).toBeLessThan(17);

    const owner = world.actors.owner.accessToken;
    expect((await act(world, order.id, 'prepare', owner)).statusCode).toBe(200);
    expect((await act(world, order.id, 'ready', owner)).statusCode).toBe(200);
    const pickedUp = await act(world, order.id, 'pickup', driver.accessToken, {
      pickupCode: order.pickupCode,
    });
    expect(pickedUp.statusCode, pickedUp.body).toBe(200);
    let afterPickup = await etaOf();
    for (let tries = 0; afterPickup.phase !== 'to_customer' && tries < 100; tries++) {
      await sleep(100);
      afterPickup = await etaOf();
    }
    expect(afterPickup.phase).toBe('to_customer');
    expect(minutesAway(afterPickup)).toBeLessThan(8);

    // Riding the wrong way, 3 km south: the ETA moves by far more than 3 minutes.
    await world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);
    const away = await sendFix(driver, -3_000);
    expect(away.statusCode, away.body).toBe(200);
    let afterDetour = await etaOf();
    for (let tries = 0; minutesAway(afterDetour) < minutesAway(afterPickup) + 3 && tries < 100; tries++) {
      await sleep(100);
      afterDetour = await etaOf();
    }
    expect(minutesAway(afterDetour)).toBeGreaterThan(minutesAway(afterPickup) + 3);

    await sleep(200);
    const etas = told.heard.filter(
      (message) => message.channel === 'order-eta' && message.orderId === order.id,
    );
    await told.stop();
    // acceptance, pickup (about 10 minutes sooner) and the detour: each moved by 3 minutes or more
    expect(etas.map((message) => (message.data as { phase: string }).phase)).toEqual([
      'to_restaurant',
      'to_customer',
      'to_customer',
    ]);
    // Each move (not the first ETA) is also pushed to the customer's phone through notify, named
    // after the new time.
    const pushes = await world.testApp.services.db
      .selectFrom('notification_intents')
      .select(['recipient_id'])
      .where('order_id', '=', order.id)
      .where('kind', '=', 'order.eta_changed')
      .execute();
    expect(pushes).toEqual([{ recipient_id: customer.userId }, { recipient_id: customer.userId }]);
  });
});

describe('offers over /ws/driver', () => {
  it("the driver's socket receives the offer, and only that driver's", async () => {
    const driver = await driverAt(70);
    const address = await world.testApp.app.listen({ host: '127.0.0.1', port: 0 });
    const connect = (token: string) =>
      new Promise<{ socket: WebSocket; received: Record<string, unknown>[] }>((resolve, reject) => {
        const socket = new WebSocket(`${address.replace('http', 'ws')}/ws/driver?access_token=${token}`);
        const received: Record<string, unknown>[] = [];
        socket.on('message', (raw) => received.push(JSON.parse(raw.toString()) as Record<string, unknown>));
        socket.once('open', () => resolve({ socket, received }));
        socket.once('error', reject);
      });
    const mine = await connect(driver.accessToken);
    const bystander = await connect(world.otherDriver.accessToken);
    const order = await acceptedOrder();
    const offerId = await offerFor(driver, order.id);
    let offered: Record<string, unknown> | undefined;
    for (let waited = 0; waited < 5_000 && offered === undefined; waited += 50) {
      offered = mine.received.find((message) => message.type === 'DriverOffered');
      if (offered === undefined) await sleep(50);
    }
    expect(offered).toMatchObject({ channel: 'dispatch-offers', orderId: order.id, data: { offerId } });
    expect(bystander.received.some((message) => message.type === 'DriverOffered')).toBe(false);
    mine.socket.close();
    bystander.socket.close();
    expect((await answer(driver, offerId, 'accept')).statusCode).toBe(200);
  });
});
