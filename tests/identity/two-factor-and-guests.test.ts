import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import {
  authHeader,
  createGuest,
  createUser,
  lastOtp,
  login,
  randomPhone,
  totpCode,
  AUTH_TEST_ENV,
} from '../helpers/auth.js';

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

/** A TOTP code for the step after the last one used (codes work once). */
const nextCode = (secret: string, stepsAhead = 1) => totpCode(secret, Date.now() + stepsAhead * 30_000);

describe('two-factor authentication', () => {
  it('codes are RFC 6238 TOTP (SHA-1, 30 s, 6 digits), as authenticator apps compute them', () => {
    // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s gives 94287082 (8 digits).
    expect(totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 59_000)).toBe('287082');
    expect(totpCode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', 1_111_111_109_000)).toBe('081804');
  });

  it('sets up, enables with a code, then requires `totp` at sign-in; backup codes work once', async () => {
    const user = await createUser(testApp);
    const setup = await inject('POST', '/v1/auth/2fa/setup', user.accessToken);
    expect(setup.statusCode).toBe(200);
    const { secret, otpauthUrl } = setup.json();
    expect(otpauthUrl).toMatch(/^otpauth:\/\/totp\//);
    expect(
      (
        await inject('POST', '/v1/auth/2fa/enable', user.accessToken, {
          code: '000000' === totpCode(secret) ? '111111' : '000000',
        })
      ).statusCode,
    ).toBe(400);
    const enabled = await inject('POST', '/v1/auth/2fa/enable', user.accessToken, { code: totpCode(secret) });
    expect(enabled.statusCode).toBe(200);
    const { backupCodes } = enabled.json();
    expect(backupCodes).toHaveLength(10);

    const withoutCode = await login(testApp, { phone: user.phone, password: user.password });
    expect(withoutCode.statusCode).toBe(401);
    expect(withoutCode.json().code).toBe('two_factor_code_required');
    const withCode = await login(testApp, {
      phone: user.phone,
      password: user.password,
      totp: nextCode(secret),
    });
    expect(withCode.statusCode).toBe(200);
    expect(withCode.json().user.twoFactorEnabled).toBe(true);
    // The same code a second time is a replay.
    const replay = await login(testApp, {
      phone: user.phone,
      password: user.password,
      totp: nextCode(secret),
    });
    expect(replay.json().code).toBe('invalid_two_factor_code');
    expect(
      (await login(testApp, { phone: user.phone, password: user.password, totp: backupCodes[0] })).statusCode,
    ).toBe(200);
    expect(
      (await login(testApp, { phone: user.phone, password: user.password, totp: backupCodes[0] })).statusCode,
    ).toBe(401);
  });

  it('disables only with the password and a code', async () => {
    const user = await createUser(testApp, { twoFactor: true });
    const noPassword = await inject('POST', '/v1/auth/2fa/disable', user.accessToken, {
      password: 'Wrong-Pass-123!',
      code: nextCode(user.totpSecret!),
    });
    expect(noPassword.statusCode).toBe(401);
    const ok = await inject('POST', '/v1/auth/2fa/disable', user.accessToken, {
      password: user.password,
      code: user.backupCodes![0]!,
    });
    expect(ok.statusCode).toBe(204);
    expect((await login(testApp, { phone: user.phone, password: user.password })).statusCode).toBe(200);
  });

  it('confines an admin without a second factor to setting one up, then lets it in', async () => {
    const admin = await createUser(testApp, { roles: ['admin'], twoFactor: false });
    const signedIn = await login(testApp, { phone: admin.phone, password: admin.password });
    expect(signedIn.statusCode).toBe(200);
    const token = signedIn.json().accessToken as string;
    const refused = await inject('GET', '/v1/admin/users', token);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('two_factor_required');
    expect((await inject('GET', '/v1/me', token)).json().code).toBe('two_factor_required');
    const { secret } = (await inject('POST', '/v1/auth/2fa/setup', token)).json();
    const enabled = await inject('POST', '/v1/auth/2fa/enable', token, { code: totpCode(secret) });
    expect(enabled.statusCode).toBe(200);
    expect((await inject('GET', '/v1/admin/users', enabled.json().accessToken)).statusCode).toBe(200);
    const disable = await inject('POST', '/v1/auth/2fa/disable', enabled.json().accessToken, {
      password: admin.password,
      code: nextCode(secret),
    });
    expect(disable.json().code).toBe('two_factor_mandatory');
  });

  it('step-up: a sensitive route wants a fresh confirmation, by password without 2FA', async () => {
    const user = await createUser(testApp);
    const newPhone = randomPhone();
    const before = await inject('POST', '/v1/me/phone', user.accessToken, { phone: newPhone });
    expect(before.json().code).toBe('step_up_required');
    const wrong = await inject('POST', '/v1/auth/step-up', user.accessToken, { password: 'Wrong-Pass-123!' });
    expect(wrong.statusCode).toBe(401);
    const stepped = await inject('POST', '/v1/auth/step-up', user.accessToken, { password: user.password });
    expect(stepped.statusCode).toBe(200);
    const token = stepped.json().accessToken as string;
    expect((await inject('POST', '/v1/me/phone', token, { phone: newPhone })).statusCode).toBe(202);
    const code = await lastOtp(testApp, newPhone);
    const changed = await inject('POST', '/v1/me/phone/verify', token, { phone: newPhone, code });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().phone).toBe(newPhone);
  });
});

describe('guest sessions', () => {
  it('a phone proven by SMS gets a guest session that converts to a customer with the same id', async () => {
    const phone = randomPhone();
    expect((await inject('POST', '/v1/auth/guest', undefined, { phone })).statusCode).toBe(202);
    const verified = await inject('POST', '/v1/auth/guest/verify', undefined, {
      phone,
      code: await lastOtp(testApp, phone),
    });
    expect(verified.statusCode).toBe(200);
    const guestToken = verified.json().accessToken as string;
    const me = (await inject('GET', '/v1/me', guestToken)).json();
    expect(me.roles).toEqual(['guest']);
    expect((await inject('GET', '/v1/me/addresses', guestToken)).json().code).toBe('permission_denied');
    const converted = await inject('POST', '/v1/auth/guest/convert', guestToken, {
      password: 'Limbe-Botanic-21!',
      name: 'Mbarga',
    });
    expect(converted.statusCode).toBe(200);
    expect(converted.json().user).toMatchObject({ id: me.id, roles: ['customer'], status: 'active' });
    expect((await inject('GET', '/v1/me', guestToken)).statusCode).toBe(401);
    expect((await login(testApp, { phone, password: 'Limbe-Botanic-21!' })).statusCode).toBe(200);
  });

  it('registering a guest number keeps the guest’s id', async () => {
    const guest = await createGuest(testApp);
    await inject('POST', '/v1/auth/register', undefined, {
      phone: guest.phone,
      password: 'Bafoussam-Hills-5!',
      name: 'Fotso',
    });
    const verified = await inject('POST', '/v1/auth/verify-phone', undefined, {
      phone: guest.phone,
      code: await lastOtp(testApp, guest.phone),
    });
    expect(verified.json().user.id).toBe(guest.userId);
    expect(verified.json().user.roles).toEqual(['customer']);
  });

  it('a guest session on a number with an account cannot delete that account', async () => {
    const user = await createUser(testApp);
    await inject('POST', '/v1/auth/guest', undefined, { phone: user.phone });
    const guest = await inject('POST', '/v1/auth/guest/verify', undefined, {
      phone: user.phone,
      code: await lastOtp(testApp, user.phone),
    });
    const token = guest.json().accessToken as string;
    expect((await inject('DELETE', '/v1/me', token, {})).statusCode).toBe(403);
    expect(
      (
        await inject('POST', '/v1/auth/guest/convert', token, { password: 'Another-Strong-77!', name: 'X' })
      ).json().code,
    ).toBe('account_exists');
    expect((await login(testApp, { phone: user.phone, password: user.password })).statusCode).toBe(200);
  });

  it('registering a number that has an account answers the same and tells the owner instead of sending a code', async () => {
    const user = await createUser(testApp);
    const response = await inject('POST', '/v1/auth/register', undefined, {
      phone: user.phone,
      password: 'Another-Strong-77!',
      name: 'X',
    });
    expect(response.statusCode).toBe(202);
    await expect(lastOtp(testApp, user.phone)).rejects.toThrow('no code');
    expect((await login(testApp, { phone: user.phone, password: user.password })).statusCode).toBe(200);
  });
});
