import Type from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createTestApp, testEnvironment, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_ENV, authHeader, createUser, login, randomPhone } from '../helpers/auth.js';

/**
 * The general tier as a real app meets it (issue #16), on the real Redis store: signed-in traffic
 * per user, anonymous traffic per address, a 304 costing a quarter of a request, and the auth and
 * payment tiers keeping the spec's figures (§3.4).
 */
const ANONYMOUS_MAX = 3;
const USER_MAX = 4;
let testApp: TestApp;
beforeAll(async () => {
  testApp = await createTestApp({
    env: {
      ...AUTH_TEST_ENV,
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_MAX_REQUESTS: String(ANONYMOUS_MAX),
      RATE_LIMIT_USER_MAX: String(USER_MAX),
    },
    routes(app) {
      // A cached read as the menu routes answer it: ETag, and 304 to a matching If-None-Match.
      app.get(
        '/v1/test/cached',
        {
          config: { access: { public: true } },
          schema: { response: { 200: Type.Object({ ok: Type.Boolean() }), 304: Type.Null() } },
        },
        async (request, reply) => {
          reply.header('etag', '"v1"');
          if (request.headers['if-none-match'] === '"v1"') return reply.code(304).send();
          return { ok: true };
        },
      );
    },
  });
});
afterAll(async () => testApp?.close());

async function statuses(count: number, request: () => Promise<{ statusCode: number }>): Promise<number[]> {
  const answers: number[] = [];
  for (let index = 0; index < count; index += 1) answers.push((await request()).statusCode);
  return answers;
}

const me = (remoteAddress: string, token?: string) =>
  testApp.app.inject({
    method: 'GET',
    url: '/v1/me',
    remoteAddress,
    ...(token === undefined ? {} : { headers: authHeader(token) }),
  });
const cached = (remoteAddress: string, conditional: boolean) =>
  testApp.app.inject({
    method: 'GET',
    url: '/v1/test/cached',
    remoteAddress,
    headers: conditional ? { 'if-none-match': '"v1"' } : {},
  });

describe('the general tier', () => {
  it('counts signed-in requests per user: two customers behind one address do not share a bucket', async () => {
    const first = await createUser(testApp);
    const second = await createUser(testApp);
    const address = '10.16.0.1';
    expect(await statuses(USER_MAX + 1, () => me(address, first.accessToken))).toEqual([
      ...Array<number>(USER_MAX).fill(200),
      429,
    ]);
    const refused = await me(address, first.accessToken);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ status: 429, code: 'rate_limited', limit: USER_MAX });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // The second customer, same address, has a whole allowance of their own.
    expect(await statuses(USER_MAX, () => me(address, second.accessToken))).toEqual(
      Array<number>(USER_MAX).fill(200),
    );
    // The first one, from another address, is still the same user: still refused.
    expect((await me('10.16.0.99', first.accessToken)).statusCode).toBe(429);
  });

  it('counts anonymous requests per address, and a signed-in user never spends the address', async () => {
    const address = '10.16.1.1';
    const user = await createUser(testApp);
    expect(await statuses(2, () => me(address, user.accessToken))).toEqual([200, 200]);
    expect(await statuses(ANONYMOUS_MAX + 1, () => cached(address, false))).toEqual([
      ...Array<number>(ANONYMOUS_MAX).fill(200),
      429,
    ]);
    // Another address is served; the signed-in user at the exhausted address too.
    expect((await cached('10.16.1.2', false)).statusCode).toBe(200);
    expect((await me(address, user.accessToken)).statusCode).toBe(200);
  });

  it('counts refused (401) and bad-token requests against the address', async () => {
    const address = '10.16.2.1';
    expect(await statuses(2, () => me(address))).toEqual([401, 401]);
    expect((await me(address, 'not.a.token')).statusCode).toBe(401);
    expect((await me(address)).statusCode).toBe(429);
  });

  it('counts IPv6 clients per /64: one subscriber prefix is one address', async () => {
    expect(await statuses(2, () => cached('2001:db8:16:1::1', false))).toEqual([200, 200]);
    expect(await statuses(2, () => cached('2001:db8:16:1::2', false))).toEqual([200, 429]);
    expect((await cached('2001:db8:16:2::1', false)).statusCode).toBe(200);
  });

  it('lets a 304 cost a quarter of a request', async () => {
    // 3 requests = 12 units; each 304 keeps 1: eight 304s leave 8 units, the ninth arrives at 12.
    expect(await statuses(10, () => cached('10.16.3.1', true))).toEqual([...Array<number>(9).fill(304), 429]);
    // Full answers still cost a whole request each.
    expect(await statuses(ANONYMOUS_MAX + 1, () => cached('10.16.3.2', false))).toEqual([
      ...Array<number>(ANONYMOUS_MAX).fill(200),
      429,
    ]);
    // A conditional request that does not match is a full answer and costs a whole request.
    const mixed = await statuses(ANONYMOUS_MAX + 1, () =>
      testApp.app.inject({
        method: 'GET',
        url: '/v1/test/cached',
        remoteAddress: '10.16.3.3',
        headers: { 'if-none-match': '"stale"' },
      }),
    );
    expect(mixed).toEqual([...Array<number>(ANONYMOUS_MAX).fill(200), 429]);
  });

  it('keeps no client address in clear in Redis', async () => {
    const { redis, config } = testApp.services.runtime;
    const keys = await redis!.keys(`${config.REDIS_KEY_PREFIX}rl:*`);
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).not.toMatch(/10\.16\.|2001:db8/);
  });
});

describe('the tiers that protect something keep the spec figures', () => {
  it('defaults: auth 5 per 15 minutes, payment 3 per 5 minutes; general per user and per address', () => {
    const config = loadConfig(testEnvironment());
    expect([config.RATE_LIMIT_AUTH_MAX, config.RATE_LIMIT_AUTH_WINDOW_MS]).toEqual([5, 900_000]);
    expect([config.RATE_LIMIT_PAYMENT_MAX, config.RATE_LIMIT_PAYMENT_WINDOW_MS]).toEqual([3, 300_000]);
    expect(config.RATE_LIMIT_WINDOW_MS).toBe(900_000);
    expect(config.RATE_LIMIT_USER_MAX).toBeGreaterThan(100);
    expect(config.RATE_LIMIT_MAX_REQUESTS).toBeGreaterThan(config.RATE_LIMIT_USER_MAX);
  });

  it('the auth tier is its own: a sixth sign-in for one number is 429 while the general tier has room', async () => {
    const phone = randomPhone();
    const answers = await statuses(6, () => login(testApp, { phone, password: 'Whatever-123!' }));
    expect(answers).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('the payment tier is its own: a fourth top-up in the window is 429 for a user with general room', async () => {
    const user = await createUser(testApp);
    const topUp = (index: number) =>
      testApp.app.inject({
        method: 'POST',
        url: '/v1/wallet/topups',
        remoteAddress: '10.16.4.1',
        headers: {
          ...authHeader(user.accessToken),
          'idempotency-key': `rate-limit-topup-${user.userId}-${index}`,
        },
        payload: { amountMinor: 1_000, phone: '+237670000016' },
      });
    const answers: number[] = [];
    for (let index = 0; index < 4; index += 1) answers.push((await topUp(index)).statusCode);
    expect(answers.slice(0, 3).every((status) => status !== 429)).toBe(true);
    expect(answers[3]).toBe(429);
    expect((await me('10.16.4.1', user.accessToken)).statusCode).toBe(200);
  });
});

describe('tiers changed at run time by an admin (issue #23)', () => {
  // Admins are users: each gets a fresh allowance of their own for the few calls it makes.
  const setLimits = async (limits: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const admin = await createUser(testApp, { roles: ['admin'] });
    return testApp.app.inject({
      method: 'PUT',
      url: '/v1/admin/rate-limits',
      remoteAddress: '10.23.0.1',
      headers: authHeader(admin.accessToken),
      payload: { limits, ...extra },
    });
  };
  const tierOf = (body: { tiers: { tier: string }[] }, tier: string) =>
    body.tiers.find((line) => line.tier === tier);

  it('a lower user maximum applies at once; null goes back to the configured figure; audited', async () => {
    const set = await setLimits({ user: 2 });
    expect(set.statusCode, set.body).toBe(200);
    expect(tierOf(set.json(), 'user')).toMatchObject({ configuredMax: USER_MAX, overrideMax: 2, max: 2 });
    const customer = await createUser(testApp);
    expect(await statuses(3, () => me('10.23.1.1', customer.accessToken))).toEqual([200, 200, 429]);
    expect((await me('10.23.1.1', customer.accessToken)).json()).toMatchObject({
      code: 'rate_limited',
      limit: 2,
    });

    const reset = await setLimits({ user: null, anonymous: 1 });
    expect(reset.statusCode, reset.body).toBe(200);
    expect(tierOf(reset.json(), 'user')).toMatchObject({ overrideMax: null, max: USER_MAX });
    const another = await createUser(testApp);
    expect(await statuses(USER_MAX + 1, () => me('10.23.1.2', another.accessToken))).toEqual([
      ...Array<number>(USER_MAX).fill(200),
      429,
    ]);
    expect(await statuses(2, () => cached('10.23.1.3', false))).toEqual([200, 429]);
    expect((await setLimits({ anonymous: null })).statusCode).toBe(200);
    expect(await statuses(ANONYMOUS_MAX, () => cached('10.23.1.4', false))).toEqual(
      Array<number>(ANONYMOUS_MAX).fill(200),
    );
    const audited = await testApp.services.db
      .selectFrom('audit_logs')
      .select(['old_value', 'new_value'])
      .where('action', '=', 'admin.rate_limits_changed')
      .orderBy('id')
      .execute();
    expect(audited.map((line) => line.new_value)).toEqual([{ user: 2 }, { anonymous: 1 }, {}]);
  });

  it('the auth tier follows its override', async () => {
    expect((await setLimits({ auth: 2 })).statusCode).toBe(200);
    const phone = randomPhone();
    expect(await statuses(3, () => login(testApp, { phone, password: 'Whatever-123!' }))).toEqual([
      401, 401, 429,
    ]);
    expect((await setLimits({ auth: null })).statusCode).toBe(200);
  });

  it('the payment tier follows its override too', async () => {
    expect((await setLimits({ payment: 1 })).statusCode).toBe(200);
    const user = await createUser(testApp);
    const topUp = (index: number) =>
      testApp.app.inject({
        method: 'POST',
        url: '/v1/wallet/topups',
        remoteAddress: '10.23.2.1',
        headers: {
          ...authHeader(user.accessToken),
          'idempotency-key': `rl-override-${user.userId}-${index}`,
        },
        payload: { amountMinor: 1_000, phone: '+237670000023' },
      });
    expect((await topUp(0)).statusCode).not.toBe(429);
    expect((await topUp(1)).statusCode).toBe(429);
    expect((await setLimits({ payment: null })).statusCode).toBe(200);
  });

  it('refuses bad bodies, unknown tiers, stale versions and non-admins, changing nothing', async () => {
    const admin = await createUser(testApp, { roles: ['admin'] });
    const before = (
      await testApp.app.inject({
        method: 'GET',
        url: '/v1/admin/rate-limits',
        headers: authHeader(admin.accessToken),
      })
    ).json();
    expect(before.tiers.map((line: { tier: string }) => line.tier)).toEqual([
      'anonymous',
      'user',
      'auth',
      'payment',
    ]);
    for (const limits of [
      { user: 0 },
      { user: -1 },
      { user: 1.5 },
      { user: '5' },
      { user: 2_000_000 },
      { vip: 5 },
      {},
    ])
      expect((await setLimits(limits)).statusCode, JSON.stringify(limits)).toBe(400);
    expect((await setLimits({ user: 5 }, { expectedVersion: before.version + 7 })).statusCode).toBe(409);
    const customer = await createUser(testApp);
    const refused = await testApp.app.inject({
      method: 'PUT',
      url: '/v1/admin/rate-limits',
      headers: authHeader(customer.accessToken),
      payload: { limits: { user: 1 } },
    });
    expect(refused.statusCode).toBe(403);
    expect((await testApp.app.inject({ method: 'GET', url: '/v1/admin/rate-limits' })).statusCode).toBe(401);
    const after = (
      await testApp.app.inject({
        method: 'GET',
        url: '/v1/admin/rate-limits',
        headers: authHeader(admin.accessToken),
      })
    ).json();
    expect(after.version).toBe(before.version);
    expect(after.tiers).toEqual(before.tiers);
  });
});
