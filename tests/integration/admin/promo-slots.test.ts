/**
 * Promotional slots (docs/admin.md "Promotional slots"): admins sell positions on a city's home
 * feed; the overlap rules hold under concurrent requests (PostgreSQL exclusion constraints); bad
 * input is a problem and writes nothing; changes and cancellations are audited; the customers'
 * feed shows the running placements of active restaurants, in their language. Real PostgreSQL.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { activeRestaurant, catalogTestApp, createActors, type Actors } from '../catalog/helpers.js';

let testApp: TestApp;
let actors: Actors;
let restaurants: string[];

beforeAll(async () => {
  testApp = await catalogTestApp();
  await testApp.services.identity.keyRing.signingKey();
  actors = await createActors(testApp);
  restaurants = [];
  for (let i = 0; i < 4; i += 1)
    restaurants.push(await activeRestaurant(testApp, actors, { name: `Maquis ${i}` }));
}, 180_000);
afterAll(async () => testApp?.close());

const db = () => testApp.services.db;
const admin = () => authHeader(actors.admin.accessToken);
const minutes = (offset: number) => new Date(Date.now() + offset * 60_000).toISOString();
const DAY = 1_440;
const body = (overrides: Record<string, unknown> = {}) => ({
  restaurantId: restaurants[0],
  city: 'douala',
  position: 1,
  startsAt: minutes(0),
  endsAt: minutes(7 * DAY),
  priceMinor: 150_000,
  headline: { fr: 'Le meilleur ndolé de Douala', en: 'The best ndolé in Douala' },
  ...overrides,
});
const create = (payload: unknown, headers: Record<string, string> = admin()) =>
  testApp.app.inject({
    method: 'POST',
    url: '/v1/admin/promo-slots',
    headers,
    payload: payload as Record<string, unknown>,
  });
const change = (id: string, payload: unknown, headers: Record<string, string> = admin()) =>
  testApp.app.inject({
    method: 'PATCH',
    url: `/v1/admin/promo-slots/${id}`,
    headers,
    payload: payload as Record<string, unknown>,
  });
const cancel = (id: string, headers: Record<string, string> = admin()) =>
  testApp.app.inject({ method: 'DELETE', url: `/v1/admin/promo-slots/${id}`, headers });
const feed = (query: string, headers: Record<string, string> = {}) =>
  testApp.app.inject({ method: 'GET', url: `/v1/home/promotions?${query}`, headers });
const count = async () => (await db().selectFrom('admin_promo_slots').select('id').execute()).length;
const audits = async (id: string, action: string) =>
  Number(
    (
      await sql<{ n: string }>`SELECT count(*) AS n FROM audit_logs
        WHERE action = ${action} AND resource = ${`promo_slot:${id}`}`.execute(db())
    ).rows[0]!.n,
  );
const clear = () => sql`DELETE FROM admin_promo_slots`.execute(db());

describe('promotional slots', () => {
  it('admins only: other roles 403, anonymous 401, nothing written', async () => {
    const support = await createUser(testApp, { roles: ['support'] });
    for (const token of [actors.owner.accessToken, actors.customer.accessToken, support.accessToken]) {
      expect((await create(body(), authHeader(token))).statusCode).toBe(403);
      const listed = await testApp.app.inject({
        method: 'GET',
        url: '/v1/admin/promo-slots',
        headers: authHeader(token),
      });
      expect(listed.statusCode).toBe(403);
    }
    expect((await create(body(), {})).statusCode).toBe(401);
    expect(await count()).toBe(0);
  });

  it('a running placement is on its city’s feed, in the caller’s language; audited; other cities see nothing', async () => {
    await clear();
    const created = await create(body());
    expect(created.statusCode, created.body).toBe(201);
    const slot = created.json();
    expect(slot).toMatchObject({ status: 'running', position: 1, priceMinor: 150_000, version: 1 });
    expect(created.headers.location).toBe(`/v1/admin/promo-slots/${slot.id}`);
    expect(await audits(slot.id, 'admin.promo_slot_created')).toBe(1);

    const french = await feed('city=douala', { 'accept-language': 'fr-CM,fr;q=0.9' });
    expect(french.statusCode, french.body).toBe(200);
    expect(french.json().items).toEqual([
      expect.objectContaining({
        slotId: slot.id,
        position: 1,
        headline: 'Le meilleur ndolé de Douala',
        restaurant: expect.objectContaining({ id: restaurants[0], name: 'Maquis 0' }),
      }),
    ]);
    expect((await feed('city=douala', { 'accept-language': 'en' })).json().items[0].headline).toBe(
      'The best ndolé in Douala',
    );
    expect((await feed('city=yaounde')).json().items).toEqual([]);
    expect((await feed('city=kribi-nowhere')).statusCode).toBe(404);
    expect((await feed('city=..%2F')).statusCode).toBe(400);

    // Scheduled later: not on the feed yet.
    const later = await create(
      body({ restaurantId: restaurants[1], position: 2, startsAt: minutes(DAY), endsAt: minutes(2 * DAY) }),
    );
    expect(later.json().status).toBe('scheduled');
    expect((await feed('city=douala')).json().items).toHaveLength(1);
  });

  it('bad input is a problem and writes nothing', async () => {
    await clear();
    const inactive = await activeRestaurant(testApp, actors, { name: 'Maquis suspendu' });
    const suspended = await testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/restaurants/${inactive}/verify`,
      headers: admin(),
      payload: { decision: 'suspend', reason: 'hygiene inspection' },
    });
    expect(suspended.statusCode, suspended.body).toBe(200);
    const cases: [unknown, number, string][] = [
      [body({ position: 0 }), 400, 'validation_failed'],
      [body({ position: 6 }), 400, 'validation_failed'],
      [body({ position: 1.5 }), 400, 'validation_failed'],
      [body({ endsAt: minutes(-1) }), 400, 'promo_period_invalid'],
      [body({ startsAt: minutes(60), endsAt: minutes(30) }), 400, 'promo_period_invalid'],
      [body({ startsAt: minutes(-10) }), 400, 'promo_start_past'],
      [body({ endsAt: minutes(100 * DAY) }), 400, 'promo_period_too_long'],
      [body({ startsAt: minutes(400 * DAY), endsAt: minutes(401 * DAY) }), 400, 'promo_period_too_long'],
      [body({ startsAt: 'tomorrow' }), 400, 'validation_failed'],
      [body({ priceMinor: -1 }), 400, 'validation_failed'],
      [body({ priceMinor: '150000' }), 400, 'validation_failed'],
      [body({ priceMinor: 1e300 }), 400, 'validation_failed'],
      [body({ headline: { fr: '   ' } }), 400, 'validation_failed'],
      [body({ headline: { fr: 'Bon\u0000ndolé' } }), 400, 'invalid_characters'],
      [body({ headline: { fr: 'x'.repeat(100_000) } }), 400, 'validation_failed'],
      [body({ headline: null }), 400, 'validation_failed'],
      [body({ extra: true }), 400, 'validation_failed'],
      [body({ restaurantId: 'not-a-uuid' }), 400, 'validation_failed'],
      [null, 400, 'validation_failed'],
      [body({ restaurantId: randomUUID() }), 404, 'restaurant_not_found'],
      [body({ restaurantId: inactive }), 422, 'promo_restaurant_inactive'],
      [body({ city: 'yaounde' }), 422, 'promo_city_mismatch'],
      [body({ city: 'atlantis' }), 422, 'promo_city_unknown'],
    ];
    for (const [payload, status, code] of cases) {
      const refused = await create(payload);
      expect(refused.statusCode, `${JSON.stringify(payload)?.slice(0, 120)} ${refused.body}`).toBe(status);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.json().code).toBe(code);
    }
    expect(await count()).toBe(0);
  });

  it('overlap rules: one restaurant per position at a time, a restaurant once per feed; back-to-back is fine', async () => {
    await clear();
    const first = (await create(body({ endsAt: minutes(DAY) }))).json();
    const taken = await create(body({ restaurantId: restaurants[1], startsAt: minutes(60) }));
    expect(taken.statusCode, taken.body).toBe(409);
    expect(taken.json()).toMatchObject({ code: 'promo_slot_taken', conflictingSlotId: first.id });
    const twice = await create(body({ position: 2, startsAt: minutes(120), endsAt: minutes(3 * DAY) }));
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ code: 'promo_restaurant_overlap', conflictingSlotId: first.id });
    expect(await count()).toBe(1);
    // Starts when the first ends: the periods are half-open, no overlap.
    const next = await create(
      body({ restaurantId: restaurants[1], startsAt: first.endsAt, endsAt: minutes(2 * DAY) }),
    );
    expect(next.statusCode, next.body).toBe(201);
  });

  it('two admins selling one position at once: exactly one placement', async () => {
    await clear();
    const answers = await Promise.all(
      restaurants.map((restaurantId) => create(body({ restaurantId, position: 3 }))),
    );
    const statuses = answers.map((answer) => answer.statusCode).sort();
    expect(statuses).toEqual([201, 409, 409, 409]);
    expect(
      answers
        .filter((answer) => answer.statusCode === 409)
        .every((a) => a.json().code === 'promo_slot_taken'),
    ).toBe(true);
    expect(await count()).toBe(1);
  });

  it('changes: version checked, a running start kept, overlaps refused, audited with old and new', async () => {
    await clear();
    const slot = (await create(body())).json();
    await create(body({ restaurantId: restaurants[1], position: 2 }));
    const stale = await change(slot.id, { expectedVersion: 7, endsAt: minutes(10 * DAY) });
    expect(stale.statusCode).toBe(409);
    expect(stale.json()).toMatchObject({ code: 'promo_slot_changed', version: 1 });
    const moved = await change(slot.id, { expectedVersion: 1, startsAt: minutes(60) });
    expect(moved.json().code).toBe('promo_slot_running');
    const clash = await change(slot.id, { expectedVersion: 1, position: 2 });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().code).toBe('promo_slot_taken');
    const extended = await change(slot.id, {
      expectedVersion: 1,
      endsAt: minutes(10 * DAY),
      headline: { fr: 'Ndolé à volonté' },
      priceMinor: 200_000,
    });
    expect(extended.statusCode, extended.body).toBe(200);
    expect(extended.json()).toMatchObject({
      version: 2,
      priceMinor: 200_000,
      headline: { fr: 'Ndolé à volonté', en: null },
    });
    expect((await change(slot.id, { expectedVersion: 2, endsAt: minutes(-5) })).json().code).toBe(
      'promo_period_invalid',
    );
    expect((await change(randomUUID(), { expectedVersion: 1 })).statusCode).toBe(404);
    expect(await audits(slot.id, 'admin.promo_slot_changed')).toBe(1);
    const stored = await db()
      .selectFrom('admin_promo_slots')
      .select(['version', 'price_minor'])
      .where('id', '=', slot.id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ version: 2, price_minor: 200_000n });
  });

  it('a cancelled placement leaves the feed and frees its position; cancelling again changes nothing', async () => {
    await clear();
    const slot = (await create(body())).json();
    const cancelled = await cancel(slot.id);
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', cancelledBy: actors.admin.userId });
    const again = await cancel(slot.id);
    expect(again.json()).toEqual(cancelled.json());
    expect(await audits(slot.id, 'admin.promo_slot_cancelled')).toBe(1);
    expect((await feed('city=douala')).json().items).toEqual([]);
    expect((await change(slot.id, { expectedVersion: 2, position: 4 })).json().code).toBe(
      'promo_slot_cancelled',
    );
    expect((await create(body({ restaurantId: restaurants[1] }))).statusCode).toBe(201);
  });

  it('a suspended restaurant’s running placement is not shown', async () => {
    await clear();
    const restaurantId = await activeRestaurant(testApp, actors, { name: 'Maquis bientôt fermé' });
    await create(body({ restaurantId, position: 5 }));
    expect((await feed('city=douala')).json().items).toHaveLength(1);
    await testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/restaurants/${restaurantId}/verify`,
      headers: admin(),
      payload: { decision: 'suspend', reason: 'hygiene inspection' },
    });
    expect((await feed('city=douala')).json().items).toEqual([]);
  });

  it('Idempotency-Key: a replay answers the same placement and records it once; the key with another body 409', async () => {
    await clear();
    const headers = { ...admin(), 'idempotency-key': `promo-${randomUUID()}` };
    const payload = body();
    const first = await create(payload, headers);
    const replay = await create(payload, headers);
    expect(first.statusCode, first.body).toBe(201);
    expect(replay.statusCode, replay.body).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json().id).toBe(first.json().id);
    expect(await count()).toBe(1);
    expect(await audits(first.json().id, 'admin.promo_slot_created')).toBe(1);
    const reused = await create({ ...payload, position: 4 }, headers);
    expect(reused.statusCode).toBe(409);
    expect(reused.json().code).toBe('idempotency_key_reused');
    expect(await count()).toBe(1);
  });

  it('the list pages newest first and filters current placements', async () => {
    await clear();
    const ids: string[] = [];
    for (const [index, restaurantId] of restaurants.entries())
      ids.push((await create(body({ restaurantId, position: index + 1 }))).json().id);
    await cancel(ids[0]!);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof testApp.app.inject>> = await testApp.app.inject({
        method: 'GET',
        url: `/v1/admin/promo-slots?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`,
        headers: admin(),
      });
      expect(page.statusCode, page.body).toBe(200);
      seen.push(...(page.json().items as { id: string }[]).map((item) => item.id));
      cursor = (page.json() as { nextCursor: string | null }).nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([...ids].reverse());
    const current = await testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/promo-slots?current=true&city=douala',
      headers: admin(),
    });
    expect((current.json().items as { id: string }[]).map((item) => item.id).sort()).toEqual(
      ids.slice(1).sort(),
    );
    const forged = await testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/promo-slots?cursor=bm9wZQ',
      headers: admin(),
    });
    expect(forged.statusCode).toBe(400);
  });
});
