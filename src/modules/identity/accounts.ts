import { identityErrors } from './errors.js';
import type { Role } from '../../shared/principal.js';
import type { SmsSender } from '../notifications/index.js';
import type { AuditFunction } from './audit.js';
import type { BruteForceGuard } from './brute-force.js';
import { keyedHash, opaqueToken } from './crypto.js';
import type { PhoneCodes } from './otp.js';
import { checkPassword, PASSWORD_PROBLEM_TEXT } from './password-policy.js';
import type { PasswordHasher } from './password-hashing.js';
import { maskPhone, normalizePhone } from './phone.js';
import type { IdentityRepository, UserRow } from './repository.js';
import type { SmsBudget } from './sms-budget.js';
import type { ClientKind, IssuedTokens, RequestContext, SessionService } from './sessions.js';
import type { TwoFactor } from './two-factor.js';

/**
 * Account flows: registration with an SMS code, sign-in with brute-force protection and the
 * second factor, guest sessions and their conversion, and password reset. Every answer that
 * could reveal whether a number has an account is the same either way, and costs the same.
 */
export const RESET_TOKEN_TTL_MS = 3_600_000;
export const RESETS_PER_HOUR = 3;

export interface AccountDependencies {
  repository: IdentityRepository;
  hasher: PasswordHasher;
  codes: PhoneCodes;
  sessions: SessionService;
  twoFactor: TwoFactor;
  guard: BruteForceGuard;
  audit: AuditFunction;
  sms: SmsSender;
  budget: SmsBudget;
  hashKey: Buffer;
  publicBaseUrl: string;
  now?: () => number;
}

export interface SignedIn extends IssuedTokens {
  user: UserRow;
}

export function requirePhone(input: string): string {
  const phone = normalizePhone(input);
  if (phone === undefined) {
    throw identityErrors.of(
      'validation',
      'invalid_phone',
      'Give the phone number in E.164, e.g. +237 6XX XX XX XX.',
    );
  }
  return phone;
}

export function assertStrongPassword(password: string, phone: string | null): void {
  const found = checkPassword(password, { phone });
  if (found.length === 0) return;
  throw identityErrors.of('unprocessable', 'weak_password', 'The password does not meet the policy.', {
    details: {
      errors: found.map((code) => ({ path: 'body/password', message: PASSWORD_PROBLEM_TEXT[code], code })),
    },
  });
}

const actorOf = (context: RequestContext, userId?: string | null) => ({
  kind: userId ? ('user' as const) : ('anonymous' as const),
  userId: userId ?? null,
  ip: context.ip,
  userAgent: context.userAgent,
  requestId: context.requestId ?? null,
});

export function createAccounts(deps: AccountDependencies) {
  const { repository, hasher, codes, sessions, twoFactor, guard, audit } = deps;
  const now = deps.now ?? Date.now;
  const identifierHash = (phone: string) => keyedHash(deps.hashKey, 'login', phone);

  async function recordAttempt(
    phone: string,
    user: UserRow | undefined,
    success: boolean,
    reason: string,
    context: RequestContext,
  ) {
    await repository.insertLoginAttempt({
      identifierHash: identifierHash(phone),
      identifierMasked: maskPhone(phone),
      userId: user?.id ?? null,
      ip: context.ip,
      userAgent: context.userAgent,
      success,
      reason,
    });
  }

  async function rejectSignIn(
    phone: string,
    user: UserRow | undefined,
    reason: string,
    context: RequestContext,
    state: Parameters<BruteForceGuard['fail']>[2],
  ) {
    await guard.fail(user, identifierHash(phone), state);
    await guard.countIpFailure(context.ip);
    await recordAttempt(phone, user, false, reason, context);
    if (user !== undefined) {
      await audit({
        action: 'auth.login_failed',
        actor: actorOf(context),
        subjectUserId: user.id,
        resource: `user:${user.id}`,
        newValue: { reason },
      });
    }
  }

  const accounts = {
    async register(
      input: { phone: string; password: string; name: string; email?: string; locale?: string },
      context: RequestContext,
    ): Promise<{ expiresInSeconds: number }> {
      const phone = requirePhone(input.phone);
      assertStrongPassword(input.password, phone);
      // The language of every later message (notifications): the request's, French by default.
      const locale = input.locale?.startsWith('en') === true ? ('en' as const) : ('fr' as const);
      // Either answer below sends one SMS: the budget is spent (or refused) the same way for both.
      await deps.budget.spend('register', phone, context.ip);
      const email = input.email?.trim().toLowerCase();
      // Hash first, whatever the number's state, so every path costs the same.
      const passwordHash = await hasher.hash(input.password);
      const existing = await repository.findUserByPhone(phone);
      if (existing !== undefined && (existing.status === 'active' || existing.status === 'suspended')) {
        // The same answer as a new registration; the owner of the number learns about it.
        await deps.sms.send({
          to: phone,
          body: 'Un compte existe déjà pour ce numéro. Connectez-vous ou réinitialisez votre mot de passe.',
          metadata: { kind: 'account.exists' },
        });
        deps.budget.sent('register');
        return { expiresInSeconds: 300 };
      }
      if (email !== undefined && (await repository.emailTakenByOther(email, existing?.id ?? null))) {
        throw identityErrors.of('conflict', 'email_taken', 'This e-mail address is used by another account.');
      }
      if (existing === undefined) {
        await repository.insertUser({
          phone,
          name: input.name,
          email: email ?? null,
          passwordHash,
          roles: [],
          status: 'pending_verification',
          locale,
        });
      } else {
        // A pending registration or a guest: the person who proves the number with the code wins.
        await repository.updateUser(existing.id, {
          name: input.name,
          email: email ?? null,
          password_hash: passwordHash,
          locale,
        });
      }
      return codes.issue(phone, 'register', { locale: input.locale, ip: context.ip, paid: true });
    },

    async verifyPhone(
      input: { phone: string; code: string; client: ClientKind },
      context: RequestContext,
    ): Promise<SignedIn> {
      const phone = requirePhone(input.phone);
      await codes.verify(phone, 'register', input.code);
      const user = await repository.findUserByPhone(phone);
      if (
        user === undefined ||
        user.password_hash === null ||
        (user.status !== 'pending_verification' && user.status !== 'guest')
      ) {
        throw identityErrors.of(
          'conflict',
          'nothing_to_verify',
          'No registration is waiting for this number.',
        );
      }
      const roles = [
        ...new Set([...(user.roles as Role[]).filter((role) => role !== 'guest'), 'customer' as const]),
      ];
      const verified = await repository.updateUser(user.id, {
        status: 'active',
        phone_verified: true,
        roles,
      });
      await audit({
        action: user.status === 'guest' ? 'account.converted_from_guest' : 'account.registered',
        actor: actorOf(context, user.id),
        subjectUserId: user.id,
        resource: `user:${user.id}`,
        oldValue: { status: user.status, roles: user.roles },
        newValue: { status: 'active', roles, phone },
      });
      const tokens = await sessions.start(verified, {
        kind: 'user',
        client: input.client,
        twoFactorVerified: false,
        context,
      });
      return { ...tokens, user: verified };
    },

    async login(
      input: { phone: string; password: string; totp?: string; client: ClientKind },
      context: RequestContext,
    ): Promise<SignedIn> {
      await guard.assertIpAllowed(context.ip);
      // A malformed number is looked up as typed: it finds nobody, like an unknown number.
      const phone = normalizePhone(input.phone) ?? input.phone.slice(0, 32);
      const user = await repository.findUserByPhone(phone);
      const state = await guard.stateOf(user, identifierHash(phone));
      if (state.lockedUntilMs !== null && state.lockedUntilMs > now()) {
        await recordAttempt(phone, user, false, 'locked', context);
        guard.assertNotLocked(state);
      }
      const passwordOk =
        user?.password_hash != null
          ? await hasher.verify(user.password_hash, input.password)
          : await hasher.verifyDummy(input.password);
      if (!passwordOk || user === undefined) {
        await rejectSignIn(phone, user, 'bad_password', context, state);
        throw identityErrors.of(
          'unauthorized',
          'invalid_credentials',
          'The phone number or the password is wrong.',
        );
      }
      return accounts.completeLogin(user, phone, input, context, state);
    },

    async completeLogin(
      user: UserRow,
      phone: string,
      input: { totp?: string; client: ClientKind; password: string },
      context: RequestContext,
      state: Parameters<BruteForceGuard['fail']>[2],
    ): Promise<SignedIn> {
      if (user.status === 'pending_verification' || user.status === 'guest') {
        throw identityErrors.of(
          'forbidden',
          'phone_not_verified',
          'Verify the phone number with the SMS code first.',
        );
      }
      if (user.status !== 'active') {
        await recordAttempt(phone, user, false, 'suspended', context);
        throw identityErrors.of(
          'forbidden',
          'account_suspended',
          'This account is suspended; contact support.',
        );
      }
      const secondFactor = await twoFactor.isEnabled(user.id);
      if (secondFactor) {
        if (input.totp === undefined || input.totp === '') {
          throw identityErrors.of(
            'unauthorized',
            'two_factor_code_required',
            'Send the code of your authenticator app in `totp`.',
          );
        }
        if (!(await twoFactor.verify(user.id, input.totp))) {
          await rejectSignIn(phone, user, 'bad_totp', context, state);
          throw identityErrors.of(
            'unauthorized',
            'invalid_two_factor_code',
            'The authenticator code is wrong.',
          );
        }
      }
      await guard.succeed(user);
      const signedIn = await repository.updateUser(user.id, { last_login_at: new Date(now()) });
      if (hasher.needsRehash(user.password_hash!)) {
        await repository.updateUser(user.id, { password_hash: await hasher.hash(input.password) });
      }
      await recordAttempt(phone, user, true, 'ok', context);
      const tokens = await sessions.start(signedIn, {
        kind: 'user',
        client: input.client,
        twoFactorVerified: secondFactor,
        context,
      });
      await audit({
        action: 'auth.login',
        actor: actorOf(context, user.id),
        subjectUserId: user.id,
        resource: `session:${tokens.sessionId}`,
        newValue: { twoFactor: secondFactor, client: input.client },
      });
      return { ...tokens, user: signedIn };
    },

    async requestPasswordReset(
      input: { phone: string; locale?: string },
      context: RequestContext,
    ): Promise<void> {
      const phone = normalizePhone(input.phone);
      const user = phone === undefined ? undefined : await repository.findUserByPhone(phone);
      if (user === undefined || user.status !== 'active' || phone === undefined) return;
      if (
        (await repository.countPasswordResetsSince(user.id, new Date(now() - 3_600_000))) >= RESETS_PER_HOUR
      )
        return;
      // Refused silently: the answer is 202 whether or not the number has an account.
      if ((await deps.budget.trySpend('password_reset', phone, context.ip)) !== undefined) return;
      const token = opaqueToken('pr');
      await repository.insertPasswordReset({
        tokenHash: keyedHash(deps.hashKey, 'reset', token),
        userId: user.id,
        expiresAt: new Date(now() + RESET_TOKEN_TTL_MS),
      });
      const link = `${deps.publicBaseUrl}/reset-password#token=${token}`;
      await deps.sms.send({
        to: phone,
        body: input.locale?.startsWith('en')
          ? `Reset your password within one hour: ${link}`
          : `Réinitialisez votre mot de passe dans l'heure : ${link}`,
        metadata: { kind: 'password.reset', token },
      });
      deps.budget.sent('password_reset');
      await audit({
        action: 'password.reset_requested',
        actor: actorOf(context),
        subjectUserId: user.id,
        resource: `user:${user.id}`,
      });
    },

    async resetPassword(
      input: { token: string; newPassword: string },
      context: RequestContext,
    ): Promise<void> {
      const tokenHash = keyedHash(deps.hashKey, 'reset', input.token);
      const invalid = () =>
        identityErrors.of(
          'validation',
          'invalid_reset_token',
          'The reset link is wrong, used or expired; request a new one.',
        );
      const pending = await repository.findUsablePasswordReset(tokenHash);
      const user = pending === undefined ? undefined : await repository.findUserById(pending.user_id);
      if (user === undefined || user.status !== 'active') throw invalid();
      // The policy is checked before the token is spent, so a refused password costs no new SMS.
      assertStrongPassword(input.newPassword, user.phone);
      const passwordHash = await hasher.hash(input.newPassword);
      if ((await repository.consumePasswordReset(tokenHash)) === undefined) throw invalid();
      await repository.updateUser(user.id, {
        password_hash: passwordHash,
        failed_attempts: 0,
        locked_until: null,
        last_failed_at: null,
      });
      const ended = await sessions.endAllForUser(user.id, 'password_reset');
      await audit({
        action: 'password.reset',
        actor: actorOf(context, user.id),
        subjectUserId: user.id,
        resource: `user:${user.id}`,
        newValue: { sessionsEnded: ended },
      });
    },
  };
  return accounts;
}

export type Accounts = ReturnType<typeof createAccounts>;
