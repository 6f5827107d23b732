import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser } from '../../helpers/auth.js';
import type { OrderWorld } from '../orders/helpers.js';
import { loyaltyWorld } from './helpers.js';

// The route reads loyalty_lapsed_holds; the rows the redemption reactor records for a real late
// payment are read through it in tests/faults/points-hold-expiry.test.ts. Here the rows are laid
// down directly, to cover the pages, the order, the cursor and the roles.
let world: OrderWorld;
beforeAll(async () => {
  world = await loyaltyWorld({});
}, 120_000);
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const read = (token: string | null, query = '') =>
  world.testApp.app.inject({
    method: 'GET',
    url: `/v1/loyalty/lapsed-holds${query}`,
    headers: token === null ? {} : authHeader(token),
  });

describe('loyalty: lapsed points holds for finance', () => {
  it('pages newest first with a cursor, every row once, even rows recorded in the same microsecond', async () => {
    const base = Date.now() - 3_600_000;
    // 7 rows: 3 share one instant (the order id breaks the tie), the others a second apart.
    const rows = Array.from({ length: 7 }, (_, index) => ({
      order_id: randomUUID(),
      customer_id: randomUUID(),
      points: BigInt(100 + index),
      discount_minor: BigInt(50 * index),
      recorded_at: new Date(base + (index < 3 ? 0 : index * 1_000)),
    }));
    await services().db.insertInto('loyalty_lapsed_holds').values(rows).execute();
    const expected = [...rows]
      .sort(
        (a, b) => b.recorded_at.getTime() - a.recorded_at.getTime() || b.order_id.localeCompare(a.order_id),
      )
      .map((row) => ({
        orderId: row.order_id,
        points: Number(row.points),
        discountMinor: Number(row.discount_minor),
        recordedAt: row.recorded_at.toISOString(),
      }));
    const seen: unknown[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await read(
        world.actors.admin.accessToken,
        `?limit=3${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      );
      expect(page.statusCode, page.body).toBe(200);
      const body = page.json() as { items: unknown[]; nextCursor: string | null };
      expect(body.items.length).toBeLessThanOrEqual(3);
      seen.push(...body.items);
      cursor = body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);
    // No customer id in the answer.
    expect(JSON.stringify(seen)).not.toContain(rows[0]!.customer_id);
  });

  it('refuses other roles, anonymous callers, forged cursors and bad limits with problems', async () => {
    expect((await read(null)).statusCode).toBe(401);
    for (const token of [world.actors.owner.accessToken, world.driver.accessToken]) {
      const refused = await read(token);
      expect(refused.statusCode, refused.body).toBe(403);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    expect((await read(customer.accessToken)).statusCode).toBe(403);
    for (const query of ['?cursor=forged', `?cursor=${Buffer.from('{"atUs":"1"}').toString('base64url')}`]) {
      const forged = await read(world.actors.admin.accessToken, query);
      expect(forged.statusCode, forged.body).toBe(400);
      expect(forged.json().code).toBe('invalid_cursor');
    }
    for (const query of ['?limit=0', '?limit=101', '?limit=x']) {
      const bad = await read(world.actors.admin.accessToken, query);
      expect(bad.statusCode, bad.body).toBe(400);
      expect(bad.json().code).toBe('validation_failed');
    }
  });
});
