import { identityErrors } from './errors.js';
import type { Principal } from '../../shared/principal.js';
import type { AuditFunction } from './audit.js';
import { assertStrongPassword } from './accounts.js';
import type { PasswordHasher } from './password-hashing.js';
import type { IdentityRepository } from './repository.js';
import type { RequestContext, SessionService } from './sessions.js';
import type { TwoFactor } from './two-factor.js';

/**
 * Second-factor management, step-up confirmation and password change for a signed-in
 * principal. Step-up marks the session (`step_up_at`) and returns a token carrying it; the
 * auth hook admits `access.stepUp` routes for STEP_UP_WINDOW_MS after it.
 */
export function createSecurity(deps: {
  repository: IdentityRepository;
  twoFactor: TwoFactor;
  sessions: SessionService;
  hasher: PasswordHasher;
  audit: AuditFunction;
}) {
  const { repository, twoFactor, sessions, hasher, audit } = deps;
  const actor = (principal: Principal, context: RequestContext) => ({
    kind: 'user' as const,
    userId: principal.userId,
    ...context,
  });

  async function userOf(principal: Principal) {
    const user = await repository.findUserById(principal.userId);
    if (user === undefined || user.status === 'deleted')
      throw identityErrors.notFound('The account no longer exists.');
    return user;
  }

  async function checkPassword(hash: string | null, password: string): Promise<void> {
    const ok = hash === null ? await hasher.verifyDummy(password) : await hasher.verify(hash, password);
    if (!ok) throw identityErrors.of('unauthorized', 'invalid_credentials', 'The password is wrong.');
  }

  return {
    async setupTwoFactor(principal: Principal, context: RequestContext) {
      const user = await userOf(principal);
      const setup = await twoFactor.setup(user.id, user.phone ?? user.id);
      await audit({
        action: 'two_factor.setup_started',
        actor: actor(principal, context),
        subjectUserId: user.id,
        resource: `user:${user.id}`,
      });
      return setup;
    },

    async enableTwoFactor(principal: Principal, code: string, context: RequestContext) {
      const { backupCodes } = await twoFactor.enable(principal.userId, code);
      // This session has just proven the factor: its next tokens say so.
      await repository.updateSession(principal.sessionId, { two_factor_verified: true });
      await audit({
        action: 'two_factor.enabled',
        actor: actor(principal, context),
        subjectUserId: principal.userId,
        resource: `user:${principal.userId}`,
      });
      return { backupCodes, ...(await sessions.reissue(principal.sessionId)) };
    },

    async disableTwoFactor(
      principal: Principal,
      input: { password: string; code: string },
      context: RequestContext,
    ) {
      const user = await userOf(principal);
      if ((user.roles as string[]).includes('admin')) {
        throw identityErrors.of(
          'conflict',
          'two_factor_mandatory',
          'Two-factor authentication is mandatory for admins.',
        );
      }
      await checkPassword(user.password_hash, input.password);
      if (!(await twoFactor.verify(user.id, input.code))) {
        throw identityErrors.of(
          'unauthorized',
          'invalid_two_factor_code',
          'The authenticator code is wrong.',
        );
      }
      await twoFactor.remove(user.id);
      await audit({
        action: 'two_factor.disabled',
        actor: actor(principal, context),
        subjectUserId: user.id,
        resource: `user:${user.id}`,
      });
    },

    /** Confirms a sensitive action: the TOTP code when 2FA is on, otherwise the password. */
    async stepUp(principal: Principal, input: { code?: string; password?: string }, context: RequestContext) {
      const user = await userOf(principal);
      if (await twoFactor.isEnabled(user.id)) {
        if (input.code === undefined || !(await twoFactor.verify(user.id, input.code))) {
          throw identityErrors.of(
            'unauthorized',
            'invalid_two_factor_code',
            'Send the current code of your authenticator app.',
          );
        }
      } else {
        if (input.password === undefined)
          throw identityErrors.of('validation', 'password_required', 'Send your password to confirm.');
        await checkPassword(user.password_hash, input.password);
      }
      await repository.updateSession(principal.sessionId, { step_up_at: new Date() });
      await audit({
        action: 'auth.step_up',
        actor: actor(principal, context),
        subjectUserId: user.id,
        resource: `session:${principal.sessionId}`,
      });
      return sessions.reissue(principal.sessionId);
    },

    async changePassword(
      principal: Principal,
      input: { currentPassword: string; newPassword: string },
      context: RequestContext,
    ) {
      const user = await userOf(principal);
      await checkPassword(user.password_hash, input.currentPassword);
      assertStrongPassword(input.newPassword, user.phone);
      await repository.updateUser(user.id, { password_hash: await hasher.hash(input.newPassword) });
      const ended = await sessions.endAllForUser(user.id, 'password_changed', principal.sessionId);
      await audit({
        action: 'password.changed',
        actor: actor(principal, context),
        subjectUserId: user.id,
        resource: `user:${user.id}`,
        newValue: { otherSessionsEnded: ended },
      });
    },
  };
}

export type Security = ReturnType<typeof createSecurity>;
