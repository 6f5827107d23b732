import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisKeyValue } from '../../src/modules/identity/kv.js';
import { createRevocations, REVOCATION_LOADED_KEY } from '../../src/modules/identity/revocations.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_ENV, authHeader, createUser, outboxFor, type CreatedUser } from '../helpers/auth.js';

/**
 * Issue 15, item 10: a revoked access token stays revoked when Redis loses its data. Each case
 * revokes a token the app has already verified (and so remembers), empties Redis as a restart
 * without persistence or a FLUSHALL would, and presents the token again.
 */
let testApp: TestApp;
beforeAll(async () => {
  testApp = await createTestApp({ env: AUTH_TEST_ENV });
});
afterAll(async () => {
  await testApp?.close();
});

/**
 * What FLUSHALL does to this app: every key under its prefix is gone. (A real FLUSHALL would also
 * empty the Redis of the other test files running at the same time.)
 */
async function emptyRedis(app: TestApp = testApp): Promise<void> {
  const redis = app.services.runtime.redis!;
  const prefix = app.services.runtime.config.REDIS_KEY_PREFIX;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
  expect(await redis.keys(`${prefix}*`)).toEqual([]);
}

const me = (token: string, app: TestApp = testApp) =>
  app.app.inject({ method: 'GET', url: '/v1/me', headers: authHeader(token) });

async function expectRevokedAfterFlush(user: CreatedUser): Promise<void> {
  expect((await me(user.accessToken)).statusCode).toBe(401);
  await emptyRedis();
  const response = await me(user.accessToken);
  expect(response.statusCode).toBe(401);
  expect(response.json().code).toBe('token_revoked');
}

async function adminAction(method: 'POST' | 'PUT', url: string, payload: object) {
  const admin = await createUser(testApp, { roles: ['admin'] });
  const response = await testApp.app.inject({ method, url, payload, headers: authHeader(admin.accessToken) });
  expect(response.statusCode, response.body).toBe(200);
}

describe('revocation survives Redis losing its data', () => {
  it('logout', async () => {
    const user = await createUser(testApp);
    expect((await me(user.accessToken)).statusCode).toBe(200);
    const logout = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: authHeader(user.accessToken),
    });
    expect(logout.statusCode).toBe(204);
    await expectRevokedAfterFlush(user);
  });

  it('suspension', async () => {
    const user = await createUser(testApp);
    expect((await me(user.accessToken)).statusCode).toBe(200);
    await adminAction('POST', `/v1/admin/users/${user.userId}/suspend`, { reason: 'fraud report' });
    await expectRevokedAfterFlush(user);
  });

  it('role removal', async () => {
    const user = await createUser(testApp, { roles: ['customer', 'driver'] });
    expect((await me(user.accessToken)).statusCode).toBe(200);
    await adminAction('PUT', `/v1/admin/users/${user.userId}/roles`, { roles: ['customer'] });
    await expectRevokedAfterFlush(user);
  });

  it('password reset', async () => {
    const user = await createUser(testApp);
    expect((await me(user.accessToken)).statusCode).toBe(200);
    const forgot = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/password/forgot',
      payload: { phone: user.phone },
    });
    expect(forgot.statusCode).toBe(202);
    const link = (await outboxFor(testApp, user.phone))[0]!.body;
    const token = /token=([A-Za-z0-9_-]+)/.exec(link)![1]!;
    const reset = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/password/reset',
      payload: { token, newPassword: 'Kribi-Beach-Sunset-93!' },
    });
    expect(reset.statusCode).toBe(204);
    await expectRevokedAfterFlush(user);
  });

  it('account deletion', async () => {
    const user = await createUser(testApp);
    expect((await me(user.accessToken)).statusCode).toBe(200);
    const erased = await testApp.app.inject({
      method: 'DELETE',
      url: '/v1/me',
      payload: { password: user.password },
      headers: authHeader(user.accessToken),
    });
    expect(erased.statusCode).toBe(204);
    await expectRevokedAfterFlush(user);
  });

  it('keeps live tokens working, and reloads the marks into Redis', async () => {
    const live = await createUser(testApp);
    const ended = await createUser(testApp);
    await testApp.services.identity.sessions.end(ended.sessionId, 'logout');
    await emptyRedis();
    expect((await me(live.accessToken)).statusCode).toBe(200);
    expect((await me(ended.accessToken)).statusCode).toBe(401);
    const redis = testApp.services.runtime.redis!;
    const prefix = `${testApp.services.runtime.config.REDIS_KEY_PREFIX}id:`;
    // Reloads start from requests that find the copy cold, at most one per process every 5 s.
    await expect
      .poll(
        async () => {
          await me(live.accessToken);
          return redis.exists(`${prefix}${REVOCATION_LOADED_KEY}`);
        },
        { timeout: 15_000, interval: 500 },
      )
      .toBe(1);
    expect(await redis.exists(`${prefix}sr:${ended.sessionId}`)).toBe(1);
    // Warm again: answered from the marks.
    expect((await me(ended.accessToken)).statusCode).toBe(401);
    expect((await me(live.accessToken)).statusCode).toBe(200);
  });
});

describe('a reload of the copy', () => {
  it('that straddles a FLUSHALL does not mark as loaded a copy missing the revocations in between', async () => {
    const { identity, runtime } = testApp.services;
    const prefix = `${runtime.config.REDIS_KEY_PREFIX}straddle:`;
    const kv = createRedisKeyValue(runtime.redis!, prefix);
    let release: () => void = () => undefined;
    const readDone = new Promise<void>((resolve) => (release = resolve));
    let written: (outcome: boolean) => void = () => undefined;
    const writeDone = new Promise<boolean>((resolve) => (written = resolve));
    const revocations = createRevocations({
      // The real store and repository; the reload is only held between its read and its write.
      kv: {
        ...kv,
        setManyIfAbsent: async (entries, guard) => {
          const outcome = await kv.setManyIfAbsent(entries, guard);
          written(outcome);
          return outcome;
        },
      },
      repository: {
        ...identity.repository,
        recentRevocations: async (withinMs, limit) => {
          const recent = await identity.repository.recentRevocations(withinMs, limit);
          await readDone;
          return recent;
        },
      },
      markTtlMs: 16 * 60_000,
    });
    const user = await createUser(testApp);
    const claims = { jti: 'straddle-jti', sid: user.sessionId, sub: user.userId, tms: Date.now() };
    expect(await revocations.isRevoked(claims)).toBe(false); // cold: PostgreSQL says live; a reload starts
    await identity.repository.revokeSession(user.sessionId, 'logout');
    await revocations.revokeSession(user.sessionId);
    await emptyRedis();
    release();
    expect(await writeDone).toBe(false);
    expect(await runtime.redis!.exists(`${prefix}${REVOCATION_LOADED_KEY}`)).toBe(0);
    expect(await revocations.isRevoked(claims)).toBe(true);
  });
});

describe('without Redis (in-process store)', () => {
  // Two apps start one after the other (the second is the restarted process): slow on a busy machine.
  it(
    'a restarted process still refuses a token revoked before the restart',
    { timeout: 120_000 },
    async () => {
      const secrets = {
        REDIS_URL: undefined,
        JWT_SECRET: randomBytes(24).toString('hex'),
        JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
        ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        ...AUTH_TEST_ENV,
      };
      const before = await createTestApp({ env: secrets, keepDatabase: true });
      let after: TestApp | undefined;
      try {
        const revoked = await createUser(before);
        const kept = await createUser(before);
        await before.services.identity.admin.setRoles(revoked.userId, [], {
          kind: 'system',
          userId: null,
          ip: null,
          userAgent: null,
        });
        expect((await me(revoked.accessToken, before)).statusCode).toBe(401);
        after = await createTestApp({ env: secrets, database: before.database });
        expect(after.services.identity.kv.kind).toBe('memory');
        expect((await me(revoked.accessToken, after)).statusCode).toBe(401);
        expect((await me(kept.accessToken, after)).statusCode).toBe(200);
      } finally {
        await after?.close();
        await before.close();
        await before.database.drop();
      }
    },
  );
});
