/**
 * Delta sync of a menu (issue #25, docs/catalog.md "Delta sync") against PostgreSQL: the whole
 * menu once, then only what changed since the cursor (a new price, a tombstone for an archived
 * dish, a renamed category), ETag/304, field selection, the 7-day window, and bad cursors refused.
 * The payload sizes before and after are measured and printed.
 */
import { gzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor, SYNC_WINDOW_MS } from '../../../src/modules/catalog/menu-sync.js';
import { WEEKDAYS } from '../../../src/modules/catalog/rules/hours.js';
import type { TestApp } from '../../helpers/app.js';
import { activeRestaurant, catalogTestApp, createActors, patch, post, type Actors } from './helpers.js';

let testApp: TestApp;
let actors: Actors;
let restaurantId: string;
const categories: string[] = [];
const items: string[] = [];
const DISHES = 30;

beforeAll(async () => {
  testApp = await catalogTestApp();
  actors = await createActors(testApp);
  restaurantId = await activeRestaurant(testApp, actors, {
    openingHours: Object.fromEntries(WEEKDAYS.map((day) => [day, [{ opens: '00:00', closes: '23:59' }]])),
  });
  const owner = actors.owner.accessToken;
  for (const name of ['Plats', 'Grillades', 'Boissons']) {
    const created = await post(testApp, `/v1/restaurants/${restaurantId}/menu/categories`, owner, {
      name: { fr: name, en: `${name} (en)` },
    });
    expect(created.statusCode, created.body).toBe(201);
    categories.push(created.json().id as string);
  }
  for (let index = 0; index < DISHES; index += 1) {
    const created = await post(testApp, `/v1/restaurants/${restaurantId}/menu/items`, owner, {
      categoryId: categories[index % 3],
      name: { fr: `Plat maison numéro ${index}`, en: `House dish number ${index}` },
      description: {
        fr: `Une recette de Douala, servie avec plantain, miondo ou riz (${index}).`,
        en: `A Douala recipe served with plantain, miondo or rice (${index}).`,
      },
      price: 1_500 + index * 100,
      allergens: ['arachide'],
      prepTimeMinutes: 20,
    });
    expect(created.statusCode, created.body).toBe(201);
    items.push(created.json().id as string);
  }
  // The menu was written an hour ago: the first cursor sees none of it as new.
  const db = testApp.services.db;
  for (const table of ['menu_items', 'menu_categories', 'menu_modifier_groups'])
    await sql`UPDATE ${sql.table(table)} SET updated_at = now() - interval '1 hour' WHERE restaurant_id = ${restaurantId}`.execute(
      db,
    );
}, 120_000);
afterAll(async () => testApp?.close());

const sync = (query: Record<string, string> = {}, headers: Record<string, string> = {}, id = restaurantId) =>
  testApp.app.inject({
    method: 'GET',
    url: `/v1/sync/menus/${id}?${new URLSearchParams(query).toString()}`,
    headers,
  });

function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  code: string,
) {
  expect(response.statusCode, response.body).toBe(400);
  expect(String(response.headers['content-type'])).toContain('application/problem+json');
  expect(JSON.parse(response.body).code).toBe(code);
}

describe('menu delta sync', () => {
  it('sends the whole menu once, then only the changes since the cursor, with tombstones: a few hundred bytes', async () => {
    const full = await testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${restaurantId}/menu` });
    expect(full.statusCode).toBe(200);
    const first = await sync();
    expect(first.statusCode, first.body).toBe(200);
    const reset = first.json();
    expect(reset).toMatchObject({ restaurantId, reset: true, openNow: true });
    expect(reset.items).toHaveLength(DISHES);
    expect(reset.categories).toHaveLength(3);

    // Nothing changed: an empty delta.
    const quiet = (await sync({ since: reset.cursor as string })).json();
    expect(quiet.items).toBeUndefined();
    expect(quiet.removed).toBeUndefined();
    expect(quiet.reset).toBeUndefined();

    // The owner changes a price, archives a dish and renames a category.
    const owner = actors.owner.accessToken;
    const base = `/v1/restaurants/${restaurantId}/menu`;
    expect((await patch(testApp, `${base}/items/${items[4]}`, owner, { price: 2_750 })).statusCode).toBe(200);
    expect((await patch(testApp, `${base}/items/${items[7]}`, owner, { archived: true })).statusCode).toBe(
      200,
    );
    expect(
      (await patch(testApp, `${base}/categories/${categories[2]}`, owner, { name: { fr: 'Jus et bières' } }))
        .statusCode,
    ).toBe(200);

    const response = await sync({ since: reset.cursor as string });
    const delta = response.json();
    expect(delta.reset).toBeUndefined();
    expect(delta.items).toEqual([
      expect.objectContaining({ id: items[4], price: 2_750, categoryId: categories[1], orderable: true }),
    ]);
    expect(delta.removed).toEqual([items[7]]);
    expect(delta.categories).toEqual([{ id: categories[2], name: 'Jus et bières', position: 2 }]);
    expect(delta.cursor).not.toBe(reset.cursor);

    const compact = await sync({ since: reset.cursor as string, fields: 'price,orderable' });
    expect(compact.json().items).toEqual([{ id: items[4], price: 2_750, orderable: true }]);

    const sizes = {
      fullMenuBytes: full.rawPayload.length,
      fullMenuGzipBytes: gzipSync(full.rawPayload).length,
      resetBytes: first.rawPayload.length,
      emptyDeltaBytes: JSON.stringify(quiet).length,
      deltaBytes: response.rawPayload.length,
      deltaPriceOnlyBytes: compact.rawPayload.length,
    };
    console.log(`menu sync payload sizes (${DISHES} dishes): ${JSON.stringify(sizes)}`);
    expect(sizes.deltaBytes).toBeLessThan(700);
    expect(sizes.deltaBytes * 10).toBeLessThan(sizes.fullMenuBytes);
    expect(sizes.deltaBytes).toBeLessThan(sizes.fullMenuGzipBytes);
    expect(sizes.deltaPriceOnlyBytes).toBeLessThan(sizes.deltaBytes);
  }, 60_000);

  it('answers 304 to the same ask when nothing changed, and 200 once something did', async () => {
    const { cursor } = (await sync()).json() as { cursor: string };
    const first = await sync({ since: cursor });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"/);
    const again = await sync({ since: cursor }, { 'if-none-match': etag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    // Another language is another representation.
    expect(
      (await sync({ since: cursor }, { 'if-none-match': etag, 'accept-language': 'en' })).statusCode,
    ).toBe(200);
    await patch(
      testApp,
      `/v1/restaurants/${restaurantId}/menu/items/${items[10]}`,
      actors.owner.accessToken,
      {
        isAvailable: false,
      },
    );
    const changed = await sync({ since: cursor }, { 'if-none-match': etag });
    expect(changed.statusCode).toBe(200);
    const item = (changed.json().items as { id: string; orderable?: boolean }[]).find(
      (one) => one.id === items[10],
    );
    expect(item).toBeDefined();
    expect(item!.orderable).toBeUndefined();
  }, 60_000);

  it('sends a dish whose own schedule opened since the cursor, though its row did not change', async () => {
    const owner = actors.owner.accessToken;
    // Douala is UTC+1 all year: the local clock of an instant, and its weekday.
    const local = (ms: number) => {
      const date = new Date(ms + 3_600_000);
      const clock = `${String(date.getUTCHours()).padStart(2, '0')}:${String(date.getUTCMinutes()).padStart(2, '0')}`;
      return { day: WEEKDAYS[(date.getUTCDay() + 6) % 7]!, clock };
    };
    const now = Date.now();
    const opened = local(now - 4 * 60_000);
    const later = local(now + 2 * 86_400_000);
    const [flipping, steady] = [items[20]!, items[21]!];
    // Served from four minutes ago to midnight; the other dish only on another day.
    for (const [id, schedule] of [
      [flipping, [{ days: [opened.day], opens: opened.clock, closes: '24:00' }]],
      [steady, [{ days: [later.day], opens: '07:00', closes: '10:00' }]],
    ] as const) {
      const edited = await patch(testApp, `/v1/restaurants/${restaurantId}/menu/items/${id}`, owner, {
        schedule,
      });
      expect(edited.statusCode, edited.body).toBe(200);
    }
    // Both edits an hour old: only the schedule can make either a change now.
    await sql`UPDATE menu_items SET updated_at = now() - interval '1 hour' WHERE id IN (${flipping}, ${steady})`.execute(
      testApp.services.db,
    );
    const since = encodeCursor(restaurantId, now - 10 * 60_000);
    const delta = (await sync({ since, fields: 'orderable' })).json() as {
      items?: { id: string; orderable?: boolean }[];
    };
    const sent = (delta.items ?? []).map((item) => item.id);
    expect(sent).toContain(flipping);
    expect(sent).not.toContain(steady);
    // Orderable now, unless local midnight fell inside those four minutes (then it closed again).
    expect((delta.items ?? []).find((item) => item.id === flipping)!.orderable === true).toBe(
      local(now).day === opened.day,
    );
    // A cursor taken after it opened: no longer a change.
    const after = encodeCursor(restaurantId, now - 60_000);
    const quiet = (await sync({ since: after, fields: 'orderable' })).json() as { items?: { id: string }[] };
    expect((quiet.items ?? []).map((item) => item.id)).not.toContain(flipping);
  }, 60_000);

  it('sends the whole menu again for a cursor older than 7 days', async () => {
    const old = encodeCursor(restaurantId, Date.now() - SYNC_WINDOW_MS - 60_000);
    const response = await sync({ since: old });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ reset: true });
    expect(response.json().items.length).toBe(DISHES - 1);
  });

  it('refuses a bad cursor, another restaurant’s, one from the future, and unknown fields (400); an unknown restaurant is 404', async () => {
    expectProblem(await sync({ since: 'not-a-cursor' }), 'sync_cursor_invalid');
    expectProblem(await sync({ since: encodeCursor(categories[0]!, Date.now()) }), 'sync_cursor_invalid');
    expectProblem(
      await sync({ since: encodeCursor(restaurantId, Date.now() + 3_600_000) }),
      'sync_cursor_invalid',
    );
    expectProblem(await sync({ fields: 'price,cost_price' }), 'sync_fields_invalid');
    expect((await sync({ since: 'x'.repeat(500) })).statusCode).toBe(400);
    expect((await sync({ other: '1' })).statusCode).toBe(400);
    const unknown = await sync({}, {}, '00000000-0000-4000-8000-00000000abcd');
    expect(unknown.statusCode).toBe(404);
  });
});
