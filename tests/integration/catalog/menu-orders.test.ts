import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localTime, parseLocalDateTime, WEEKDAYS } from '../../../src/modules/catalog/rules/hours.js';
import type { TestApp } from '../../helpers/app.js';
import { activeRestaurant, createActors, patch, post, type Actors, catalogTestApp } from './helpers.js';

let testApp: TestApp;
let actors: Actors;
let restaurantId: string;
let categoryId: string;

beforeAll(async () => {
  testApp = await catalogTestApp();
  actors = await createActors(testApp);
  restaurantId = await activeRestaurant(testApp, actors, {
    openingHours: Object.fromEntries(WEEKDAYS.map((day) => [day, [{ opens: '07:00', closes: '02:00' }]])),
  });
  categoryId = (
    await post(testApp, `/v1/restaurants/${restaurantId}/menu/categories`, actors.owner.accessToken, {
      name: { fr: 'Plats', en: 'Mains' },
    })
  ).json().id;
});
afterAll(async () => testApp?.close());

const menuItem = async (itemId: string) => {
  const menu = (
    await testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${restaurantId}/menu` })
  ).json();
  return menu.categories
    .flatMap((category: { items: { id: string }[] }) => category.items)
    .find((item: { id: string }) => item.id === itemId);
};

async function createItem(body: Record<string, unknown>): Promise<string> {
  const response = await post(
    testApp,
    `/v1/restaurants/${restaurantId}/menu/items`,
    actors.owner.accessToken,
    { categoryId, ...body },
  );
  expect(response.statusCode).toBe(201);
  return response.json().id;
}

describe('menu availability and the orders-facing API', () => {
  it('a stock of zero disables an item and a restock re-enables it; the ETag changes each time', async () => {
    const itemId = await createItem({ name: { fr: 'Poisson braisé' }, price: 4000, stock: 1 });
    const url = `/v1/restaurants/${restaurantId}/menu`;
    const first = await testApp.app.inject({ method: 'GET', url });
    const { orders } = testApp.services.catalog;
    expect(await orders.decrementStock(restaurantId, [{ itemId, quantity: 1 }])).toEqual({ ok: true });
    const soldOut = await testApp.app.inject({
      method: 'GET',
      url,
      headers: { 'if-none-match': first.headers.etag as string },
    });
    expect(soldOut.statusCode).toBe(200);
    expect(await menuItem(itemId)).toMatchObject({ reason: 'sold_out' });
    expect((await menuItem(itemId)).orderable).toBeUndefined();
    const restocked = await patch(
      testApp,
      `/v1/restaurants/${restaurantId}/menu/items/${itemId}`,
      actors.owner.accessToken,
      { stock: 12 },
    );
    expect(restocked.json().stock).toBe(12);
    const item = await menuItem(itemId);
    if (item.orderable === undefined) expect(['restaurant_closed', undefined]).toContain(item.reason);
    else expect(item.orderable).toBe(true);
  });

  it('takes stock for every line or for none', async () => {
    const a = await createItem({ name: { fr: 'Soya' }, price: 1000, stock: 5 });
    const b = await createItem({ name: { fr: 'Bar braisé' }, price: 6000, stock: 1 });
    const untracked = await createItem({ name: { fr: 'Jus de foléré' }, price: 500 });
    const { orders } = testApp.services.catalog;
    const refused = await orders.decrementStock(restaurantId, [
      { itemId: a, quantity: 2 },
      { itemId: b, quantity: 2 },
      { itemId: untracked, quantity: 9 },
    ]);
    expect(refused).toEqual({ ok: false, insufficient: [{ itemId: b, available: 1 }] });
    const stocks = async () =>
      (
        await testApp.services.db
          .selectFrom('menu_items')
          .select(['id', 'stock'])
          .where('id', 'in', [a, b, untracked])
          .execute()
      ).map((row): [string, number | null] => [row.id, row.stock]);
    expect(new Map(await stocks())).toEqual(
      new Map<string, number | null>([
        [a, 5],
        [b, 1],
        [untracked, null],
      ]),
    );
    // Concurrent orders for the last units: exactly as many succeed as there is stock.
    const results = await Promise.all(
      Array.from({ length: 8 }, () => orders.decrementStock(restaurantId, [{ itemId: a, quantity: 1 }])),
    );
    expect(results.filter((result) => result.ok).length).toBe(5);
    expect(new Map(await stocks()).get(a)).toBe(0);
    await orders.restoreStock(restaurantId, [{ itemId: a, quantity: 2 }]);
    expect(new Map(await stocks()).get(a)).toBe(2);
  });

  it('snapshots prices with discount and modifiers, and checks min/max selections', async () => {
    const itemId = await createItem({ name: { fr: 'Poulet DG' }, price: 5000, discountPrice: 4500 });
    const group = (
      await post(testApp, `/v1/restaurants/${restaurantId}/menu/modifier-groups`, actors.owner.accessToken, {
        itemId,
        name: { fr: 'Accompagnement' },
        minSelections: 1,
        maxSelections: 1,
        options: [{ name: { fr: 'Miondo' } }, { name: { fr: 'Plantain mûr' }, priceDelta: 300 }],
      })
    ).json();
    const plantain = group.options[1].id as string;
    const at = parseLocalDateTime('2026-11-24T12:00')!; // a Tuesday noon, open
    const { orders } = testApp.services.catalog;
    const snapshot = await orders.readOrderSnapshot(
      restaurantId,
      [{ itemId, quantity: 2, optionIds: [plantain] }],
      at,
    );
    expect(snapshot?.orderable).toBe(true);
    expect(snapshot?.lines[0]).toMatchObject({
      basePrice: 5000n,
      itemPrice: 4500n,
      unitPrice: 4800n,
      linePrice: 9600n,
    });
    expect(snapshot?.subtotal).toBe(9600n);
    expect(snapshot?.restaurant.ownerId).toBe(actors.owner.userId);
    const missingSide = await orders.readOrderSnapshot(restaurantId, [{ itemId, quantity: 1 }], at);
    expect(missingSide?.orderable).toBe(false);
    expect(missingSide?.lines[0]?.availability).toEqual({ orderable: false, reason: 'invalid_options' });
    const closed = await orders.readOrderSnapshot(
      restaurantId,
      [{ itemId, quantity: 1, optionIds: [plantain] }],
      parseLocalDateTime('2026-11-24T04:00')!,
    );
    expect(closed?.orderable).toBe(false);
    expect(await orders.restaurantOwnerId(restaurantId)).toBe(actors.owner.userId);
  });

  it('honours availability schedules at the given instant (breakfast only)', async () => {
    const itemId = await createItem({
      name: { fr: 'Beignets-haricots' },
      price: 700,
      schedule: [{ days: [...WEEKDAYS], opens: '07:00', closes: '11:00' }],
    });
    const { orders } = testApp.services.catalog;
    const morning = await orders.readOrderSnapshot(
      restaurantId,
      [{ itemId, quantity: 1 }],
      parseLocalDateTime('2026-11-24T08:00')!,
    );
    const evening = await orders.readOrderSnapshot(
      restaurantId,
      [{ itemId, quantity: 1 }],
      parseLocalDateTime('2026-11-24T19:00')!,
    );
    expect(morning?.orderable).toBe(true);
    expect(evening?.lines[0]?.availability).toEqual({ orderable: false, reason: 'outside_schedule' });
    // The public menu marks it against the real clock.
    const item = await menuItem(itemId);
    const minute = localTime(new Date()).minuteOfDay;
    if (minute >= 7 * 60 && minute < 11 * 60) expect(item.orderable).toBe(true);
    else expect(item.reason).toBe('outside_schedule');
  });

  it('checks the delivery radius and opening hours at an instant', async () => {
    const { orders } = testApp.services.catalog;
    const noon = parseLocalDateTime('2026-11-24T12:00')!;
    const near = await orders.checkDelivery(restaurantId, { latitude: 4.0611, longitude: 9.7679 }, noon);
    expect(near).toMatchObject({ deliverable: true, open: true });
    expect(near!.distanceM).toBeGreaterThan(1000);
    const far = await orders.checkDelivery(restaurantId, { latitude: 3.848, longitude: 11.5021 }, noon);
    expect(far).toMatchObject({ deliverable: false, reason: 'outside_radius' });
    const night = await orders.checkDelivery(
      restaurantId,
      { latitude: 4.0611, longitude: 9.7679 },
      parseLocalDateTime('2026-11-24T03:00')!,
    );
    expect(night).toMatchObject({ deliverable: false, reason: 'closed' });
  });

  it('archived items leave the public menu and the search text', async () => {
    const itemId = await createItem({ name: { fr: 'Mintumba' }, price: 800 });
    expect(await menuItem(itemId)).toBeDefined();
    await patch(testApp, `/v1/restaurants/${restaurantId}/menu/items/${itemId}`, actors.owner.accessToken, {
      archived: true,
    });
    expect(await menuItem(itemId)).toBeUndefined();
    const row = await testApp.services.db
      .selectFrom('restaurants')
      .select('dish_text')
      .where('id', '=', restaurantId)
      .executeTakeFirstOrThrow();
    expect(row.dish_text).not.toContain('Mintumba');
  });

  it('stock follows a simple model through any sequence of orders, cancellations and restocks (fc.commands)', async () => {
    const ids = [
      await createItem({ name: { fr: 'Achu' }, price: 3000, stock: 3 }),
      await createItem({ name: { fr: 'Eru' }, price: 2500, stock: 1 }),
      await createItem({ name: { fr: 'Koki' }, price: 1000 }),
    ];
    const initial = new Map<string, number | null>([
      [ids[0]!, 3],
      [ids[1]!, 1],
      [ids[2]!, null],
    ]);
    const { orders } = testApp.services.catalog;
    const db = testApp.services.db;
    type Model = { stock: Map<string, number | null> };
    type Real = Record<string, never>;
    const check = async (model: Model) => {
      const rows = await db.selectFrom('menu_items').select(['id', 'stock']).where('id', 'in', ids).execute();
      for (const row of rows) expect(row.stock).toBe(model.stock.get(row.id));
      for (const id of ids) {
        const item = await menuItem(id);
        if (model.stock.get(id) === 0) expect(item.reason).toBe('sold_out');
        else expect(item.reason).not.toBe('sold_out');
      }
    };
    class Order implements fc.AsyncCommand<Model, Real> {
      constructor(readonly lines: { itemId: string; quantity: number }[]) {}
      check = () => true;
      async run(model: Model) {
        const enough = this.lines.every((line) => {
          const stock = model.stock.get(line.itemId);
          const wanted = this.lines
            .filter((other) => other.itemId === line.itemId)
            .reduce((sum, other) => sum + other.quantity, 0);
          return stock === null || stock === undefined || stock >= wanted;
        });
        const result = await orders.decrementStock(restaurantId, this.lines);
        expect(result.ok).toBe(enough);
        if (enough)
          for (const line of this.lines) {
            const stock = model.stock.get(line.itemId);
            if (stock !== null && stock !== undefined) model.stock.set(line.itemId, stock - line.quantity);
          }
        await check(model);
      }
      toString = () =>
        `order ${JSON.stringify(this.lines.map((line) => [ids.indexOf(line.itemId), line.quantity]))}`;
    }
    class Cancel implements fc.AsyncCommand<Model, Real> {
      constructor(
        readonly index: number,
        readonly quantity: number,
      ) {}
      check = () => true;
      async run(model: Model) {
        const id = ids[this.index]!;
        await orders.restoreStock(restaurantId, [{ itemId: id, quantity: this.quantity }]);
        const stock = model.stock.get(id);
        if (stock !== null && stock !== undefined) model.stock.set(id, stock + this.quantity);
        await check(model);
      }
      toString = () => `cancel ${this.index} ${this.quantity}`;
    }
    class Restock implements fc.AsyncCommand<Model, Real> {
      constructor(
        readonly index: number,
        readonly stock: number,
      ) {}
      check = () => true;
      async run(model: Model) {
        const id = ids[this.index]!;
        const response = await patch(
          testApp,
          `/v1/restaurants/${restaurantId}/menu/items/${id}`,
          actors.owner.accessToken,
          { stock: this.stock },
        );
        expect(response.statusCode).toBe(200);
        model.stock.set(id, this.stock);
        await check(model);
      }
      toString = () => `restock ${this.index} ${this.stock}`;
    }
    const line = fc.record({ itemId: fc.constantFrom(...ids), quantity: fc.integer({ min: 1, max: 3 }) });
    const commands = [
      fc.array(line, { minLength: 1, maxLength: 3 }).map((lines) => new Order(lines)),
      fc
        .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 2 }))
        .map(([index, quantity]) => new Cancel(index, quantity)),
      fc
        .tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 4 }))
        .map(([index, stock]) => new Restock(index, stock)),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 8 }), async (sequence) => {
        for (const [id, stock] of initial)
          await db.updateTable('menu_items').set({ stock }).where('id', '=', id).execute();
        testApp.services.catalog.menuCache.invalidate(restaurantId);
        await fc.asyncModelRun(() => ({ model: { stock: new Map(initial) }, real: {} }), sequence);
      }),
      { numRuns: 12 },
    );
  });
});
