/**
 * Whole USSD sessions against the app (issue #25): a customer registers a PIN, reorders a meal
 * paid from the wallet, browses a restaurant's dishes and pays by Mobile Money (the simulator
 * stands in for the operator's own prompt), gets the order number and delivery PIN by SMS, and
 * the order reaches the restaurant like any other. Retried and concurrent callbacks place once.
 */
import { customerWalletId } from '../../../ledger/rules/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialUssd } from '../../../src/cli/ussd-phone.js';
import { createUser } from '../../helpers/auth.js';
import { patch } from '../catalog/helpers.js';
import { getOrder, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { dial, fund, phoneOf, until, USSD_PATH, USSD_SECRET, ussdWorld } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await ussdWorld();
}, 120_000);

afterAll(async () => {
  await world?.testApp.close();
});

const PIN = '2580';

async function smsTo(phone: string) {
  return world.testApp.services.notifications.outbox!.list({ to: phone, channel: 'sms' });
}

async function ordersOf(customerId: string) {
  return world.testApp.services.db
    .selectFrom('orders_view')
    .select(['order_id', 'status'])
    .where('customer_id', '=', customerId)
    .execute();
}

/** An app customer with money and one earlier order (visible in their list). */
async function customerWithHistory(operator: 'MTN' | 'NEXTTEL' = 'MTN') {
  const phone = phoneOf(operator);
  const customer = await createUser(world.testApp, { phone, roles: ['customer'] });
  await fund(world, customer.userId);
  const placed = await placeOrder(world, customer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  await until(
    () => world.testApp.services.orders.repository.list({ customerId: customer.userId }, {}),
    (list) => list.items.length > 0,
  );
  return { customer, phone, previous: placed.json() as { id: string; pricing: { totalMinor: number } } };
}

/** First use: English, then the PIN twice; answers the dial at the menu. */
async function firstUse(phone: string) {
  const session = dial(world, phone);
  expect(await session.send()).toMatch(/^CON Bienvenue \/ Welcome\n1\. Français\n2\. English$/);
  expect(await session.send('2')).toBe('CON Create your USSD PIN (4 digits):');
  expect(await session.send(PIN)).toBe('CON Confirm your PIN:');
  expect(await session.send(PIN)).toMatch(/^CON 1\. Reorder\n2\. Restaurants/);
  return session;
}

/** A later dial of a registered number: the menu at once. */
async function firstUseAgain(phone: string) {
  const session = dial(world, phone);
  expect(await session.send()).toMatch(/^CON 1\. Reorder\n2\. Restaurants/);
  return session;
}

describe('USSD ordering', () => {
  it('registers an unknown number with a PIN: an active customer, the PIN hashed, the language kept', async () => {
    const phone = phoneOf('ORANGE');
    const session = dial(world, phone);
    expect(await session.send()).toContain('1. Français');
    expect(await session.send('1')).toBe('CON Créez votre code PIN USSD (4 chiffres):');
    expect(await session.send('1234')).toBe(
      'CON PIN: 4 chiffres, pas 1234 ni 0000.\nCréez votre code PIN USSD (4 chiffres):',
    );
    expect(await session.send('7391')).toBe('CON Confirmez votre code PIN:');
    expect(await session.send('7391')).toContain('1. Recommander');
    // The aggregator's retry of the last callback: the same screen, no second registration.
    expect(await session.repeat()).toContain('1. Recommander');

    const user = await world.testApp.services.identity.repository.findUserByPhone(phone);
    expect(user).toMatchObject({ status: 'active', phone_verified: true, roles: ['customer'], locale: 'fr' });
    const rows = await world.testApp.services.db
      .selectFrom('ussd_subscribers')
      .selectAll()
      .where('user_id', '=', user!.id)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.pin_hash.startsWith('$argon2id$')).toBe(true);
    expect(rows[0]!.pin_hash).not.toContain('7391');
    expect(rows[0]!.language).toBe('fr');
    const audit = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select('action')
      .where('subject_user_id', '=', user!.id)
      .execute();
    expect(audit.map((row) => row.action).sort()).toEqual(['account.registered_by_ussd', 'ussd.pin_set']);

    // The next dial remembers the language and the PIN: straight to the French menu.
    expect(await dial(world, phone).send()).toBe(
      'CON 1. Recommander\n2. Restaurants\n3. Ma dernière commande\n4. Langue\n0. Quitter',
    );
    // With no orders yet, reorder says so and shows the menu again.
    expect(await dial(world, phone).send('1')).toMatch(/^CON Aucune commande récente\.\n1\. Recommander/);
  });

  it('completes a pending registration of the number, and turns away a suspended account', async () => {
    const pendingPhone = phoneOf('MTN');
    const pending = await createUser(world.testApp, { phone: pendingPhone, roles: [] });
    // An app registration whose SMS code never came back.
    await world.testApp.services.identity.repository.updateUser(pending.userId, {
      status: 'pending_verification',
      phone_verified: false,
    });
    const session = dial(world, pendingPhone);
    await session.send();
    await session.send('2');
    await session.send('3691');
    expect(await session.send('3691')).toMatch(/^CON 1\. Reorder/);
    const user = await world.testApp.services.identity.repository.findUserById(pending.userId);
    expect(user).toMatchObject({ status: 'active', phone_verified: true, roles: ['customer'] });
    const audit = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select('action')
      .where('subject_user_id', '=', pending.userId)
      .execute();
    expect(audit.map((row) => row.action)).toContain('account.verified_by_ussd');

    const suspendedPhone = phoneOf('MTN');
    await createUser(world.testApp, { phone: suspendedPhone, status: 'suspended' });
    expect(await dial(world, suspendedPhone).send()).toBe(
      'END Ce compte n’est pas disponible. Contactez le support.',
    );
  });

  it('reorders a previous meal paid from the wallet: one order, the PIN by SMS, seen by the restaurant', async () => {
    const { customer, phone, previous } = await customerWithHistory();
    const session = await firstUse(phone);
    const recent = await session.send('1');
    expect(recent).toMatch(/^CON Reorder:\n1\. .+ \d[\d ]* XAF\n0\. Back$/);
    expect(await session.send('1')).toMatch(
      /^CON Deliver to:\n1\. Rue 1\.234, Bonapriso, Douala\n8\. New address\n0\. Back$/,
    );
    expect(await session.send('1')).toBe('CON Pay with:\n1. Wallet\n2. MTN Mobile Money\n0. Back');
    const confirm = await session.send('1');
    // Today's prices of the same items: the same total as the first order.
    const total = previous.pricing.totalMinor - 200; // the app order had a 200 XAF tip; USSD adds none
    expect(confirm).toContain(`Total ${total.toLocaleString('fr-FR').replace(/\u202f/g, ' ')} XAF`);
    const done = await session.send(PIN);
    expect(done).toMatch(/^END Order [0-9A-F]{8} paid \(.+ XAF\)\. The delivery PIN comes by SMS\.$/);
    // Retried by the aggregator: the same answer, still one new order.
    expect(await session.repeat()).toBe(done);

    const orders = await until(
      () => ordersOf(customer.userId),
      (rows) => rows.length === 2,
    );
    const placed = orders.find((row) => row.order_id !== previous.id)!;
    expect(done).toContain(placed.order_id.replace(/-/g, '').slice(0, 8).toUpperCase());
    const view = await getOrder(world, placed.order_id, customer.accessToken);
    expect(view.json()).toMatchObject({ status: 'PLACED', payment: { kind: 'wallet' } });
    expect(view.json().pricing.totalMinor).toBe(total);
    // The restaurant sees it like any other order.
    const owner = await getOrder(world, placed.order_id, world.actors.owner.accessToken);
    expect(owner.statusCode).toBe(200);
    // The order number and its delivery PIN, once, by SMS to the calling number (sent by the
    // order SMS job right after the placement).
    await until(
      () => smsTo(phone),
      (messages) => messages.some((message) => message.body.includes('Delivery PIN')),
    );
    const sms = (await smsTo(phone)).filter((message) => message.body.includes('Delivery PIN'));
    expect(sms).toHaveLength(1);
    expect(sms[0]!.body).toContain(`Delivery PIN: ${view.json().deliveryPin as string}`);
    expect(sms[0]!.body).toContain(placed.order_id.replace(/-/g, '').slice(0, 8).toUpperCase());
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await ordersOf(customer.userId)).toHaveLength(2);
  });

  it('shows the new total when a price changed after the confirmation screen: nothing placed until the PIN agrees to it', async () => {
    const { customer, phone, previous } = await customerWithHistory();
    const session = await firstUse(phone);
    await session.send('1');
    await session.send('1');
    await session.send('1');
    await session.send('1');
    const total = previous.pricing.totalMinor - 200;
    const shown = (minor: number) => `Total ${minor.toLocaleString('fr-FR').replace(/\u202f/g, ' ')} XAF`;
    const owner = world.actors.owner.accessToken;
    const item = `/v1/restaurants/${world.restaurantId}/menu/items/${world.jusId}`;
    // The restaurant raises the juice by 400 XAF while the customer reads the total.
    expect((await patch(world.testApp, item, owner, { price: 900 })).statusCode).toBe(200);
    try {
      const again = await session.send(PIN);
      expect(again.startsWith(`CON The price changed.\n${shown(total + 400)} (delivery `)).toBe(true);
      expect(again).toMatch(/\nPIN to confirm, 0 to cancel:$/);
      expect(await ordersOf(customer.userId)).toHaveLength(1);
      const done = await session.send(PIN);
      expect(done).toMatch(/^END Order [0-9A-F]{8} paid/);
      const orders = await until(
        () => ordersOf(customer.userId),
        (rows) => rows.length === 2,
      );
      const placed = orders.find((row) => row.order_id !== previous.id)!;
      const view = await getOrder(world, placed.order_id, customer.accessToken);
      expect(view.json().pricing.totalMinor).toBe(total + 400);
    } finally {
      await patch(world.testApp, item, owner, { price: 500 });
    }
  });

  it('lists a customer’s favourite restaurants, so a first order needs no history', async () => {
    const phone = phoneOf('MTN');
    const customer = await createUser(world.testApp, { phone, roles: ['customer'] });
    const session = await firstUse(phone);
    // No order and no favourite yet: nothing to browse.
    expect(await session.send('2')).toMatch(/No favourite or recent restaurants\./);
    const favourited = await world.testApp.app.inject({
      method: 'PUT',
      url: `/v1/me/favourites/restaurants/${world.restaurantId}`,
      headers: { authorization: `Bearer ${customer.accessToken}` },
    });
    expect(favourited.statusCode, favourited.body).toBe(200);
    const again = await firstUseAgain(phone);
    const listed = await again.send('2');
    expect(listed).toMatch(/^CON Your restaurants:\n1\. .+\n0\. Back$/);
    // Its dishes follow, as for a restaurant ordered from before.
    expect(await again.send('1')).toMatch(/^CON .+:\n1\. .+ \d[\d ]* XAF\n/);
  });

  it('browses recent restaurants and their dishes, picks a quantity and pays by Mobile Money (the operator prompt follows)', async () => {
    const { customer, phone } = await customerWithHistory('MTN');
    const session = await firstUse(phone);
    expect(await session.send('2')).toMatch(/^CON Your restaurants:\n1\. .+\n0\. Back$/);
    const dishes = await session.send('1');
    expect(dishes).toMatch(/^CON .+:\n1\. .+ \d[\d ]* XAF\n2\. .+ XAF\n0\. Back$/);
    const lines = dishes.split('\n');
    const juice = lines.findIndex((line) => line.includes('Jus'));
    expect(await session.send(String(juice))).toMatch(/^CON Jus de foléré 500 XAF\nQuantity \(1-20\):$/);
    expect(await session.send('25')).toMatch(/^CON Invalid choice\.\nJus/);
    expect(await session.send('3')).toBe(
      'CON Cart: 3 dish(es), 1 500 XAF\n1. Add a dish\n2. Checkout\n0. Cancel',
    );
    expect(await session.send('2')).toContain('Deliver to:');
    await session.send('1');
    expect(await session.send('2')).toMatch(/^CON Total [\d ]+ XAF \(delivery [\d ]+ XAF\)\n/);
    const done = await session.send(PIN);
    expect(done).toMatch(
      /^END Order [0-9A-F]{8}: approve the MTN request for [\d ]+ XAF with your Mobile Money PIN/,
    );

    const row = await until(
      () => ordersOf(customer.userId),
      (rows) => rows.length === 2,
    );
    const momo = (
      await Promise.all(row.map((order) => getOrder(world, order.order_id, customer.accessToken)))
    )
      .map((response) => response.json())
      .find((order) => order.payment.kind === 'mobile_money');
    expect(momo.payment).toMatchObject({
      kind: 'mobile_money',
      provider: 'MTN',
      phoneEnding: phone.slice(-2),
    });
    expect(momo.lines).toMatchObject([{ name: 'Jus de foléré', quantity: 3 }]);
    // The simulated operator approves: the order is paid and goes to the restaurant.
    await until(
      async () => (await getOrder(world, momo.id as string, customer.accessToken)).json().status as string,
      (status) => status === 'PLACED',
    );
    await until(
      async () => (await smsTo(phone)).map((message) => message.body).join('\n'),
      (bodies) => bodies.includes(`Delivery PIN: ${momo.deliveryPin as string}`),
    );
  });

  it('places once when the confirming callback arrives twice at the same time', async () => {
    const { customer, phone } = await customerWithHistory();
    const session = await firstUse(phone);
    await session.send('1');
    await session.send('1');
    await session.send('1');
    await session.send('1');
    session.inputs.push(PIN);
    const [first, second] = await Promise.all([session.repeat(), session.repeat()]);
    expect(first).toMatch(/^END Order [0-9A-F]{8} paid/);
    expect(second).toBe(first);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const orders = await until(
      () => ordersOf(customer.userId),
      (rows) => rows.length >= 2,
    );
    expect(orders).toHaveLength(2);
    // Two orders paid from the wallet: the ledger took each once.
    const totals = await Promise.all(
      orders.map(
        async (order) =>
          (await getOrder(world, order.order_id, customer.accessToken)).json().pricing.totalMinor as number,
      ),
    );
    const account = await world.testApp.services.ledger.account(customerWalletId(customer.userId, 'XAF'));
    expect(account!.availableMinor).toBe(50_000n - BigInt(totals[0]! + totals[1]!));
  });

  it('the terminal phone (npm run ussd) speaks to the listening server like the aggregator', async () => {
    const address = world.testApp.app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const scripted = ['2', '3691', '3691', '0'];
    const shown: string[] = [];
    const screens = await dialUssd({
      url: `http://127.0.0.1:${port}${USSD_PATH}`,
      phone: phoneOf('ORANGE'),
      serviceCode: '*123#',
      key: USSD_SECRET,
      ask: async () => scripted.shift(),
      show: (screen) => shown.push(screen),
    });
    expect(screens[0]).toMatch(/^CON Bienvenue/);
    expect(screens.at(-1)).toBe('END Thank you, see you soon!');
    expect(shown).toEqual(['Thank you, see you soon!']);
    await expect(
      dialUssd({
        url: `http://127.0.0.1:${port}${USSD_PATH}`,
        phone: phoneOf('ORANGE'),
        serviceCode: '*123#',
        key: 'not-the-secret-at-all',
        ask: async () => undefined,
        show: () => undefined,
      }),
    ).rejects.toThrow(/answered 401/);
  });
});
