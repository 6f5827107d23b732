import { randomInt } from 'node:crypto';
import { generateSync } from 'otplib';
import type { Role } from '../../src/http/access.js';
import type { TestApp } from './app.js';

/**
 * Users and tokens for integration tests of every context. Users are written through the
 * identity repository (fast: one shared argon2id hash per password), but every token is
 * minted by the real session and token services, so the authentication hook treats them
 * exactly like tokens from POST /v1/auth/login.
 *
 *   const customer = await createUser(testApp, { roles: ['customer'] });
 *   await testApp.app.inject({ method: 'GET', url: '/v1/me', headers: authHeader(customer.accessToken) });
 *
 * Admins get a second factor by default (`twoFactor: true`), since admins without one may
 * only set it up. `withStepUp` returns a token that passes routes with `access.stepUp`.
 */
export const DEFAULT_TEST_PASSWORD = 'Ndole-Plantain-2024!';

/**
 * Environment for apps under test that sign in a lot: the first progressive delay is 1 ms,
 * and load shedding (@fastify/under-pressure) tolerates a starved event loop, since argon2id
 * at 64 MiB on a busy 2-core CI machine must not turn a test's answers into 503s.
 */
export const AUTH_TEST_ENV: Record<string, string> = {
  AUTH_DELAY_BASE_MS: '1',
  MAX_EVENT_LOOP_DELAY_MS: '0',
};

export interface CreatedUser {
  userId: string;
  phone: string;
  password: string;
  roles: Role[];
  sessionId: string;
  accessToken: string;
  refreshToken: string;
  /** The TOTP seed when `twoFactor` was on: `totpCode(user.totpSecret!)` gives a valid code. */
  totpSecret?: string;
  backupCodes?: string[];
}

export interface CreateUserOptions {
  roles?: Role[];
  phone?: string;
  password?: string;
  name?: string;
  email?: string;
  /** Default: true for admins, false otherwise. */
  twoFactor?: boolean;
  status?: 'active' | 'suspended';
}

const hashes = new Map<string, Promise<string>>();

/**
 * A random Cameroonian Mobile Money number: MTN's or Orange's (+23765…, +23767…, +23769…: 30
 * million numbers). The +23768… block is left out: its +237684… numbers are served by no Mobile
 * Money provider (`detectOperator`), so one payout in 40 to a random number was refused (the admin
 * console's browser test drew one). Nexttel's +23766… are left out for the same reason: valid
 * lines, but a payout or a collection to one is refused; a file whose numbers all fell in that
 * block once failed in CI. Tests about Nexttel name their number.
 */
export function randomPhone(): string {
  // From a random start, one after the other: two users of one test never draw the same number
  // (random draws did collide once in CI on the users' unique phone index).
  phoneCursor = (phoneCursor + 1) % 30_000_000;
  const block = [5, 7, 9][Math.floor(phoneCursor / 10_000_000)]!;
  return `+2376${block}${String(phoneCursor % 10_000_000).padStart(7, '0')}`;
}
let phoneCursor = randomInt(0, 30_000_000);

/** A random MTN number (+23767…), for tests about MTN's provider in particular. */
export function randomMtnPhone(): string {
  phoneCursor = (phoneCursor + 1) % 30_000_000;
  return `+23767${String(phoneCursor % 10_000_000).padStart(7, '0')}`;
}

export function authHeader(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** The current TOTP code of a seed. */
export function totpCode(secret: string, atMs = Date.now()): string {
  return generateSync({ secret, epoch: Math.floor(atMs / 1000) });
}

const testContext = { ip: '127.0.0.1', userAgent: 'vitest', requestId: null };

export async function createUser(testApp: TestApp, options: CreateUserOptions = {}): Promise<CreatedUser> {
  const { identity } = testApp.services;
  const roles = options.roles ?? ['customer'];
  const password = options.password ?? DEFAULT_TEST_PASSWORD;
  const phone = options.phone ?? randomPhone();
  if (!hashes.has(password)) hashes.set(password, identity.hasher.hash(password));
  const user = await identity.repository.insertUser({
    phone,
    name: options.name ?? 'Test User',
    email: options.email ?? null,
    passwordHash: await hashes.get(password)!,
    roles,
    status: options.status ?? 'active',
    phoneVerified: true,
  });
  const twoFactor = options.twoFactor ?? roles.includes('admin');
  let totpSecret: string | undefined;
  let backupCodes: string[] | undefined;
  if (twoFactor) {
    const setup = await identity.twoFactor.setup(user.id, phone);
    totpSecret = setup.secret;
    ({ backupCodes } = await identity.twoFactor.enable(user.id, totpCode(setup.secret)));
  }
  const tokens = await identity.sessions.start(user, {
    kind: 'user',
    client: 'mobile',
    twoFactorVerified: twoFactor,
    context: testContext,
  });
  return {
    userId: user.id,
    phone,
    password,
    roles,
    sessionId: tokens.sessionId,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
    ...(totpSecret === undefined ? {} : { totpSecret, backupCodes }),
  };
}

/** A guest session (phone proven by OTP): kind 'guest', the guest role's permissions. */
export async function createGuest(testApp: TestApp, options: { phone?: string } = {}): Promise<CreatedUser> {
  const { identity } = testApp.services;
  const phone = options.phone ?? randomPhone();
  const user = await identity.repository.insertUser({
    phone,
    roles: ['guest'],
    status: 'guest',
    phoneVerified: true,
  });
  const tokens = await identity.sessions.start(user, {
    kind: 'guest',
    client: 'mobile',
    twoFactorVerified: false,
    context: testContext,
  });
  return {
    userId: user.id,
    phone,
    password: '',
    roles: ['guest'],
    sessionId: tokens.sessionId,
    accessToken: tokens.accessToken,
    refreshToken: tokens.refreshToken,
  };
}

/** Another access token for the user's session, marked as confirmed just now (step-up). */
export async function withStepUp(testApp: TestApp, user: Pick<CreatedUser, 'sessionId'>): Promise<string> {
  const { identity } = testApp.services;
  await identity.repository.updateSession(user.sessionId, { step_up_at: new Date() });
  return (await identity.sessions.reissue(user.sessionId)).accessToken;
}

/** Signs in through POST /v1/auth/login, as an app would. */
export async function login(
  testApp: TestApp,
  credentials: { phone: string; password: string; totp?: string; client?: 'web' | 'mobile' },
) {
  return testApp.app.inject({ method: 'POST', url: '/v1/auth/login', payload: credentials });
}

/** Messages the recording outbox holds for a recipient, newest first. */
export async function outboxFor(testApp: TestApp, to: string) {
  const outbox = testApp.services.notifications.outbox;
  if (outbox === undefined) throw new Error('the outbox is off (OUTBOX_ENABLED=false)');
  return outbox.list({ to, limit: 50 });
}

/** The newest 6-digit code sent by SMS to a phone. */
export async function lastOtp(testApp: TestApp, phone: string): Promise<string> {
  for (const message of await outboxFor(testApp, phone)) {
    const match = /\b(\d{6})\b/.exec(message.body);
    if (match !== null) return match[1]!;
  }
  throw new Error('no code was sent to this phone');
}
