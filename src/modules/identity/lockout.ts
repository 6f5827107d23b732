/**
 * Brute-force rules (spec §3.1), pure. Failures are counted per identifier whether or not an
 * account exists, so the answers cannot tell the two apart:
 *  - from the 2nd consecutive failure the answer is delayed: base, 2×base, 4×base… capped;
 *  - the LOCKOUT_THRESHOLD-th consecutive failure locks the identifier for LOCK_DURATION_MS;
 *  - when the lock has passed, or FAILURE_WINDOW_MS after the last failure, the counter starts
 *    again from zero (the release);
 *  - a success, or an admin unlock, resets it.
 */
export const LOCKOUT_THRESHOLD = 5;
export const LOCK_DURATION_MS = 15 * 60_000;
export const MAX_DELAY_MS = 8_000;

/** Failures older than this no longer count (unless they locked the identifier). */
export const FAILURE_WINDOW_MS = 15 * 60_000;

export interface LockState {
  failedAttempts: number;
  lockedUntilMs: number | null;
  lastFailedAtMs: number | null;
}

export const UNLOCKED: LockState = { failedAttempts: 0, lockedUntilMs: null, lastFailedAtMs: null };

export function isLocked(state: LockState, nowMs: number): boolean {
  return state.lockedUntilMs !== null && state.lockedUntilMs > nowMs;
}

/** A lock that has run out is released, and old failures are forgotten: the count starts again. */
export function released(state: LockState, nowMs: number): LockState {
  if (state.lockedUntilMs !== null) return state.lockedUntilMs <= nowMs ? UNLOCKED : state;
  if (state.lastFailedAtMs !== null && state.lastFailedAtMs + FAILURE_WINDOW_MS <= nowMs) return UNLOCKED;
  return state;
}

export function afterFailure(state: LockState, nowMs: number): LockState {
  const current = released(state, nowMs);
  const failedAttempts = current.failedAttempts + 1;
  return {
    failedAttempts,
    lockedUntilMs: failedAttempts >= LOCKOUT_THRESHOLD ? nowMs + LOCK_DURATION_MS : current.lockedUntilMs,
    lastFailedAtMs: nowMs,
  };
}

/** How long to hold the answer to the n-th consecutive failure. */
export function progressiveDelayMs(failedAttempts: number, baseMs: number): number {
  if (failedAttempts < 2) return 0;
  return Math.min(baseMs * 2 ** (failedAttempts - 2), MAX_DELAY_MS);
}

export function retryAfterSeconds(state: LockState, nowMs: number): number {
  return state.lockedUntilMs === null ? 0 : Math.max(1, Math.ceil((state.lockedUntilMs - nowMs) / 1000));
}
