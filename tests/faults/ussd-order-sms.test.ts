/**
 * Fault schedules for the one SMS of a USSD order (docs/ussd.md "The order's SMS"): its number and
 * delivery PIN must reach the customer once, whatever fails between the placement and the send.
 * The SMS provider is the repository's Twilio stand-in (its `failNext` is a provider having a bad
 * minute); the orders, the ledger and the queue are the real ones.
 *
 * - the provider fails, then recovers: the job's retries send one SMS (wallet and Mobile Money);
 * - the process dies after the placement, before the job: the sweep sends it, once, with three
 *   instances sweeping at once;
 * - the process dies holding the claim (before the provider): nothing until the lease ends, then
 *   one SMS;
 * - the process dies after the provider accepted, before the mark: the next sender sends it again
 *   (the limit docs/ussd.md states: two SMS, never none).
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrderSms, type OrderSmsDependencies } from '../../src/modules/ussd/order-sms.js';
import { createTwilioAdapter } from '../../src/modules/notifications/sms-twilio.js';
import { createUser } from '../helpers/auth.js';
import { NEAR, placeOrder, type OrderWorld } from '../integration/orders/helpers.js';
import { dial, fund, phoneOf, until, ussdWorld } from '../integration/ussd/helpers.js';
import { startTwilioStandIn } from '../integration/notifications/stand-ins.js';

const ACCOUNT_SID = `AC${'7'.repeat(32)}`;
const AUTH_TOKEN = 'f'.repeat(32);
const PIN = '2580';
const WAIT = 60_000;

let world: OrderWorld;
let twilio: Awaited<ReturnType<typeof startTwilioStandIn>>;
const services = () => world.testApp.services;

beforeAll(async () => {
  twilio = await startTwilioStandIn({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN });
  // The recording outbox off: SMS go through an adapter, here Twilio's against its stand-in.
  world = await ussdWorld({ OUTBOX_ENABLED: 'false' });
  services().notifications.useAdapter(
    'sms',
    createTwilioAdapter({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      from: '+237650000000',
      apiBaseUrl: twilio.baseUrl,
    }),
  );
}, 240_000);

afterAll(async () => {
  await world?.testApp.close();
  await twilio?.close();
});

/** Sends of the order's SMS (its PIN line) the stand-in received for `phone`: accepted or not. */
function pinSmsTo(phone: string, orderId: string) {
  const number = orderId.replace(/-/g, '').slice(0, 8).toUpperCase();
  return twilio.requests
    .map((request) => new URLSearchParams(request.body))
    .filter(
      (form) =>
        form.get('To') === phone &&
        (form.get('Body') ?? '').includes(number) &&
        /Delivery PIN|Code de livraison/.test(form.get('Body') ?? ''),
    )
    .map((form) => form.get('Body')!);
}

async function row(orderId: string) {
  return services()
    .db.selectFrom('ussd_order_sms')
    .select(['status', 'attempts', 'claimed_until', 'last_error'])
    .where('order_id', '=', orderId)
    .executeTakeFirst();
}

/** Another instance's sender over the same database, provider and orders. */
function instance(sms?: OrderSmsDependencies['sms']) {
  return createOrderSms({
    db: services().db as never,
    orders: () => services().orders.orders,
    users: services().identity.repository,
    sms: sms ?? services().notifications,
    logger: pino({ level: 'silent' }),
  });
}

/** A customer of `operator` with an earlier app order (something to reorder) and money. */
async function customer(operator: 'MTN' | 'ORANGE' = 'MTN', phone = phoneOf(operator)) {
  const created = await createUser(world.testApp, { phone, roles: ['customer'] });
  await fund(world, created.userId);
  const placed = await placeOrder(world, created.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  await until(
    () => services().orders.repository.list({ customerId: created.userId }, {}),
    (list) => list.items.length > 0,
  );
  // notify's receipt SMS of that app order goes to the same number: let it pass first, so that
  // the provider's failures below fall on the USSD order's SMS.
  await until(
    async () => twilio.requests.filter((request) => new URLSearchParams(request.body).get('To') === phone),
    (found) => found.length > 0,
    WAIT,
  );
  for (const queue of ['notify-dispatch', 'notify-sms']) await services().jobs.queue.drain(queue, 10_000);
  return { ...created, phone, previousId: (placed.json() as { id: string }).id };
}

/** First use in English, then the juice of the recent restaurant paid by `payment` (1 wallet, 2 MoMo). */
async function ussdOrder(phone: string, payment: '1' | '2') {
  const session = dial(world, phone);
  await session.send();
  await session.send('2');
  await session.send(PIN);
  expect(await session.send(PIN)).toMatch(/^CON 1\. Reorder/);
  await session.send('2');
  const dishes = await session.send('1');
  await session.send(String(dishes.split('\n').findIndex((line) => line.includes('Jus'))));
  await session.send('1');
  await session.send('2');
  await session.send('1');
  expect(await session.send(payment)).toMatch(/^CON Total/);
  return session.send(PIN);
}

async function ussdOrderOf(customerId: string, previousId: string): Promise<string> {
  const list = await until(
    () => services().orders.repository.list({ customerId }, {}),
    (found) => found.items.some((order) => order.id !== previousId),
  );
  return list.items.find((order) => order.id !== previousId)!.id;
}

/**
 * The state a crash right after the placement leaves: the row written, the order placed (as the
 * USSD service places it: its id, the `ussd` channel), and no job queued.
 */
async function placedWithoutJob() {
  const buyer = await customer();
  const orderId = randomUUID();
  await services().ussd.orderSms.intend(orderId, buyer.userId, 'en');
  const placed = await services().orders.orders.place(
    {
      restaurantId: world.restaurantId,
      items: [{ itemId: world.jusId, quantity: 1 }],
      delivery: NEAR,
      payment: { kind: 'wallet' },
      tipMinor: 0,
    },
    { kind: 'user', id: buyer.userId },
    { actorId: buyer.userId, actorRole: 'customer', channel: 'ussd' },
    { orderId, resume: true },
  );
  expect(placed.state.status).toBe('PLACED');
  return { buyer, orderId, pin: placed.state.order!.deliveryPin };
}

/** A minute and more later: the sweep's clock. */
const later = () => new Date(Date.now() + 2 * 60_000);

describe('the USSD order SMS under faults', () => {
  it('the provider fails twice, then recovers: the job retries and one SMS with the PIN goes', async () => {
    const buyer = await customer();
    twilio.failNext(buyer.phone, 503, 2);
    expect(await ussdOrder(buyer.phone, '1')).toMatch(/^END Order [0-9A-F]{8} paid/);
    const orderId = await ussdOrderOf(buyer.userId, buyer.previousId);
    const sent = await until(
      () => row(orderId),
      (found) => found?.status === 'sent',
      WAIT,
    );
    expect(sent!.attempts).toBe(3);
    // Three tries reached the provider; it accepted the third only.
    expect(pinSmsTo(buyer.phone, orderId)).toHaveLength(3);
    // Sweeps afterwards (three instances) send nothing more.
    await Promise.all([instance(), instance(), instance()].map((each) => each.sweep(later())));
    expect(pinSmsTo(buyer.phone, orderId)).toHaveLength(3);
    expect((await row(orderId))!.attempts).toBe(3);
  }, 180_000);

  it('a Mobile Money order: the provider fails once, the PIN SMS still goes once while the payment is pending or captured', async () => {
    const buyer = await customer('MTN');
    twilio.failNext(buyer.phone, 500, 1);
    expect(await ussdOrder(buyer.phone, '2')).toMatch(/^END Order [0-9A-F]{8}: approve the MTN request/);
    const orderId = await ussdOrderOf(buyer.userId, buyer.previousId);
    await until(
      () => row(orderId),
      (found) => found?.status === 'sent',
      WAIT,
    );
    const order = await services().orders.orders.find(orderId);
    const bodies = pinSmsTo(buyer.phone, orderId);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toContain(`Delivery PIN: ${order!.state.order!.deliveryPin}`);
    await Promise.all([instance(), instance(), instance()].map((each) => each.sweep(later())));
    expect(pinSmsTo(buyer.phone, orderId)).toHaveLength(2);
  }, 180_000);

  it('the process dies after the placement, before the job: three instances sweeping at once send it once', async () => {
    const { buyer, orderId, pin } = await placedWithoutJob();
    expect(await row(orderId)).toMatchObject({ status: 'pending', attempts: 0 });
    // Too young for the sweep: the job had its minute.
    await instance().sweep(new Date());
    expect(pinSmsTo(buyer.phone, orderId)).toHaveLength(0);
    const outcomes = await Promise.all(
      [instance(), instance(), instance()].map((each) => each.sweep(later())),
    );
    expect(outcomes.reduce((sum, outcome) => sum + outcome.sent, 0)).toBe(1);
    const bodies = pinSmsTo(buyer.phone, orderId);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain(`Delivery PIN: ${pin}`);
    expect(await row(orderId)).toMatchObject({ status: 'sent', attempts: 1, claimed_until: null });
    // And the replay of the dial's placement (the aggregator's retry) adds nothing.
    await services().ussd.orderSms.intend(orderId, buyer.userId, 'en');
    await services().ussd.orderSms.enqueue(orderId);
    await services().jobs.queue.drain('ussd-order-sms', 10_000);
    expect(pinSmsTo(buyer.phone, orderId)).toHaveLength(1);
  }, 180_000);

  it('the process dies holding the claim, before the provider: nothing until the lease ends, then one SMS', async () => {
    const { buyer, orderId } = await placedWithoutJob();
    // A sender claimed it (attempt 1) and died before calling the provider.
    await sql`UPDATE ussd_order_sms SET claimed_until = now() + interval '60 seconds', attempts = 1
      WHERE order_id = ${orderId}`.execute(services().db);
    const during = await Promise.all([instance(), instance(), instance()].map((each) => each.sweep(later())));
    expect(during.reduce((sum, outcome) => sum + outcome.sent, 0)).toBe(0);
    expect(await instance().deliver(orderId)).toBe('claimed');
    expect(pinSmsTo(buyer.phone, orderId)).toHaveLength(0);
    // The lease is over.
    await sql`UPDATE ussd_order_sms SET claimed_until = now() - interval '1 second'
      WHERE order_id = ${orderId}`.execute(services().db);
    await Promise.all([instance(), instance(), instance()].map((each) => each.sweep(later())));
    expect(pinSmsTo(buyer.phone, orderId)).toHaveLength(1);
    expect(await row(orderId)).toMatchObject({ status: 'sent', attempts: 2 });
  }, 180_000);

  it('the process dies after the provider accepted, before the mark: the next sender sends it again (two SMS, never none)', async () => {
    const { buyer, orderId } = await placedWithoutJob();
    const crashing = instance({
      async deliver(message) {
        await services().notifications.deliver(message);
        throw new Error('crash: after the provider accepted, before the mark');
      },
    });
    await expect(crashing.deliver(orderId)).rejects.toThrow(/not sent yet/);
    expect(pinSmsTo(buyer.phone, orderId)).toHaveLength(1);
    expect(await row(orderId)).toMatchObject({ status: 'pending', claimed_until: null });
    await Promise.all([instance(), instance(), instance()].map((each) => each.sweep(later())));
    expect(pinSmsTo(buyer.phone, orderId)).toHaveLength(2);
    expect(await row(orderId)).toMatchObject({ status: 'sent', attempts: 2 });
  }, 180_000);

  it('a placement refused before anything was placed leaves nothing owed; an order that never came is given up', async () => {
    const buyer = await customer();
    const orderId = randomUUID();
    await services().ussd.orderSms.intend(orderId, buyer.userId, 'fr');
    // Never placed (a refusal, or a crash before the placement): after 30 minutes, given up.
    await sql`UPDATE ussd_order_sms SET created_at = now() - interval '31 minutes'
      WHERE order_id = ${orderId}`.execute(services().db);
    await instance().sweep(later());
    expect(await row(orderId)).toMatchObject({ status: 'void', last_error: 'no_order' });
    // A later placement of that very order (a resumed dial) owes it again.
    await services().ussd.orderSms.intend(orderId, buyer.userId, 'fr');
    expect(await row(orderId)).toMatchObject({ status: 'pending' });
    await services().ussd.orderSms.forget(orderId);
    expect(await row(orderId)).toBeUndefined();
  }, 180_000);
});
