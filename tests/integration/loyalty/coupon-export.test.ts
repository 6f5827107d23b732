import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../../helpers/auth.js';
import { placeOrder, type OrderWorld } from '../orders/helpers.js';
import { fundedCustomer, loyaltyWorld } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({});
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const exportCsv = (token: string | null, query: string) =>
  world.testApp.app.inject({
    method: 'GET',
    url: `/v1/coupons/redemptions.csv${query}`,
    headers: token === null ? {} : authHeader(token),
  });
const rowsOf = (body: string) =>
  body
    .replace(/^\uFEFF/, '')
    .split('\r\n')
    .filter((line) => line !== '');

describe('loyalty: coupon redemptions export for finance', () => {
  it('lists each redemption with coupon, funder and amounts, never the customer; semicolons on request', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const created = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/coupons',
      headers: authHeader(world.actors.admin.accessToken),
      payload: {
        code: `EXP${process.pid}`,
        kind: 'fixed',
        amountMinor: 300,
        startsAt: from,
        endsAt: new Date(Date.now() + 86_400_000).toISOString(),
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const customer = await fundedCustomer(world);
    const orders: string[] = [];
    for (let index = 0; index < 2; index += 1) {
      const placed = await placeOrder(world, customer.accessToken, {
        items: [{ itemId: world.ndoleId, quantity: 1 }],
        couponCode: created.json().code,
      });
      expect(placed.statusCode, placed.body).toBe(201);
      orders.push(placed.json().id);
    }
    const to = new Date(Date.now() + 60_000).toISOString();
    const answer = await exportCsv(world.actors.admin.accessToken, `?from=${from}&to=${to}`);
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(answer.headers['content-disposition']).toMatch(/^attachment; filename="coupon-redemptions-/);
    expect(answer.body.startsWith('\uFEFF')).toBe(true);
    const [header, ...lines] = rowsOf(answer.body);
    expect(header).toBe(
      'created_at,order_id,coupon_code,coupon_id,funded_by,restaurant_id,subtotal_minor,discount_minor,total_minor,status,ended_at',
    );
    expect(lines).toHaveLength(2);
    for (const [index, line] of lines.entries()) {
      const cells = line.split(',');
      expect(cells[1]).toBe(orders[index]);
      expect(cells.slice(2, 5)).toEqual([created.json().code, created.json().id, 'platform']);
      expect(cells[5]).toBe(world.restaurantId);
      expect(cells[6]).toBe('2500');
      expect(cells[7]).toBe('300');
      expect(['held', 'used']).toContain(cells[9]);
    }
    expect(answer.body).not.toContain(customer.userId);
    expect(answer.body).not.toContain(customer.phone);

    const semicolons = await exportCsv(
      world.actors.admin.accessToken,
      `?from=${from}&to=${to}&delimiter=semicolon`,
    );
    expect(rowsOf(semicolons.body)[1]!.split(';')[1]).toBe(orders[0]);
  });

  it('streams a period longer than a page, oldest first, each redemption once', async () => {
    const [couponRow] = (await sql<{ id: string }>`SELECT id FROM coupons LIMIT 1`.execute(services().db))
      .rows;
    expect(couponRow).toBeDefined();
    const base = Date.parse('2020-03-01T00:00:00.000Z');
    // 1 150 redemptions (more than two pages of 500); 40 share one instant across the first page's end.
    const values = Array.from({ length: 1_150 }, (_, index) => ({
      order_id: randomUUID(),
      coupon_id: couponRow!.id,
      customer_id: randomUUID(),
      restaurant_id: world.restaurantId,
      discount_minor: 100n,
      subtotal_minor: 1_000n,
      total_minor: 1_200n,
      status: 'used' as const,
      created_at: new Date(base + (index >= 480 && index < 520 ? 480_000 : index * 1_000)),
    }));
    await services().db.insertInto('coupon_redemptions').values(values).execute();
    const answer = await exportCsv(
      world.actors.admin.accessToken,
      '?from=2020-03-01T00:00:00.000Z&to=2020-04-01T00:00:00.000Z',
    );
    expect(answer.statusCode).toBe(200);
    const lines = rowsOf(answer.body).slice(1);
    expect(lines).toHaveLength(1_150);
    const ids = lines.map((line) => line.split(',')[1]);
    expect(new Set(ids).size).toBe(1_150);
    expect(new Set(ids)).toEqual(new Set(values.map((value) => value.order_id)));
    const times = lines.map((line) => Date.parse(line.split(',')[0]!));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  it('refuses bad periods and anyone but admins, with a problem', async () => {
    const admin = world.actors.admin.accessToken;
    const period = '?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z';
    for (const query of [
      '',
      '?from=2020-01-01T00:00:00Z',
      '?from=yesterday&to=2020-02-01T00:00:00Z',
      `${period}&delimiter=tab`,
      `${period}&extra=1`,
    ]) {
      const answer = await exportCsv(admin, query);
      expect(answer.statusCode, query).toBe(400);
      expect(answer.headers['content-type']).toContain('application/problem+json');
    }
    for (const query of [
      '?from=2020-02-01T00:00:00Z&to=2020-01-01T00:00:00Z',
      '?from=2020-01-01T00:00:00Z&to=2021-06-01T00:00:00Z',
    ]) {
      const answer = await exportCsv(admin, query);
      expect([answer.statusCode, answer.json().code], query).toEqual([422, 'invalid_period']);
    }
    expect((await exportCsv(null, period)).statusCode).toBe(401);
    expect((await exportCsv(world.actors.owner.accessToken, period)).statusCode).toBe(403);
    const customer = await fundedCustomer(world);
    expect((await exportCsv(customer.accessToken, period)).statusCode).toBe(403);
  });
});
