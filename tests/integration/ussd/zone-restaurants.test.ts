/**
 * Restaurants by neighbourhood over USSD (issue #25, docs/ussd.md "Restaurants by neighbourhood"):
 * a number with neither favourites nor orders picks its city's neighbourhood from the zones and
 * gets the restaurants open now that deliver there (the catalog's search and delivery terms),
 * four a page within 182 characters, then orders from one like from any list, through the Africa's
 * Talking callback against the real PostgreSQL, Redis and the ledger.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activeRestaurant, post } from '../catalog/helpers.js';
import { type OrderWorld } from '../orders/helpers.js';
import { dial, fund, phoneOf, until, ussdWorld } from './helpers.js';

let world: OrderWorld;
const PIN = '2580';
/** A restaurant of this test, at the centre of its neighbourhood: first by distance there. */
const NAME = `Le Wouri ${randomBytes(3).toString('hex')}`;
const CLOSED = `Chez Fermé ${randomBytes(3).toString('hex')}`;
const CENTRE = { latitude: 4.0611, longitude: 9.7719 };
let restaurantId: string;

function around(latitude: number, longitude: number, half = 0.004) {
  return [
    { latitude: latitude - half, longitude: longitude - half },
    { latitude: latitude - half, longitude: longitude + half },
    { latitude: latitude + half, longitude: longitude + half },
    { latitude: latitude + half, longitude: longitude - half },
  ];
}

beforeAll(async () => {
  world = await ussdWorld();
  const { admin, owner } = world.actors;
  // Bonapriso: both restaurants deliver there (8 km radius). Bonabéri, about 11 km from both: none.
  for (const zone of [
    { id: 'bonapriso', name: 'Bonapriso', polygon: around(CENTRE.latitude, CENTRE.longitude) },
    { id: 'bonaberi', name: 'Bonabéri', polygon: around(4.12, 9.7) },
  ]) {
    const created = await post(world.testApp, '/v1/admin/cities/douala/zones', admin.accessToken, zone);
    expect(created.statusCode, created.body).toBe(201);
  }
  restaurantId = await activeRestaurant(world.testApp, world.actors, { name: NAME, location: CENTRE });
  // Closed every day, at the same centre: never listed (open now only).
  await activeRestaurant(world.testApp, world.actors, {
    name: CLOSED,
    location: CENTRE,
    openingHours: Object.fromEntries(
      ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => [day, []]),
    ),
  });
  const category = await post(
    world.testApp,
    `/v1/restaurants/${restaurantId}/menu/categories`,
    owner.accessToken,
    { name: { fr: 'Grillades' } },
  );
  expect(category.statusCode, category.body).toBe(201);
  const item = await post(world.testApp, `/v1/restaurants/${restaurantId}/menu/items`, owner.accessToken, {
    categoryId: category.json().id,
    name: { fr: 'Poulet DG' },
    price: 4500,
  });
  expect(item.statusCode, item.body).toBe(201);
}, 180_000);

afterAll(async () => {
  await world?.testApp.close();
});

/** A new number registered over USSD in `language` (1 French, 2 English): no favourite, no order. */
async function newcomer(language: '1' | '2') {
  const phone = phoneOf('MTN');
  const session = dial(world, phone);
  await session.send();
  await session.send(language);
  await session.send(PIN);
  await session.send(PIN);
  const user = await world.testApp.services.identity.repository.findUserByPhone(phone);
  return { phone, session, userId: user!.id };
}

describe('restaurants by neighbourhood over USSD', () => {
  it('a newcomer picks a neighbourhood, sees the open restaurants delivering there, and orders from one', async () => {
    const { session, userId } = await newcomer('2');
    await fund(world, userId);
    // Neither favourites nor orders: straight to the neighbourhoods of the only city offering some.
    const zones = 'CON Your neighbourhood (Douala):\n1. Bonabéri\n2. Bonapriso\n0. Back';
    expect(await session.send('2')).toBe(zones);
    // Nobody delivers to Bonabéri: said above the neighbourhoods again.
    expect(await session.send('1')).toBe(
      `CON No open restaurant delivers to Bonabéri now.\n${zones.slice(4)}`,
    );
    const list = await session.send('2');
    expect(list).toMatch(/^CON Open, delivering to Bonapriso:\n1\. Le Wouri /);
    expect(list).toContain('Chez Mama Ngono');
    expect(list).not.toContain('Fermé');
    expect(list.length).toBeLessThanOrEqual(182);
    // The aggregator's retry: the same screen.
    expect(await session.repeat()).toBe(list);
    expect(await session.send('1')).toMatch(/^CON Le Wouri [0-9a-f]{6}:\n1\. Poulet DG 4 500 XAF/);
    await session.send('1'); // Poulet DG
    await session.send('2'); // quantity
    // Checkout: no saved address, no earlier order: the new address from the zones.
    expect(await session.send('2')).toBe(
      'CON Your neighbourhood (Douala):\n1. Bonabéri\n2. Bonapriso\n0. Back',
    );
    expect(await session.send('2')).toMatch(/^CON Delivery to the centre of Bonapriso, Douala\./);
    expect(await session.send('1')).toMatch(/^CON Pay with:\n1\. Wallet/);
    expect(await session.send('1')).toMatch(/^CON Total 9 \d{3} XAF/);
    expect(await session.send(PIN)).toMatch(/^END Order [0-9A-F]{8} paid/);
    const orders = await until(
      () => world.testApp.services.orders.repository.list({ customerId: userId }, {}),
      (found) => found.items.length === 1,
    );
    expect(orders.items[0]).toMatchObject({ restaurantId, status: 'PLACED' });
  }, 120_000);

  it('in French, with 0 back from the restaurants to the neighbourhoods and from there to the menu', async () => {
    const { session } = await newcomer('1');
    const zones = 'CON Votre quartier (Douala):\n1. Bonabéri\n2. Bonapriso\n0. Retour';
    expect(await session.send('2')).toBe(zones);
    expect(await session.send('1')).toBe(
      `CON Aucun restaurant ouvert ne livre Bonabéri maintenant.\n${zones.slice(4)}`,
    );
    expect(await session.send('2')).toMatch(/^CON Ouverts, livrent Bonapriso:\n1\. Le Wouri /);
    expect(await session.send('0')).toBe(zones);
    expect(await session.send('0')).toMatch(/^CON 1\. Recommander\n2\. Restaurants/);
  }, 120_000);
});
