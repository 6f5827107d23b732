import { identityErrors } from './errors.js';
import type { KeyValue } from './kv.js';
import {
  afterFailure,
  FAILURE_WINDOW_MS,
  isLocked,
  LOCK_DURATION_MS,
  progressiveDelayMs,
  released,
  retryAfterSeconds,
  UNLOCKED,
  type LockState,
} from './lockout.js';
import type { IdentityRepository, UserRow } from './repository.js';

/**
 * Applies the lockout rules (lockout.ts) to real identifiers. A known account keeps its state
 * in its row (spec §4: failedAttempts, lockedUntil), an unknown identifier in the key-value
 * store under a keyed hash, with the same rules, so the answers do not reveal which numbers
 * have accounts. Failures per IP are counted too, at a higher limit: mobile carriers put many
 * subscribers behind one address (carrier-grade NAT).
 */
export const IP_FAILURE_MULTIPLIER = 10;

export interface BruteForceGuard {
  stateOf(user: UserRow | undefined, identifierHash: string): Promise<LockState>;
  assertNotLocked(state: LockState): void;
  /** Records a failure and waits the progressive delay; returns the new state. */
  fail(user: UserRow | undefined, identifierHash: string, state: LockState): Promise<LockState>;
  succeed(user: UserRow): Promise<void>;
  unlock(userId: string): Promise<void>;
  assertIpAllowed(ip: string | null): Promise<void>;
  countIpFailure(ip: string | null): Promise<void>;
}

export function lockStateOfUser(
  user: Pick<UserRow, 'failed_attempts' | 'locked_until' | 'last_failed_at'>,
): LockState {
  return {
    failedAttempts: user.failed_attempts,
    lockedUntilMs: user.locked_until?.getTime() ?? null,
    lastFailedAtMs: user.last_failed_at?.getTime() ?? null,
  };
}

export function createBruteForceGuard(options: {
  repository: IdentityRepository;
  kv: KeyValue;
  delayBaseMs: number;
  ipFailureLimit: number;
  ipWindowMs: number;
  enabled: boolean;
  /** Keyed hash of the address: Redis keys never hold it in clear. */
  limitKey: (value: string) => string;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}): BruteForceGuard {
  const { repository, kv } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const unknownKey = (identifierHash: string) => `lf:${identifierHash}`;
  const ipKey = (ip: string) => `ipf:${options.limitKey(`ip:${ip}`)}`;

  return {
    async stateOf(user, identifierHash) {
      if (user !== undefined) return released(lockStateOfUser(user), now());
      const stored = await kv.get(unknownKey(identifierHash));
      return released(stored === null ? UNLOCKED : (JSON.parse(stored) as LockState), now());
    },
    assertNotLocked(state) {
      if (!isLocked(state, now())) return;
      const seconds = retryAfterSeconds(state, now());
      throw identityErrors.of(
        'rate_limited',
        'account_locked',
        `Too many failed attempts; retry in ${Math.ceil(seconds / 60)} minutes.`,
        { retryAfterSeconds: seconds },
      );
    },
    async fail(user, identifierHash, state) {
      const next = afterFailure(state, now());
      if (user !== undefined) {
        await repository.updateUser(user.id, {
          failed_attempts: next.failedAttempts,
          locked_until: next.lockedUntilMs === null ? null : new Date(next.lockedUntilMs),
          last_failed_at: new Date(now()),
        });
      } else {
        await kv.set(
          unknownKey(identifierHash),
          JSON.stringify(next),
          Math.max(LOCK_DURATION_MS, FAILURE_WINDOW_MS),
        );
      }
      const delayMs = progressiveDelayMs(next.failedAttempts, options.delayBaseMs);
      if (delayMs > 0) await sleep(delayMs);
      return next;
    },
    async succeed(user) {
      if (user.failed_attempts === 0 && user.locked_until === null) return;
      await repository.updateUser(user.id, { failed_attempts: 0, locked_until: null, last_failed_at: null });
    },
    async unlock(userId) {
      await repository.updateUser(userId, { failed_attempts: 0, locked_until: null, last_failed_at: null });
    },
    async assertIpAllowed(ip) {
      if (!options.enabled || ip === null) return;
      const count = Number((await kv.get(ipKey(ip))) ?? 0);
      if (count >= options.ipFailureLimit) {
        throw identityErrors.of(
          'rate_limited',
          'rate_limited',
          'Too many failed sign-ins from this network; retry later.',
          { retryAfterSeconds: Math.ceil(options.ipWindowMs / 1000) },
        );
      }
    },
    async countIpFailure(ip) {
      if (ip !== null) await kv.increment(ipKey(ip), options.ipWindowMs);
    },
  };
}
