import { identityErrors } from './errors.js';
import type { Principal } from '../../shared/principal.js';
import type { OutboxReader } from '../notifications/index.js';
import type { AuditFunction } from './audit.js';
import { keyedHash } from './crypto.js';
import type { PasswordHasher } from './password-hashing.js';
import type { IdentityRepository } from './repository.js';
import type { RequestContext, SessionService } from './sessions.js';
import type { TwoFactor } from './two-factor.js';
import { preferencesOf, toPublicUser } from './views.js';

/**
 * GDPR (spec §2.2 "Privacy"): export everything held about me as JSON, and erasure.
 * Erasure anonymises the user row (no phone, e-mail, name, password; status `deleted`),
 * deletes addresses, second factor, codes, resets, login attempts and outbox messages, ends
 * every session, asks each registered contributor to erase its part (every context's
 * `personalData` hook, then the `eventstore` one the composition root adds, which crypto-shreds
 * the person's PII in events; the subject id is the user id). The audit log
 * keeps its lines: they carry the pseudonymous id and masked values only.
 */
export const EXPORT_ROWS_MAX = 1_000;

/** Another context's share of a person's data (orders, wallet, reviews…). */
export interface PersonalDataContributor {
  name: string;
  export?(userId: string): Promise<unknown>;
  erase(userId: string): Promise<unknown>;
}

export function createPrivacy(deps: {
  repository: IdentityRepository;
  sessions: SessionService;
  twoFactor: TwoFactor;
  hasher: PasswordHasher;
  audit: AuditFunction;
  hashKey: Buffer;
  outbox: OutboxReader | undefined;
  /** Every context's share by name (the platform's registry, filled by the composition root). */
  contributors?: Map<string, Omit<PersonalDataContributor, 'name'>>;
}) {
  const { repository, sessions, twoFactor, hasher, audit } = deps;
  const contributors = deps.contributors ?? new Map<string, Omit<PersonalDataContributor, 'name'>>();

  return {
    /** Other contexts (and the event store hook) register here once at start. Same name replaces. */
    registerContributor(contributor: PersonalDataContributor): void {
      contributors.set(contributor.name, contributor);
    },
    contributorNames: () => [...contributors.keys()],

    async export(principal: Principal) {
      const user = await repository.findUserById(principal.userId);
      if (user === undefined || user.status === 'deleted')
        throw identityErrors.notFound('The account no longer exists.');
      const identifierHash = user.phone === null ? null : keyedHash(deps.hashKey, 'login', user.phone);
      const others: Record<string, unknown> = {};
      for (const [name, contributor] of contributors) {
        if (contributor.export !== undefined) others[name] = await contributor.export(user.id);
      }
      return {
        exportedAt: new Date().toISOString(),
        account: toPublicUser(user, await twoFactor.isEnabled(user.id)),
        lastLoginAt: user.last_login_at?.toISOString() ?? null,
        notificationPreferences: preferencesOf(user.notification_preferences),
        addresses: await repository.listAddresses(user.id, EXPORT_ROWS_MAX),
        sessions: (await repository.sessionsOf(user.id, EXPORT_ROWS_MAX)).map((session) => ({
          id: session.id,
          kind: session.kind,
          client: session.client,
          ipAddress: session.ip_address,
          userAgent: session.user_agent,
          createdAt: session.created_at,
          lastActivityAt: session.last_activity_at,
          revokedAt: session.revoked_at,
        })),
        loginAttempts: (await repository.loginAttemptsOf(user.id, identifierHash, EXPORT_ROWS_MAX)).map(
          (attempt) => ({
            at: attempt.attempted_at,
            success: attempt.success,
            reason: attempt.reason,
            ipAddress: attempt.ip_address,
            userAgent: attempt.user_agent,
          }),
        ),
        auditLog: (await repository.auditOf(user.id, EXPORT_ROWS_MAX)).map((line) => ({
          at: line.created_at,
          action: line.action,
          resource: line.resource,
          ipAddress: line.ip_address,
          oldValue: line.old_value,
          newValue: line.new_value,
        })),
        ...others,
      };
    },

    async erase(principal: Principal, password: string, context: RequestContext) {
      const user = await repository.findUserById(principal.userId);
      if (user === undefined || user.status === 'deleted')
        throw identityErrors.notFound('The account no longer exists.');
      // A guest session on a full account (the number has one) proves only the phone: it may
      // erase a guest row, never an account with a password.
      if (principal.kind === 'guest' && user.status !== 'guest') {
        throw identityErrors.forbidden('Sign in with your password to delete this account.');
      }
      if (principal.kind !== 'guest') {
        const ok =
          user.password_hash === null
            ? await hasher.verifyDummy(password)
            : await hasher.verify(user.password_hash, password);
        if (!ok) throw identityErrors.of('unauthorized', 'invalid_credentials', 'The password is wrong.');
      }
      const identifierHash = user.phone === null ? null : keyedHash(deps.hashKey, 'login', user.phone);
      await sessions.endAllForUser(user.id, 'account_deleted');
      await repository.transaction(async (transaction) => {
        await repository.updateUser(
          user.id,
          {
            phone: null,
            email: null,
            name: null,
            password_hash: null,
            status: 'deleted',
            roles: [],
            phone_verified: false,
            email_verified: false,
            notification_preferences: {},
            deleted_at: new Date(),
            failed_attempts: 0,
            locked_until: null,
            last_failed_at: null,
          },
          transaction,
        );
        await repository.deleteAllAddresses(user.id, transaction);
        await repository.deleteTwoFactor(user.id, transaction);
        await repository.forgetPasswordResets(user.id, transaction);
        await repository.forgetLoginAttempts(user.id, identifierHash, transaction);
        if (user.phone !== null) await repository.forgetCodes(user.phone, transaction);
      });
      if (user.phone !== null) await deps.outbox?.forget(user.phone);
      for (const contributor of contributors.values()) await contributor.erase(user.id);
      await audit({
        action: 'account.erased',
        actor: { kind: 'user', userId: user.id, ...context },
        subjectUserId: user.id,
        resource: `user:${user.id}`,
        newValue: { erasedBy: [...contributors.keys()] },
      });
    },
  };
}

export type Privacy = ReturnType<typeof createPrivacy>;
