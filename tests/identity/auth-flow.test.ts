import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { loadConfig } from '../../src/config/index.js';
import { ownTables } from '../../src/db/own-tables.js';
import { createNotifications, notificationsContext } from '../../src/modules/notifications/index.js';
import type { NotificationTables } from '../../src/modules/notifications/tables.js';
import type { Database } from '../../src/services.js';
import { createTestApp, productionRequirements, testEnvironment, type TestApp } from '../helpers/app.js';
import { authHeader, createUser, lastOtp, login, randomPhone, AUTH_TEST_ENV } from '../helpers/auth.js';
import { Registry } from 'prom-client';

let testApp: TestApp;
beforeAll(async () => {
  testApp = await createTestApp({ env: AUTH_TEST_ENV });
});
afterAll(async () => {
  await testApp?.close();
});

const PASSWORD = 'Kribi-Beach-2025!';

describe('register, verify, login, refresh, logout over HTTP', () => {
  it('registers with an SMS code read from the dev outbox and signs the new customer in', async () => {
    const phone = randomPhone();
    const registered = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/register',
      payload: { phone, password: PASSWORD, name: 'Awa' },
    });
    expect(registered.statusCode).toBe(202);
    const outbox = await testApp.app.inject({
      method: 'GET',
      url: `/v1/dev/outbox?to=${encodeURIComponent(phone)}`,
    });
    expect(outbox.statusCode).toBe(200);
    expect(outbox.json().items[0].channel).toBe('sms');
    const code = await lastOtp(testApp, phone);
    const verified = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/verify-phone',
      payload: { phone, code },
    });
    expect(verified.statusCode).toBe(200);
    const body = verified.json();
    expect(body.user.roles).toEqual(['customer']);
    const me = await testApp.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: authHeader(body.accessToken),
    });
    expect(me.statusCode).toBe(200);
    expect(me.json().phone).toBe(phone);
    expect((await login(testApp, { phone, password: PASSWORD })).statusCode).toBe(200);
  });

  it('rotates the refresh token, and a reused one ends the whole family', async () => {
    const user = await createUser(testApp);
    const first = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(first.statusCode).toBe(200);
    const rotated = first.json();
    expect(rotated.refreshToken).not.toBe(user.refreshToken);
    const reuse = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(reuse.statusCode).toBe(401);
    expect(reuse.json().code).toBe('refresh_token_reused');
    const afterReuse = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: rotated.refreshToken },
    });
    expect(afterReuse.statusCode).toBe(401);
    const me = await testApp.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: authHeader(rotated.accessToken),
    });
    expect(me.statusCode).toBe(401);
    expect(me.json().code).toBe('token_revoked');
  });

  it('logout blacklists the access token and revokes the refresh token', async () => {
    const user = await createUser(testApp);
    const out = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: authHeader(user.accessToken),
    });
    expect(out.statusCode).toBe(204);
    const me = await testApp.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: authHeader(user.accessToken),
    });
    expect(me.statusCode).toBe(401);
    const refresh = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: user.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
  });

  it('web clients get the refresh token as an httpOnly Secure SameSite=Strict cookie', async () => {
    const user = await createUser(testApp);
    const response = await login(testApp, { phone: user.phone, password: user.password, client: 'web' });
    expect(response.statusCode).toBe(200);
    expect(response.json().refreshToken).toBeUndefined();
    const cookie = response.cookies.find((item) => item.name === 'fd_refresh');
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/v1/auth' });
    const refreshed = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      cookies: { fd_refresh: cookie!.value },
    });
    expect(refreshed.statusCode).toBe(200);
  });

  it('serves the JWKS with the key id the tokens carry', async () => {
    const user = await createUser(testApp);
    const jwks = await testApp.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    const header = JSON.parse(Buffer.from(user.accessToken.split('.')[0]!, 'base64url').toString());
    expect(header.alg).toBe('EdDSA');
    expect(jwks.json().keys.map((key: { kid: string }) => key.kid)).toContain(header.kid);
    expect(JSON.stringify(jwks.json())).not.toContain('"d"');
  });
});

describe('the development outbox', () => {
  // Built from the module alone: a whole production app needs every provider's credentials.
  it('does not exist in production', async () => {
    const config = loadConfig(
      testEnvironment({
        NODE_ENV: 'production',
        DATABASE_URL: testApp.database.url,
        ...productionRequirements(),
      }),
    );
    const runtime = { ...testApp.services.runtime, config };
    const db = ownTables<NotificationTables, Database>(testApp.services.db);
    const notifications = createNotifications(runtime, db);
    expect(notifications.outbox).toBeUndefined();
    const app = Fastify();
    // What src/http/metrics.ts decorates every app with; contexts register their figures on it.
    app.decorate('metricsRegistry', new Registry());
    app.addHook('onRoute', (route) => expect(route.url).not.toContain('/dev/'));
    const contribution = await notificationsContext.create(
      { ...testApp.services.platform, runtime, db },
      {},
      {},
    );
    await app.register(async (scope) => contribution.routes?.(scope));
    await app.ready();
    expect((await app.inject({ method: 'GET', url: '/v1/dev/outbox?to=%2B237670000001' })).statusCode).toBe(
      404,
    );
    await app.close();
  });

  it('refuses OUTBOX_ENABLED=true in production', () => {
    expect(() =>
      loadConfig(
        testEnvironment({
          NODE_ENV: 'production',
          OUTBOX_ENABLED: 'true',
          DATABASE_URL: testApp.database.url,
        }),
      ),
    ).toThrow('OUTBOX_ENABLED');
  });
});
