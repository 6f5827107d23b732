/**
 * Payload sizes for phones on rationed data (issue #25): bytes on the wire of the typical answers
 * (a menu, a restaurant list page, an order, the delta syncs of menus, orders and addresses), each
 * as the app sends it without compression, with `Accept-Encoding: gzip` and with `br`, full
 * against delta. Sizes, not speed: the figures do not depend on the machine's load, but the
 * machine is recorded with them. Writes bench/results/payloads.json.
 *
 * The real app runs in-process against a fresh database: the 200-restaurant catalog fixture and
 * the 3 demo restaurants (30 dishes each), a customer with an order and three saved addresses.
 */
import '../lib/local-postgres.js'; // first: chooses how the app reaches PostgreSQL
import { sql } from 'kysely';
import { startBenchApp } from '../lib/app.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';
import { generateCatalogFixture, insertCatalogFixture } from '../../src/modules/catalog/fixtures.js';
import { WEEKDAYS } from '../../src/modules/catalog/rules/hours.js';
import { demoRestaurants } from '../../src/modules/catalog/seed.js';
import type { TestApp } from '../../tests/helpers/app.js';
import { authHeader } from '../../tests/helpers/auth.js';
import { activeRestaurant, createActors, patch, post } from '../../tests/integration/catalog/helpers.js';

interface Sizes {
  rawBytes: number;
  gzipBytes: number;
  brBytes: number;
  note?: string;
}

const bench = await startBenchApp({ MAX_EVENT_LOOP_DELAY_MS: '0' });
const testApp = { ...bench, logs: [] } as unknown as TestApp;
const results: Record<string, Sizes> = {};

async function measure(
  name: string,
  url: string,
  headers: Record<string, string> = {},
  note?: string,
): Promise<Record<string, unknown>> {
  const sizes: Partial<Sizes> = {};
  let body: Record<string, unknown> = {};
  for (const [coding, key] of [
    ['identity', 'rawBytes'],
    ['gzip', 'gzipBytes'],
    ['br', 'brBytes'],
  ] as const) {
    const response = await bench.app.inject({
      method: 'GET',
      url,
      headers: { 'accept-language': 'fr', 'accept-encoding': coding, ...headers },
    });
    if (response.statusCode !== 200) throw new Error(`${name}: ${response.statusCode} ${response.body}`);
    sizes[key] = response.rawPayload.length;
    if (coding === 'identity') body = JSON.parse(response.body) as Record<string, unknown>;
  }
  results[name] = { ...(sizes as Sizes), ...(note === undefined ? {} : { note }) };
  return body;
}

const ageOneHour = (table: string, column: string, where: ReturnType<typeof sql>) =>
  sql`UPDATE ${sql.table(table)} SET ${sql.ref(column)} = ${sql.ref(column)} - interval '1 hour' WHERE ${where}`.execute(
    bench.services.db,
  );

try {
  const db = bench.services.db;
  const actors = await createActors(testApp);
  const demo = demoRestaurants([actors.owner.userId]);
  await insertCatalogFixture(db, [...generateCatalogFixture(), ...demo]);
  const menuId = demo[0]!.id;
  await ageOneHour('menu_items', 'updated_at', sql`restaurant_id = ${menuId}`);
  await ageOneHour('menu_categories', 'updated_at', sql`restaurant_id = ${menuId}`);
  await ageOneHour('menu_modifier_groups', 'updated_at', sql`restaurant_id = ${menuId}`);

  // A menu (30 dishes) in full, and its delta sync.
  await measure('menu: GET /v1/restaurants/{id}/menu', `/v1/restaurants/${menuId}/menu`);
  const reset = await measure('menu sync: first (reset)', `/v1/sync/menus/${menuId}`);
  await measure(
    'menu sync: delta, nothing changed',
    `/v1/sync/menus/${menuId}?since=${String(reset.cursor)}`,
  );
  const dish = ((reset.items as { id: string; price: number }[]) ?? [])[0]!;
  const repriced = await patch(
    testApp,
    `/v1/restaurants/${menuId}/menu/items/${dish.id}`,
    actors.owner.accessToken,
    { price: dish.price + 100 },
  );
  if (repriced.statusCode !== 200) throw new Error(`reprice: ${repriced.body}`);
  await measure(
    'menu sync: delta, one price changed',
    `/v1/sync/menus/${menuId}?since=${String(reset.cursor)}`,
  );
  await measure(
    'menu sync: delta, one price changed, fields=price,orderable',
    `/v1/sync/menus/${menuId}?since=${String(reset.cursor)}&fields=price,orderable`,
  );

  // A restaurant list page (20, around Akwa, by distance).
  await measure(
    'restaurant list page: GET /v1/restaurants (20, by distance)',
    '/v1/restaurants?lat=4.0511&lng=9.7679&radiusKm=10&sort=distance&limit=20',
  );

  // An order, read in full and through the orders sync.
  const restaurantId = await activeRestaurant(testApp, actors, {
    openingHours: Object.fromEntries(WEEKDAYS.map((day) => [day, [{ opens: '00:00', closes: '23:59' }]])),
  });
  const category = await post(
    testApp,
    `/v1/restaurants/${restaurantId}/menu/categories`,
    actors.owner.accessToken,
    {
      name: { fr: 'Plats' },
    },
  );
  const items = [];
  for (const [name, price] of [
    ['Ndolé aux crevettes', 3_500],
    ['Poulet DG', 4_500],
    ['Jus de foléré', 500],
  ] as const) {
    const created = await post(
      testApp,
      `/v1/restaurants/${restaurantId}/menu/items`,
      actors.owner.accessToken,
      {
        categoryId: category.json().id,
        name: { fr: name },
        price,
      },
    );
    items.push(created.json().id as string);
  }
  const customer = actors.customer;
  const placed = await bench.app.inject({
    method: 'POST',
    url: '/v1/orders',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': `payloads-${Date.now()}` },
    payload: {
      restaurantId,
      items: items.map((itemId, index) => ({ itemId, quantity: index + 1 })),
      delivery: { latitude: 4.0611, longitude: 9.7719, text: 'Rue 1.234, Bonapriso, Douala' },
      payment: { kind: 'wallet' },
      tipMinor: 0,
    },
  });
  if (placed.statusCode !== 201) throw new Error(`order: ${placed.body}`);
  const orderId = placed.json().id as string;
  await bench.services.projections.waitUntilCaughtUp('orders', 20_000);
  await measure('order: GET /v1/orders/{id}', `/v1/orders/${orderId}`, authHeader(customer.accessToken));
  await measure('orders: GET /v1/orders (history page)', '/v1/orders', authHeader(customer.accessToken));
  await ageOneHour('orders_view', 'updated_at', sql`customer_id = ${customer.userId}`);
  const orders = await measure(
    'orders sync: first (reset)',
    '/v1/sync/orders',
    authHeader(customer.accessToken),
  );
  await measure(
    'orders sync: delta, nothing changed',
    `/v1/sync/orders?since=${String(orders.cursor)}`,
    authHeader(customer.accessToken),
  );
  const accepted = await post(testApp, `/v1/orders/${orderId}/accept`, actors.owner.accessToken, {
    preparationMinutes: 20,
  });
  if (accepted.statusCode !== 200) throw new Error(`accept: ${accepted.body}`);
  await bench.services.projections.waitUntilCaughtUp('orders', 20_000);
  await measure(
    'orders sync: delta, one status changed',
    `/v1/sync/orders?since=${String(orders.cursor)}`,
    authHeader(customer.accessToken),
  );
  await measure(
    'orders sync: delta, one status changed, fields=status',
    `/v1/sync/orders?since=${String(orders.cursor)}&fields=status`,
    authHeader(customer.accessToken),
  );

  // Saved addresses.
  const addressIds = [];
  for (const label of ['Maison', 'Bureau', 'Chez maman']) {
    const created = await post(testApp, '/v1/me/addresses', customer.accessToken, {
      label,
      line1: `Rue ${label}, près de la pharmacie`,
      city: 'Douala',
      district: 'Bonapriso',
      landmark: 'derrière la station Total',
      latitude: 4.0611,
      longitude: 9.7719,
    });
    addressIds.push(created.json().id as string);
  }
  await ageOneHour('user_addresses', 'updated_at', sql`user_id = ${customer.userId}`);
  await measure('addresses: GET /v1/me/addresses', '/v1/me/addresses', authHeader(customer.accessToken));
  const addresses = await measure(
    'addresses sync: first (reset)',
    '/v1/sync/addresses',
    authHeader(customer.accessToken),
  );
  await bench.app.inject({
    method: 'DELETE',
    url: `/v1/me/addresses/${addressIds[2]}`,
    headers: authHeader(customer.accessToken),
  });
  await measure(
    'addresses sync: delta, one removed',
    `/v1/sync/addresses?since=${String(addresses.cursor)}`,
    authHeader(customer.accessToken),
  );

  const output = {
    name: 'payloads',
    revision: gitRevision(),
    machine: await describeMachine(),
    settings: {
      compressionMinBytes: bench.services.runtime.config.HTTP_COMPRESSION_MIN_BYTES,
      brotliQuality: 4,
      gzipLevel: 6,
      language: 'fr',
      note: 'bytes of the body on the wire (headers excluded); answers under the threshold are sent uncompressed whatever the client accepts, so their three figures are equal',
    },
    payloads: results,
  };
  for (const [name, sizes] of Object.entries(results))
    console.log(
      `${name.padEnd(62)} raw ${String(sizes.rawBytes).padStart(6)}  gzip ${String(sizes.gzipBytes).padStart(6)}  br ${String(sizes.brBytes).padStart(6)}`,
    );
  console.log(`written to ${writeResult('payloads', output)}`);
} finally {
  await bench.close();
}
