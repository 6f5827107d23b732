import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from './circuit-breaker.js';

function clock() {
  let nowMs = 1_000;
  return { now: () => nowMs, advance: (ms: number) => (nowMs += ms) };
}

describe('circuit breaker', () => {
  it('stays closed below the threshold, and a success resets the count', () => {
    const breaker = createCircuitBreaker({ failureThreshold: 3, coolDownMs: 1_000 });
    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess();
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state()).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('opens after the threshold of consecutive failures and refuses calls during the cool-down', () => {
    const time = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 2, coolDownMs: 1_000, now: time.now });
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state()).toBe('open');
    time.advance(999);
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('half-opens after the cool-down and lets exactly one trial through', () => {
    const time = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 1, coolDownMs: 500, now: time.now });
    breaker.recordFailure();
    time.advance(500);
    expect(breaker.state()).toBe('half_open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false);
  });

  it('closes when the half-open trial succeeds', () => {
    const time = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 1, coolDownMs: 500, now: time.now });
    breaker.recordFailure();
    time.advance(500);
    breaker.tryAcquire();
    breaker.recordSuccess();
    expect(breaker.state()).toBe('closed');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('re-opens for a whole new cool-down when the half-open trial fails', () => {
    const time = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 3, coolDownMs: 500, now: time.now });
    for (let index = 0; index < 3; index += 1) breaker.recordFailure();
    time.advance(500);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordFailure();
    expect(breaker.state()).toBe('open');
    time.advance(499);
    expect(breaker.tryAcquire()).toBe(false);
    time.advance(1);
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('gives the trial slot back when a trial ends without a verdict', () => {
    const time = clock();
    const breaker = createCircuitBreaker({ failureThreshold: 1, coolDownMs: 10, now: time.now });
    breaker.recordFailure();
    time.advance(10);
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release();
    expect(breaker.tryAcquire()).toBe(true);
  });

  it('refuses a threshold below one', () => {
    expect(() => createCircuitBreaker({ failureThreshold: 0, coolDownMs: 1 })).toThrow(RangeError);
  });
});
