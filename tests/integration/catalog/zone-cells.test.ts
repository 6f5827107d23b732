import {
  cellToChildren,
  cellToParent,
  getResolution,
  gridDisk,
  latLngToCell,
  polygonToCells,
  compactCells,
} from 'h3-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEAR, RESTAURANT_AT, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { patch, post } from './helpers.js';

/**
 * Zones as H3 cells (issue #26) on the real PostgreSQL, through the admin routes: a zone given
 * as cells only, a zone drawn as a polygon (its cells stored), the lookup every reader makes
 * (checkDelivery, placement), a change of outline or cells, and bad cells refused with nothing
 * written. The resolution is the default, 9.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
}, 180_000);
afterAll(async () => world?.testApp.close());

const admin = () => world.actors.admin.accessToken;
const customer = () => world.actors.customer.accessToken;

async function check(point: { latitude: number; longitude: number }) {
  const result = await world.testApp.services.catalog.orders.checkDelivery(
    world.restaurantId,
    point,
    new Date(),
  );
  expect(result).toBeDefined();
  return result!;
}

async function zoneRows() {
  return world.testApp.services.db.selectFrom('city_zones').selectAll().orderBy('id').execute();
}

function around(point: { latitude: number; longitude: number }, half: number) {
  return [
    { latitude: point.latitude - half, longitude: point.longitude - half },
    { latitude: point.latitude - half, longitude: point.longitude + half },
    { latitude: point.latitude + half, longitude: point.longitude + half },
    { latitude: point.latitude + half, longitude: point.longitude - half },
  ];
}

describe('zones as H3 cells', () => {
  it('refuses bad cells with a 400 naming each, in French too, and writes nothing', async () => {
    const near = latLngToCell(NEAR.latitude, NEAR.longitude, 9);
    const cases: [unknown, string, string | undefined][] = [
      [{ id: 'bad', name: 'Bad', cells: ['not-hex'] }, 'validation_failed', undefined],
      [{ id: 'bad', name: 'Bad', cells: ['fffffffffffffff'] }, 'invalid_zone', 'cells/0'],
      [
        { id: 'bad', name: 'Bad', cells: [near, latLngToCell(NEAR.latitude, NEAR.longitude, 10)] },
        'invalid_zone',
        'cells/1',
      ],
      [{ id: 'bad', name: 'Bad', cells: [near, near] }, 'invalid_zone', 'cells/1'],
      [{ id: 'bad', name: 'Bad', cells: [near, cellToParent(near, 7)] }, 'invalid_zone', 'cells'],
      [{ id: 'bad', name: 'Bad', cells: [latLngToCell(3.848, 11.5021, 9)] }, 'invalid_zone', 'cells/0'],
      [{ id: 'bad', name: 'Bad', polygon: around(NEAR, 0.0002) }, 'invalid_zone', 'polygon'],
      [{ id: 'bad', name: 'Bad' }, 'invalid_zone', ''],
    ];
    const before = await zoneRows();
    for (const [body, code, path] of cases) {
      const refused = await post(world.testApp, '/v1/admin/cities/douala/zones', admin(), body);
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(refused.json().code).toBe(code);
      if (path !== undefined)
        expect(refused.json().errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    const french = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/cities/douala/zones',
      headers: { authorization: `Bearer ${admin()}`, 'accept-language': 'fr' },
      payload: { id: 'bad', name: 'Bad', cells: ['fffffffffffffff'] },
    });
    expect(french.statusCode).toBe(400);
    expect(JSON.stringify(french.json())).toContain('n’est pas un identifiant de cellule H3');
    expect(await zoneRows()).toEqual(before);
  });

  it('takes a zone as cells only: stored compacted, the point looked up by its cell, placement follows', async () => {
    // The cell of the delivery point and its two rings: 19 cells, about 2 km².
    const cells = gridDisk(latLngToCell(NEAR.latitude, NEAR.longitude, 9), 2);
    const created = await post(world.testApp, '/v1/admin/cities/douala/zones', admin(), {
      id: 'bonapriso-cells',
      name: 'Bonapriso',
      cells,
      feeAdjustmentXaf: 300,
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ polygon: null, resolution: 9 });
    expect([...created.json().cells].sort()).toEqual(compactCells(cells).sort());
    const [row] = (await zoneRows()).filter((r) => r.id === 'bonapriso-cells');
    expect(row).toMatchObject({ polygon: null, h3_resolution: 9 });
    expect(row!.cells.length).toBe(compactCells(cells).length);

    expect(await check(NEAR)).toMatchObject({ deliverable: true, zoneId: 'bonapriso-cells' });
    // The restaurant's own point is outside the only zone: refused, as placement refuses.
    expect(await check(RESTAURANT_AT)).toMatchObject({
      deliverable: false,
      reason: 'outside_zones',
      zoneId: null,
    });
    const placed = await placeOrder(world, customer());
    expect(placed.statusCode, placed.body).toBe(201);

    // The public map sends the cells, no outline.
    const map = await world.testApp.app.inject({ method: 'GET', url: '/v1/cities/douala/zones' });
    const item = map.json().items.find((z: { id: string }) => z.id === 'bonapriso-cells');
    expect(item.polygon).toBeUndefined();
    expect(item.cells.length).toBeGreaterThan(0);
  });

  it('takes a drawn zone: its cells are the outline’s; a new outline brings new cells, new cells drop the outline', async () => {
    const outline = around(RESTAURANT_AT, 0.004);
    const created = await post(world.testApp, '/v1/admin/cities/douala/zones', admin(), {
      id: 'akwa-drawn',
      name: 'Akwa',
      polygon: outline,
    });
    expect(created.statusCode, created.body).toBe(201);
    const expected = compactCells(
      polygonToCells(
        outline.map((p) => [p.latitude, p.longitude]),
        9,
      ),
    );
    expect(created.json().cells).toEqual(expected);
    expect(await check(RESTAURANT_AT)).toMatchObject({ zoneId: 'akwa-drawn' });

    const wider = around(RESTAURANT_AT, 0.008);
    const moved = await patch(world.testApp, '/v1/admin/cities/douala/zones/akwa-drawn', admin(), {
      polygon: wider,
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().cells).toEqual(
      compactCells(
        polygonToCells(
          wider.map((p) => [p.latitude, p.longitude]),
          9,
        ),
      ),
    );

    const one = latLngToCell(RESTAURANT_AT.latitude, RESTAURANT_AT.longitude, 8);
    const recut = await patch(world.testApp, '/v1/admin/cities/douala/zones/akwa-drawn', admin(), {
      cells: [one],
    });
    expect(recut.statusCode, recut.body).toBe(200);
    expect(recut.json()).toMatchObject({ polygon: null, cells: [one], resolution: 9 });
    expect(getResolution(one)).toBe(8);
    // A point in a child of the resolution-8 cell lies in the zone.
    const child = cellToChildren(one, 9)[3]!;
    expect(child).toBeDefined();
    expect(await check(RESTAURANT_AT)).toMatchObject({ zoneId: 'akwa-drawn' });

    // A change that leaves the area alone keeps it.
    const renamed = await patch(world.testApp, '/v1/admin/cities/douala/zones/akwa-drawn', admin(), {
      name: 'Akwa nord',
    });
    expect(renamed.json()).toMatchObject({ polygon: null, cells: [one] });
  });
});
