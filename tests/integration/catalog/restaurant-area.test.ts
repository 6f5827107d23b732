import { cellToParent, latLngToCell } from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser } from '../../helpers/auth.js';
import { NEAR, orderWorld, placeOrder, RESTAURANT_AT, type OrderWorld } from '../orders/helpers.js';

/**
 * A restaurant's own delivery area as H3 cells (issue #26), on PostgreSQL through the routes: the
 * owner (or an admin) sets it as an outline cut into cells or as cells; placement, its quote's
 * refusal, `checkDelivery`, the profile and search all leave out a point outside it; bad areas and
 * other callers are refused with nothing changed; removing it gives the radius back.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
}, 120_000);
afterAll(async () => world?.testApp.close());

const SOUTH = {
  latitude: RESTAURANT_AT.latitude - 0.006,
  longitude: RESTAURANT_AT.longitude,
  text: 'Rue 2, Akwa',
};
const YAOUNDE = { latitude: 3.866, longitude: 11.5167 };
const db = () => world.testApp.services.db;
const around = (point: { latitude: number; longitude: number }, half: number) => [
  { latitude: point.latitude - half, longitude: point.longitude - half },
  { latitude: point.latitude - half, longitude: point.longitude + half },
  { latitude: point.latitude + half, longitude: point.longitude + half },
  { latitude: point.latitude + half, longitude: point.longitude - half },
];
const url = () => `/v1/restaurants/${world.restaurantId}/delivery-area`;
const call = (
  method: 'GET' | 'PUT' | 'DELETE',
  payload?: unknown,
  token: string | null = world.actors.owner.accessToken,
  headers: Record<string, string> = {},
) =>
  world.testApp.app.inject({
    method,
    url: url(),
    headers: { ...(token === null ? {} : authHeader(token)), ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const profileAt = async (point: { latitude: number; longitude: number }) =>
  (
    await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants/${world.restaurantId}?lat=${point.latitude}&lng=${point.longitude}`,
    })
  ).json().delivery.deliversHere as boolean;
const foundAt = async (point: { latitude: number; longitude: number }) =>
  (
    await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants?lat=${point.latitude}&lng=${point.longitude}&limit=50`,
    })
  )
    .json()
    .items.some((item: { id: string }) => item.id === world.restaurantId) as boolean;
const checkAt = (point: { latitude: number; longitude: number }) =>
  world.testApp.services.catalog.orders.checkDelivery(world.restaurantId, point, new Date());

/** Every reader's answer at a point: they must agree. */
async function readersAt(point: typeof NEAR) {
  const check = await checkAt(point);
  return {
    profile: await profileAt(point),
    search: await foundAt(point),
    check: check?.deliverable,
    reason: check?.reason,
  };
}

async function state() {
  const [area, audit, stock] = await Promise.all([
    db()
      .selectFrom('restaurant_delivery_areas')
      .selectAll()
      .where('restaurant_id', '=', world.restaurantId)
      .executeTakeFirst(),
    db()
      .selectFrom('audit_logs')
      .select('action')
      .where('resource', '=', `restaurant:${world.restaurantId}`)
      .where('action', 'like', 'restaurant.delivery_area%')
      .execute(),
    db().selectFrom('menu_items').select('stock').where('id', '=', world.ndoleId).executeTakeFirstOrThrow(),
  ]);
  return { area, audit: audit.map((row) => row.action), stock: stock.stock };
}

describe("a restaurant's own delivery area as H3 cells", () => {
  it('set as an outline, then as cells: every reader and placement follow; a repeat changes nothing; removed, the radius is back', async () => {
    // Before: the radius alone reaches both points.
    expect(await readersAt(NEAR)).toEqual({ profile: true, search: true, check: true, reason: undefined });
    expect(await readersAt(SOUTH)).toMatchObject({ profile: true, search: true, check: true });

    const drawn = await call('PUT', { polygon: around(NEAR, 0.003) });
    expect(drawn.statusCode, drawn.body).toBe(200);
    const area = drawn.json();
    expect(area).toMatchObject({ restaurantId: world.restaurantId, cityId: 'douala', resolution: 9 });
    expect(area.polygon).toHaveLength(4);
    expect(area.cellCount).toBeGreaterThanOrEqual(3);
    expect(area.cells).toContain(latLngToCell(NEAR.latitude, NEAR.longitude, 9));
    expect((await state()).audit).toEqual(['restaurant.delivery_area_set']);

    expect(await readersAt(NEAR)).toEqual({ profile: true, search: true, check: true, reason: undefined });
    expect(await readersAt(SOUTH)).toEqual({
      profile: false,
      search: false,
      check: false,
      reason: 'outside_restaurant_area',
    });
    // Placement outside the area: 422 with the reason, nothing placed, no stock taken.
    const before = await state();
    const refused = await placeOrder(world, world.actors.customer.accessToken, { delivery: SOUTH });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.json()).toMatchObject({
      code: 'outside_delivery_zone',
      reason: 'outside_restaurant_area',
    });
    expect((await state()).stock).toBe(before.stock);
    const inside = await placeOrder(world, world.actors.customer.accessToken, { delivery: NEAR });
    expect(inside.statusCode, inside.body).toBe(201);

    // The same body again: the same area, no second audit line.
    const again = await call('PUT', { polygon: around(NEAR, 0.003) });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(area);
    expect((await state()).audit).toHaveLength(1);

    // As cells, by an admin: one cell of resolution 9 at SOUTH and a coarser parent is refused
    // when it holds the other (nested), accepted alone.
    const southCell = latLngToCell(SOUTH.latitude, SOUTH.longitude, 9);
    const byCells = await call('PUT', { cells: [southCell] }, world.actors.admin.accessToken);
    expect(byCells.statusCode, byCells.body).toBe(200);
    expect(byCells.json()).toMatchObject({ cells: [southCell], cellCount: 1 });
    expect(byCells.json().polygon).toBeUndefined();
    expect(await readersAt(SOUTH)).toMatchObject({ profile: true, search: true, check: true });
    expect(await readersAt(NEAR)).toMatchObject({ check: false, reason: 'outside_restaurant_area' });
    const parent = cellToParent(southCell, 7);
    const coarse = await call('PUT', { cells: [parent] });
    expect(coarse.statusCode, coarse.body).toBe(200);
    expect(coarse.json().cellCount).toBe(49);
    expect(await readersAt(SOUTH)).toMatchObject({ check: true });

    // Removed: the radius again; a second DELETE is a 204 too and writes nothing.
    expect((await call('DELETE')).statusCode).toBe(204);
    expect((await call('DELETE')).statusCode).toBe(204);
    const gone = await call('GET');
    expect(gone.statusCode).toBe(404);
    expect(gone.json().code).toBe('delivery_area_not_set');
    expect(await readersAt(NEAR)).toMatchObject({ profile: true, search: true, check: true });
    expect(await readersAt(SOUTH)).toMatchObject({ profile: true, search: true, check: true });
    expect((await state()).audit).toEqual([
      'restaurant.delivery_area_set',
      'restaurant.delivery_area_set',
      'restaurant.delivery_area_set',
      'restaurant.delivery_area_cleared',
    ]);
  });

  it('refuses bad areas and other callers with a problem, in French too, and changes nothing', async () => {
    const set = await call('PUT', { polygon: around(NEAR, 0.003) });
    expect(set.statusCode).toBe(200);
    const before = await state();
    const near = latLngToCell(NEAR.latitude, NEAR.longitude, 9);
    const cases: [unknown, number, string][] = [
      [{ cells: ['ffffffffffffffff'] }, 400, 'invalid_delivery_area'], // not an H3 cell
      [{ cells: [latLngToCell(YAOUNDE.latitude, YAOUNDE.longitude, 9)] }, 400, 'invalid_delivery_area'],
      [{ cells: [latLngToCell(NEAR.latitude, NEAR.longitude, 11)] }, 400, 'invalid_delivery_area'], // too fine
      [{ cells: [near, near] }, 400, 'invalid_delivery_area'],
      [{ cells: [near, cellToParent(near, 7)] }, 400, 'invalid_delivery_area'], // nested
      [{ polygon: around(NEAR, 0.0001) }, 400, 'invalid_delivery_area'], // smaller than a cell
      [{ polygon: around(YAOUNDE, 0.01) }, 400, 'invalid_delivery_area'],
      [{}, 400, 'validation_failed'],
      [{ cells: [] }, 400, 'validation_failed'],
      [{ cells: ['not-hex'] }, 400, 'validation_failed'],
      [{ radiusKm: 3 }, 400, 'validation_failed'],
      [{ cells: [`${near}\u0000`] }, 400, 'invalid_characters'],
    ];
    for (const [body, status, code] of cases) {
      const answer = await call('PUT', body);
      expect(answer.statusCode, JSON.stringify(body)).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(answer.json().code, JSON.stringify(body)).toBe(code);
    }
    const french = await call('PUT', { cells: [near, near] }, undefined, { 'accept-language': 'fr' });
    expect(french.json().detail).toContain('donnée deux fois');
    expect(french.json().errors[0].message).toBe('donnée deux fois');
    const english = await call('PUT', { cells: [near, near] }, undefined, { 'accept-language': 'en' });
    expect(english.json().errors[0].message).toBe('listed twice');

    const stranger = await createUser(world.testApp, { roles: ['customer', 'restaurant_owner'] });
    for (const method of ['GET', 'PUT', 'DELETE'] as const) {
      const payload = method === 'PUT' ? { cells: [near] } : undefined;
      expect((await call(method, payload, stranger.accessToken)).statusCode, method).toBe(403);
      expect((await call(method, payload, world.actors.customer.accessToken)).statusCode, method).toBe(403);
      expect((await call(method, payload, null)).statusCode, method).toBe(401);
    }
    const unknown = await world.testApp.app.inject({
      method: 'PUT',
      url: '/v1/restaurants/00000000-0000-4000-8000-000000000000/delivery-area',
      headers: authHeader(world.actors.admin.accessToken),
      payload: { cells: [near] },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('restaurant_not_found');
    expect(await state()).toEqual(before);
    // Its owner still reads it.
    expect((await call('GET')).json()).toEqual(set.json());
  });
});

describe("a restaurant's own area and its city", () => {
  it('is dropped (and audited) when the restaurant moves to another city: its cells lay in the old one', async () => {
    expect((await call('PUT', { polygon: around(NEAR, 0.003) })).statusCode).toBe(200);
    const moved = await world.testApp.app.inject({
      method: 'PATCH',
      url: `/v1/restaurants/${world.restaurantId}`,
      headers: authHeader(world.actors.owner.accessToken),
      payload: { city: 'yaounde' },
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect((await call('GET')).statusCode).toBe(404);
    expect((await state()).area).toBeUndefined();
    expect((await state()).audit.at(-1)).toBe('restaurant.delivery_area_cleared');
  });
});
