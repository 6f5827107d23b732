import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { createTestApp, productionRequirements, testEnvironment, type TestApp } from '../helpers/app.js';
import {
  AUTH_TEST_ENV,
  authHeader,
  createUser,
  lastOtp,
  login,
  randomPhone,
  totpCode,
} from '../helpers/auth.js';
import { startFacebookSimulator, type FacebookSimulator } from '../helpers/facebook-simulator.js';
import { startLocalOpenIdProvider, type LocalOpenIdProvider } from '../helpers/oidc-provider.js';
import { until } from '../integration/payments/helpers.js';

/**
 * Sign-in with Google (issue #26) end to end against a real OpenID provider running locally
 * (oidc-provider: discovery, JWKS, the code flow with PKCE), on the real PostgreSQL and Redis.
 * The test plays the person's browser at the provider and the app that posts the callback.
 */
let google: LocalOpenIdProvider;
let facebook: FacebookSimulator;
let testApp: TestApp;

beforeAll(async () => {
  google = await startLocalOpenIdProvider();
  facebook = await startFacebookSimulator({ redirectUri: google.redirectUri });
  testApp = await createTestApp({
    env: {
      ...AUTH_TEST_ENV,
      GOOGLE_CLIENT_ID: google.clientId,
      GOOGLE_CLIENT_SECRET: google.clientSecret,
      GOOGLE_ISSUER: google.issuer,
      FACEBOOK_CLIENT_ID: facebook.appId,
      FACEBOOK_CLIENT_SECRET: facebook.appSecret,
      FACEBOOK_AUTHORIZATION_URL: `${facebook.baseUrl}/v21.0/dialog/oauth`,
      FACEBOOK_TOKEN_URL: `${facebook.baseUrl}/v21.0/oauth/access_token`,
      FACEBOOK_USERINFO_URL: `${facebook.baseUrl}/v21.0/me?fields=id,name,email`,
      SOCIAL_REDIRECT_URI: google.redirectUri,
    },
  });
}, 120_000);
afterAll(async () => {
  await testApp?.close();
  await google?.close();
  await facebook?.close();
});

const db = () => testApp.services.db;
const post = (url: string, payload: Record<string, unknown>, headers: Record<string, string> = {}) =>
  testApp.app.inject({ method: 'POST', url, payload, headers });

/** A new Google account at the local provider. */
function googleAccount(overrides: { email_verified?: boolean } = {}) {
  const sub = `g-${randomUUID()}`;
  google.accounts.set(sub, {
    sub,
    email: `${sub}@gmail.example`,
    email_verified: overrides.email_verified ?? true,
    name: 'Awa Ngono',
  });
  return sub;
}

/** Start at our API, sign in at the provider as `sub`: the query the provider sends back. */
async function atGoogle(sub: string) {
  const started = await post('/v1/auth/social/google/start', {});
  expect(started.statusCode, started.body).toBe(200);
  const { authorizationUrl } = started.json() as { authorizationUrl: string };
  return google.authorize(authorizationUrl, sub);
}

async function callback(query: Record<string, string>) {
  return post('/v1/auth/social/google/callback', { code: query.code, state: query.state, iss: query.iss });
}

async function ticketFor(sub: string): Promise<string> {
  const answered = await callback(await atGoogle(sub));
  expect(answered.statusCode, answered.body).toBe(202);
  expect(answered.json().status).toBe('phone_required');
  return answered.json().ticket as string;
}

async function counts() {
  const [users, links, audit] = await Promise.all([
    db()
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
    db()
      .selectFrom('social_identities')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
    db()
      .selectFrom('audit_logs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { users: Number(users.n), links: Number(links.n), audit: Number(audit.n) };
}

const linksOf = (userId: string) =>
  db().selectFrom('social_identities').selectAll().where('user_id', '=', userId).execute();

describe('signing up and in with Google', () => {
  it('sends the person to the provider with PKCE (S256), state and nonce kept server-side', async () => {
    const started = await post('/v1/auth/social/google/start', {});
    expect(started.statusCode).toBe(200);
    const url = new URL(started.json().authorizationUrl as string);
    expect(url.origin).toBe(google.issuer);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(url.searchParams.get('nonce')).toMatch(/^[\w-]{20,}$/);
    expect(url.searchParams.get('state')).toBe(started.json().state);
    expect(url.searchParams.get('redirect_uri')).toBe(google.redirectUri);
    expect(url.searchParams.get('scope')).toBe('openid email profile');
    expect(started.headers['cache-control']).toBe('no-store');
  });

  it('signs up a new person only once the phone is proved, then signs them straight in', async () => {
    const sub = googleAccount();
    const ticket = await ticketFor(sub);
    // No account yet, and none before the SMS code.
    const early = await post('/v1/auth/social/complete', { ticket });
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('social_phone_missing');
    const phone = randomPhone();
    const sent = await post('/v1/auth/social/phone', { ticket, phone });
    expect(sent.statusCode, sent.body).toBe(202);
    const wrong = await post('/v1/auth/social/complete', { ticket, code: '000000' });
    expect(wrong.statusCode).toBe(400);
    expect(
      await db().selectFrom('social_identities').selectAll().where('subject', '=', sub).execute(),
    ).toEqual([]);
    const done = await post('/v1/auth/social/complete', { ticket, code: await lastOtp(testApp, phone) });
    expect(done.statusCode, done.body).toBe(200);
    const body = done.json();
    expect(body.status).toBe('signed_in');
    expect(body.user.roles).toEqual(['customer']);
    const me = await testApp.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: authHeader(body.accessToken),
    });
    expect(me.json().phone).toBe(phone);
    expect(me.json().email).toBe(`${sub}@gmail.example`);
    const user = await testApp.services.identity.repository.findUserById(body.user.id);
    expect(user).toMatchObject({ status: 'active', phone_verified: true, password_hash: null });
    // Only the provider's subject is stored: no token, no e-mail.
    const links = await linksOf(body.user.id);
    expect(links.map((link) => ({ provider: link.provider, subject: link.subject }))).toEqual([
      { provider: 'google', subject: sub },
    ]);
    expect(Object.keys(links[0]!).sort()).toEqual(
      ['created_at', 'id', 'last_used_at', 'provider', 'subject', 'user_id'].sort(),
    );
    // The ticket was single-use.
    const again = await post('/v1/auth/social/complete', { ticket, code: '123456' });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('social_ticket_invalid');
    // The next Google sign-in needs no phone.
    const next = await callback(await atGoogle(sub));
    expect(next.statusCode, next.body).toBe(200);
    expect(next.json().user.id).toBe(body.user.id);
    const listed = await testApp.app.inject({
      method: 'GET',
      url: '/v1/me/social-identities',
      headers: authHeader(next.json().accessToken),
    });
    expect(listed.json()).toMatchObject({
      items: [{ provider: 'google' }],
      available: ['google', 'facebook'],
    });
  });

  it('links an existing account only after the person proves its phone with the SMS code', async () => {
    const existing = await createUser(testApp);
    const sub = googleAccount();
    const ticket = await ticketFor(sub);
    expect((await post('/v1/auth/social/phone', { ticket, phone: existing.phone })).statusCode).toBe(202);
    const guessed = await post('/v1/auth/social/complete', { ticket, code: '999999' });
    expect(guessed.statusCode).toBe(400);
    expect(await linksOf(existing.userId)).toEqual([]);
    const done = await post('/v1/auth/social/complete', {
      ticket,
      code: await lastOtp(testApp, existing.phone),
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().user.id).toBe(existing.userId);
    expect((await linksOf(existing.userId)).map((link) => link.subject)).toEqual([sub]);
    const audit = await db()
      .selectFrom('audit_logs')
      .select('action')
      .where('subject_user_id', '=', existing.userId)
      .execute();
    expect(audit.map((line) => line.action)).toContain('social.linked');
    // The password still works, and unlinking keeps it as the way in.
    expect((await login(testApp, { phone: existing.phone, password: existing.password })).statusCode).toBe(
      200,
    );
    const unlinked = await testApp.app.inject({
      method: 'DELETE',
      url: '/v1/me/social-identities/google',
      headers: authHeader(existing.accessToken),
    });
    expect(unlinked.statusCode).toBe(204);
    expect(await linksOf(existing.userId)).toEqual([]);
    const twice = await testApp.app.inject({
      method: 'DELETE',
      url: '/v1/me/social-identities/google',
      headers: authHeader(existing.accessToken),
    });
    expect(twice.statusCode).toBe(404);
    // Unlinked: Google alone no longer signs in.
    expect((await callback(await atGoogle(sub))).json().status).toBe('phone_required');
  });

  it('asks an account with an authenticator for its code after the SMS code, and on each sign-in', async () => {
    const existing = await createUser(testApp, { twoFactor: true });
    const sub = googleAccount();
    const ticket = await ticketFor(sub);
    await post('/v1/auth/social/phone', { ticket, phone: existing.phone });
    const needsTotp = await post('/v1/auth/social/complete', {
      ticket,
      code: await lastOtp(testApp, existing.phone),
    });
    expect(needsTotp.statusCode).toBe(401);
    expect(needsTotp.json().code).toBe('two_factor_code_required');
    expect(await linksOf(existing.userId)).toEqual([]);
    // The code of the next step: enabling the authenticator spent the current one.
    const totp = totpCode(existing.totpSecret!, Date.now() + 30_000);
    const done = await post('/v1/auth/social/complete', { ticket, totp });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json().user.id).toBe(existing.userId);
    const again = await callback(await atGoogle(sub));
    expect(again.statusCode).toBe(202);
    expect(again.json().status).toBe('two_factor_required');
    const wrong = await post('/v1/auth/social/complete', { ticket: again.json().ticket, totp: '000000' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().code).toBe('invalid_two_factor_code');
  });

  it('keeps at least one way to sign in: the only provider of a password-less account stays', async () => {
    const sub = googleAccount();
    const ticket = await ticketFor(sub);
    const phone = randomPhone();
    await post('/v1/auth/social/phone', { ticket, phone });
    const done = await post('/v1/auth/social/complete', { ticket, code: await lastOtp(testApp, phone) });
    const refused = await testApp.app.inject({
      method: 'DELETE',
      url: '/v1/me/social-identities/google',
      headers: authHeader(done.json().accessToken),
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('last_sign_in_method');
    expect(await linksOf(done.json().user.id)).toHaveLength(1);
  });

  it('exports the linked accounts with the person and erases them with the account', async () => {
    const existing = await createUser(testApp);
    const sub = googleAccount();
    const ticket = await ticketFor(sub);
    await post('/v1/auth/social/phone', { ticket, phone: existing.phone });
    await post('/v1/auth/social/complete', { ticket, code: await lastOtp(testApp, existing.phone) });
    const exported = await testApp.app.inject({
      method: 'GET',
      url: '/v1/me/export',
      headers: authHeader(existing.accessToken),
    });
    expect(exported.json().socialIdentities).toMatchObject([{ provider: 'google', subject: sub }]);
    const erased = await testApp.app.inject({
      method: 'DELETE',
      url: '/v1/me',
      headers: authHeader(existing.accessToken),
      payload: { password: existing.password },
    });
    expect(erased.statusCode).toBe(204);
    expect(await linksOf(existing.userId)).toEqual([]);
  });
});

describe('two sign-ups of the same new number at the same moment', () => {
  it('gives the second a 409 (not a 500) and writes nothing for it; starting again links to the new account', async () => {
    const phone = randomPhone();
    const second = googleAccount();
    const ticket = await ticketFor(second);
    await post('/v1/auth/social/phone', { ticket, phone });
    const code = await lastOtp(testApp, phone);
    // The first sign-up is half-way: its transaction created the account and has not committed.
    // The second saw no account for the number, so its insert waits on the unique index.
    let commitFirst!: () => void;
    const firstCommitted = new Promise<void>((resolve) => (commitFirst = resolve));
    let firstUserId = '';
    const firstSignUp = testApp.services.identity.repository.transaction(async (transaction) => {
      const user = await testApp.services.identity.repository.insertUser(
        {
          phone,
          name: 'First',
          email: null,
          passwordHash: null,
          roles: ['customer'],
          status: 'active',
          phoneVerified: true,
        },
        transaction,
      );
      firstUserId = user.id;
      await firstCommitted;
    });
    await until(
      async () => firstUserId,
      (id) => id !== '',
    );
    const before = await counts();
    const completing = post('/v1/auth/social/complete', { ticket, code });
    await until(
      async () => {
        const waiting = await sql<{ n: string }>`
          SELECT count(*) AS n FROM pg_stat_activity
          WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%insert into "users"%'`.execute(
          db(),
        );
        return Number(waiting.rows[0]!.n);
      },
      (n) => n > 0,
      30_000,
    );
    commitFirst();
    await firstSignUp;
    const refused = await completing;
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json().code).toBe('social_account_just_created');
    // Only the first sign-up's account exists; the second left no link and no audit line.
    expect(await counts()).toEqual({ ...before, users: before.users + 1 });
    expect(
      await db().selectFrom('social_identities').selectAll().where('subject', '=', second).execute(),
    ).toEqual([]);
    // Starting again, the proved number links the provider account to the account just created.
    const again = await ticketFor(second);
    await post('/v1/auth/social/phone', { ticket: again, phone });
    const linked = await post('/v1/auth/social/complete', {
      ticket: again,
      code: await lastOtp(testApp, phone),
    });
    expect(linked.statusCode, linked.body).toBe(200);
    expect(linked.json().user.id).toBe(firstUserId);
  });
});

describe('what is refused, with a clear 4xx and nothing changed', () => {
  async function refusedWithoutChange(
    attempt: () => Promise<{ statusCode: number; json(): { code: string } }>,
    status: number,
    code: string,
  ) {
    const before = await counts();
    const answer = await attempt();
    expect(answer.statusCode).toBe(status);
    expect(answer.json().code).toBe(code);
    expect(await counts()).toEqual(before);
  }

  it('a forged state, and a state paired with another flow’s code', async () => {
    const query = await atGoogle(googleAccount());
    await refusedWithoutChange(
      () => callback({ ...query, state: 'forged-state-0123456789abcdefghij' }),
      400,
      'social_state_invalid',
    );
    // A real state of ours, with a code issued for another flow (its PKCE verifier differs).
    const other = await post('/v1/auth/social/google/start', {});
    await refusedWithoutChange(
      () => callback({ ...query, state: other.json().state as string }),
      400,
      'social_code_rejected',
    );
  });

  it('a replayed code: its state is spent, and the provider refuses the code a second time', async () => {
    const query = await atGoogle(googleAccount());
    expect((await callback(query)).statusCode).toBe(202);
    await refusedWithoutChange(() => callback(query), 400, 'social_state_invalid');
    const fresh = await post('/v1/auth/social/google/start', {});
    await refusedWithoutChange(
      () => callback({ ...query, state: fresh.json().state as string }),
      400,
      'social_code_rejected',
    );
  });

  it('an ID token with the wrong nonce', async () => {
    const query = await atGoogle(googleAccount());
    google.tamperIdToken((claims) => ({ ...claims, nonce: 'a-nonce-from-another-sign-in' }));
    await refusedWithoutChange(() => callback(query), 401, 'social_token_invalid');
  });

  it('an ID token issued for another audience', async () => {
    const query = await atGoogle(googleAccount());
    google.tamperIdToken((claims) => ({ ...claims, aud: 'another-client.apps.example' }));
    await refusedWithoutChange(() => callback(query), 401, 'social_token_invalid');
  });

  it('an e-mail the provider has not verified', async () => {
    const query = await atGoogle(googleAccount({ email_verified: false }));
    await refusedWithoutChange(() => callback(query), 403, 'social_email_unverified');
  });

  it('an unknown provider and a made-up ticket', async () => {
    expect((await post('/v1/auth/social/twitter/start', {})).statusCode).toBe(400);
    await refusedWithoutChange(
      () => post('/v1/auth/social/phone', { ticket: 'st_made-up-ticket-0123456789', phone: randomPhone() }),
      400,
      'social_ticket_invalid',
    );
    await refusedWithoutChange(
      () => post('/v1/auth/social/complete', { ticket: 'st_made-up-ticket-0123456789', code: '123456' }),
      400,
      'social_ticket_invalid',
    );
  });
});

describe('signing up and in with Facebook (its OAuth endpoints, behind the same port)', () => {
  function facebookPerson() {
    const id = String(10_000_000_000 + Math.floor(Math.random() * 1e9));
    facebook.people.set(id, { id, name: 'Jean Mbarga', email: `${id}@facebook.example` });
    return id;
  }
  async function atFacebook(id: string) {
    const started = await post('/v1/auth/social/facebook/start', {});
    expect(started.statusCode, started.body).toBe(200);
    return facebook.authorize(started.json().authorizationUrl as string, id);
  }
  const facebookCallback = (query: Record<string, string>) =>
    post('/v1/auth/social/facebook/callback', { code: query.code, state: query.state });

  it('signs up with the phone proved, signs in again, and unlinks only while another way remains', async () => {
    const id = facebookPerson();
    const first = await facebookCallback(await atFacebook(id));
    expect(first.statusCode, first.body).toBe(202);
    const ticket = first.json().ticket as string;
    const phone = randomPhone();
    await post('/v1/auth/social/phone', { ticket, phone });
    const done = await post('/v1/auth/social/complete', { ticket, code: await lastOtp(testApp, phone) });
    expect(done.statusCode, done.body).toBe(200);
    const userId = done.json().user.id as string;
    expect((await linksOf(userId)).map((link) => [link.provider, link.subject])).toEqual([['facebook', id]]);
    const again = await facebookCallback(await atFacebook(id));
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().user.id).toBe(userId);
    // The same person links Google too (their phone again), then may drop either, not both.
    const googleTicket = await ticketFor(googleAccount());
    await post('/v1/auth/social/phone', { ticket: googleTicket, phone });
    const linked = await post('/v1/auth/social/complete', {
      ticket: googleTicket,
      code: await lastOtp(testApp, phone),
    });
    expect(linked.json().user.id).toBe(userId);
    const token = authHeader(linked.json().accessToken as string);
    const dropGoogle = await testApp.app.inject({
      method: 'DELETE',
      url: '/v1/me/social-identities/google',
      headers: token,
    });
    expect(dropGoogle.statusCode).toBe(204);
    const dropFacebook = await testApp.app.inject({
      method: 'DELETE',
      url: '/v1/me/social-identities/facebook',
      headers: token,
    });
    expect(dropFacebook.statusCode).toBe(409);
    expect(dropFacebook.json().code).toBe('last_sign_in_method');
  });

  it('refuses a replayed Facebook code: the state is spent, and Facebook refuses the code again', async () => {
    const query = await atFacebook(facebookPerson());
    expect((await facebookCallback(query)).statusCode).toBe(202);
    const before = await counts();
    const replay = await facebookCallback(query);
    expect(replay.statusCode).toBe(400);
    expect(replay.json().code).toBe('social_state_invalid');
    const fresh = await post('/v1/auth/social/facebook/start', {});
    const withFreshState = await facebookCallback({ ...query, state: fresh.json().state as string });
    expect(withFreshState.statusCode).toBe(400);
    expect(withFreshState.json().code).toBe('social_code_rejected');
    expect(await counts()).toEqual(before);
  });

  it('refuses a Google state at the Facebook callback', async () => {
    const query = await atGoogle(googleAccount());
    const crossed = await facebookCallback(query);
    expect(crossed.statusCode).toBe(400);
    expect(crossed.json().code).toBe('social_state_invalid');
  });
});

describe('the social sign-in configuration', () => {
  const refusal = (environment: NodeJS.ProcessEnv) => {
    try {
      loadConfig(environment);
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  it('refuses a client id without its secret, and plain-http provider URLs in production', () => {
    expect(refusal(testEnvironment({ GOOGLE_CLIENT_ID: 'abc.apps.example' })).variables).toEqual([
      'GOOGLE_CLIENT_SECRET',
    ]);
    const production = testEnvironment({
      ...productionRequirements(),
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://127.0.0.1:1/none',
      GOOGLE_CLIENT_ID: 'abc.apps.example',
      GOOGLE_CLIENT_SECRET: 'google-client-secret-0123456789',
      GOOGLE_ISSUER: 'http://accounts.example',
    });
    expect(refusal(production).variables).toContain('GOOGLE_ISSUER');
    expect(loadConfig({ ...production, GOOGLE_ISSUER: 'https://accounts.google.com' }).GOOGLE_ISSUER).toBe(
      'https://accounts.google.com',
    );
  });
});
