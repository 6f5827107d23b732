import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cookieRequestOrigin } from '../../src/modules/identity/cookie-origin.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { AUTH_TEST_ENV, authHeader, createUser, login } from '../helpers/auth.js';

/**
 * Issue 15, item 13: a request authenticated by the refresh cookie must come from an allowed
 * origin; SameSite=Strict alone protected a bodiless cross-site POST /v1/auth/refresh.
 */
const APP_ORIGIN = 'https://app.example.cm';
let testApp: TestApp;
beforeAll(async () => {
  testApp = await createTestApp({ env: { ...AUTH_TEST_ENV, CORS_ORIGINS: APP_ORIGIN } });
});
afterAll(async () => {
  await testApp?.close();
});

/** A signed-in web client: its refresh cookie. */
async function webSession(): Promise<{ cookie: string; accessToken: string }> {
  const user = await createUser(testApp);
  const response = await login(testApp, { phone: user.phone, password: user.password, client: 'web' });
  expect(response.statusCode, response.body).toBe(200);
  const cookie = response.cookies.find((item) => item.name === 'fd_refresh')!.value;
  return { cookie, accessToken: response.json().accessToken as string };
}

function refresh(cookie: string, headers: Record<string, string>, payload?: object) {
  return testApp.app.inject({
    method: 'POST',
    url: '/v1/auth/refresh',
    cookies: { fd_refresh: cookie },
    headers,
    ...(payload === undefined ? {} : { payload }),
  });
}

describe('POST /v1/auth/refresh with the cookie', () => {
  it('refuses a foreign Origin with 403 origin_not_allowed and leaves the session as it was', async () => {
    const { cookie } = await webSession();
    const forged = await refresh(cookie, { origin: 'https://evil.example' });
    expect(forged.statusCode).toBe(403);
    expect(forged.headers['content-type']).toContain('application/problem+json');
    expect(forged.json().code).toBe('origin_not_allowed');
    expect(forged.cookies.find((item) => item.name === 'fd_refresh')).toBeUndefined();
    // Not rotated: the same cookie still works from the app itself.
    const genuine = await refresh(cookie, { origin: APP_ORIGIN });
    expect(genuine.statusCode, genuine.body).toBe(200);
  });

  it('refuses Origin: null (sandboxed frames, file: pages)', async () => {
    const { cookie } = await webSession();
    expect((await refresh(cookie, { origin: 'null' })).statusCode).toBe(403);
  });

  it('without Origin, decides by Sec-Fetch-Site, then by Referer', async () => {
    const { cookie } = await webSession();
    expect((await refresh(cookie, { 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403);
    expect((await refresh(cookie, { 'sec-fetch-site': 'same-site' })).statusCode).toBe(403);
    expect((await refresh(cookie, { referer: 'https://evil.example/page' })).statusCode).toBe(403);
    expect((await refresh(cookie, { referer: 'not a url' })).statusCode).toBe(403);
    const viaReferer = await refresh(cookie, { referer: `${APP_ORIGIN}/account` });
    expect(viaReferer.statusCode, viaReferer.body).toBe(200);
    const next = viaReferer.cookies.find((item) => item.name === 'fd_refresh')!.value;
    expect((await refresh(next, { 'sec-fetch-site': 'same-origin' })).statusCode).toBe(200);
  });

  it('does not concern a refresh token sent in the body (mobile clients)', async () => {
    const user = await createUser(testApp);
    const response = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/refresh',
      headers: { origin: 'https://evil.example' },
      payload: { refreshToken: user.refreshToken },
    });
    expect(response.statusCode, response.body).toBe(200);
  });
});

describe('POST /v1/auth/logout with the cookie', () => {
  it('refuses a foreign Origin (the session stays), while a bearer token is not affected', async () => {
    const { cookie, accessToken } = await webSession();
    const forged = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      cookies: { fd_refresh: cookie },
      headers: { origin: 'https://evil.example' },
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().code).toBe('origin_not_allowed');
    const me = await testApp.app.inject({ method: 'GET', url: '/v1/me', headers: authHeader(accessToken) });
    expect(me.statusCode).toBe(200);
    const withBearer = await testApp.app.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: { origin: 'https://evil.example', ...authHeader(accessToken) },
    });
    expect(withBearer.statusCode).toBe(204);
  });
});

describe('the verdict', () => {
  it('lets through requests with no browser signal at all, and this service’s own origin', () => {
    expect(cookieRequestOrigin({}, [APP_ORIGIN])).toBe('allowed');
    expect(cookieRequestOrigin({ 'sec-fetch-site': 'none' }, [APP_ORIGIN])).toBe('allowed');
    expect(cookieRequestOrigin({ origin: 'https://app.example.cm.evil.example' }, [APP_ORIGIN])).toBe(
      'refused',
    );
  });
});
