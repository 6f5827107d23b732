import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/modules/identity/index.js';
import { authHeader, withStepUp, type CreatedUser } from '../helpers/auth.js';
import { orderWorld, placeOrder, type OrderWorld } from '../integration/orders/helpers.js';

/**
 * Partner API keys (issue #26) against the real PostgreSQL and Redis: an admin issues a key bound
 * to a restaurant; the restaurant's POS accepts and marks ready its orders through signed
 * requests; the key is rotated without downtime and revoked at once.
 */
let world: OrderWorld;
let admin: CreatedUser;
let adminToken: string;

beforeAll(async () => {
  world = await orderWorld();
  admin = world.actors.admin;
  adminToken = await withStepUp(world.testApp, admin);
}, 120_000);
afterAll(async () => world?.testApp.close());

type Issued = {
  keyId: string;
  apiKey: string;
  signingSecret: string;
  expiresAt: string;
  key: { status: string };
};

async function issue(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return world.testApp.app.inject({
    method: 'POST',
    url: '/v1/admin/partner-keys',
    headers: { ...authHeader(adminToken), ...headers },
    payload: body,
  });
}

async function posKey(scopes = ['orders.kitchen'], restaurantId = world.restaurantId): Promise<Issued> {
  const response = await issue({ label: 'Caisse Akwa', restaurantId, scopes });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as Issued;
}

/** A POS request: the key, and (unless `unsigned`) its HMAC signature over the exact body bytes. */
async function pos(
  key: Pick<Issued, 'keyId' | 'apiKey' | 'signingSecret'>,
  orderId: string,
  action: string,
  payload: Record<string, unknown> = {},
  options: { unsigned?: boolean; headers?: Record<string, string>; signedBody?: string } = {},
) {
  const path = `/v1/partner/orders/${orderId}/${action}`;
  const body = JSON.stringify(payload);
  const signature = options.unsigned
    ? {}
    : signRequest({
        keyId: key.keyId,
        secret: key.signingSecret,
        method: 'POST',
        path,
        body: options.signedBody ?? body,
      });
  return world.testApp.app.inject({
    method: 'POST',
    url: path,
    headers: {
      'content-type': 'application/json',
      'x-api-key': key.apiKey,
      ...signature,
      ...options.headers,
    },
    payload: body,
  });
}

async function newOrder(): Promise<string> {
  const placed = await placeOrder(world, world.actors.customer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  return placed.json().id as string;
}

async function statusOf(orderId: string): Promise<string> {
  return (await world.testApp.services.orders.orders.load(orderId)).state.status;
}

async function keyRow(keyId: string) {
  return world.testApp.services.db
    .selectFrom('partner_api_keys')
    .selectAll()
    .where('key_id', '=', keyId)
    .executeTakeFirstOrThrow();
}

describe('issuing partner keys', () => {
  it('needs an admin with a recent step-up; others get 403 and nothing is issued', async () => {
    const before = await world.testApp.services.db
      .selectFrom('partner_api_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const body = { label: 'x', restaurantId: world.restaurantId, scopes: ['orders.kitchen'] };
    const noStepUp = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/partner-keys',
      headers: authHeader(admin.accessToken),
      payload: body,
    });
    expect(noStepUp.statusCode).toBe(403);
    expect(noStepUp.json().code).toBe('step_up_required');
    const owner = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/partner-keys',
      headers: authHeader(world.actors.owner.accessToken),
      payload: body,
    });
    expect(owner.statusCode).toBe(403);
    const after = await world.testApp.services.db
      .selectFrom('partner_api_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('refuses bad input with 400 problems', async () => {
    for (const body of [
      { label: 'x', scopes: [] },
      { label: 'x', scopes: ['everything'] },
      { label: '', scopes: ['orders.kitchen'] },
      { label: 'x', restaurantId: 'not-a-uuid', scopes: ['orders.kitchen'] },
      { label: 'x', scopes: ['orders.kitchen'], extra: 1 },
    ]) {
      const response = await issue(body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('shows the key and signing secret once; stores only the SHA-256 of the key and the secret sealed', async () => {
    const key = await posKey();
    expect(key.apiKey).toMatch(/^fdpk_[0-9a-f]{24}\.[A-Za-z0-9_-]{43}$/);
    expect(key.key.status).toBe('active');
    const row = await keyRow(key.keyId);
    const secret = key.apiKey.split('.')[1]!;
    expect(row.key_sha256.equals(createHash('sha256').update(secret).digest())).toBe(true);
    const stored = JSON.stringify(row) + row.signing_secret_ciphertext.toString('latin1');
    expect(stored).not.toContain(secret);
    expect(stored).not.toContain(key.signingSecret);
    expect(row.expires_at.getTime() - row.created_at.getTime()).toBe(90 * 24 * 3_600_000);

    const listed = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/partner-keys?restaurantId=${world.restaurantId}`,
      headers: authHeader(admin.accessToken),
    });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.body).not.toContain(secret);
    expect(listed.body).not.toContain(key.signingSecret);
    expect(listed.json().items.map((item: { keyId: string }) => item.keyId)).toContain(key.keyId);
    const one = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/partner-keys/${key.keyId}`,
      headers: authHeader(admin.accessToken),
    });
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ keyId: key.keyId, status: 'active', scopes: ['orders.kitchen'] });
    expect(one.body).not.toContain(secret);
  });

  it('a retried issue with the same Idempotency-Key issues no second key (409 naming the first)', async () => {
    const headers = { 'idempotency-key': `issue-${randomUUID()}` };
    const body = { label: 'Agrégateur', scopes: ['orders.read'] };
    const [first, second] = await Promise.all([issue(body, headers), issue(body, headers)]);
    const statuses = [first.statusCode, second.statusCode].sort();
    expect(statuses).toEqual([201, 409]);
    const created = first.statusCode === 201 ? first : second;
    const refused = first.statusCode === 409 ? first : second;
    expect(refused.json()).toMatchObject({ code: 'partner_key_already_issued', keyId: created.json().keyId });
    const rows = await world.testApp.services.db
      .selectFrom('partner_api_keys')
      .select('key_id')
      .where('issue_idempotency_key', '=', headers['idempotency-key'])
      .execute();
    expect(rows).toHaveLength(1);
  });
});

describe("a restaurant's POS moves its orders with signed requests", () => {
  it('accepts, starts and marks ready an order; use is recorded', async () => {
    const key = await posKey();
    const orderId = await newOrder();
    const accepted = await pos(key, orderId, 'accept', { preparationMinutes: 20 });
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({ status: 'ACCEPTED', preparationMinutes: 20 });
    expect(accepted.json().pickupCode).toMatch(/^\d{4}$/);
    expect(accepted.headers['x-api-key-expires-at']).toBe(key.expiresAt);
    expect(accepted.headers['x-api-key-expiry-warning']).toBeUndefined();
    expect((await pos(key, orderId, 'prepare')).statusCode).toBe(200);
    const ready = await pos(key, orderId, 'ready');
    expect(ready.statusCode, ready.body).toBe(200);
    expect(ready.json().status).toBe('READY_FOR_PICKUP');
    expect((await keyRow(key.keyId)).last_used_at).not.toBeNull();
    expect(await statusOf(orderId)).toBe('READY_FOR_PICKUP');
  });

  it('refuses a missing, wrong, replayed, stale or tampered request with 401, and the order does not move', async () => {
    const key = await posKey();
    const other = await posKey();
    const orderId = await newOrder();
    const body = { preparationMinutes: 15 };
    const refusals: [string, Awaited<ReturnType<typeof pos>>, string][] = [
      [
        'no key',
        await pos({ ...key, apiKey: '' }, orderId, 'accept', body, { headers: { 'x-api-key': '' } }),
        'api_key',
      ],
      [
        'wrong key secret',
        await pos({ ...key, apiKey: `${key.apiKey.slice(0, -4)}AAAA` }, orderId, 'accept', body),
        'api_key_invalid',
      ],
      [
        'not a key',
        await pos({ ...key, apiKey: 'Bearer hello' }, orderId, 'accept', body),
        'api_key_invalid',
      ],
      ['unsigned', await pos(key, orderId, 'accept', body, { unsigned: true }), 'signature_missing'],
      [
        "another key's secret",
        await pos({ ...key, signingSecret: other.signingSecret }, orderId, 'accept', body),
        'signature_invalid',
      ],
      [
        'signed by another key id',
        await pos(
          { ...key, keyId: other.keyId, signingSecret: other.signingSecret },
          orderId,
          'accept',
          body,
        ),
        'signature_invalid',
      ],
      [
        'body changed after signing',
        await pos(key, orderId, 'accept', body, { signedBody: JSON.stringify({ preparationMinutes: 50 }) }),
        'signature_invalid',
      ],
    ];
    const stale = signRequest({
      keyId: key.keyId,
      secret: key.signingSecret,
      method: 'POST',
      path: `/v1/partner/orders/${orderId}/accept`,
      body: JSON.stringify(body),
      timestampMs: Date.now() - 10 * 60_000,
    });
    refusals.push([
      'stale',
      await pos(key, orderId, 'accept', body, { unsigned: true, headers: stale }),
      'signature_expired',
    ]);
    for (const [name, response, code] of refusals) {
      expect(response.statusCode, `${name}: ${response.body}`).toBe(401);
      expect(response.json().code, name).toContain(code);
    }
    expect(await statusOf(orderId)).toBe('PLACED');

    // A good request once; the same signed bytes again are a replay.
    const headers = signRequest({
      keyId: key.keyId,
      secret: key.signingSecret,
      method: 'POST',
      path: `/v1/partner/orders/${orderId}/accept`,
      body: JSON.stringify(body),
    });
    expect((await pos(key, orderId, 'accept', body, { unsigned: true, headers })).statusCode).toBe(200);
    const replayed = await pos(key, orderId, 'accept', body, { unsigned: true, headers });
    expect(replayed.statusCode).toBe(401);
    expect(replayed.json().code).toBe('signature_replayed');
  });

  it('refuses a key without the scope (403) and a key of another restaurant (404); the order does not move', async () => {
    const readOnly = await posKey(['orders.read']);
    const elsewhere = await posKey(['orders.kitchen'], randomUUID());
    const orderId = await newOrder();
    const scoped = await pos(readOnly, orderId, 'accept', { preparationMinutes: 10 });
    expect(scoped.statusCode).toBe(403);
    expect(scoped.json().code).toBe('api_key_scope_missing');
    const foreign = await pos(elsewhere, orderId, 'accept', { preparationMinutes: 10 });
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('order_not_found');
    expect(await statusOf(orderId)).toBe('PLACED');
  });

  it('answers a retried accept with the same Idempotency-Key with the first answer', async () => {
    const key = await posKey();
    const orderId = await newOrder();
    const headers = { 'idempotency-key': `pos-${randomUUID()}` };
    const first = await pos(key, orderId, 'accept', { preparationMinutes: 12 }, { headers });
    const again = await pos(key, orderId, 'accept', { preparationMinutes: 12 }, { headers });
    expect(first.statusCode, first.body).toBe(200);
    expect(again.statusCode, again.body).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().revision).toBe(first.json().revision);
  });
});

describe('rotation and revocation', () => {
  async function rotate(keyId: string, graceDays?: number) {
    return world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/partner-keys/${keyId}/rotate`,
      headers: authHeader(adminToken),
      payload: graceDays === undefined ? {} : { graceDays },
    });
  }
  async function revoke(keyId: string) {
    return world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/partner-keys/${keyId}/revoke`,
      headers: authHeader(admin.accessToken),
      payload: {},
    });
  }

  it('rotates without downtime: both keys work in the grace period, the old one then stops; revocation is immediate; all audited', async () => {
    const first = await posKey();
    const orderId = await newOrder();

    const rotated = await rotate(first.keyId);
    expect(rotated.statusCode, rotated.body).toBe(201);
    const second = rotated.json() as Issued;
    expect(second.keyId).not.toBe(first.keyId);
    const old = await keyRow(first.keyId);
    expect(old.rotated_to).toBe(second.keyId);
    const graceMs = old.expires_at.getTime() - old.rotated_at!.getTime();
    expect(graceMs).toBe(7 * 24 * 3_600_000);
    expect((await keyRow(second.keyId)).scopes).toEqual(['orders.kitchen']);

    // The POS has not deployed the new key yet: the old one still works, and so does the new one.
    expect((await pos(first, orderId, 'accept', { preparationMinutes: 10 })).statusCode).toBe(200);
    expect((await pos(second, orderId, 'prepare')).statusCode).toBe(200);

    // Rotating the old key again is refused: its successor is named.
    const again = await rotate(first.keyId);
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json()).toMatchObject({ code: 'partner_key_not_active', rotatedTo: second.keyId });

    // A rotation without grace ends the previous key at once.
    const third = (await rotate(second.keyId, 0)).json() as Issued;
    const ended = await pos(second, orderId, 'ready');
    expect(ended.statusCode).toBe(401);
    expect(ended.json().code).toBe('api_key_invalid');

    // Revocation: immediate, repeatable, and the grace of a rotated key ends with it.
    expect((await revoke(first.keyId)).json().status).toBe('revoked');
    const refusedOld = await pos(first, orderId, 'ready');
    expect(refusedOld.json().code).toBe('api_key_invalid');
    expect((await pos(third, orderId, 'ready')).statusCode).toBe(200);
    const revoked = await revoke(third.keyId);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().status).toBe('revoked');
    expect((await revoke(third.keyId)).json().revokedAt).toBe(revoked.json().revokedAt);
    const after = await pos(third, orderId, 'ready');
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('api_key_invalid');

    const unknown = await revoke('0'.repeat(24));
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('partner_key_not_found');

    const audit = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'resource'])
      .where(
        'resource',
        'in',
        [first.keyId, second.keyId, third.keyId].map((id) => `partner-key:${id}`),
      )
      .execute();
    const actions = audit.map((line) => `${line.action} ${line.resource}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        `partner_key.created partner-key:${first.keyId}`,
        `partner_key.rotated partner-key:${first.keyId}`,
        `partner_key.rotated partner-key:${second.keyId}`,
        `partner_key.revoked partner-key:${first.keyId}`,
        `partner_key.revoked partner-key:${third.keyId}`,
      ]),
    );
    expect(
      actions.filter((action) => action === `partner_key.revoked partner-key:${third.keyId}`),
    ).toHaveLength(1);
  });

  it('warns in every answer when the key expires within 14 days, and reminds once', async () => {
    const key = await posKey();
    await world.testApp.services.db
      .updateTable('partner_api_keys')
      .set({ expires_at: new Date(Date.now() + 3 * 24 * 3_600_000) })
      .where('key_id', '=', key.keyId)
      .execute();
    const orderId = await newOrder();
    const answered = await pos(key, orderId, 'accept', { preparationMinutes: 10 });
    expect(answered.statusCode).toBe(200);
    expect(answered.headers['x-api-key-expiry-warning']).toBeDefined();

    const { partnerKeys } = world.testApp.services.identity;
    expect(await partnerKeys.remindExpiring()).toBeGreaterThanOrEqual(1);
    expect((await keyRow(key.keyId)).expiry_reminded_at).not.toBeNull();
    const reminders = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select('id')
      .where('action', '=', 'partner_key.expiry_reminder')
      .where('resource', '=', `partner-key:${key.keyId}`)
      .execute();
    expect(reminders).toHaveLength(1);
    await partnerKeys.remindExpiring();
    const still = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select('id')
      .where('action', '=', 'partner_key.expiry_reminder')
      .where('resource', '=', `partner-key:${key.keyId}`)
      .execute();
    expect(still).toHaveLength(1);

    const listed = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/partner-keys?expiringWithinDays=14',
      headers: authHeader(admin.accessToken),
    });
    expect(listed.json().items.map((item: { keyId: string }) => item.keyId)).toContain(key.keyId);
  });

  it('an expired key is refused like an unknown one', async () => {
    const key = await posKey();
    await world.testApp.services.db
      .updateTable('partner_api_keys')
      .set({ expires_at: new Date(Date.now() - 1_000) })
      .where('key_id', '=', key.keyId)
      .execute();
    const refused = await pos(key, await newOrder(), 'accept', { preparationMinutes: 10 });
    expect(refused.statusCode).toBe(401);
    expect(refused.json().code).toBe('api_key_invalid');
  });
});
