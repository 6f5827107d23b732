import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterFailure,
  FAILURE_WINDOW_MS,
  isLocked,
  LOCK_DURATION_MS,
  LOCKOUT_THRESHOLD,
  MAX_DELAY_MS,
  progressiveDelayMs,
  released,
  UNLOCKED,
} from './lockout.js';

describe('lockout rules', () => {
  it('locks on the threshold-th consecutive failure and not before', () => {
    let state = UNLOCKED;
    for (let attempt = 1; attempt < LOCKOUT_THRESHOLD; attempt += 1) {
      state = afterFailure(state, 1_000);
      expect(isLocked(state, 1_000)).toBe(false);
    }
    state = afterFailure(state, 1_000);
    expect(isLocked(state, 1_000)).toBe(true);
    expect(isLocked(state, 1_000 + LOCK_DURATION_MS - 1)).toBe(true);
  });

  it('releases the lock once it has run out and counts again from zero', () => {
    let state = UNLOCKED;
    for (let attempt = 0; attempt < LOCKOUT_THRESHOLD; attempt += 1) state = afterFailure(state, 0);
    const later = LOCK_DURATION_MS + 1;
    expect(isLocked(state, later)).toBe(false);
    expect(released(state, later)).toEqual(UNLOCKED);
    expect(afterFailure(state, later)).toEqual({
      failedAttempts: 1,
      lockedUntilMs: null,
      lastFailedAtMs: later,
    });
  });

  it('forgets failures older than the window', () => {
    const state = afterFailure(afterFailure(UNLOCKED, 0), 0);
    expect(released(state, FAILURE_WINDOW_MS - 1).failedAttempts).toBe(2);
    expect(released(state, FAILURE_WINDOW_MS)).toEqual(UNLOCKED);
  });

  it('delays grow with consecutive failures and never pass the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: 1, max: 2_000 }),
        (failures, baseMs) => {
          const delay = progressiveDelayMs(failures, baseMs);
          expect(delay).toBeLessThanOrEqual(MAX_DELAY_MS);
          expect(progressiveDelayMs(failures + 1, baseMs)).toBeGreaterThanOrEqual(delay);
          if (failures < 2) expect(delay).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });
});
