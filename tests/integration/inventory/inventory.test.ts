import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeMessage } from '../../../src/realtime/index.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { act, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { until } from '../payments/helpers.js';

let world: OrderWorld;
const heard: RealtimeMessage[] = [];
let stopListening: () => Promise<void>;

beforeAll(async () => {
  world = await orderWorld();
  stopListening = await world.testApp.services.realtime.bus.subscribe(
    `owner:${world.actors.owner.userId}`,
    (message) => void heard.push(message),
  );
}, 120_000);
afterAll(async () => {
  await stopListening?.();
  await world?.testApp.close();
});

const base = () => `/v1/restaurants/${world.restaurantId}/inventory`;
let keys = 0;
const send = (
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  url: string,
  payload?: unknown,
  token?: string,
  key?: string,
) =>
  world.testApp.app.inject({
    method,
    url,
    headers: {
      ...authHeader(token ?? world.actors.owner.accessToken),
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
const nextKey = () => `inventory-test-${process.pid}-${(keys += 1)}`;
const ingredient = async (id: string) =>
  ((await send('GET', `${base()}/ingredients`)).json().items as { id: string; onHand: number }[]).find(
    (row) => row.id === id,
  )!;
const alerts = async () =>
  (await send('GET', `${base()}/alerts`)).json().items as { kind: string; ingredientId: string }[];
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);

describe('inventory', () => {
  let peanutsId: string;

  it('an owner adds an ingredient, a recipe for a dish, and receives a lot once per Idempotency-Key', async () => {
    const created = await send('POST', `${base()}/ingredients`, {
      name: 'Arachides',
      unit: 'g',
      lowStockThreshold: 1_000,
      leadTimeDays: 2,
      coverDays: 7,
    });
    expect(created.statusCode, created.body).toBe(201);
    peanutsId = created.json().id;
    const located = await send('GET', created.headers.location as string);
    expect(located.json()).toMatchObject({ id: peanutsId, name: 'Arachides', unit: 'g', onHand: 0 });
    const duplicate = await send('POST', `${base()}/ingredients`, { name: 'arachides', unit: 'g' });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().code).toBe('ingredient_exists');

    const recipe = await send('PUT', `${base()}/recipes/${world.ndoleId}`, {
      ingredients: [{ ingredientId: peanutsId, quantity: 150 }],
    });
    expect(recipe.statusCode, recipe.body).toBe(200);

    const key = nextKey();
    const receipt = { quantity: 1_300, expiresOn: tomorrow() };
    const first = await send('POST', `${base()}/ingredients/${peanutsId}/receipts`, receipt, undefined, key);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ onHand: 1_300 });
    const retried = await send(
      'POST',
      `${base()}/ingredients/${peanutsId}/receipts`,
      receipt,
      undefined,
      key,
    );
    expect(retried.json()).toEqual({ onHand: 1_300 });
    expect(retried.headers['idempotent-replayed']).toBe('true');
    const keyless = await send('POST', `${base()}/ingredients/${peanutsId}/receipts`, receipt);
    expect(keyless.statusCode).toBe(400);
    expect((await ingredient(peanutsId)).onHand).toBe(1_300);
    const audited = await sql<{ action: string }>`
      SELECT action FROM audit_logs WHERE action LIKE 'inventory.%' ORDER BY created_at`.execute(
      world.testApp.services.db,
    );
    expect(audited.rows.map((row) => row.action)).toEqual([
      'inventory.ingredient.create',
      'inventory.recipe.set',
    ]);
  });

  it('an order takes its recipe from the stock, raising one low-stock alert to the owner and a reorder suggestion; its cancellation gives it back', async () => {
    const placed = await placeOrder(world, world.actors.customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    // Two portions of ndolé at 150 g each: 1 300 g → 1 000 g, at the threshold.
    await until(
      () => ingredient(peanutsId),
      (row) => row.onHand === 1_000,
      30_000,
    );
    await until(
      alerts,
      (items) => items.some((item) => item.kind === 'low_stock' && item.ingredientId === peanutsId),
      30_000,
    );
    await until(
      async () => heard.filter((message) => message.type === 'low-stock'),
      (messages) => messages.length === 1,
      30_000,
    );
    expect(heard.find((message) => message.type === 'low-stock')).toMatchObject({
      channel: 'inventory-alerts',
      data: { ingredientId: peanutsId, name: 'Arachides', onHand: 1_000, threshold: 1_000 },
    });

    // 300 g in 14 days: reorder point ⌈300×2/14⌉ + 1 000 = 1 043; order ⌈300×9/14⌉ + 1 000 − 1 000 = 193.
    const reorders = (await send('GET', `${base()}/reorders`)).json().items;
    expect(reorders).toEqual([
      {
        ingredientId: peanutsId,
        name: 'Arachides',
        unit: 'g',
        onHand: 1_000,
        dailyUse: 22,
        reorderPoint: 1_043,
        quantity: 193,
      },
    ]);

    const cancelled = await act(world, placed.json().id, 'cancel', world.actors.customer.accessToken, {
      reason: 'changed my mind',
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    await until(
      () => ingredient(peanutsId),
      (row) => row.onHand === 1_300,
      30_000,
    );
    await until(alerts, (items) => !items.some((item) => item.kind === 'low_stock'), 30_000);
    const journal = await sql<{ kind: string; quantity: string }>`
      SELECT kind, quantity::text FROM inventory_movements WHERE order_id = ${placed.json().id} ORDER BY id`.execute(
      world.testApp.services.db,
    );
    expect(journal.rows).toEqual([
      { kind: 'consumption', quantity: '-300' },
      { kind: 'return', quantity: '300' },
    ]);
  }, 120_000);

  it('records wastage with a reason and counts; refuses bad input and other people, changing nothing', async () => {
    const wasted = await send(
      'POST',
      `${base()}/ingredients/${peanutsId}/wastage`,
      { quantity: 100, reason: 'spoiled', note: 'humidité' },
      undefined,
      nextKey(),
    );
    expect(wasted.statusCode, wasted.body).toBe(200);
    expect(wasted.json()).toEqual({ onHand: 1_200 });
    const badReason = await send(
      'POST',
      `${base()}/ingredients/${peanutsId}/wastage`,
      { quantity: 100, reason: 'eaten' },
      undefined,
      nextKey(),
    );
    expect(badReason.statusCode).toBe(400);
    const zero = await send(
      'POST',
      `${base()}/ingredients/${peanutsId}/receipts`,
      { quantity: 0 },
      undefined,
      nextKey(),
    );
    expect(zero.statusCode).toBe(400);
    const unknown = await send(
      'POST',
      `${base()}/ingredients/00000000-0000-4000-8000-000000000000/wastage`,
      { quantity: 1, reason: 'other' },
      undefined,
      nextKey(),
    );
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('ingredient_not_found');
    const otherOwner = await createUser(world.testApp, { roles: ['restaurant_owner'] });
    const stranger = await send('GET', `${base()}/ingredients`, undefined, otherOwner.accessToken);
    expect(stranger.statusCode).toBe(404);
    const customer = await send('GET', `${base()}/ingredients`, undefined, world.actors.customer.accessToken);
    expect(customer.statusCode).toBe(403);
    expect((await ingredient(peanutsId)).onHand).toBe(1_200);

    const counted = await send('POST', `${base()}/ingredients/${peanutsId}/counts`, { counted: 1_150 });
    expect(counted.json()).toEqual({ onHand: 1_150 });
  });

  it('raises one expiry alert per lot about to expire, and the weekly report sums the week', async () => {
    const { inventory } = world.testApp.services;
    expect(await inventory.expirySweep()).toBe(1);
    expect(await inventory.expirySweep()).toBe(0);
    expect((await alerts()).filter((alert) => alert.kind === 'expiry')).toHaveLength(1);
    await until(
      async () => heard.filter((message) => message.type === 'expiry'),
      (messages) => messages.length === 1,
      30_000,
    );

    const today = new Date();
    const monday = new Date(today.getTime() - ((today.getUTCDay() + 6) % 7) * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const report = await send('GET', `${base()}/report?weekStart=${monday}`);
    expect(report.statusCode, report.body).toBe(200);
    expect(report.json().ingredients).toEqual([
      {
        ingredientId: peanutsId,
        name: 'Arachides',
        unit: 'g',
        onHandNow: 1_150,
        received: 1_300,
        consumed: 0,
        wasted: 100,
        wastedByReason: { spoiled: 100 },
        counted: -50,
      },
    ]);
    const badWeek = await send('GET', `${base()}/report?weekStart=next-monday`);
    expect(badWeek.statusCode).toBe(400);
  });
});
