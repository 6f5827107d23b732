import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_ENV, authHeader, createUser, login, randomPhone } from '../helpers/auth.js';

/** An app with rate limits on (the default test app turns them off), a tight admin idle timeout and an admin allowlist. */
let limited: TestApp;
let allowlisted: TestApp;
beforeAll(async () => {
  limited = await createTestApp({
    env: {
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_AUTH_MAX: '3',
      ...AUTH_TEST_ENV,
      SESSION_TIMEOUT: '300',
    },
  });
  allowlisted = await createTestApp({ env: { ...AUTH_TEST_ENV, ADMIN_IP_ALLOWLIST: '10.9.8.7' } });
});
afterAll(async () => {
  await limited?.close();
  await allowlisted?.close();
});

describe('rate limits of the auth tier', () => {
  it('limits sign-in attempts per phone number, not for everyone behind the address', async () => {
    const phone = randomPhone();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1)
      statuses.push((await login(limited, { phone, password: 'Whatever-123!' })).statusCode);
    expect(statuses).toEqual([401, 401, 401, 429]);
    const limitedAnswer = await login(limited, { phone, password: 'Whatever-123!' });
    expect(limitedAnswer.json().code).toBe('rate_limited');
    expect(limitedAnswer.headers['retry-after']).toBeDefined();
    // Another number from the same address is still served.
    expect((await login(limited, { phone: randomPhone(), password: 'Whatever-123!' })).statusCode).toBe(401);
  });

  it('limits password-reset requests per phone number', async () => {
    const phone = randomPhone();
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      statuses.push(
        (await limited.app.inject({ method: 'POST', url: '/v1/auth/password/forgot', payload: { phone } }))
          .statusCode,
      );
    }
    expect(statuses).toEqual([202, 202, 202, 429]);
  });
});

describe('per-address limit', () => {
  it('refuses sign-ins from an address after 10 × the auth tier of failures, whatever the numbers', async () => {
    const perIp = await createTestApp({
      env: { ...AUTH_TEST_ENV, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_AUTH_MAX: '1' },
    });
    try {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 11; attempt += 1) {
        statuses.push((await login(perIp, { phone: randomPhone(), password: 'Whatever-123!' })).statusCode);
      }
      expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(statuses[10]).toBe(429);
    } finally {
      await perIp.close();
    }
  });
});

describe('without Redis (in-process fallback)', () => {
  it('still blacklists a logged-out access token and detects refresh-token reuse', async () => {
    const local = await createTestApp({ env: { ...AUTH_TEST_ENV, REDIS_URL: undefined } });
    try {
      expect(local.services.identity.kv.kind).toBe('memory');
      const user = await createUser(local);
      const rotated = await local.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: user.refreshToken },
      });
      expect(rotated.statusCode).toBe(200);
      const reuse = await local.app.inject({
        method: 'POST',
        url: '/v1/auth/refresh',
        payload: { refreshToken: user.refreshToken },
      });
      expect(reuse.json().code).toBe('refresh_token_reused');
      const other = await createUser(local);
      await local.app.inject({
        method: 'POST',
        url: '/v1/auth/logout',
        headers: authHeader(other.accessToken),
      });
      expect(
        (
          await local.app.inject({ method: 'GET', url: '/v1/me', headers: authHeader(other.accessToken) })
        ).json().code,
      ).toBe('token_revoked');
    } finally {
      await local.close();
    }
  });
});

describe('admin gates', () => {
  it('ends an admin session after SESSION_TIMEOUT without activity', async () => {
    const admin = await createUser(limited, { roles: ['admin'] });
    expect(
      (
        await limited.app.inject({
          method: 'GET',
          url: '/v1/admin/users',
          headers: authHeader(admin.accessToken),
        })
      ).statusCode,
    ).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const idle = await limited.app.inject({
      method: 'GET',
      url: '/v1/admin/users',
      headers: authHeader(admin.accessToken),
    });
    expect(idle.statusCode).toBe(401);
    expect(idle.json().code).toBe('session_idle_timeout');
    const refresh = await limited.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      payload: { refreshToken: admin.refreshToken },
    });
    expect(refresh.statusCode).toBe(401);
  });

  it('keeps customers’ sessions regardless of the admin idle timeout', async () => {
    const customer = await createUser(limited);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(
      (await limited.app.inject({ method: 'GET', url: '/v1/me', headers: authHeader(customer.accessToken) }))
        .statusCode,
    ).toBe(200);
  });

  it('answers admin routes only from the allowlisted addresses', async () => {
    const admin = await createUser(allowlisted, { roles: ['admin'] });
    const outside = await allowlisted.app.inject({
      method: 'GET',
      url: '/v1/admin/users',
      headers: authHeader(admin.accessToken),
    });
    expect(outside.statusCode).toBe(403);
    expect(outside.json().code).toBe('ip_not_allowed');
    const inside = await allowlisted.app.inject({
      method: 'GET',
      url: '/v1/admin/users',
      headers: authHeader(admin.accessToken),
      remoteAddress: '10.9.8.7',
    });
    expect(inside.statusCode).toBe(200);
    // Other routes are not affected.
    expect(
      (await allowlisted.app.inject({ method: 'GET', url: '/v1/me', headers: authHeader(admin.accessToken) }))
        .statusCode,
    ).toBe(200);
  });
});
