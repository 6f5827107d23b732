import { identityErrors } from './errors.js';
import { assertStrongPassword, requirePhone, type SignedIn } from './accounts.js';
import type { AuditFunction } from './audit.js';
import type { PhoneCodes } from './otp.js';
import type { PasswordHasher } from './password-hashing.js';
import type { IdentityRepository } from './repository.js';
import type { ClientKind, RequestContext, SessionService } from './sessions.js';

/**
 * Guest sessions (spec §2.1): a visitor proves a phone number with an SMS code and gets a
 * session of kind `guest` with the guest role's permissions (cart, guest order). The guest is
 * a user row without a password, so whatever it orders hangs on one id; converting it to a
 * customer account keeps that id, hence the orders. A number that already has an account
 * gets a guest session on that account, with guest permissions only.
 */
export function createGuests(deps: {
  repository: IdentityRepository;
  codes: PhoneCodes;
  sessions: SessionService;
  hasher: PasswordHasher;
  audit: AuditFunction;
}) {
  const { repository, codes, sessions, hasher, audit } = deps;
  return {
    async start(input: { phone: string; locale?: string }, context: RequestContext) {
      return codes.issue(requirePhone(input.phone), 'guest', { locale: input.locale, ip: context.ip });
    },

    async verify(
      input: { phone: string; code: string; client: ClientKind },
      context: RequestContext,
    ): Promise<SignedIn> {
      const phone = requirePhone(input.phone);
      await codes.verify(phone, 'guest', input.code);
      let user = await repository.findUserByPhone(phone);
      if (user === undefined) {
        user = await repository.insertUser({ phone, roles: ['guest'], status: 'guest', phoneVerified: true });
      } else if (user.status === 'suspended') {
        throw identityErrors.of(
          'forbidden',
          'account_suspended',
          'This account is suspended; contact support.',
        );
      }
      const tokens = await sessions.start(user, {
        kind: 'guest',
        client: input.client,
        twoFactorVerified: false,
        context,
      });
      await audit({
        action: 'auth.guest_session',
        actor: { kind: 'anonymous', ...context },
        subjectUserId: user.id,
        resource: `session:${tokens.sessionId}`,
      });
      return { ...tokens, user };
    },

    /** Turns the guest into a customer with a password; same user id, new full session. */
    async convert(
      input: {
        userId: string;
        sessionId: string;
        password: string;
        name: string;
        email?: string;
        client: ClientKind;
      },
      context: RequestContext,
    ): Promise<SignedIn> {
      const user = await repository.findUserById(input.userId);
      if (user === undefined || user.status !== 'guest' || user.phone === null) {
        throw identityErrors.of(
          'conflict',
          'account_exists',
          'This number already has an account; log in instead.',
        );
      }
      assertStrongPassword(input.password, user.phone);
      const email = input.email?.trim().toLowerCase() ?? null;
      if (email !== null && (await repository.emailTakenByOther(email, user.id))) {
        throw identityErrors.of('conflict', 'email_taken', 'This e-mail address is used by another account.');
      }
      const converted = await repository.updateUser(user.id, {
        status: 'active',
        roles: ['customer'],
        name: input.name,
        email,
        password_hash: await hasher.hash(input.password),
        phone_verified: true,
      });
      await sessions.end(input.sessionId, 'converted_to_customer');
      await audit({
        action: 'account.converted_from_guest',
        actor: { kind: 'user', userId: user.id, ...context },
        subjectUserId: user.id,
        resource: `user:${user.id}`,
        oldValue: { status: 'guest', roles: user.roles },
        newValue: { status: 'active', roles: ['customer'] },
      });
      const tokens = await sessions.start(converted, {
        kind: 'user',
        client: input.client,
        twoFactorVerified: false,
        context,
      });
      return { ...tokens, user: converted };
    },
  };
}

export type Guests = ReturnType<typeof createGuests>;
