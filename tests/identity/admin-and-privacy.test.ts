import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequest } from '../../src/modules/identity/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { authHeader, createUser, login, withStepUp, AUTH_TEST_ENV } from '../helpers/auth.js';

let testApp: TestApp;
beforeAll(async () => {
  testApp = await createTestApp({ env: AUTH_TEST_ENV });
});
afterAll(async () => {
  await testApp?.close();
});

const inject = (
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  token?: string,
  payload?: object,
) =>
  testApp.app.inject({
    method,
    url,
    ...(token === undefined ? {} : { headers: authHeader(token) }),
    ...(payload === undefined ? {} : { payload }),
  });
const db = () => testApp.services.db;
const auditActions = async (subject: string) =>
  (
    await db()
      .selectFrom('audit_logs')
      .select('action')
      .where('subject_user_id', '=', subject)
      .orderBy('id')
      .execute()
  ).map((row) => row.action);

describe('admin user management', () => {
  it('searches users with a cursor, changes roles, suspends, reactivates, unlocks and forces logout, all audited', async () => {
    const admin = await createUser(testApp, { roles: ['admin'] });
    const target = await createUser(testApp, { roles: ['customer'], name: 'Zoé Target' });
    for (let index = 0; index < 3; index += 1) await createUser(testApp, { name: `Page Filler ${index}` });
    const first = (await inject('GET', '/v1/admin/users?limit=2', admin.accessToken)).json();
    expect(first.items).toHaveLength(2);
    const second = (
      await inject('GET', `/v1/admin/users?limit=2&cursor=${first.nextCursor}`, admin.accessToken)
    ).json();
    expect(second.items[0].id).not.toBe(first.items[1].id);
    expect((await inject('GET', '/v1/admin/users?cursor=garbage', admin.accessToken)).json().code).toBe(
      'invalid_cursor',
    );
    const found = (await inject('GET', '/v1/admin/users?q=Target', admin.accessToken)).json();
    expect(found.items.map((item: { id: string }) => item.id)).toEqual([target.userId]);

    const roles = await inject('PUT', `/v1/admin/users/${target.userId}/roles`, admin.accessToken, {
      roles: ['driver'],
    });
    expect(roles.json().roles).toEqual(['driver']);
    // The removed role leaves at once: the old token stops, a refresh carries the new roles.
    expect((await inject('GET', '/v1/me', target.accessToken)).json().code).toBe('token_revoked');
    const refreshed = (
      await inject('POST', '/v1/auth/refresh', undefined, { refreshToken: target.refreshToken })
    ).json();
    expect((await inject('GET', '/v1/me/addresses', refreshed.accessToken)).json().code).toBe(
      'permission_denied',
    );

    expect(
      (
        await inject('POST', `/v1/admin/users/${target.userId}/suspend`, admin.accessToken, {
          reason: 'fraud check',
        })
      ).json().status,
    ).toBe('suspended');
    expect((await inject('GET', '/v1/me', refreshed.accessToken)).statusCode).toBe(401);
    expect((await login(testApp, { phone: target.phone, password: target.password })).json().code).toBe(
      'account_suspended',
    );
    expect(
      (await inject('POST', `/v1/admin/users/${target.userId}/reactivate`, admin.accessToken)).json().status,
    ).toBe('active');
    await db()
      .updateTable('users')
      .set({ failed_attempts: 5, locked_until: new Date(Date.now() + 600_000) })
      .where('id', '=', target.userId)
      .execute();
    expect(
      (await inject('POST', `/v1/admin/users/${target.userId}/unlock`, admin.accessToken)).json(),
    ).toMatchObject({ failedAttempts: 0, lockedUntil: null });
    const session = (await login(testApp, { phone: target.phone, password: target.password })).json();
    expect(
      (await inject('POST', `/v1/admin/users/${target.userId}/logout`, admin.accessToken)).statusCode,
    ).toBe(200);
    expect((await inject('GET', '/v1/me', session.accessToken)).statusCode).toBe(401);

    expect(await auditActions(target.userId)).toEqual(
      expect.arrayContaining([
        'admin.roles_changed',
        'admin.user_suspended',
        'admin.user_reactivated',
        'admin.user_unlocked',
        'admin.force_logout',
      ]),
    );
    const line = await db()
      .selectFrom('audit_logs')
      .selectAll()
      .where('action', '=', 'admin.roles_changed')
      .executeTakeFirstOrThrow();
    expect(line).toMatchObject({
      actor_id: admin.userId,
      ip_address: '127.0.0.1',
      old_value: { roles: ['customer'] },
      new_value: { roles: ['driver'] },
    });
    const log = (
      await inject('GET', `/v1/admin/audit-logs?subjectUserId=${target.userId}`, admin.accessToken)
    ).json();
    expect(log.items.length).toBeGreaterThanOrEqual(5);
  });

  it('grantRole makes a verified user a restaurant owner, audited', async () => {
    const user = await createUser(testApp);
    const result = await testApp.services.identity.grantRole(user.userId, 'restaurant_owner', {
      kind: 'user',
      userId: user.userId,
    });
    expect(result).toEqual({ roles: ['customer', 'restaurant_owner'], changed: true });
    expect(
      (await testApp.services.identity.grantRole(user.userId, 'restaurant_owner', { kind: 'system' }))
        .changed,
    ).toBe(false);
    const refreshed = (
      await inject('POST', '/v1/auth/refresh', undefined, { refreshToken: user.refreshToken })
    ).json();
    const claims = JSON.parse(Buffer.from(refreshed.accessToken.split('.')[1], 'base64url').toString());
    expect(claims.perms).toContain('RESTAURANT_MANAGEMENT');
    expect(await auditActions(user.userId)).toContain('role.granted');
  });

  it('rotates the signing key: old tokens still verify, new ones carry the new kid', async () => {
    const admin = await createUser(testApp, { roles: ['admin'] });
    const before = await createUser(testApp);
    const refused = await inject('POST', '/v1/admin/security/signing-keys/rotate', admin.accessToken);
    expect(refused.json().code).toBe('step_up_required');
    const rotated = await inject(
      'POST',
      '/v1/admin/security/signing-keys/rotate',
      await withStepUp(testApp, admin),
    );
    expect(rotated.statusCode).toBe(200);
    const { kid } = rotated.json();
    expect((await inject('GET', '/v1/me', before.accessToken)).statusCode).toBe(200);
    const after = await createUser(testApp);
    expect(JSON.parse(Buffer.from(after.accessToken.split('.')[0]!, 'base64url').toString()).kid).toBe(kid);
    const kids = (await inject('GET', '/.well-known/jwks.json'))
      .json()
      .keys.map((key: { kid: string }) => key.kid);
    expect(kids).toContain(kid);
    expect(kids.length).toBeGreaterThanOrEqual(2);
  });
});

describe('profile, addresses, sessions and GDPR', () => {
  it('edits the profile, keeps addresses and preferences, lists and ends sessions', async () => {
    const user = await createUser(testApp);
    expect(
      (
        await inject('PATCH', '/v1/me', user.accessToken, { name: 'Ekané', email: 'ekane@example.cm' })
      ).json(),
    ).toMatchObject({ name: 'Ekané', email: 'ekane@example.cm', emailVerified: false });
    const address = await inject('POST', '/v1/me/addresses', user.accessToken, {
      label: 'Home',
      line1: 'Rue 1.234',
      city: 'Douala',
      landmark: 'behind the pharmacy',
      isDefault: true,
    });
    expect(address.statusCode).toBe(201);
    const second = await inject('POST', '/v1/me/addresses', user.accessToken, {
      label: 'Work',
      line1: 'Bd de la Liberté',
      city: 'Douala',
      isDefault: true,
    });
    const list = (await inject('GET', '/v1/me/addresses', user.accessToken)).json().items;
    expect(
      list.filter((item: { isDefault: boolean }) => item.isDefault).map((item: { id: string }) => item.id),
    ).toEqual([second.json().id]);
    const other = await createUser(testApp);
    expect(
      (await inject('DELETE', `/v1/me/addresses/${address.json().id}`, other.accessToken)).statusCode,
    ).toBe(404);
    expect(
      (await inject('DELETE', `/v1/me/addresses/${address.json().id}`, user.accessToken)).statusCode,
    ).toBe(204);

    const preferences = (await inject('GET', '/v1/me/notification-preferences', user.accessToken)).json();
    preferences.promotions.sms = true;
    expect(
      (await inject('PUT', '/v1/me/notification-preferences', user.accessToken, preferences)).json()
        .promotions.sms,
    ).toBe(true);

    const secondSession = (await login(testApp, { phone: user.phone, password: user.password })).json();
    const sessions = (await inject('GET', '/v1/me/sessions', user.accessToken)).json().items;
    expect(sessions).toHaveLength(2);
    expect(
      (await inject('DELETE', `/v1/me/sessions/${secondSession.sessionId}`, user.accessToken)).statusCode,
    ).toBe(204);
    expect((await inject('GET', '/v1/me', secondSession.accessToken)).statusCode).toBe(401);
    expect((await inject('DELETE', `/v1/me/sessions/${user.sessionId}`, other.accessToken)).statusCode).toBe(
      404,
    );
  });

  it('exports everything held about me, then erases it and calls the event store', async () => {
    const user = await createUser(testApp, { email: 'gdpr@example.cm' });
    await inject('POST', '/v1/me/addresses', user.accessToken, {
      label: 'Home',
      line1: 'Rue Njo-Njo',
      city: 'Douala',
    });
    const exported = await inject('GET', '/v1/me/export', user.accessToken);
    expect(exported.statusCode).toBe(200);
    const data = exported.json();
    expect(data.account.phone).toBe(user.phone);
    expect(data.addresses).toHaveLength(1);
    expect(data.sessions.length).toBeGreaterThan(0);

    const erased: string[] = [];
    testApp.services.identity.privacy.registerContributor({
      name: 'test-context',
      erase: async (userId) => void erased.push(userId),
    });
    expect((await inject('DELETE', '/v1/me', user.accessToken, {})).json().code).toBe('password_required');
    expect((await inject('DELETE', '/v1/me', user.accessToken, { password: user.password })).statusCode).toBe(
      204,
    );
    expect(erased).toEqual([user.userId]);
    const row = await db()
      .selectFrom('users')
      .selectAll()
      .where('id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      phone: null,
      email: null,
      name: null,
      password_hash: null,
      status: 'deleted',
    });
    expect(
      await db().selectFrom('user_addresses').select('id').where('user_id', '=', user.userId).execute(),
    ).toHaveLength(0);
    const erasure = await db()
      .selectFrom('audit_logs')
      .selectAll()
      .where('action', '=', 'account.erased')
      .where('subject_user_id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(erasure.new_value).toEqual({
      erasedBy: [
        'notifications',
        'catalog',
        'loyalty',
        'recommendations',
        'admin',
        'payments',
        'orders',
        'files',
        'notify',
        'dispatch',
        'support',
        'ussd',
        'community',
        'eventstore',
        'test-context',
      ],
    });
    expect((await inject('GET', '/v1/me', user.accessToken)).statusCode).toBe(401);
    expect((await login(testApp, { phone: user.phone, password: user.password })).statusCode).toBe(401);
    // The audit log is append-only, even for erasure.
    await expect(
      db().deleteFrom('audit_logs').where('subject_user_id', '=', user.userId).execute(),
    ).rejects.toThrow('append-only');
    const masked = JSON.stringify(
      await db()
        .selectFrom('audit_logs')
        .select(['old_value', 'new_value'])
        .where('subject_user_id', '=', user.userId)
        .execute(),
    );
    expect(masked).not.toContain(user.phone);
  });
});

describe('request signing', () => {
  it('admits a signed job callback once and refuses replays, stale and forged signatures', async () => {
    const client = await testApp.services.identity.signatures.createClient('jobs', ['identity.purge']);
    const path = '/v1/internal/identity/purge';
    const body = '{}';
    const signed = signRequest({ keyId: client.keyId, secret: client.secret, method: 'POST', path, body });
    const send = (headers: Record<string, string>, payload = body) =>
      testApp.app.inject({
        method: 'POST',
        url: path,
        headers: { ...headers, 'content-type': 'application/json' },
        payload,
      });
    const first = await send(signed);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toHaveProperty('refreshTokens');
    expect((await send(signed)).json().code).toBe('signature_replayed');
    expect(
      (
        await send(
          signRequest({ keyId: client.keyId, secret: client.secret, method: 'POST', path, body }),
          '{ }',
        )
      ).json().code,
    ).toBe('signature_invalid');
    const stale = signRequest({
      keyId: client.keyId,
      secret: client.secret,
      method: 'POST',
      path,
      body,
      timestampMs: Date.now() - 600_000,
    });
    expect((await send(stale)).json().code).toBe('signature_expired');
    expect(
      (
        await send(signRequest({ keyId: client.keyId, secret: 'not-the-secret', method: 'POST', path, body }))
      ).json().code,
    ).toBe('signature_invalid');
    expect((await send({})).json().code).toBe('signature_missing');
  });
});
