/**
 * A new delivery address over USSD (issue #25, docs/ussd.md "A new address"): a customer picks
 * their city's neighbourhood from its zones, four a page, confirms, and the zone's centre is saved
 * through identity's address API (the app's limit of 20, one address per zone however often the
 * step is replayed) and delivered to, against the real PostgreSQL, Redis and the ledger.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../helpers/auth.js';
import { post } from '../catalog/helpers.js';
import { getOrder, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { dial, fund, phoneOf, until, ussdWorld } from './helpers.js';

let world: OrderWorld;
const PIN = '2580';

/** A square of half-side `half` degrees around a point. */
function around(latitude: number, longitude: number, half = 0.004) {
  return [
    { latitude: latitude - half, longitude: longitude - half },
    { latitude: latitude - half, longitude: longitude + half },
    { latitude: latitude + half, longitude: longitude + half },
    { latitude: latitude + half, longitude: longitude - half },
  ];
}

/** A U opening north: its area centroid (4.0294, 9.76) lies in the notch, outside the zone. */
const U_SHAPE = [
  { latitude: 4.026, longitude: 9.756 },
  { latitude: 4.026, longitude: 9.764 },
  { latitude: 4.034, longitude: 9.764 },
  { latitude: 4.034, longitude: 9.762 },
  { latitude: 4.028, longitude: 9.762 },
  { latitude: 4.028, longitude: 9.758 },
  { latitude: 4.034, longitude: 9.758 },
  { latitude: 4.034, longitude: 9.756 },
];

beforeAll(async () => {
  world = await ussdWorld();
  const admin = world.actors.admin.accessToken;
  const zones = [
    { id: 'akwa', name: 'Akwa', polygon: around(4.05, 9.75) },
    { id: 'bali', name: 'Bali', polygon: around(4.045, 9.76, 0.002) },
    { id: 'bonanjo', name: 'Bonanjo', polygon: around(4.04, 9.775) },
    // The customer's neighbourhood: centred on the previous order's delivery point.
    { id: 'bonapriso', name: 'Bonapriso', polygon: around(4.0611, 9.7719) },
    { id: 'deido', name: 'Deido', polygon: around(4.07, 9.76) },
    // Not offered: the platform does not deliver there, or the centre is not in the zone.
    { id: 'port', name: 'Port', polygon: around(4.05, 9.79), delivers: false },
    { id: 'ndokoti', name: 'Ndokoti', polygon: U_SHAPE },
    // Nor a zone too wide to price from its centre (about 4.7 km from centre to corner).
    { id: 'grand-nord', name: 'Grand Nord', polygon: around(4.1, 9.8, 0.03) },
  ];
  for (const zone of zones) {
    const created = await post(world.testApp, '/v1/admin/cities/douala/zones', admin, zone);
    expect(created.statusCode, created.body).toBe(201);
  }
}, 180_000);

afterAll(async () => {
  await world?.testApp.close();
});

const db = () => world.testApp.services.db;

/** The customer's saved addresses, read through identity (they are encrypted at rest). */
async function addressesOf(userId: string) {
  return world.testApp.services.identity.repository.listAddresses(userId, 50);
}

async function ordersOf(customerId: string) {
  return db().selectFrom('orders_view').select(['order_id']).where('customer_id', '=', customerId).execute();
}

/** An app customer with money and one earlier order, at the menu of a first USSD dial in `language`. */
async function customerAtMenu(language: '1' | '2') {
  const phone = phoneOf('MTN');
  const customer = await createUser(world.testApp, { phone, roles: ['customer'] });
  await fund(world, customer.userId);
  const placed = await placeOrder(world, customer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  await until(
    () => world.testApp.services.orders.repository.list({ customerId: customer.userId }, {}),
    (list) => list.items.length > 0,
  );
  const session = dial(world, phone);
  await session.send();
  await session.send(language);
  await session.send(PIN);
  await session.send(PIN);
  return { customer, phone, session, previous: placed.json() as { id: string } };
}

describe('a new address over USSD', () => {
  it('reorders to a neighbourhood picked by pages: saved through identity once, delivered to its centre', async () => {
    const { customer, session, previous } = await customerAtMenu('2');
    await session.send('1');
    expect(await session.send('1')).toBe(
      'CON Deliver to:\n1. Rue 1.234, Bonapriso, Douala\n8. New address\n0. Back',
    );
    // The caller's city (their last order's): straight to its zones, by name, four a page; the
    // port (not delivered), the U-shaped zone (its centre is outside it) and the wide one are not offered.
    const first =
      'CON Your neighbourhood (Douala):\n1. Akwa\n2. Bali\n3. Bonanjo\n4. Bonapriso\n9. More 0. Back';
    expect(await session.send('8')).toBe(first);
    expect(await session.send('9')).toBe('CON Your neighbourhood (Douala):\n1. Deido\n0. Back');
    expect(await session.send('0')).toBe(first);
    expect(await session.send('7')).toBe(`CON Invalid choice.\n${first.slice(4)}`);
    expect(await session.send('4')).toBe(
      'CON Delivery to the centre of Bonapriso, Douala. The driver calls you on arrival.\n1. Confirm\n0. Another neighbourhood',
    );
    expect(await session.send('1')).toBe('CON Pay with:\n1. Wallet\n2. MTN Mobile Money\n0. Back');
    // The aggregator retries the callback: the same screen, the address saved once.
    expect(await session.repeat()).toBe('CON Pay with:\n1. Wallet\n2. MTN Mobile Money\n0. Back');
    const saved = await addressesOf(customer.userId);
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({
      label: 'Bonapriso',
      line1: 'Bonapriso, Douala',
      city: 'Douala',
      district: 'Bonapriso',
      landmark: 'The driver calls the customer on arrival',
      latitude: 4.0611,
      longitude: 9.7719,
      is_default: true,
    });
    expect(await session.send('1')).toMatch(/^CON Total [\d ]+ XAF \(delivery [\d ]+ XAF\)\nBonapriso\n/);
    const done = await session.send(PIN);
    expect(done).toMatch(/^END Order [0-9A-F]{8} paid/);
    const orders = await until(
      () => ordersOf(customer.userId),
      (rows) => rows.length === 2,
    );
    const placed = orders.find((row) => row.order_id !== previous.id)!;
    const view = (await getOrder(world, placed.order_id, customer.accessToken)).json();
    expect(view.delivery).toMatchObject({ latitude: 4.0611, longitude: 9.7719 });
    expect(view.status).toBe('PLACED');

    // The app sees the address like one it added (GET /v1/me/addresses).
    const listed = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/me/addresses',
      headers: { authorization: `Bearer ${customer.accessToken}` },
    });
    expect(listed.json().items).toHaveLength(1);
  });

  it('replays the save step (a crash after the save, before the session was stored): still one address', async () => {
    const { customer, phone, session } = await customerAtMenu('1');
    await session.send('1');
    await session.send('1');
    expect(await session.send('8')).toMatch(/^CON Votre quartier \(Douala\):\n1\. Akwa\n/);
    expect(await session.send('4')).toBe(
      'CON Livraison au centre de Bonapriso, Douala. Le livreur vous appelle à l’arrivée.\n1. Confirmer\n0. Autre quartier',
    );
    // The stored session as it was before the confirmation: the next callback replays the step.
    const { runtime, ussd } = world.testApp.services;
    const key = `${runtime.config.REDIS_KEY_PREFIX}ussd:${ussd.sessionKey(phone)}`;
    const before = (await runtime.redis!.get(key))!;
    expect(await session.send('1')).toMatch(/^CON Payer par:/);
    await runtime.redis!.set(key, before, 'PX', 600_000);
    expect(await session.repeat()).toMatch(/^CON Payer par:/);
    expect(await addressesOf(customer.userId)).toHaveLength(1);
    // Cancelled; a later dial picks the same zone again through "new address": reused.
    await session.send('0');
    expect(await session.send('0')).toMatch(/^END Commande annulée/);
    const later = dial(world, phone);
    await later.send();
    await later.send('1');
    expect(await later.send('1')).toMatch(/^CON Livrer à:\n1\. Bonapriso\n2\. Rue 1\.234/);
    await later.send('8');
    await later.send('4');
    expect(await later.send('1')).toMatch(/^CON Payer par:/);
    const saved = await addressesOf(customer.userId);
    expect(saved).toHaveLength(1);
    expect(saved[0]!.landmark).toBe('Le livreur appelle le client à l’arrivée');
  });

  it('refuses a 21st address as the app does: the session ends saying so, nothing saved', async () => {
    const { customer, session } = await customerAtMenu('2');
    for (let index = 0; index < 20; index += 1) {
      const added = await world.testApp.app.inject({
        method: 'POST',
        url: '/v1/me/addresses',
        headers: { authorization: `Bearer ${customer.accessToken}` },
        payload: { label: `Home ${index}`, line1: `Rue ${index}`, city: 'Douala' },
      });
      expect(added.statusCode, added.body).toBe(201);
    }
    await session.send('1');
    // Saved addresses without coordinates are not offered; the last order's delivery is.
    expect(await session.send('1')).toBe(
      'CON Deliver to:\n1. Rue 1.234, Bonapriso, Douala\n8. New address\n0. Back',
    );
    await session.send('8');
    await session.send('2');
    expect(await session.send('1')).toBe('END Cannot order: at most 20 addresses, remove one in the app.');
    expect(await addressesOf(customer.userId)).toHaveLength(20);
    expect(await ordersOf(customer.userId)).toHaveLength(1);
  });
});
