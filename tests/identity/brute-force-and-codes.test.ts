import { userIndexes } from '../../src/modules/identity/repository.js';
import { fieldCipherOf } from '../../src/platform/field-crypto.js';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCKOUT_THRESHOLD } from '../../src/modules/identity/lockout.js';
import { OTP_MAX_ATTEMPTS } from '../../src/modules/identity/otp.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import {
  AUTH_TEST_ENV,
  authHeader,
  createUser,
  lastOtp,
  login,
  outboxFor,
  randomPhone,
} from '../helpers/auth.js';

let testApp: TestApp;
beforeAll(async () => {
  testApp = await createTestApp({ env: { ...AUTH_TEST_ENV, LOG_LEVEL: 'trace' } });
});
afterAll(async () => {
  await testApp?.close();
});

const PASSWORD = 'Mont-Cameroun-4095!';
const post = (url: string, payload: unknown) =>
  testApp.app.inject({ method: 'POST', url, payload: payload as object });
const db = () => testApp.services.db;
/** Every secret the flows below handled; none may reach a log line. */
const secrets: string[] = [PASSWORD];

async function register(phone: string) {
  const response = await post('/v1/auth/register', { phone, password: PASSWORD, name: 'Ngono' });
  expect(response.statusCode).toBe(202);
  const code = await lastOtp(testApp, phone);
  secrets.push(code);
  return code;
}

/** Codes are kept under the phone's keyed blind index (personal data at rest, issue #15). */
const phoneIndex = (phone: string) =>
  userIndexes(fieldCipherOf(testApp.services.runtime.config)).phone(phone);

describe('phone codes', () => {
  it('refuses an expired code and accepts a new one', async () => {
    const phone = randomPhone();
    const code = await register(phone);
    await sql`update phone_verifications set expires_at = now() - interval '1 second' where phone = ${phoneIndex(phone)}`.execute(
      db(),
    );
    const expired = await post('/v1/auth/verify-phone', { phone, code });
    expect(expired.statusCode).toBe(400);
    expect(expired.json().code).toBe('otp_expired');
    const fresh = await register(phone);
    const verified = await post('/v1/auth/verify-phone', { phone, code: fresh });
    expect(verified.statusCode).toBe(200);
    secrets.push(verified.json().accessToken, verified.json().refreshToken);
  });

  it('burns the code after five wrong tries, so even the right code then fails', async () => {
    const phone = randomPhone();
    const code = await register(phone);
    const wrong = code === '000000' ? '111111' : '000000';
    const codes: string[] = [];
    for (let attempt = 1; attempt <= OTP_MAX_ATTEMPTS; attempt += 1) {
      codes.push((await post('/v1/auth/verify-phone', { phone, code: wrong })).json().code);
    }
    expect(codes.slice(0, -1).every((item) => item === 'otp_invalid')).toBe(true);
    expect(codes.at(-1)).toBe('otp_attempts_exceeded');
    const right = await post('/v1/auth/verify-phone', { phone, code });
    expect(right.statusCode).toBe(400);
    const row = await db()
      .selectFrom('phone_verifications')
      .selectAll()
      .where('phone', '=', phoneIndex(phone))
      .executeTakeFirstOrThrow();
    expect(row.phone).not.toContain(phone.slice(4)); // the number's keyed blind index, never the number
    expect(row.code_hash).not.toContain(code);
    expect(row.attempts).toBe(OTP_MAX_ATTEMPTS);
  });
});

describe('sign-in answers', () => {
  it('answers an unknown and a known number the same, with one argon2id verification each', async () => {
    const known = await createUser(testApp, { password: PASSWORD });
    const { hasher } = testApp.services.identity;
    const calls: string[] = [];
    const verify = hasher.verify.bind(hasher);
    const verifyDummy = hasher.verifyDummy.bind(hasher);
    hasher.verify = async (hash, password) => (calls.push('verify'), verify(hash, password));
    hasher.verifyDummy = async (password) => (calls.push('dummy'), verifyDummy(password));
    try {
      const knownAnswer = await login(testApp, { phone: known.phone, password: 'Wrong-Password-1!' });
      const unknownAnswer = await login(testApp, { phone: randomPhone(), password: 'Wrong-Password-1!' });
      expect(calls).toEqual(['verify', 'dummy']);
      for (const answer of [knownAnswer, unknownAnswer]) expect(answer.statusCode).toBe(401);
      const strip = (body: Record<string, unknown>) => ({ ...body, requestId: undefined });
      expect(strip(knownAnswer.json())).toEqual(strip(unknownAnswer.json()));
      expect(Object.keys(knownAnswer.headers).sort()).toEqual(Object.keys(unknownAnswer.headers).sort());
    } finally {
      hasher.verify = verify;
      hasher.verifyDummy = verifyDummy;
    }
  });

  it('locks a known and an unknown number alike after five failures, and releases the lock when it runs out', async () => {
    const user = await createUser(testApp, { password: PASSWORD });
    const unknown = randomPhone();
    for (const phone of [user.phone, unknown]) {
      const statuses: number[] = [];
      for (let attempt = 0; attempt < LOCKOUT_THRESHOLD; attempt += 1) {
        statuses.push((await login(testApp, { phone, password: 'Not-The-Password-9' })).statusCode);
      }
      expect(statuses).toEqual(Array(LOCKOUT_THRESHOLD).fill(401));
      const locked = await login(testApp, { phone, password: PASSWORD });
      expect(locked.statusCode).toBe(429);
      expect(locked.json().code).toBe('account_locked');
      expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    }
    // Time passes: the lock runs out, and the right password works again.
    await db()
      .updateTable('users')
      .set({ locked_until: new Date(Date.now() - 1_000) })
      .where('id', '=', user.userId)
      .execute();
    const released = await login(testApp, { phone: user.phone, password: PASSWORD });
    expect(released.statusCode).toBe(200);
    const row = await db()
      .selectFrom('users')
      .select(['failed_attempts', 'locked_until'])
      .where('id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ failed_attempts: 0, locked_until: null });
    secrets.push(released.json().accessToken, released.json().refreshToken);
  });

  it('records every attempt with a masked identifier', async () => {
    const user = await createUser(testApp, { password: PASSWORD });
    await login(testApp, { phone: user.phone, password: 'Nope-Nope-123' });
    const attempts = await db()
      .selectFrom('login_attempts')
      .selectAll()
      .where('user_id', '=', user.userId)
      .execute();
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.identifier_masked).toBe(`${user.phone.slice(0, 5)}****${user.phone.slice(-4)}`);
    expect(attempts[0]!.identifier_hash).not.toContain(user.phone.slice(1));
  });
});

describe('password reset', () => {
  it('works once within the hour, ends every session, and refuses the same token again', async () => {
    const user = await createUser(testApp, { password: PASSWORD });
    expect((await post('/v1/auth/password/forgot', { phone: user.phone })).statusCode).toBe(202);
    const message = (await outboxFor(testApp, user.phone))[0]!;
    const token = message.metadata.token as string;
    secrets.push(token);
    expect(message.body).toContain(token);
    const stored = await db()
      .selectFrom('password_resets')
      .select(['token_hash', 'expires_at'])
      .where('user_id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toBe(token);
    expect(stored.expires_at.getTime() - Date.now()).toBeLessThanOrEqual(3_600_000);
    const newPassword = 'Waza-Park-Lion-88!';
    secrets.push(newPassword);
    const weak = await post('/v1/auth/password/reset', { token, newPassword: 'password1' });
    expect(weak.json().code).toBe('weak_password');
    expect((await post('/v1/auth/password/reset', { token, newPassword })).statusCode).toBe(204);
    const again = await post('/v1/auth/password/reset', { token, newPassword: 'Another-Strong-77!' });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('invalid_reset_token');
    const old = await testApp.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: authHeader(user.accessToken),
    });
    expect(old.statusCode).toBe(401);
    expect((await login(testApp, { phone: user.phone, password: newPassword })).statusCode).toBe(200);
    expect((await login(testApp, { phone: user.phone, password: PASSWORD })).statusCode).toBe(401);
  });

  it('answers an unknown number like a known one and sends nothing', async () => {
    const phone = randomPhone();
    const response = await post('/v1/auth/password/forgot', { phone });
    expect(response.statusCode).toBe(202);
    expect(await outboxFor(testApp, phone)).toHaveLength(0);
  });
});

describe('logs', () => {
  it('never contain a password, a code or a token handled above', async () => {
    const text = JSON.stringify(testApp.logs);
    expect(testApp.logs.length).toBeGreaterThan(10);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/rt_[A-Za-z0-9_-]{20,}/);
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.eyJ/);
  });
});
