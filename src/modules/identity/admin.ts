import { ROLES, type Role } from '../../shared/principal.js';
import { identityErrors } from './errors.js';
import { normalizePhone } from './phone.js';
import type { Actor, AuditFunction } from './audit.js';
import type { BruteForceGuard } from './brute-force.js';
import type { KeyRing } from './keys.js';
import type { IdentityRepository, UserRow } from './repository.js';
import type { SessionService } from './sessions.js';
import type { TokenService } from './tokens.js';

/**
 * Admin user management (spec §2.6): search, role changes, suspension, unlock, force logout
 * and signing-key rotation. Every change is audited with the acting admin, IP and user agent.
 */
export const USERS_PAGE_MAX = 100;
export const AUDIT_PAGE_MAX = 200;

export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T>(
  cursor: string | undefined,
  check: (value: unknown) => value is T,
): T | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (check(value)) return value;
  } catch {
    // fall through to the 400 below
  }
  throw identityErrors.of('validation', 'invalid_cursor', 'The cursor is not one this API issued.');
}

const isUserCursor = (value: unknown): value is { t: string; i: string } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { t?: unknown }).t === 'string' &&
  typeof (value as { i?: unknown }).i === 'string';
const isAuditCursor = (value: unknown): value is { b: string } =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { b?: unknown }).b === 'string' &&
  /^\d{1,19}$/.test((value as { b: string }).b);

export function createAdministration(deps: {
  repository: IdentityRepository;
  sessions: SessionService;
  tokens: TokenService;
  guard: BruteForceGuard;
  keyRing: KeyRing;
  audit: AuditFunction;
}) {
  const { repository, sessions, tokens, guard, audit } = deps;

  async function existing(userId: string): Promise<UserRow> {
    const user = await repository.findUserById(userId);
    if (user === undefined || user.status === 'deleted') throw identityErrors.notFound('No such user.');
    return user;
  }

  return {
    async searchUsers(query: { q?: string; role?: Role; status?: string; cursor?: string; limit?: number }) {
      const limit = Math.min(query.limit ?? 20, USERS_PAGE_MAX);
      const after = decodeCursor(query.cursor, isUserCursor);
      const rows = await repository.searchUsers({
        ...(query.q === undefined || query.q.trim() === '' ? {} : searchText(query.q.trim().slice(0, 100))),
        ...(query.role === undefined ? {} : { role: query.role }),
        ...(query.status === undefined ? {} : { status: query.status }),
        ...(after === undefined ? {} : { after: { createdAt: new Date(after.t), id: after.i } }),
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page,
        nextCursor:
          rows.length > limit && last !== undefined
            ? encodeCursor({ t: last.created_at.toISOString(), i: last.id })
            : null,
      };
    },

    getUser: existing,

    /** An admin reads one user's record: audited, so the trail says who looked at whom and when. */
    async viewUser(userId: string, actor: Actor) {
      const user = await existing(userId);
      await audit({ action: 'admin.user_viewed', actor, subjectUserId: userId, resource: `user:${userId}` });
      return user;
    },

    async setRoles(userId: string, roles: Role[], actor: Actor) {
      const unknown = roles.filter((role) => !(ROLES as readonly string[]).includes(role));
      if (unknown.length > 0)
        throw identityErrors.of('validation', 'unknown_role', `Unknown roles: ${unknown.join(', ')}.`);
      const user = await existing(userId);
      const before = user.roles as Role[];
      const after = [...new Set(roles)];
      if (user.status === 'guest' && after.some((role) => role !== 'guest')) {
        throw identityErrors.of(
          'conflict',
          'guest_account',
          'A guest must convert to a customer account before getting roles.',
        );
      }
      const updated = await repository.updateUser(userId, { roles: after });
      // Tokens carry roles: removing one must take effect now, not at the next refresh.
      if (before.some((role) => !after.includes(role))) await tokens.revokeUser(userId);
      await audit({
        action: 'admin.roles_changed',
        actor,
        subjectUserId: userId,
        resource: `user:${userId}`,
        oldValue: { roles: before },
        newValue: { roles: after },
      });
      return updated;
    },

    async suspend(userId: string, reason: string, actor: Actor) {
      const user = await existing(userId);
      if (actor.userId === userId)
        throw identityErrors.of('conflict', 'cannot_suspend_self', 'Admins cannot suspend themselves.');
      const updated = await repository.updateUser(userId, { status: 'suspended', suspended_reason: reason });
      const ended = await sessions.endAllForUser(userId, 'suspended');
      await audit({
        action: 'admin.user_suspended',
        actor,
        subjectUserId: userId,
        resource: `user:${userId}`,
        oldValue: { status: user.status },
        newValue: { status: 'suspended', reason, sessionsEnded: ended },
      });
      return updated;
    },

    async reactivate(userId: string, actor: Actor) {
      const user = await existing(userId);
      if (user.status !== 'suspended')
        throw identityErrors.of('conflict', 'not_suspended', 'The user is not suspended.');
      const updated = await repository.updateUser(userId, { status: 'active', suspended_reason: null });
      await audit({
        action: 'admin.user_reactivated',
        actor,
        subjectUserId: userId,
        resource: `user:${userId}`,
        oldValue: { status: 'suspended' },
        newValue: { status: 'active' },
      });
      return updated;
    },

    async unlock(userId: string, actor: Actor) {
      const user = await existing(userId);
      await guard.unlock(userId);
      await audit({
        action: 'admin.user_unlocked',
        actor,
        subjectUserId: userId,
        resource: `user:${userId}`,
        oldValue: { failedAttempts: user.failed_attempts, lockedUntil: user.locked_until },
      });
      return existing(userId);
    },

    async forceLogout(userId: string, actor: Actor) {
      await existing(userId);
      const ended = await sessions.endAllForUser(userId, 'forced_logout');
      await audit({
        action: 'admin.force_logout',
        actor,
        subjectUserId: userId,
        resource: `user:${userId}`,
        newValue: { sessionsEnded: ended },
      });
      return ended;
    },

    async rotateSigningKey(actor: Actor) {
      const key = await deps.keyRing.rotate();
      await audit({ action: 'admin.signing_key_rotated', actor, resource: `signing-key:${key.kid}` });
      return key.kid;
    },

    async auditLog(query: { subjectUserId?: string; action?: string; cursor?: string; limit?: number }) {
      const limit = Math.min(query.limit ?? 50, AUDIT_PAGE_MAX);
      const before = decodeCursor(query.cursor, isAuditCursor);
      const rows = await repository.listAudit({
        ...(query.subjectUserId === undefined ? {} : { subjectUserId: query.subjectUserId }),
        ...(query.action === undefined ? {} : { action: query.action }),
        ...(before === undefined ? {} : { beforeId: BigInt(before.b) }),
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page,
        nextCursor:
          rows.length > limit && last !== undefined ? encodeCursor({ b: last.id.toString() }) : null,
      };
    },
  };
}

export type Administration = ReturnType<typeof createAdministration>;

/** The admin search text, and the E.164 phone it spells, if it spells one. */
function searchText(text: string): { text: string; phone?: string } {
  const phone = /^[+\d\s().-]{6,}$/.test(text) ? normalizePhone(text) : undefined;
  return phone === undefined ? { text } : { text, phone };
}
