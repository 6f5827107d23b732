import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../../src/eventstore/index.js';
import { createUser, randomPhone, type CreatedUser } from '../../helpers/auth.js';
import { act, authHeader, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { paymentIntents } from '../../../src/modules/notify/index.js';
import type {
  ChannelResult,
  OutboundMessage,
  RecordedMessage,
} from '../../../src/modules/notifications/index.js';
import { createDelivery } from '../../../src/modules/notify/delivery.js';
import { createNotifyMetrics } from '../../../src/modules/notify/metrics.js';
import { createTemplates } from '../../../src/modules/notify/templates.js';

/**
 * Notifications end to end, against PostgreSQL, Redis and BullMQ: order events become intents
 * (the reactor), the queues send them through the recording outbox, the centre lists them.
 * The customer reads English, the restaurant French (the default); the restaurant has a device,
 * the customer none (SMS).
 */
const ACK_TIMEOUT_SECONDS = 3;
const HOURLY_CAP = 6;
let world: OrderWorld;
let english: CreatedUser;

beforeAll(async () => {
  world = await orderWorld({
    NOTIFY_ACK_TIMEOUT_SECONDS: String(ACK_TIMEOUT_SECONDS),
    NOTIFY_HOURLY_CAP: String(HOURLY_CAP),
  });
  english = world.actors.customer;
  const { identity } = world.testApp.services;
  await identity.repository.updateUser(english.userId, { locale: 'en' });
  await identity.repository.updateUser(world.driver.userId, { name: 'Paul Mbarga' });
  const device = await inject('POST', '/v1/me/devices', world.actors.owner.accessToken, {
    token: 'fcm-owner-token-0123456789',
    platform: 'android',
  });
  expect(device.statusCode, device.body).toBe(201);
}, 60_000);
afterAll(async () => world?.testApp.close());

async function inject(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  token: string,
  payload?: unknown,
) {
  return world.testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

const outbox = () => world.testApp.services.notifications.outbox!;
async function sentTo(to: string, channel?: 'sms' | 'push' | 'email'): Promise<RecordedMessage[]> {
  return outbox().list({ to, ...(channel === undefined ? {} : { channel }), limit: 50 });
}
const ofKind = (messages: RecordedMessage[], kind: string, orderId?: string) =>
  messages.filter(
    (message) =>
      message.metadata.kind === kind && (orderId === undefined || message.metadata.orderId === orderId),
  );

async function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`not reached in ${timeoutMs} ms: ${JSON.stringify(value).slice(0, 800)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const centreOf = async (token: string) => (await inject('GET', '/v1/notifications?limit=50', token)).json();

describe('notifications: a paid order tells the restaurant and the customer, once each, in their language', () => {
  let orderId: string;

  it('a paid order: a push to the restaurant, then an SMS when it is not acknowledged; the customer an SMS in English', async () => {
    const { owner } = world.actors;
    const placed = await placeOrder(world, english.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    orderId = placed.json().id as string;

    const push = await eventually(
      async () => ofKind(await sentTo('fcm-owner-token-0123456789', 'push'), 'restaurant.new_order', orderId),
      (found) => found.length > 0,
    );
    expect(push).toHaveLength(1);
    expect(push[0]!.subject).toBe('Nouvelle commande payée');
    expect(push[0]!.metadata).toMatchObject({ sound: 'new_order', collapseKey: orderId });

    const customerSms = await eventually(
      async () => ofKind(await sentTo(english.phone, 'sms'), 'order.placed', orderId),
      (found) => found.length > 0,
    );
    expect(customerSms).toHaveLength(1);
    expect(customerSms[0]!.body).toMatch(/^Order confirmed at .+: FCFA\s[\d,]+\.$/u);

    // Nobody acknowledged the push: the SMS follows after NOTIFY_ACK_TIMEOUT_SECONDS.
    const ownerSms = await eventually(
      async () => ofKind(await sentTo(owner.phone, 'sms'), 'restaurant.new_order', orderId),
      (found) => found.length > 0,
      (ACK_TIMEOUT_SECONDS + 15) * 1_000,
    );
    expect(ownerSms).toHaveLength(1);
    expect(ownerSms[0]!.body).toMatch(/^Nouvelle commande payée \(.*FCFA\)/u);
    const waitedMs = Date.parse(ownerSms[0]!.createdAt) - Date.parse(push[0]!.createdAt);
    expect(waitedMs).toBeGreaterThanOrEqual(ACK_TIMEOUT_SECONDS * 1_000 - 50);
  }, 60_000);

  it('tells the customer each step (accepted with the time, ready, picked up with the driver and the link, delivered)', async () => {
    const { owner } = world.actors;
    const accepted = await act(world, orderId, 'accept', owner.accessToken, { preparationMinutes: 25 });
    expect(accepted.statusCode, accepted.body).toBe(200);
    const pickupCode = accepted.json().pickupCode as string;
    expect((await act(world, orderId, 'prepare', owner.accessToken)).statusCode).toBe(200);
    expect((await act(world, orderId, 'claim', world.driver.accessToken)).statusCode).toBe(200);
    expect((await act(world, orderId, 'ready', owner.accessToken)).statusCode).toBe(200);
    expect((await act(world, orderId, 'pickup', world.driver.accessToken, { pickupCode })).statusCode).toBe(
      200,
    );
    const order = (await inject('GET', `/v1/orders/${orderId}`, english.accessToken)).json();
    const delivered = await act(world, orderId, 'deliver', world.driver.accessToken, {
      deliveryPin: order.deliveryPin,
    });
    expect(delivered.statusCode, delivered.body).toBe(200);

    const kinds = ['order.placed', 'order.accepted', 'order.ready', 'order.picked_up', 'order.delivered'];
    const messages = await eventually(
      async () =>
        (await sentTo(english.phone, 'sms')).filter((message) => message.metadata.orderId === orderId),
      (found) => kinds.every((kind) => ofKind(found, kind).length > 0),
    );
    for (const kind of kinds) expect(ofKind(messages, kind), kind).toHaveLength(1);
    expect(ofKind(messages, 'order.accepted')[0]!.body).toContain('about 25 min');
    const pickedUp = ofKind(messages, 'order.picked_up')[0]!.body;
    expect(pickedUp).toMatch(/^Paul is bringing your order: https?:\/\/\S+\/track\/[A-Za-z0-9_-]{44}$/);
    expect(pickedUp).not.toContain('Mbarga');

    // The centres: the customer's in English, the restaurant's in French; unread counts.
    const customerCentre = await centreOf(english.accessToken);
    const forOrder = customerCentre.items.filter((item: { orderId: string }) => item.orderId === orderId);
    expect(forOrder.map((item: { kind: string }) => item.kind).sort()).toEqual([...kinds].sort());
    expect(forOrder.find((item: { kind: string }) => item.kind === 'order.delivered').title).toBe(
      'Order delivered',
    );
    expect(customerCentre.unreadCount).toBeGreaterThanOrEqual(5);
    const ownerCentre = await centreOf(owner.accessToken);
    const newOrder = ownerCentre.items.find(
      (item: { kind: string; orderId: string }) =>
        item.kind === 'restaurant.new_order' && item.orderId === orderId,
    );
    expect(newOrder).toMatchObject({ title: 'Nouvelle commande payée', requiresAck: true, readAt: null });

    // Mark read, then all read; the unread count follows.
    const read = await inject('POST', `/v1/notifications/${forOrder[0].id}/read`, english.accessToken);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().readAt).not.toBeNull();
    expect((await centreOf(english.accessToken)).unreadCount).toBe(customerCentre.unreadCount - 1);
    const all = await inject('POST', '/v1/notifications/read-all', english.accessToken);
    expect(all.json().updated).toBe(customerCentre.unreadCount - 1);
    expect((await centreOf(english.accessToken)).unreadCount).toBe(0);
  }, 60_000);

  it('an acknowledged new order gets no SMS', async () => {
    const { owner } = world.actors;
    const placed = await placeOrder(world, english.accessToken);
    const id = placed.json().id as string;
    const entry = await eventually(
      async () =>
        (await centreOf(owner.accessToken)).items.find(
          (item: { kind: string; orderId: string }) =>
            item.kind === 'restaurant.new_order' && item.orderId === id,
        ),
      (found) => found !== undefined,
    );
    const acked = await inject('POST', `/v1/notifications/${entry.id}/ack`, owner.accessToken);
    expect(acked.statusCode, acked.body).toBe(200);
    expect(acked.json().acknowledgedAt).not.toBeNull();
    await eventually(
      async () => ofKind(await sentTo('fcm-owner-token-0123456789', 'push'), 'restaurant.new_order', id),
      (found) => found.length === 1,
    );
    // Past the deadline and its check: still no SMS.
    await new Promise((resolve) => setTimeout(resolve, (ACK_TIMEOUT_SECONDS + 2) * 1_000));
    await world.testApp.services.notify.delivery.checkAcknowledged(entry.id);
    await world.testApp.services.jobs.queue.drain('notify-sms', 10_000);
    expect(ofKind(await sentTo(owner.phone, 'sms'), 'restaurant.new_order', id)).toHaveLength(0);
  }, 60_000);

  it('a replayed reactor and jobs run twice send nothing more: intents are named after their event', async () => {
    const { services } = world.testApp;
    const db = services.db;
    const intentsBefore = await db.selectFrom('notification_intents').select(['id']).execute();
    const messagesBefore =
      (await sentTo(english.phone)).length + (await sentTo(world.actors.owner.phone)).length;
    const pushesBefore = (await sentTo('fcm-owner-token-0123456789')).length;
    const checkpoint = await db
      .selectFrom('notify_reactor_checkpoints')
      .select('position')
      .where('name', '=', 'notify-intents')
      .executeTakeFirstOrThrow();

    // A restart from the start: every event handled again, every dispatch enqueued again.
    const replayed: string[] = [];
    services.notify.onHandled((event) => replayed.push(event.type));
    await services.notify.reactor.stop();
    await db
      .updateTable('notify_reactor_checkpoints')
      .set({ position: '0000000000000000-0000000000000000' })
      .where('name', '=', 'notify-intents')
      .execute();
    await services.notify.reactor.start();
    await eventually(
      async () =>
        (
          await db
            .selectFrom('notify_reactor_checkpoints')
            .select('position')
            .where('name', '=', 'notify-intents')
            .executeTakeFirst()
        )?.position,
      (position) => position !== undefined && position >= checkpoint.position,
      30_000,
    );
    expect(replayed).toContain('OrderPaymentCaptured');
    expect(replayed).toContain('OrderDelivered');
    // A job that runs twice (a worker died after the send, before the job was marked done).
    const some = intentsBefore[0]!.id;
    await services.notify.delivery.dispatch(some);
    for (const channel of ['push', 'sms', 'email'] as const)
      await services.notify.delivery.send(
        { intentId: some, channel },
        { jobId: 'again', attempt: 1, maxAttempts: 5 },
      );
    for (const queue of ['notify-dispatch', 'notify-push', 'notify-sms'])
      await services.jobs.queue.drain(queue, 10_000);

    expect((await db.selectFrom('notification_intents').select(['id']).execute()).length).toBe(
      intentsBefore.length,
    );
    expect((await sentTo(english.phone)).length + (await sentTo(world.actors.owner.phone)).length).toBe(
      messagesBefore,
    );
    expect((await sentTo('fcm-owner-token-0123456789')).length).toBe(pushesBefore);
  }, 60_000);
});

describe('notifications: two workers on one send', () => {
  it('the same intent sent by two workers at once goes once; the loser is told to try later, then finds it done', async () => {
    const { services } = world.testApp;
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const [draft] = paymentIntents(
      { id: `race-${customer.userId}`, type: 'PaymentSucceeded', data: { amountMinor: 3_000 } },
      { paymentId: 'p', userId: customer.userId, purpose: 'topup', amountMinor: 3_000 },
    );
    await services.notify.repository.insertIntents([draft!], new Date());
    const job = { intentId: draft!.id, channel: 'sms' as const };
    const context = { jobId: 'race', attempt: 1, maxAttempts: 5 };
    const outcomes = await Promise.allSettled([
      services.notify.delivery.send(job, context),
      services.notify.delivery.send(job, context),
    ]);
    // The loser either finds the claim fresh (try later) or, if the winner already finished, done.
    for (const outcome of outcomes)
      if (outcome.status === 'rejected') expect(String(outcome.reason)).toMatch(/is being sent on sms/);
    expect(outcomes.some((outcome) => outcome.status === 'fulfilled')).toBe(true);
    await services.notify.delivery.send(job, context); // the retry: already sent, nothing happens
    const sms = (await sentTo(customer.phone, 'sms')).filter(
      (message) => message.metadata.intentId === draft!.id,
    );
    expect(sms).toHaveLength(1);
    expect(sms[0]!.body).toMatch(/^3\s000\sFCFA ajoutés à votre portefeuille\.$/u);
  });
});

describe('notifications: a first start on a store with history', () => {
  it('begins at the head: nobody is told about past orders the day it is deployed', async () => {
    const { services } = world.testApp;
    const db = services.db;
    const handled: string[] = [];
    services.notify.onHandled((event) => handled.push(event.id));
    await services.notify.reactor.stop();
    await db.deleteFrom('notify_reactor_checkpoints').where('name', '=', 'notify-intents').execute();
    await services.notify.reactor.start();
    const saved = await db
      .selectFrom('notify_reactor_checkpoints')
      .select('position')
      .where('name', '=', 'notify-intents')
      .executeTakeFirst();
    expect(saved?.position).toMatch(/^[0-9a-f]{16}-[0-9a-f]{16}$/);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(handled).toEqual([]);
    // Events after the start are handled as before (a new customer: the first is at the hourly cap).
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const placed = await placeOrder(world, customer.accessToken);
    const id = placed.json().id as string;
    await eventually(
      async () => ofKind(await sentTo(customer.phone, 'sms'), 'order.placed', id),
      (found) => found.length === 1,
    );
  }, 30_000);
});

describe('notifications: preferences, ownership, devices', () => {
  it('nobody reads, acknowledges or changes what is another person’s', async () => {
    const other = await createUser(world.testApp, { roles: ['customer'] });
    const mine = (await centreOf(english.accessToken)).items[0];
    for (const action of ['read', 'ack']) {
      const response = await inject('POST', `/v1/notifications/${mine.id}/${action}`, other.accessToken);
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('notification_not_found');
    }
    const device = (
      await inject('POST', '/v1/me/devices', world.actors.owner.accessToken, {
        token: 'fcm-owner-token-0123456789',
        platform: 'android',
      })
    ).json();
    const removal = await inject('DELETE', `/v1/me/devices/${device.id}`, other.accessToken);
    expect(removal.statusCode).toBe(404);
    expect(removal.json().code).toBe('device_not_found');

    // Preferences are the caller's own: a body naming someone else is refused and changes nothing.
    const before = (await inject('GET', '/v1/me/notification-preferences', english.accessToken)).json();
    const refused = await inject('PUT', '/v1/me/notification-preferences', other.accessToken, {
      ...before,
      userId: english.userId,
      promotions: { push: true, sms: true, email: true },
    });
    expect(refused.statusCode).toBe(400);
    expect((await inject('GET', '/v1/me/notification-preferences', english.accessToken)).json()).toEqual(
      before,
    );
  });

  it('quiet hours: a time zone must exist, start and end must differ; saved with the time zone', async () => {
    const user = await createUser(world.testApp, { roles: ['customer'] });
    const current = (await inject('GET', '/v1/me/notification-preferences', user.accessToken)).json();
    expect(current.quietHours).toBeNull();
    const unknown = await inject('PUT', '/v1/me/notification-preferences', user.accessToken, {
      ...current,
      quietHours: { start: '22:00', end: '07:00', timeZone: 'Africa/Atlantis' },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('time_zone_unknown');
    const empty = await inject('PUT', '/v1/me/notification-preferences', user.accessToken, {
      ...current,
      quietHours: { start: '22:00', end: '22:00' },
    });
    expect(empty.json().code).toBe('quiet_hours_empty');
    const saved = await inject('PUT', '/v1/me/notification-preferences', user.accessToken, {
      ...current,
      quietHours: { start: '22:00', end: '07:00' },
    });
    expect(saved.statusCode, saved.body).toBe(200);
    expect(saved.json().quietHours).toEqual({ start: '22:00', end: '07:00', timeZone: 'Africa/Douala' });
  });

  it('a device registers once per token (201 then 200), is forgotten on DELETE, bad input is 400', async () => {
    const user = await createUser(world.testApp, { roles: ['customer'] });
    const body = { token: `fcm-${user.userId}`, platform: 'ios' };
    const first = await inject('POST', '/v1/me/devices', user.accessToken, body);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.headers.location).toBe(`/v1/me/devices/${first.json().id}`);
    expect((await inject('GET', first.headers.location as string, user.accessToken)).json()).toEqual(
      first.json(),
    );
    const again = await inject('POST', '/v1/me/devices', user.accessToken, body);
    expect(again.statusCode).toBe(200);
    expect(again.json().id).toBe(first.json().id);
    const bad = await inject('POST', '/v1/me/devices', user.accessToken, {
      token: 'short',
      platform: 'nokia',
    });
    expect(bad.statusCode).toBe(400);
    expect((await inject('DELETE', `/v1/me/devices/${first.json().id}`, user.accessToken)).statusCode).toBe(
      204,
    );
    expect((await inject('DELETE', `/v1/me/devices/${first.json().id}`, user.accessToken)).statusCode).toBe(
      404,
    );
  });
});

describe('notifications: the recipient’s language', () => {
  it('registration keeps the language of the body, else of Accept-Language, else French', async () => {
    const register = async (phone: string, headers: Record<string, string>, locale?: string) => {
      const response = await world.testApp.app.inject({
        method: 'POST',
        url: '/v1/auth/register',
        headers,
        payload: { phone, password: 'Correct-Horse-Battery-9', name: 'Ama', ...(locale ? { locale } : {}) },
      });
      expect(response.statusCode, response.body).toBe(202);
      return (await world.testApp.services.identity.repository.findUserByPhone(phone))!.locale;
    };
    const phone = () => randomPhone();
    expect(await register(phone(), { 'accept-language': 'en-GB,en;q=0.9,fr;q=0.8' })).toBe('en');
    expect(await register(phone(), { 'accept-language': 'fr-CM,en;q=0.5' })).toBe('fr');
    expect(await register(phone(), { 'accept-language': 'en' }, 'fr')).toBe('fr');
    expect(await register(phone(), {})).toBe('fr');
  });
});

describe('notifications: the hourly cap under a flood', () => {
  it('lower priorities stop at half the cap, order messages still arrive, the cap holds; the centre has them all', async () => {
    const { services } = world.testApp;
    const flooded = await createUser(world.testApp, { roles: ['customer'] });
    // Ten failed top-ups (normal priority) first.
    const drafts = Array.from({ length: 10 }, (_, index) =>
      paymentIntents(
        {
          id: `flood-topup-${flooded.userId}-${index}`,
          type: 'PaymentFailed',
          data: { reason: 'x', at: '' },
        },
        { paymentId: `p${index}`, userId: flooded.userId, purpose: 'topup', amountMinor: 1_000 + index },
      ),
    ).flat();
    await services.notify.record(drafts);
    await eventually(
      async () =>
        services.db
          .selectFrom('notification_deliveries')
          .select('status')
          .where('recipient_id', '=', flooded.userId)
          .execute(),
      (rows) => rows.length === 10 && rows.every((row) => row.status !== 'sending'),
    );
    expect(ofKind(await sentTo(flooded.phone, 'sms'), 'wallet.topup_failed')).toHaveLength(
      Math.floor(HOURLY_CAP / 2),
    );

    // Then a flood of orders: their messages are sent up to the whole cap, then capped.
    const orders: string[] = [];
    for (let index = 0; index < 5; index += 1) {
      const placed = await placeOrder(world, flooded.accessToken);
      expect(placed.statusCode, placed.body).toBe(201);
      orders.push(placed.json().id as string);
    }
    await eventually(
      async () =>
        services.db
          .selectFrom('notification_deliveries')
          .select('status')
          .where('recipient_id', '=', flooded.userId)
          .execute(),
      (rows) => rows.length === 15 && rows.every((row) => row.status !== 'sending'),
      30_000,
    );
    const sms = await sentTo(flooded.phone, 'sms');
    expect(sms).toHaveLength(HOURLY_CAP);
    expect(ofKind(sms, 'order.placed')).toHaveLength(HOURLY_CAP - Math.floor(HOURLY_CAP / 2));
    const centre = (await inject('GET', '/v1/notifications?limit=50', flooded.accessToken)).json();
    expect(centre.items).toHaveLength(15);
    expect(centre.items.filter((item: { kind: string }) => item.kind === 'order.placed')).toHaveLength(5);

    // The restaurant's critical messages are never capped: one push per order.
    for (const id of orders)
      await eventually(
        async () => ofKind(await sentTo('fcm-owner-token-0123456789', 'push'), 'restaurant.new_order', id),
        (found) => found.length === 1,
      );
  }, 90_000);
});

describe('notifications: failures, dead letters and the fallback to SMS', () => {
  /** A delivery like the app's, over the same tables and queues, through a push provider that fails. */
  function failingPush(answer: (message: OutboundMessage) => Promise<ChannelResult & { transport: string }>) {
    const { services } = world.testApp;
    return createDelivery({
      repository: services.notify.repository,
      queue: services.jobs.queue,
      sender: { deliver: answer },
      recipients: services.notify.recipients,
      templates: createTemplates(),
      metrics: createNotifyMetrics(),
      logger: services.runtime.logger,
      hourlyCap: HOURLY_CAP,
      ackTimeoutSeconds: ACK_TIMEOUT_SECONDS,
      costXaf: { push: 0, sms: 25, email: 0 },
    });
  }

  async function ownerIntent(name: string) {
    const { owner } = world.actors;
    const [draft] = paymentIntents(
      { id: `failure-${name}-${Date.now()}`, type: 'PaymentFailed', data: {} },
      { paymentId: 'p', userId: owner.userId, purpose: 'topup', amountMinor: 2_000 },
    );
    await world.testApp.services.notify.repository.insertIntents([draft!], new Date());
    return draft!;
  }

  it('a push that keeps failing (5xx, 429) is retried, then dead-lettered, visible to admins, and falls back to SMS', async () => {
    const { owner, admin } = world.actors;
    const intent = await ownerIntent('transient');
    const delivery = failingPush(async () => {
      throw new Error('FCM answered 503');
    });
    const job = { intentId: intent.id, channel: 'push' as const, fallback: 'sms' as const };
    await expect(delivery.send(job, { jobId: 'j', attempt: 1, maxAttempts: 2 })).rejects.toThrow('503');
    const tried = await world.testApp.services.notify.repository.deliveries(intent.id);
    expect(tried).toEqual([
      expect.objectContaining({ channel: 'push', status: 'failed', reason: 'FCM answered 503' }),
    ]);
    // The last try gives up: a dead letter, then the SMS.
    await delivery.send(job, { jobId: 'j', attempt: 2, maxAttempts: 2 });
    const sms = await eventually(
      async () =>
        (await sentTo(owner.phone, 'sms')).filter((message) => message.metadata.intentId === intent.id),
      (found) => found.length > 0,
    );
    expect(sms).toHaveLength(1);
    expect(sms[0]!.body).toMatch(/^Rechargement de 2\s000\sFCFA échoué\.$/u);
    const letters = await inject('GET', '/v1/admin/notifications/dead-letters', admin.accessToken);
    expect(letters.statusCode, letters.body).toBe(200);
    expect(letters.json().items).toContainEqual(
      expect.objectContaining({ intentId: intent.id, channel: 'push', queue: 'notify-push', attempts: 2 }),
    );
    expect(JSON.stringify(letters.json())).not.toContain(owner.phone);
    const refused = await inject('GET', '/v1/admin/notifications/dead-letters', owner.accessToken);
    expect(refused.statusCode).toBe(403);
    const badCursor = await inject(
      'GET',
      '/v1/admin/notifications/dead-letters?cursor=nope!',
      admin.accessToken,
    );
    expect(badCursor.statusCode).toBe(400);
  }, 30_000);

  it('a token FCM calls unregistered is forgotten at once (no retry) and the message falls back to SMS', async () => {
    const { owner } = world.actors;
    const token = `fcm-dead-token-${Date.now()}`;
    const registered = await inject('POST', '/v1/me/devices', owner.accessToken, {
      token,
      platform: 'android',
    });
    expect(registered.statusCode).toBe(201);
    const intent = await ownerIntent('unregistered');
    const delivery = failingPush(async (message): Promise<ChannelResult & { transport: string }> =>
      message.to === token
        ? {
            status: 'failed',
            reason: 'messaging/registration-token-not-registered',
            permanent: true,
            unregisteredToken: true,
            transport: 'fcm',
          }
        : { status: 'failed', reason: 'messaging/invalid-argument', permanent: true, transport: 'fcm' },
    );
    await delivery.send(
      { intentId: intent.id, channel: 'push', fallback: 'sms' },
      { jobId: 'j', attempt: 1, maxAttempts: 5 },
    );
    const devices = (await inject('GET', '/v1/me/devices', owner.accessToken)).json().items;
    expect(devices.map((device: { id: string }) => device.id)).not.toContain(registered.json().id);
    await eventually(
      async () =>
        (await sentTo(owner.phone, 'sms')).filter((message) => message.metadata.intentId === intent.id),
      (found) => found.length === 1,
    );
    // The remaining device is still there (only the dead token goes).
    expect(devices.length).toBeGreaterThan(0);
  }, 30_000);
});

describe('notifications: the WebSocket channel and personal data', () => {
  it('a new centre entry is published to the recipient’s audiences, in their language', async () => {
    const { services } = world.testApp;
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const heard: { type: string; channel: string; data: Record<string, unknown> }[] = [];
    const unsubscribe = await services.realtime.bus.subscribe(`user:${customer.userId}`, (message) =>
      heard.push(message),
    );
    try {
      const placed = await placeOrder(world, customer.accessToken);
      const id = placed.json().id as string;
      const message = await eventually(
        async () => heard.find((item) => item.type === 'notification.created'),
        (found) => found !== undefined,
      );
      expect(message).toMatchObject({
        channel: 'notifications',
        data: { kind: 'order.placed', title: 'Commande confirmée', orderId: id },
      });
      const centre = await centreOf(customer.accessToken);
      expect(centre.items.map((item: { id: string }) => item.id)).toContain(message!.data.id);
    } finally {
      await unsubscribe();
    }
  }, 30_000);

  it('export lists the person’s notifications and devices (never the token); erasure deletes them', async () => {
    const { services } = world.testApp;
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const token = `fcm-erase-${customer.userId}`;
    await inject('POST', '/v1/me/devices', customer.accessToken, { token, platform: 'web' });
    await placeOrder(world, customer.accessToken);
    await eventually(
      async () => (await centreOf(customer.accessToken)).items.length,
      (count) => count > 0,
    );
    const exported = await inject('GET', '/v1/me/export', customer.accessToken);
    expect(exported.statusCode, exported.body).toBe(200);
    const mine = exported.json().notify;
    expect(mine.notifications.map((item: { kind: string }) => item.kind)).toContain('order.placed');
    expect(mine.devices).toHaveLength(1);
    expect(JSON.stringify(mine)).not.toContain(token);

    // The texts are not stored: the parameters are ciphertext at rest.
    const row = await services.db
      .selectFrom('notification_intents')
      .select('params')
      .where('recipient_id', '=', customer.userId)
      .executeTakeFirstOrThrow();
    expect(row.params).toMatch(/^pii1\./);

    const erased = await inject('DELETE', '/v1/me', customer.accessToken, { password: customer.password });
    expect(erased.statusCode, erased.body).toBe(204);
    const left = async (table: 'notification_intents' | 'notification_deliveries') =>
      services.db.selectFrom(table).select('id').where('recipient_id', '=', customer.userId).execute();
    expect(await left('notification_intents')).toEqual([]);
    expect(await left('notification_deliveries')).toEqual([]);
    expect(
      await services.db
        .selectFrom('notification_devices')
        .select('id')
        .where('user_id', '=', customer.userId)
        .execute(),
    ).toEqual([]);
  }, 30_000);
});

describe('notifications: payouts', () => {
  it('a payout the ledger posted is told to its payee (a restaurant’s owner), once, in their language', async () => {
    const { services } = world.testApp;
    const { owner } = world.actors;
    const payoutId = randomUUID();
    const driverPayoutId = randomUUID();
    await services.db
      .insertInto('payouts')
      .values([
        {
          payout_id: payoutId,
          payee_kind: 'restaurant',
          payee_id: world.restaurantId,
          requested_by: owner.userId,
          amount_minor: 25_000n,
          currency: 'XAF',
          phone: '[redacted]',
          status: 'SUCCEEDED',
        },
        {
          payout_id: driverPayoutId,
          payee_kind: 'driver',
          payee_id: world.driver.userId,
          requested_by: world.driver.userId,
          amount_minor: 4_000n,
          currency: 'XAF',
          phone: '[redacted]',
          status: 'SUCCEEDED',
        },
      ])
      .execute();
    // The shape payouts.ts gives the post of a payout's hold, in a batch with other transfers.
    const batch = JSON.stringify({
      accountsCreated: [],
      hash: 'h',
      previousHash: 'p',
      transfersAccepted: [
        { id: `payout:${payoutId}:post`, code: 'payout' },
        { id: `payout:${payoutId}:fee`, code: 'provider_fee' },
        { id: `payout:${driverPayoutId}:post`, code: 'payout' },
        { id: 'order:x:capture', code: 'order_payment' },
      ],
    });
    const event = {
      id: randomUUID(),
      type: 'LedgerBatch',
      data: { batch },
      metadata: { schemaVersion: 1 },
      stream: 'ledger-main',
      revision: 0n,
      position: '0000000000000001-0000000000000001',
      createdAt: new Date(),
    } as unknown as RecordedEvent;
    await services.notify.react(event);
    await services.notify.react(event); // at least once: a replay tells nobody twice
    // The owner has a device: a push.
    const toOwner = await eventually(
      async () => ofKind(await sentTo('fcm-owner-token-0123456789', 'push'), 'payout.sent'),
      (found) => found.length > 0,
    );
    expect(toOwner).toHaveLength(1);
    expect(toOwner[0]!.body).toMatch(/^25\s000\sFCFA ont été versés sur votre compte Mobile Money\.$/u);
    // The driver has none: an SMS.
    const toDriver = await eventually(
      async () => ofKind(await sentTo(world.driver.phone, 'sms'), 'payout.sent'),
      (found) => found.length > 0,
    );
    expect(toDriver).toHaveLength(1);
    expect(toDriver[0]!.body).toMatch(/^Versement de 4\s000\sFCFA envoyé sur votre Mobile Money\.$/u);
  }, 30_000);
});
