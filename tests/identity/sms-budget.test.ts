import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import {
  AUTH_TEST_ENV,
  authHeader,
  createUser,
  outboxFor,
  randomPhone,
  withStepUp,
} from '../helpers/auth.js';

/**
 * SMS pumping (issue 15, item 9): every route that sends an SMS on request pays from three hourly
 * budgets, per number, per address and platform-wide, with the spend and the refusals counted in
 * /metrics. The auth-tier rate limiter is off here (the test default), so what refuses is the budget.
 */
const PASSWORD = 'Mont-Febe-7731!';
const LIMITS = {
  SMS_MAX_PER_NUMBER_PER_HOUR: '2',
  SMS_MAX_PER_ADDRESS_PER_HOUR: '4',
  SMS_MAX_PER_HOUR: '50',
};

let counter = 0;
/** A distinct client address per call site (inject's remoteAddress). */
const newAddress = () => `10.20.${Math.floor(counter / 250)}.${(counter++ % 250) + 1}`;

function post(testApp: TestApp, url: string, payload: object, remoteAddress: string, token?: string) {
  return testApp.app.inject({
    method: 'POST',
    url,
    payload,
    remoteAddress,
    ...(token === undefined ? {} : { headers: authHeader(token) }),
  });
}
const guest = (testApp: TestApp, phone: string, address: string) =>
  post(testApp, '/v1/auth/guest', { phone }, address);
const register = (testApp: TestApp, phone: string, address: string) =>
  post(testApp, '/v1/auth/register', { phone, password: PASSWORD, name: 'Ekane' }, address);

async function metric(testApp: TestApp, line: string): Promise<number> {
  const text = (await testApp.app.inject({ method: 'GET', url: '/metrics' })).body;
  const found = text.split('\n').find((candidate) => candidate.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.split(' ')[1]);
}

describe.each([
  { store: 'Redis', env: {} },
  { store: 'in-process', env: { REDIS_URL: undefined } },
])('SMS budgets ($store)', ({ env }) => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await createTestApp({ env: { ...AUTH_TEST_ENV, ...LIMITS, ...env } });
  });
  afterAll(async () => {
    await testApp?.close();
  });

  it('caps what one address gets sent, whatever the numbers and the routes, and counts it', async () => {
    const address = newAddress();
    const sentBefore = await metric(testApp, 'identity_sms_sent_total{route="guest"}');
    for (let index = 0; index < 3; index += 1)
      expect((await guest(testApp, randomPhone(), address)).statusCode).toBe(202);
    expect((await register(testApp, randomPhone(), address)).statusCode).toBe(202);

    const victim = randomPhone();
    const refused = await guest(testApp, victim, address);
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'otp_rate_limited', limit: 'address' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3_000);
    expect(await outboxFor(testApp, victim)).toHaveLength(0);
    // Registration from the same address is refused too: the cap is the address's, not the route's.
    expect((await register(testApp, randomPhone(), address)).statusCode).toBe(429);
    // Another subscriber behind another address is served.
    expect((await guest(testApp, victim, newAddress())).statusCode).toBe(202);

    expect(await metric(testApp, 'identity_sms_sent_total{route="guest"}')).toBe(sentBefore + 4);
    expect(
      await metric(testApp, 'identity_sms_refused_total{route="guest",reason="per_address"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await metric(testApp, 'identity_sms_refused_total{route="register",reason="per_address"}'),
    ).toBeGreaterThanOrEqual(1);
  });

  it('caps what one number receives across routes, and a refused request keeps the pending code', async () => {
    const phone = randomPhone();
    expect((await register(testApp, phone, newAddress())).statusCode).toBe(202);
    expect((await guest(testApp, phone, newAddress())).statusCode).toBe(202);
    const pending = (await outboxFor(testApp, phone))[0]!.body;
    const refused = await guest(testApp, phone, newAddress());
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({ code: 'otp_rate_limited', limit: 'number' });
    expect(await outboxFor(testApp, phone)).toHaveLength(2);
    const code = /\b(\d{6})\b/.exec(pending)![1]!;
    const verified = await post(testApp, '/v1/auth/guest/verify', { phone, code }, newAddress());
    expect(verified.statusCode).toBe(200);
  });

  it('counts the "account exists" notice and reset links, refusing resets silently (always 202)', async () => {
    const user = await createUser(testApp);
    const address = newAddress();
    // A registration of a taken number sends a notice instead of a code: it costs the same.
    expect((await register(testApp, user.phone, address)).statusCode).toBe(202);
    expect((await post(testApp, '/v1/auth/password/forgot', { phone: user.phone }, address)).statusCode).toBe(
      202,
    );
    expect(await outboxFor(testApp, user.phone)).toHaveLength(2);
    const third = await post(testApp, '/v1/auth/password/forgot', { phone: user.phone }, newAddress());
    expect(third.statusCode).toBe(202);
    expect(await outboxFor(testApp, user.phone)).toHaveLength(2);
    expect(
      await metric(testApp, 'identity_sms_refused_total{route="password_reset",reason="per_number"}'),
    ).toBe(1);
    expect(await metric(testApp, 'identity_sms_sent_total{route="password_reset"}')).toBe(1);
    const again = await register(testApp, user.phone, newAddress());
    expect(again.statusCode).toBe(429);
  });

  it('caps the codes of a phone change (step-up route) per address as well', async () => {
    const user = await createUser(testApp);
    const token = await withStepUp(testApp, user);
    const address = newAddress();
    const statuses: number[] = [];
    for (let index = 0; index < 5; index += 1) {
      statuses.push(
        (await post(testApp, '/v1/me/phone', { phone: randomPhone() }, address, token)).statusCode,
      );
    }
    expect(statuses).toEqual([202, 202, 202, 202, 429]);
  });
});

describe('the platform-wide SMS budget', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await createTestApp({ env: { ...AUTH_TEST_ENV, ...LIMITS, SMS_MAX_PER_HOUR: '3' } });
  });
  afterAll(async () => {
    await testApp?.close();
  });

  it('stops every code for the hour once spent, with 503 and Retry-After', async () => {
    for (let index = 0; index < 3; index += 1)
      expect((await guest(testApp, randomPhone(), newAddress())).statusCode).toBe(202);
    const phone = randomPhone();
    const refused = await guest(testApp, phone, newAddress());
    expect(refused.statusCode).toBe(503);
    expect(refused.json().code).toBe('sms_budget_exhausted');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(3_000);
    expect(await outboxFor(testApp, phone)).toHaveLength(0);
    expect(await metric(testApp, 'identity_sms_refused_total{route="guest",reason="global"}')).toBe(1);
  });
});
