import { identityErrors } from './errors.js';
import type { Principal } from '../../shared/principal.js';
import type { Logger } from 'pino';
import type { PersonalDataContacts, PersonalDataHook } from '../../platform/context.js';
import type { AuditFunction } from './audit.js';
import { keyedHash } from './crypto.js';
import type { PasswordHasher } from './password-hashing.js';
import type { SocialRepository } from './social-repository.js';
import type { IdentityRepository } from './repository.js';
import type { RequestContext, SessionService } from './sessions.js';
import type { TwoFactor } from './two-factor.js';
import { preferencesOf, toPublicUser } from './views.js';

/**
 * GDPR (spec §2.2 "Privacy"): export everything held about me as JSON, and erasure.
 *
 * Export: the account, preferences, addresses, sessions, login attempts and audit lines, plus
 * every context's share (its `personalData` hook, src/platform/context.ts) under its name.
 *
 * Erasure runs in two durable steps, so that a crash half-way never leaves a person half-erased
 * for good (issue #15):
 *   1. the account is closed at once: status `deleted`, `deleted_at`, no password, no roles;
 *      nobody can sign in as the person any more;
 *   2. `completeErasure` ends every session, asks each context to erase its share (every hook,
 *      then the `eventstore` one the composition root adds last, which crypto-shreds the person's
 *      PII in events; the subject id is the user id), then clears the row's contact fields and deletes addresses,
 *      second factor, codes, resets and login attempts, and sets `erased_at`.
 * Every hook is idempotent; step 2 runs again (the `erasure-sweep` schedule, or a second call) for
 * any row deleted but not erased. The audit log keeps its lines: pseudonymous id, masked values.
 */
export const EXPORT_ROWS_MAX = 1_000;
/** A deleted row not erased after this long is an interrupted erasure the sweep finishes. */
export const ERASURE_RESUME_AFTER_MS = 60_000;
const ERASURE_SWEEP_BATCH = 50;

/** Another context's share of a person's data (orders, wallet, reviews…). */
export interface PersonalDataContributor extends PersonalDataHook {
  name: string;
}

export function createPrivacy(deps: {
  repository: IdentityRepository;
  /** Linked Google and Facebook accounts: exported and erased with the person. */
  social?: SocialRepository;
  sessions: SessionService;
  twoFactor: TwoFactor;
  hasher: PasswordHasher;
  audit: AuditFunction;
  hashKey: Buffer;
  logger?: Logger;
  /** Every context's share by name (the platform's registry, filled by the composition root). */
  contributors?: Map<string, PersonalDataHook>;
}) {
  const { repository, sessions, twoFactor, hasher, audit } = deps;
  const contributors = deps.contributors ?? new Map<string, PersonalDataHook>();

  /** Step 2 of erasure (above); idempotent. False when there was nothing left to erase. */
  async function completeErasure(userId: string, context: RequestContext | null): Promise<boolean> {
    const user = await repository.findUserById(userId);
    if (user === undefined || user.status !== 'deleted' || user.erased_at !== null) return false;
    const contacts: PersonalDataContacts = { phone: user.phone, email: user.email };
    // Again here: a crash right after step 1 may have left sessions open (ending them is idempotent).
    await sessions.endAllForUser(user.id, 'account_deleted');
    for (const contributor of contributors.values()) await contributor.erase(user.id, contacts);
    const identifierHash = user.phone === null ? null : keyedHash(deps.hashKey, 'login', user.phone);
    const finished = await repository.transaction(async (transaction) => {
      // Two runs at once (a retry and the sweep) both erase (idempotent); one finishes the row.
      const locked = await repository.lockUserById(user.id, transaction);
      if (locked === undefined || locked.erased_at !== null) return false;
      await repository.updateUser(
        user.id,
        {
          phone: null,
          email: null,
          name: null,
          phone_verified: false,
          email_verified: false,
          notification_preferences: {},
          erased_at: new Date(),
        },
        transaction,
      );
      await repository.deleteAllAddresses(user.id, transaction);
      await repository.deleteTwoFactor(user.id, transaction);
      await deps.social?.deleteAllForUser(user.id, transaction);
      await repository.forgetPasswordResets(user.id, transaction);
      await repository.forgetLoginAttempts(user.id, identifierHash, transaction);
      await repository.forgetDevices(user.id, transaction);
      if (user.phone !== null) await repository.forgetCodes(user.phone, transaction);
      return true;
    });
    if (!finished) return false;
    await audit({
      action: 'account.erased',
      actor:
        context === null ? { kind: 'system', userId: null } : { kind: 'user', userId: user.id, ...context },
      subjectUserId: user.id,
      resource: `user:${user.id}`,
      newValue: { erasedBy: [...contributors.keys()] },
    });
    return true;
  }

  return {
    /** Other contexts (and the event store hook) register here once at start. Same name replaces. */
    registerContributor(contributor: PersonalDataContributor): void {
      contributors.set(contributor.name, contributor);
    },
    contributorNames: () => [...contributors.keys()],
    completeErasure: (userId: string) => completeErasure(userId, null),

    /** Finishes erasures a crash interrupted (scheduled); returns how many it finished. */
    async resumeErasures(now = new Date()): Promise<number> {
      const pending = await repository.pendingErasures(
        new Date(now.getTime() - ERASURE_RESUME_AFTER_MS),
        ERASURE_SWEEP_BATCH,
      );
      let finished = 0;
      for (const userId of pending) {
        try {
          if (await completeErasure(userId, null)) finished += 1;
        } catch (error) {
          deps.logger?.error({ err: error, userId }, 'resuming an erasure failed; the next sweep retries');
        }
      }
      return finished;
    },

    async export(principal: Principal) {
      const user = await repository.findUserById(principal.userId);
      if (user === undefined || user.status === 'deleted')
        throw identityErrors.notFound('The account no longer exists.');
      const identifierHash = user.phone === null ? null : keyedHash(deps.hashKey, 'login', user.phone);
      const contacts: PersonalDataContacts = { phone: user.phone, email: user.email };
      const others: Record<string, unknown> = {};
      for (const [name, contributor] of contributors) {
        if (contributor.export !== undefined) others[name] = await contributor.export(user.id, contacts);
      }
      return {
        exportedAt: new Date().toISOString(),
        account: toPublicUser(user, await twoFactor.isEnabled(user.id)),
        lastLoginAt: user.last_login_at?.toISOString() ?? null,
        notificationPreferences: preferencesOf(user.notification_preferences),
        addresses: await repository.listAddresses(user.id, EXPORT_ROWS_MAX),
        socialIdentities: ((await deps.social?.listForUser(user.id)) ?? []).map((link) => ({
          provider: link.provider,
          subject: link.subject,
          linkedAt: link.created_at,
          lastUsedAt: link.last_used_at,
        })),
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
      // Step 1: closed at once and durably (no sign-in); step 2 ends every session first, and may
      // be finished by the sweep after a crash.
      await repository.updateUser(user.id, {
        password_hash: null,
        status: 'deleted',
        roles: [],
        deleted_at: new Date(),
        failed_attempts: 0,
        locked_until: null,
        last_failed_at: null,
      });
      try {
        await completeErasure(user.id, context);
      } catch (error) {
        // The account is closed; a context could not erase its share now: the sweep finishes it.
        deps.logger?.error(
          { err: error, userId: user.id },
          'erasure interrupted; the erasure sweep finishes it',
        );
      }
    },
  };
}

export type Privacy = ReturnType<typeof createPrivacy>;
