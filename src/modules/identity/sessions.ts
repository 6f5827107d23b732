import { identityErrors } from './errors.js';
import type { DomainError } from '../../shared/errors.js';
import type { Role } from '../../shared/principal.js';
import type { AuditFunction } from './audit.js';
import { keyedHash, opaqueToken } from './crypto.js';
import type { KeyValue } from './kv.js';
import type { IdentityRepository, SessionRow, UserRow } from './repository.js';
import type { TokenService } from './tokens.js';

/**
 * Sessions and refresh tokens (spec §3.1). A session is a refresh-token family: every refresh
 * rotates the opaque token (stored as a keyed hash); presenting a token that was already
 * rotated means it was copied, so the whole family is revoked. Admin sessions end after
 * SESSION_TIMEOUT without activity.
 */
export const REFRESH_TOKEN_TTL_MS = 7 * 24 * 3_600_000;
/** A family cannot be refreshed forever: log in again after this. */
export const SESSION_MAX_AGE_MS = 30 * 24 * 3_600_000;
export const SESSIONS_LIST_MAX = 50;

export type ClientKind = 'web' | 'mobile';

export interface RequestContext {
  ip: string | null;
  userAgent: string | null;
  requestId?: string | null;
  /** The app's install id from `X-Device-Id` (validated by `requestContext`), when sent. */
  deviceId?: string | null;
}

export interface IssuedTokens {
  sessionId: string;
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
}

export interface SessionService {
  start(
    user: Pick<UserRow, 'id' | 'roles'>,
    options: {
      kind: 'user' | 'guest';
      client: ClientKind;
      twoFactorVerified: boolean;
      context: RequestContext;
    },
  ): Promise<IssuedTokens>;
  refresh(
    refreshToken: string,
    context: RequestContext,
  ): Promise<IssuedTokens & { userId: string; client: ClientKind }>;
  /** A fresh access token for a live session (after 2FA enablement or a step-up). */
  reissue(sessionId: string): Promise<{ accessToken: string; accessTokenExpiresAt: Date }>;
  end(sessionId: string, reason: string): Promise<boolean>;
  /** The session a refresh token belongs to (logout with only the refresh token). */
  sessionOfRefreshToken(refreshToken: string): Promise<string | undefined>;
  endAllForUser(userId: string, reason: string, exceptSessionId?: string): Promise<number>;
  /** Admin idle timeout: true while the session was active within SESSION_TIMEOUT. */
  touchAdminActivity(sessionId: string): Promise<boolean>;
}

const activityKey = (sessionId: string) => `act:${sessionId}`;

export function isAdminRoles(roles: readonly string[]): boolean {
  return roles.includes('admin');
}

function unauthorized(code: string, detail: string): DomainError {
  return identityErrors.of('unauthorized', code, detail);
}

/** A session started on a device the apps named: whose account, the device's keyed hash, when. */
export interface DeviceSession {
  userId: string;
  deviceHash: string;
  at: Date;
}

export function createSessionService(options: {
  repository: IdentityRepository;
  tokens: TokenService;
  kv: KeyValue;
  audit: AuditFunction;
  refreshHashKey: string;
  /** Keys the hash of a device's install id (identity's hash key): a copy of the table alone cannot list ids. */
  deviceHashKey: Buffer | string;
  adminIdleTimeoutMs: number;
  /**
   * Told of each session started on a known device (the apps' `X-Device-Id`), after it is
   * committed: fraud detection counts the accounts behind one device. Never fails the sign-in.
   */
  onDeviceSession?: (session: DeviceSession) => Promise<void>;
  now?: () => number;
}): SessionService {
  const { repository, tokens, kv, audit, adminIdleTimeoutMs } = options;
  const now = options.now ?? Date.now;
  const hashRefresh = (token: string) => keyedHash(options.refreshHashKey, 'refresh', token);
  const deviceHash = (deviceId: string) => keyedHash(options.deviceHashKey, 'device', deviceId);

  async function mint(session: SessionRow, roles: string[]) {
    const access = await tokens.issue({
      userId: session.user_id,
      sessionId: session.id,
      kind: session.kind,
      roles: roles as Role[],
      twoFactorVerified: session.two_factor_verified,
      stepUpAt: session.step_up_at,
    });
    return { accessToken: access.token, accessTokenExpiresAt: access.expiresAt };
  }

  async function newRefreshToken(
    sessionId: string,
    sessionExpiresAt: Date,
    transaction?: Parameters<IdentityRepository['insertRefreshToken']>[1],
  ) {
    const refreshToken = opaqueToken('rt');
    const expiresAt = new Date(Math.min(now() + REFRESH_TOKEN_TTL_MS, sessionExpiresAt.getTime()));
    await repository.insertRefreshToken(
      { tokenHash: hashRefresh(refreshToken), sessionId, expiresAt },
      transaction,
    );
    return { refreshToken, refreshTokenExpiresAt: expiresAt };
  }

  async function revokeFamily(sessionId: string, reason: string): Promise<void> {
    await repository.revokeSession(sessionId, reason);
    await tokens.revokeSession(sessionId);
    await kv.delete(activityKey(sessionId));
  }

  const service: SessionService = {
    async start(user, { kind, client, twoFactorVerified, context }) {
      const { session, refresh } = await repository.transaction(async (transaction) => {
        const session = await repository.insertSession(
          {
            userId: user.id,
            kind,
            client,
            ip: context.ip,
            userAgent: context.userAgent?.slice(0, 300) ?? null,
            deviceHash: context.deviceId == null ? null : deviceHash(context.deviceId),
            twoFactorVerified,
            expiresAt: new Date(now() + SESSION_MAX_AGE_MS),
          },
          transaction,
        );
        return { session, refresh: await newRefreshToken(session.id, session.expires_at, transaction) };
      });
      if (isAdminRoles(user.roles)) await kv.set(activityKey(session.id), String(now()), adminIdleTimeoutMs);
      if (session.device_hash !== null && options.onDeviceSession !== undefined)
        await options.onDeviceSession({
          userId: user.id,
          deviceHash: session.device_hash,
          at: session.created_at,
        });
      return { sessionId: session.id, ...(await mint(session, user.roles)), ...refresh };
    },

    async refresh(refreshToken, context) {
      const tokenHash = hashRefresh(refreshToken);
      const rotated = await repository.rotateRefreshToken(tokenHash);
      if (rotated === undefined) {
        const known = await repository.findRefreshToken(tokenHash);
        if (known === undefined)
          throw unauthorized('invalid_refresh_token', 'The refresh token is not valid.');
        await revokeFamily(known.session_id, 'refresh_token_reused');
        const session = await repository.findSession(known.session_id);
        await audit({
          action: 'session.refresh_token_reused',
          actor: {
            kind: 'anonymous',
            ip: context.ip,
            userAgent: context.userAgent,
            requestId: context.requestId,
          },
          subjectUserId: session?.user_id ?? null,
          resource: `session:${known.session_id}`,
        });
        throw unauthorized(
          'refresh_token_reused',
          'This refresh token was already used; the session has been ended.',
        );
      }
      if (rotated.expires_at.getTime() <= now())
        throw unauthorized('refresh_token_expired', 'The session has expired; log in again.');
      const session = await repository.findSession(rotated.session_id);
      if (session === undefined || session.revoked_at !== null || session.expires_at.getTime() <= now()) {
        throw unauthorized('session_revoked', 'The session has ended; log in again.');
      }
      const user = await repository.findUserById(session.user_id);
      if (user === undefined || (user.status !== 'active' && user.status !== 'guest')) {
        await revokeFamily(session.id, 'account_unavailable');
        throw unauthorized('session_revoked', 'The session has ended; log in again.');
      }
      if (isAdminRoles(user.roles) && !(await service.touchAdminActivity(session.id))) {
        await revokeFamily(session.id, 'idle_timeout');
        throw unauthorized('session_idle_timeout', 'The admin session ended after inactivity; log in again.');
      }
      const refresh = await repository.transaction(async (transaction) => {
        await repository.updateSession(session.id, { last_activity_at: new Date(now()) }, transaction);
        return newRefreshToken(session.id, session.expires_at, transaction);
      });
      return {
        sessionId: session.id,
        userId: user.id,
        client: session.client,
        ...(await mint(session, user.roles)),
        ...refresh,
      };
    },

    async reissue(sessionId) {
      const session = await repository.findSession(sessionId);
      if (session === undefined || session.revoked_at !== null)
        throw unauthorized('session_revoked', 'The session has ended.');
      const user = await repository.findUserById(session.user_id);
      if (user === undefined) throw unauthorized('session_revoked', 'The session has ended.');
      return mint(session, user.roles);
    },

    async end(sessionId, reason) {
      const revoked = await repository.revokeSession(sessionId, reason);
      await tokens.revokeSession(sessionId);
      await kv.delete(activityKey(sessionId));
      return revoked !== undefined;
    },

    async sessionOfRefreshToken(refreshToken) {
      return (await repository.findRefreshToken(hashRefresh(refreshToken)))?.session_id;
    },

    async endAllForUser(userId, reason, exceptSessionId) {
      const ids = await repository.revokeUserSessions(userId, reason, exceptSessionId);
      for (const id of ids) await tokens.revokeSession(id);
      if (exceptSessionId === undefined) await tokens.revokeUser(userId);
      return ids.length;
    },

    async touchAdminActivity(sessionId) {
      const last = await kv.get(activityKey(sessionId));
      if (last === null || now() - Number(last) > adminIdleTimeoutMs) return false;
      await kv.set(activityKey(sessionId), String(now()), adminIdleTimeoutMs);
      return true;
    },
  };
  return service;
}
