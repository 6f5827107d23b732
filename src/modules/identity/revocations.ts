import { randomUUID } from 'node:crypto';
import type { KeyValue } from './kv.js';
import type { IdentityRepository } from './repository.js';

/**
 * Revocation of access tokens, durable and fast. The truth is in PostgreSQL: a session's
 * `revoked_at` (logout, suspension, reset, deletion, reuse) and a user's
 * `tokens_revoked_before` (every token issued until then: force logout, role removal, suspension,
 * password reset, deletion). The key-value store (Redis, or in-process) holds a copy of the
 * revocations of the last access-token lifetime, so the per-request check is one MGET.
 *
 * The copy can be lost (Redis restarted empty, FLUSHALL, a new process with the in-process store),
 * and a lost mark must not bring a token back. So the copy carries a `loaded` marker, written in
 * the same atomic step as the marks it was loaded with, and only if the store was not emptied
 * since the reload read PostgreSQL: read in the same MGET, its absence means the copy cannot be
 * trusted. Then the token is checked against PostgreSQL (one indexed query) and
 * the copy is reloaded from the revocations of the last lifetime, once at a time per process.
 * Redis must not evict keys (`maxmemory-policy noeviction`, as BullMQ requires); the in-process
 * store drops the marker whenever it evicts an entry to stay within its bound.
 */
export const REVOCATION_LOADED_KEY = 'rv:loaded';
const REVOCATION_RELOADING_KEY = 'rv:reloading';
/** A reload that has not written within this (a crashed process) no longer holds the guard. */
const RELOAD_GUARD_TTL_MS = 60_000;
/** How long the loaded marker lives: after that the copy is reloaded anyway (cheap, bounded). */
const LOADED_TTL_MS = 6 * 3_600_000;
/** More revocations than this in one token lifetime: stay on PostgreSQL rather than load them all. */
const MAX_MARKS_LOADED = 50_000;
/** A cold copy is reloaded at most this often, whatever the traffic. */
const RELOAD_INTERVAL_MS = 5_000;

export const revocationKeys = {
  tokenId: (jti: string) => `bl:${jti}`,
  session: (sessionId: string) => `sr:${sessionId}`,
  user: (userId: string) => `ur:${userId}`,
};

export interface RevokedClaims {
  jti: string;
  sid: string;
  sub: string;
  /** Issue instant in ms. */
  tms: number;
}

export interface Revocations {
  /** True when the token is revoked. */
  isRevoked(claims: RevokedClaims): Promise<boolean>;
  /** Logout: the token itself (its session is ended in PostgreSQL by the caller). */
  blacklist(tokenId: string, expiresAtMs: number): Promise<void>;
  /** After the caller set the session's `revoked_at`. */
  revokeSession(sessionId: string): Promise<void>;
  /** Every token of the user issued until now: written to PostgreSQL, then to the copy. */
  revokeUser(userId: string): Promise<void>;
}

export function createRevocations(options: {
  kv: KeyValue;
  repository: Pick<IdentityRepository, 'revokeTokensBefore' | 'revocationOf' | 'recentRevocations'>;
  /** The access-token lifetime plus the clock tolerance: how long a mark matters. */
  markTtlMs: number;
  now?: () => number;
  onReloadError?: (error: unknown) => void;
}): Revocations {
  const { kv, repository, markTtlMs } = options;
  const now = options.now ?? Date.now;
  let reloading: Promise<void> | undefined;
  let lastReloadMs = Number.NEGATIVE_INFINITY;

  async function reload(): Promise<void> {
    // The guard makes the write conditional on nothing having emptied the store (or started
    // another reload) since the read: a reload that straddles a FLUSHALL must not mark as
    // complete a copy that misses the revocations made in between.
    const guard = { key: REVOCATION_RELOADING_KEY, value: randomUUID() };
    await kv.set(guard.key, guard.value, RELOAD_GUARD_TTL_MS);
    const recent = await repository.recentRevocations(markTtlMs, MAX_MARKS_LOADED + 1);
    if (recent.sessionIds.length > MAX_MARKS_LOADED || recent.users.length > MAX_MARKS_LOADED) return;
    await kv.setManyIfAbsent(
      [
        ...recent.sessionIds.map((id) => ({ key: revocationKeys.session(id), value: '1', ttlMs: markTtlMs })),
        ...recent.users.map(({ userId, revokedBefore }) => ({
          key: revocationKeys.user(userId),
          value: String(revokedBefore.getTime()),
          ttlMs: markTtlMs,
        })),
        { key: REVOCATION_LOADED_KEY, value: String(now()), ttlMs: LOADED_TTL_MS },
      ],
      guard,
    );
  }

  function reloadInBackground(): void {
    if (reloading !== undefined || now() - lastReloadMs < RELOAD_INTERVAL_MS) return;
    lastReloadMs = now();
    reloading = reload()
      .catch((error: unknown) => options.onReloadError?.(error))
      .finally(() => (reloading = undefined));
  }

  async function revokedInDatabase(claims: RevokedClaims): Promise<boolean> {
    const row = await repository.revocationOf(claims.sid, claims.sub);
    // No such session: not one we issued, or no longer ours to vouch for.
    if (row === undefined || row.revoked_at !== null) return true;
    return row.tokens_revoked_before !== null && claims.tms <= row.tokens_revoked_before.getTime();
  }

  return {
    async isRevoked(claims) {
      const [blacklisted, sessionRevoked, userRevokedBefore, loaded] = await kv.getMany([
        revocationKeys.tokenId(claims.jti),
        revocationKeys.session(claims.sid),
        revocationKeys.user(claims.sub),
        REVOCATION_LOADED_KEY,
      ]);
      if (blacklisted !== null || sessionRevoked !== null) return true;
      if (userRevokedBefore !== null && claims.tms <= Number(userRevokedBefore)) return true;
      if (loaded !== null) return false;
      reloadInBackground();
      return revokedInDatabase(claims);
    },
    async blacklist(tokenId, expiresAtMs) {
      const ttlMs = expiresAtMs - now() + 10_000;
      if (ttlMs > 0) await kv.set(revocationKeys.tokenId(tokenId), '1', ttlMs);
    },
    async revokeSession(sessionId) {
      await kv.set(revocationKeys.session(sessionId), '1', markTtlMs);
    },
    async revokeUser(userId) {
      const at = now();
      await repository.revokeTokensBefore(userId, new Date(at));
      await kv.set(revocationKeys.user(userId), String(at), markTtlMs);
    },
  };
}
