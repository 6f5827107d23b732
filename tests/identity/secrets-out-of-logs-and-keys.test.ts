import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_ENV, createUser, login, randomPhone } from '../helpers/auth.js';

/**
 * Issue 15, item 11: tokens in query strings never reach the request log (the WebSocket upgrade
 * carries `?access_token=`), Redis keys never hold a phone number in clear, and the auth tier
 * counts a number once however it is spelled.
 */
let testApp: TestApp;
let baseUrl: string;
beforeAll(async () => {
  testApp = await createTestApp({
    env: { ...AUTH_TEST_ENV, RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_AUTH_MAX: '5' },
  });
  baseUrl = await testApp.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await testApp?.close();
});

function openSocket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

describe('the request log', () => {
  it('masks the access token of a WebSocket upgrade and every token-like query parameter', async () => {
    const user = await createUser(testApp);
    const socket = await openSocket(
      `${baseUrl.replace('http', 'ws')}/ws/customer?access_token=${encodeURIComponent(user.accessToken)}`,
    );
    socket.close();
    const secrets = {
      access_token: 'at-1d8f7c6e5b4a39281706f5e4d3c2b1a0',
      refresh_token: 'rt_9f8e7d6c5b4a39281706f5e4d3c2b1a0',
      id_token: 'idt-5b4a39281706f5e4d3c2b1a09f8e7d6c',
      signature: 'sig-81706f5e4d3c2b1a09f8e7d6c5b4a392',
      otp: '493817',
      code: '771204',
      apiKey: 'key-3c2b1a09f8e7d6c5b4a39281706f5e4d',
      password: 'Mbappe-Hunter-2207!',
    };
    await testApp.app.inject({ method: 'GET', url: `/v1/me?${new URLSearchParams(secrets)}` });
    await testApp.app.inject({ method: 'GET', url: `/health/live?${new URLSearchParams(secrets)}` });
    await new Promise((resolve) => setTimeout(resolve, 50));

    const text = JSON.stringify(testApp.logs);
    const upgrade = testApp.logs.find((line) =>
      String((line.req as { url?: string } | undefined)?.url ?? '').startsWith('/ws/customer'),
    );
    expect(upgrade, 'the upgrade request is logged').toBeDefined();
    expect(text).not.toContain(user.accessToken);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
    for (const value of Object.values(secrets)) expect(text).not.toContain(value);
    expect(text).toContain('access_token=%5Bredacted%5D');
  });
});

describe('Redis keys', () => {
  it('hold no phone number in clear: rate limits, SMS budgets, lockouts', async () => {
    const phone = randomPhone();
    const national = phone.slice(4);
    const post = (url: string, payload: object) => testApp.app.inject({ method: 'POST', url, payload });
    expect((await login(testApp, { phone, password: 'Wrong-Password-77!' })).statusCode).toBe(401);
    expect((await post('/v1/auth/guest', { phone })).statusCode).toBe(202);
    expect((await post('/v1/auth/password/forgot', { phone })).statusCode).toBe(202);
    expect(
      (await post('/v1/auth/register', { phone: randomPhone(), password: 'Mont-Febe-7731!', name: 'Ewane' }))
        .statusCode,
    ).toBe(202);

    const redis = testApp.services.runtime.redis!;
    const prefix = testApp.services.runtime.config.REDIS_KEY_PREFIX;
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    for (const key of keys) {
      expect(key).not.toContain(national);
      expect(key).not.toContain(national.slice(-8));
      expect(key).not.toContain('127.0.0.1');
    }
    // The keys that count this number exist (under their hashes).
    expect(keys.filter((key) => /auth:(login|guest|password-forgot):/.test(key))).toHaveLength(3);
    expect(keys.some((key) => key.includes('sms:n:'))).toBe(true);
  });
});

describe('the auth tier', () => {
  it('keys a phone number in E.164: four spellings of one number share one budget', async () => {
    const digits = randomPhone().slice(4); // 6XXXXXXXX
    const spaced = `${digits.slice(0, 1)} ${digits.slice(1, 3)} ${digits.slice(3, 5)} ${digits.slice(5, 7)} ${digits.slice(7)}`;
    const spellings = [
      `+237 ${spaced}`,
      `00237${digits}`,
      `237${digits}`,
      `(${digits.slice(0, 3)}) ${digits.slice(3)}`,
    ];
    const statuses: number[] = [];
    for (const spelling of [...spellings, ...spellings]) {
      const response = await testApp.app.inject({
        method: 'POST',
        url: '/v1/auth/password/forgot',
        payload: { phone: spelling },
      });
      statuses.push(response.statusCode);
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429]);
  });
});
