/**
 * Order news by SMS for feature-phone customers (issue #25, docs/ussd.md "Order news by SMS"):
 * a customer who ordered over USSD, without the app, hears each status change of the order and
 * the Mobile Money outcome by SMS in the language chosen on USSD, through notify's SMS path;
 * `STOP` by SMS silences them (persisted in the preferences, audited) and `START` brings them back.
 */
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser } from '../../helpers/auth.js';
import { act, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { dial, fund, phoneOf, until, USSD_SECRET, ussdWorld } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await ussdWorld();
}, 120_000);

afterAll(async () => {
  await world?.testApp.close();
});

const PIN = '2580';
const WAIT = 30_000;

async function smsOfKind(phone: string, kind: string, orderId?: string) {
  return (
    await world.testApp.services.notifications.outbox!.list({ to: phone, channel: 'sms', limit: 100 })
  ).filter(
    (message) =>
      message.metadata.kind === kind && (orderId === undefined || message.metadata.orderId === orderId),
  );
}

/** Every SMS to the phone about the order, whoever sent it (USSD or notify). */
async function smsAbout(phone: string, orderId: string) {
  return (
    await world.testApp.services.notifications.outbox!.list({ to: phone, channel: 'sms', limit: 100 })
  ).filter((message) => message.metadata.orderId === orderId);
}

async function intentStatus(userId: string, kind: string, orderId: string) {
  const row = await world.testApp.services.db
    .selectFrom('notification_intents')
    .select('status')
    .where('recipient_id', '=', userId)
    .where('kind', '=', kind)
    .where('order_id', '=', orderId)
    .executeTakeFirst();
  return row?.status;
}

const inbound = (from: string, text: string) =>
  world.testApp.app.inject({
    method: 'POST',
    url: `/v1/sms/inbound/africastalking?key=${USSD_SECRET}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ from, to: '21212', text }).toString(),
  });

/** A customer with an earlier order and money; `phone` may be chosen (a simulator suffix). */
async function customerWithHistory(phone = phoneOf('MTN')) {
  const customer = await createUser(world.testApp, { phone, roles: ['customer'] });
  await fund(world, customer.userId);
  const placed = await placeOrder(world, customer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  await until(
    () => world.testApp.services.orders.repository.list({ customerId: customer.userId }, {}),
    (list) => list.items.length > 0,
  );
  return { customer, phone, previous: placed.json() as { id: string } };
}

/** First use in English, then a dish of the recent restaurant paid by `payment` (1 wallet, 2 MoMo). */
async function orderOverUssd(phone: string, payment: '1' | '2') {
  const session = dial(world, phone);
  await session.send();
  await session.send('2');
  await session.send(PIN);
  expect(await session.send(PIN)).toMatch(/^CON 1\. Reorder/);
  await session.send('2'); // restaurants
  const dishes = await session.send('1');
  const juice = dishes.split('\n').findIndex((line) => line.includes('Jus'));
  await session.send(String(juice));
  await session.send('1'); // quantity
  await session.send('2'); // checkout
  await session.send('1'); // the first address
  expect(await session.send(payment)).toMatch(/^CON Total/);
  return session.send(PIN);
}

async function ussdOrderOf(customerId: string, previousId: string): Promise<string> {
  const list = await until(
    () => world.testApp.services.orders.repository.list({ customerId }, {}),
    (found) => found.items.some((order) => order.id !== previousId),
  );
  return list.items.find((order) => order.id !== previousId)!.id;
}

describe('order news by SMS for USSD customers', () => {
  it('tells each status change in the language chosen on USSD; STOP silences them (persisted, audited), START brings them back', async () => {
    const { customer, phone, previous } = await customerWithHistory();
    expect(await orderOverUssd(phone, '1')).toMatch(/^END Order [0-9A-F]{8} paid/);
    const orderId = await ussdOrderOf(customer.userId, previous.id);
    // The language chosen on USSD became the profile's: notify writes in English.
    const user = await world.testApp.services.identity.repository.findUserByPhone(phone);
    expect(user!.locale).toBe('en');

    // One SMS for the wallet order: USSD's, with the number and the delivery PIN. notify's receipt
    // (order.placed) is recorded (the centre) but sends no SMS of its own (docs/ussd.md "SMS").
    await until(
      () => intentStatus(customer.userId, 'order.placed', orderId),
      (status) => status === 'muted',
      WAIT,
    );
    await until(
      () => smsOfKind(phone, 'ussd.order_placed', orderId),
      (found) => found.length > 0,
      WAIT,
    );
    const aboutOrder = await smsAbout(phone, orderId);
    expect(aboutOrder.map((message) => message.metadata.kind)).toEqual(['ussd.order_placed']);
    expect(aboutOrder[0]!.body).toMatch(/^Order [0-9A-F]{8} \(.+\), [\d\s]+ XAF\. Delivery PIN: \d{4}\./u);
    // The app order before it is unchanged: its receipt came by SMS from notify.
    const appReceipt = await until(
      () => smsOfKind(phone, 'order.placed', previous.id),
      (found) => found.length > 0,
      WAIT,
    );
    expect(appReceipt).toHaveLength(1);
    // (In the language of the moment it was sent: the USSD session chose English meanwhile.)
    expect(appReceipt[0]!.body).toMatch(/^(Order confirmed at|Commande confirmée chez) /u);
    const owner = world.actors.owner.accessToken;
    expect((await act(world, orderId, 'accept', owner, { preparationMinutes: 20 })).statusCode).toBe(200);
    const accepted = await until(
      () => smsOfKind(phone, 'order.accepted', orderId),
      (found) => found.length > 0,
      WAIT,
    );
    expect(accepted).toHaveLength(1);
    expect(accepted[0]!.body).toMatch(/accepted your order \(about 20 min\)\.$/);

    // STOP: the reply confirms, in English, and the preferences say no SMS.
    const stop = await inbound(phone, 'Stop');
    expect(stop.statusCode, stop.body).toBe(200);
    expect(stop.json()).toEqual({ received: true, replied: true });
    const replies = await world.testApp.services.notifications.outbox!.list({
      to: phone,
      channel: 'sms',
      limit: 100,
    });
    expect(replies.map((message) => message.body)).toContain(
      'You will no longer receive SMS about your orders. Send START to get them again.',
    );
    const preferences = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/me/notification-preferences',
      headers: authHeader(customer.accessToken),
    });
    expect(preferences.json()).toMatchObject({
      order_updates: { sms: false, push: true },
      wallet: { sms: false },
      promotions: { sms: false },
      security: { sms: true },
    });
    const audits = () =>
      world.testApp.services.db
        .selectFrom('audit_logs')
        .select('action')
        .where('subject_user_id', '=', customer.userId)
        .where('action', 'like', 'notifications.sms_opted_%')
        .execute();
    expect((await audits()).map((row) => row.action)).toEqual(['notifications.sms_opted_out']);
    // A second STOP changes and audits nothing.
    expect((await inbound(phone, 'ARRÊT')).statusCode).toBe(200);
    expect(await audits()).toHaveLength(1);

    // The next change is in the centre but sends no SMS.
    expect((await act(world, orderId, 'prepare', owner)).statusCode).toBe(200);
    expect((await act(world, orderId, 'ready', owner)).statusCode).toBe(200);
    await until(
      () => intentStatus(customer.userId, 'order.ready', orderId),
      (status) => status === 'muted',
      WAIT,
    );
    expect(await smsOfKind(phone, 'order.ready', orderId)).toHaveLength(0);

    // START: SMS again for the next change.
    expect((await inbound(phone, 'start')).json()).toEqual({ received: true, replied: true });
    expect((await audits()).map((row) => row.action).sort()).toEqual([
      'notifications.sms_opted_in',
      'notifications.sms_opted_out',
    ]);
    expect((await act(world, orderId, 'claim', world.driver.accessToken)).statusCode).toBe(200);
    const view = (
      await world.testApp.app.inject({
        method: 'GET',
        url: `/v1/orders/${orderId}`,
        headers: authHeader(owner),
      })
    ).json() as { pickupCode?: string };
    const pickup = await act(world, orderId, 'pickup', world.driver.accessToken, {
      pickupCode: view.pickupCode,
    });
    expect(pickup.statusCode, pickup.body).toBe(200);
    const pickedUp = await until(
      () => smsOfKind(phone, 'order.picked_up', orderId),
      (found) => found.length > 0,
      WAIT,
    );
    expect(pickedUp).toHaveLength(1);
    expect(await smsOfKind(phone, 'order.ready', orderId)).toHaveLength(0);
  }, 120_000);

  it("a USSD wallet order's one SMS survives a replayed reactor, a second dispatch and a stray SMS job; the restaurant is still told", async () => {
    const { customer, phone, previous } = await customerWithHistory();
    expect(await orderOverUssd(phone, '1')).toMatch(/^END Order [0-9A-F]{8} paid/);
    const orderId = await ussdOrderOf(customer.userId, previous.id);
    await until(
      () => intentStatus(customer.userId, 'order.placed', orderId),
      (status) => status === 'muted',
      WAIT,
    );
    // The marker is in the events the placement appended, the capture included.
    const events = await world.testApp.services.eventStore.readStream(`order-${orderId}`);
    const captured = events.find((event) => event.type === 'OrderPaymentCaptured')!;
    expect(captured.metadata).toMatchObject({ channel: 'ussd', actorRole: 'customer' });
    // The restaurant's new order is told as for any order (critical, push then SMS).
    expect(await intentStatus(world.actors.owner.userId, 'restaurant.new_order', orderId)).toBeDefined();

    // At least once: the reactor handles the capture again, the dispatch job runs again, and an
    // SMS job for the receipt (queued by an older release, say) runs: nothing more is sent.
    const { notify, jobs } = world.testApp.services;
    await notify.react(captured);
    const intent = await world.testApp.services.db
      .selectFrom('notification_intents')
      .select('id')
      .where('recipient_id', '=', customer.userId)
      .where('kind', '=', 'order.placed')
      .where('order_id', '=', orderId)
      .executeTakeFirstOrThrow();
    await notify.delivery.dispatch(intent.id);
    await notify.delivery.send(
      { intentId: intent.id, channel: 'sms' },
      { jobId: 'stray', attempt: 1, maxAttempts: 5 },
    );
    for (const queue of ['notify-dispatch', 'notify-push', 'notify-sms', 'notify-email'])
      await jobs.queue.drain(queue, 10_000);
    expect((await smsAbout(phone, orderId)).map((message) => message.metadata.kind)).toEqual([
      'ussd.order_placed',
    ]);
    const deliveries = await world.testApp.services.db
      .selectFrom('notification_deliveries')
      .select('channel')
      .where('intent_id', '=', intent.id)
      .execute();
    expect(deliveries).toEqual([]);
  }, 120_000);

  it('tells the Mobile Money outcome by SMS: confirmed in French, declined in English', async () => {
    // Confirmed: any number; French chosen on first use.
    const confirmed = await customerWithHistory();
    const session = dial(world, confirmed.phone);
    await session.send();
    await session.send('1');
    await session.send(PIN);
    expect(await session.send(PIN)).toMatch(/^CON 1\. /);
    await session.send('2');
    const dishes = await session.send('1');
    await session.send(String(dishes.split('\n').findIndex((line) => line.includes('Jus'))));
    await session.send('1');
    await session.send('2');
    await session.send('1');
    await session.send('2');
    expect(await session.send(PIN)).toMatch(/^END Commande [0-9A-F]{8}/);
    const paid = await ussdOrderOf(confirmed.customer.userId, confirmed.previous.id);
    const receipt = await until(
      () => smsOfKind(confirmed.phone, 'order.placed', paid),
      (found) => found.length > 0,
      WAIT,
    );
    expect(receipt[0]!.body).toMatch(/^Commande confirmée/u);
    // Mobile Money keeps its two SMS: the number and PIN at placement (payment still pending),
    // then the confirmation once the operator captured it (news the first could not carry).
    await until(
      () => smsOfKind(confirmed.phone, 'ussd.order_placed', paid),
      (found) => found.length > 0,
      WAIT,
    );
    expect((await smsAbout(confirmed.phone, paid)).map((message) => message.metadata.kind).sort()).toEqual([
      'order.placed',
      'ussd.order_placed',
    ]);

    // Declined: an MTN number the simulator fails (ends in 0001), English.
    const declined = await customerWithHistory(`+23767${String(randomInt(0, 1000)).padStart(3, '0')}0001`);
    expect(await orderOverUssd(declined.phone, '2')).toMatch(
      /^END Order [0-9A-F]{8}: approve the MTN request/,
    );
    const failed = await ussdOrderOf(declined.customer.userId, declined.previous.id);
    const news = await until(
      () => smsOfKind(declined.phone, 'order.payment_failed', failed),
      (found) => found.length > 0,
      WAIT,
    );
    expect(news).toHaveLength(1);
    expect(news[0]!.body).toMatch(/^Payment declined for your order from .+\.$/);
  }, 120_000);
});
