/**
 * Delta sync of a customer's orders and saved addresses (issue #25, docs/orders.md "Delta sync of
 * orders", docs/identity.md "Delta sync of addresses") against PostgreSQL and the orders
 * projection: everything once, then only what changed since the cursor (a new status, an edited
 * address, a tombstone for a removed one), ETag/304, field selection, and the cursor bound to its
 * owner and kind: another customer's, a forged, an expired or a hostile one never shows anything
 * that is not the caller's.
 */
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBLEM_CATALOGUE } from '../../../src/http/problem-catalogue.js';
import { encodeSyncCursor, SYNC_WINDOW_MS } from '../../../src/shared/delta-sync.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { act, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';

let world: OrderWorld;
let alice: CreatedUser;
let bob: CreatedUser;

beforeAll(async () => {
  world = await orderWorld();
  [alice, bob] = await Promise.all([
    createUser(world.testApp, { roles: ['customer'] }),
    createUser(world.testApp, { roles: ['customer'] }),
  ]);
}, 120_000);
afterAll(async () => world?.testApp.close());

const caughtUp = () => world.testApp.services.projections.waitUntilCaughtUp('orders', 20_000);

function get(path: string, token: string | undefined, query: Record<string, string> = {}, headers = {}) {
  return world.testApp.app.inject({
    method: 'GET',
    url: `${path}?${new URLSearchParams(query).toString()}`,
    headers: { ...(token === undefined ? {} : authHeader(token)), ...headers },
  });
}

function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  code: string,
) {
  expect(response.statusCode, response.body).toBe(status);
  expect(String(response.headers['content-type'])).toContain('application/problem+json');
  expect(JSON.parse(response.body).code).toBe(code);
}

/** Moves every row of the caller back an hour, so that a fresh cursor sees none of it as new. */
async function ageOrders(customerId: string) {
  await sql`UPDATE orders_view SET updated_at = updated_at - interval '1 hour' WHERE customer_id = ${customerId}`.execute(
    world.testApp.services.db,
  );
}
async function ageAddresses(userId: string) {
  const db = world.testApp.services.db;
  await sql`UPDATE user_addresses SET updated_at = updated_at - interval '1 hour' WHERE user_id = ${userId}`.execute(
    db,
  );
  await sql`UPDATE user_address_removals SET removed_at = removed_at - interval '1 hour' WHERE user_id = ${userId}`.execute(
    db,
  );
}

describe('delta sync of the customer’s orders', () => {
  it('sends the orders once, then only those whose status changed, with 304 while nothing did', async () => {
    const placed = await placeOrder(world, alice.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const orderId = placed.json().id as string;
    const other = await placeOrder(world, bob.accessToken);
    expect(other.statusCode, other.body).toBe(201);
    await caughtUp();
    await ageOrders(alice.userId);

    const first = await get('/v1/sync/orders', alice.accessToken);
    expect(first.statusCode, first.body).toBe(200);
    const reset = first.json();
    expect(reset.reset).toBe(true);
    expect(reset.items.map((item: { id: string }) => item.id)).toEqual([orderId]);
    expect(reset.items[0]).toMatchObject({ id: orderId, status: placed.json().status });
    expect(reset.items[0].customerId).toBeUndefined();
    expect(first.headers.etag).toMatch(/^W\/"/);

    const quiet = await get('/v1/sync/orders', alice.accessToken, { since: reset.cursor });
    expect(quiet.statusCode).toBe(200);
    expect(quiet.json().items).toBeUndefined();
    expect(quiet.json().reset).toBeUndefined();
    expect(quiet.body.length).toBeLessThan(150);
    const notModified = await get(
      '/v1/sync/orders',
      alice.accessToken,
      { since: reset.cursor },
      { 'if-none-match': String(quiet.headers.etag) },
    );
    expect(notModified.statusCode).toBe(304);
    expect(notModified.body).toBe('');

    const accepted = await act(world, orderId, 'accept', world.actors.owner.accessToken, {
      preparationMinutes: 20,
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
    await caughtUp();
    const changed = await get(
      '/v1/sync/orders',
      alice.accessToken,
      { since: reset.cursor },
      { 'if-none-match': String(quiet.headers.etag) },
    );
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().items).toEqual([expect.objectContaining({ id: orderId, status: 'ACCEPTED' })]);

    const compact = await get('/v1/sync/orders', alice.accessToken, {
      since: reset.cursor,
      fields: 'status',
    });
    expect(compact.json().items).toEqual([{ id: orderId, status: 'ACCEPTED' }]);
  });

  it('never shows another customer’s orders, and refuses their cursor', async () => {
    const mine = await get('/v1/sync/orders', bob.accessToken);
    const ids = (mine.json().items ?? []).map((item: { id: string }) => item.id);
    const alices = (await get('/v1/sync/orders', alice.accessToken)).json();
    for (const item of alices.items) expect(ids).not.toContain(item.id);
    expectProblem(
      await get('/v1/sync/orders', bob.accessToken, { since: alices.cursor }),
      400,
      'sync_cursor_invalid',
    );
  });

  it('refuses forged, foreign-kind, future and hostile cursors and unknown fields; an expired cursor is a reset', async () => {
    const token = alice.accessToken;
    const now = Date.now();
    for (const since of [
      'not-a-cursor!',
      Buffer.from('s1.orders.x').toString('base64url'),
      encodeSyncCursor('addresses', alice.userId, now),
      encodeSyncCursor('orders', alice.userId, now + 3_600_000),
      'A'.repeat(200),
    ])
      expectProblem(await get('/v1/sync/orders', token, { since }), 400, 'sync_cursor_invalid');
    expectProblem(await get('/v1/sync/orders', token, { since: 'a'.repeat(201) }), 400, 'validation_failed');
    expectProblem(await get('/v1/sync/orders', token, { since: 'ab\u0000c' }), 400, 'invalid_characters');
    expectProblem(
      await get('/v1/sync/orders', token, { fields: 'status,customerId' }),
      400,
      'sync_fields_invalid',
    );
    expectProblem(await get('/v1/sync/orders', token, { fields: ',' }), 400, 'sync_fields_invalid');
    expectProblem(await get('/v1/sync/orders', token, { other: '1' }), 400, 'validation_failed');
    const expired = await get('/v1/sync/orders', token, {
      since: encodeSyncCursor('orders', alice.userId, now - SYNC_WINDOW_MS - 3_600_000),
    });
    expect(expired.statusCode).toBe(200);
    expect(expired.json().reset).toBe(true);
    expectProblem(await get('/v1/sync/orders', undefined), 401, 'unauthorized');
  });
});

describe('delta sync of saved addresses', () => {
  const address = (label: string, extra: Record<string, unknown> = {}) => ({
    label,
    line1: `Rue ${label}`,
    city: 'Douala',
    latitude: 4.06,
    longitude: 9.77,
    ...extra,
  });
  const add = async (who: CreatedUser, body: Record<string, unknown>) => {
    const response = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/me/addresses',
      headers: authHeader(who.accessToken),
      payload: body,
    });
    expect(response.statusCode, response.body).toBe(201);
    return response.json().id as string;
  };

  it('sends the addresses once, then the edited ones and tombstones for the removed', async () => {
    const home = await add(alice, address('Maison', { isDefault: true }));
    const office = await add(alice, address('Bureau'));
    const gone = await add(alice, address('Ancien'));
    const bobs = await add(bob, address('Chez Bob'));
    await ageAddresses(alice.userId);

    const first = await get('/v1/sync/addresses', alice.accessToken);
    expect(first.statusCode, first.body).toBe(200);
    const reset = first.json();
    expect(reset.reset).toBe(true);
    expect(reset.items.map((item: { id: string }) => item.id)).toEqual([home, office, gone]);
    expect(reset.items[0]).toMatchObject({ label: 'Maison', line1: 'Rue Maison', isDefault: true });

    const quiet = await get('/v1/sync/addresses', alice.accessToken, { since: reset.cursor });
    expect(quiet.json()).toEqual({ cursor: expect.any(String) });
    const notModified = await get(
      '/v1/sync/addresses',
      alice.accessToken,
      { since: reset.cursor },
      { 'if-none-match': String(quiet.headers.etag) },
    );
    expect(notModified.statusCode).toBe(304);

    // The office becomes the default: the home address loses it, so both changed.
    const patched = await world.testApp.app.inject({
      method: 'PATCH',
      url: `/v1/me/addresses/${office}`,
      headers: authHeader(alice.accessToken),
      payload: { isDefault: true },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    const removed = await world.testApp.app.inject({
      method: 'DELETE',
      url: `/v1/me/addresses/${gone}`,
      headers: authHeader(alice.accessToken),
    });
    expect(removed.statusCode).toBe(204);
    const delta = await get('/v1/sync/addresses', alice.accessToken, {
      since: reset.cursor,
      fields: 'isDefault',
    });
    expect(delta.statusCode, delta.body).toBe(200);
    expect(delta.json().items).toEqual([
      { id: home, isDefault: false },
      { id: office, isDefault: true },
    ]);
    expect(delta.json().removed).toEqual([gone]);

    // Bob removing his own address is no tombstone of Alice's, and he cannot remove hers.
    const foreign = await world.testApp.app.inject({
      method: 'DELETE',
      url: `/v1/me/addresses/${home}`,
      headers: authHeader(bob.accessToken),
    });
    expect(foreign.statusCode).toBe(404);
    await world.testApp.app.inject({
      method: 'DELETE',
      url: `/v1/me/addresses/${bobs}`,
      headers: authHeader(bob.accessToken),
    });
    const after = await get('/v1/sync/addresses', alice.accessToken, { since: reset.cursor });
    expect(after.json().removed).toEqual([gone]);
    expect(
      (
        await get('/v1/sync/addresses', bob.accessToken, {
          since: encodeSyncCursor('addresses', bob.userId, Date.now() - 60_000),
        })
      ).json().removed,
    ).toEqual([bobs]);
    expectProblem(
      await get('/v1/sync/addresses', bob.accessToken, { since: reset.cursor }),
      400,
      'sync_cursor_invalid',
    );
  });

  it('refuses bad input and the unsigned', async () => {
    expectProblem(
      await get('/v1/sync/addresses', alice.accessToken, { since: 'zz' }),
      400,
      'sync_cursor_invalid',
    );
    expectProblem(
      await get('/v1/sync/addresses', alice.accessToken, { fields: 'pin' }),
      400,
      'sync_fields_invalid',
    );
    expectProblem(await get('/v1/sync/addresses', undefined), 401, 'unauthorized');
  });
});

describe('compression in the app', () => {
  it('sends brotli or gzip to clients that accept it, and small answers as they are', async () => {
    const plain = await world.testApp.app.inject({ method: 'GET', url: '/docs/json' });
    const br = await world.testApp.app.inject({
      method: 'GET',
      url: '/docs/json',
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.rawPayload.length).toBeLessThan(plain.rawPayload.length / 5);
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(plain.body);
    const gz = await world.testApp.app.inject({
      method: 'GET',
      url: '/docs/json',
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(plain.body);
    const small = await get('/v1/sync/orders', bob.accessToken, {}, { 'accept-encoding': 'br' });
    expect(small.statusCode).toBe(200);
    expect(small.headers['content-encoding']).toBeUndefined();
    const live = await world.testApp.app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'accept-encoding': 'br' },
    });
    expect(live.headers['content-encoding']).toBeUndefined();
  });

  it('tags every read with an ETag and answers 304 to it (here the history and the profile)', async () => {
    for (const path of ['/v1/orders', '/v1/me']) {
      const first = await get(path, alice.accessToken);
      expect(first.statusCode).toBe(200);
      const etag = String(first.headers.etag);
      expect(etag).toMatch(/^W\/"/);
      const again = await get(
        path,
        alice.accessToken,
        {},
        { 'if-none-match': etag, 'accept-encoding': 'br' },
      );
      expect(again.statusCode, path).toBe(304);
      expect(again.rawPayload.length).toBe(0);
    }
  });
});

describe('problems in French and English', () => {
  const missing = '/v1/orders/00000000-0000-4000-8000-0000000000ff';
  const setLocale = async (who: CreatedUser, locale: 'fr' | 'en') => {
    const response = await world.testApp.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: authHeader(who.accessToken),
      payload: { locale },
    });
    expect(response.statusCode, response.body).toBe(200);
  };

  it('answers by Accept-Language, else by the profile’s language', async () => {
    const french = await get(missing, alice.accessToken, {}, { 'accept-language': 'fr-CM,fr;q=0.9' });
    expect(french.statusCode).toBe(404);
    const code = french.json().code as string;
    const entry = PROBLEM_CATALOGUE.get(code)!;
    // This occurrence in French (problem-details-fr.ts), not only the code's description.
    expect(french.json()).toMatchObject({ title: entry.fr.title, detail: 'Cette commande n’existe pas.' });
    expect(french.headers['content-language']).toBe('fr');
    const english = await get(missing, alice.accessToken, {}, { 'accept-language': 'en' });
    expect(english.json()).toMatchObject({ title: entry.en.title, detail: 'There is no such order.' });
    expect(english.headers['content-language']).toBe('en');

    await setLocale(alice, 'fr');
    const byProfile = await get(missing, alice.accessToken);
    expect(byProfile.json()).toMatchObject({ title: entry.fr.title, detail: 'Cette commande n’existe pas.' });
    await setLocale(alice, 'en');
    expect((await get(missing, alice.accessToken)).json().title).toBe(entry.en.title);
    // A language we do not serve falls back to the profile too.
    expect((await get(missing, alice.accessToken, {}, { 'accept-language': 'de' })).json().title).toBe(
      entry.en.title,
    );
    await setLocale(alice, 'fr');
  });

  it('translates the edge’s own problems and a thrower’s French detail', async () => {
    const unknownRoute = await get('/v1/no-such-route', undefined, {}, { 'accept-language': 'fr' });
    expect(unknownRoute.json()).toMatchObject({
      code: 'route_not_found',
      title: PROBLEM_CATALOGUE.get('route_not_found')!.fr.title,
      detail: 'Aucune route GET /v1/no-such-route.',
    });
    const invalid = await get(
      '/v1/sync/orders',
      alice.accessToken,
      { other: '1' },
      { 'accept-language': 'fr' },
    );
    // The field and the rule, in French, in the detail and in `errors`.
    expect(invalid.json()).toMatchObject({
      code: 'validation_failed',
      title: 'Requête invalide',
      detail: 'querystring/other ne doit pas avoir la propriété « other », qui n’est pas prévue.',
      errors: [
        {
          path: 'querystring/other',
          message: 'ne doit pas avoir la propriété « other », qui n’est pas prévue',
          rule: 'additionalProperties',
        },
      ],
    });
    const refused = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/sync/queue',
      headers: { ...authHeader(alice.accessToken), 'accept-language': 'fr' },
      payload: { operations: [{ id: 'a', method: 'GET', path: '/v1/admin/orders' }] },
    });
    expect(refused.json()).toMatchObject({
      code: 'sync_operation_refused',
      detail: 'L’opération 1 (GET /v1/admin/orders) ne peut pas être mise en file.',
    });
  });
});
