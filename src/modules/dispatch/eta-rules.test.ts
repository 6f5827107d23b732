import { describe, expect, it } from 'vitest';
import { estimateArrival, shouldTell } from './eta-rules.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const minutes = (n: number) => n * 60_000;

describe('ETA', () => {
  it('given the food ready after the driver arrives, then the driver waits for it', () => {
    const eta = estimateArrival({
      phase: 'to_restaurant',
      nowMs: NOW,
      readyAtMs: NOW + minutes(15),
      toRestaurantSeconds: 300,
      toCustomerSeconds: 600,
    });
    expect(eta).toBe(NOW + minutes(25));
  });

  it('given the driver arriving after the food is ready, then the ride starts on arrival', () => {
    const eta = estimateArrival({
      phase: 'to_restaurant',
      nowMs: NOW,
      readyAtMs: NOW,
      toRestaurantSeconds: 600,
      toCustomerSeconds: 600,
    });
    expect(eta).toBe(NOW + minutes(20));
  });

  it('given the order picked up, then only the ride to the customer counts', () => {
    const eta = estimateArrival({
      phase: 'to_customer',
      nowMs: NOW,
      readyAtMs: NOW + minutes(60),
      toRestaurantSeconds: 9999,
      toCustomerSeconds: 420,
    });
    expect(eta).toBe(NOW + minutes(7));
  });

  it('tells the first ETA, then only a move of at least the threshold', () => {
    expect(shouldTell(null, NOW, 3)).toBe(true);
    expect(shouldTell(NOW, NOW + minutes(2), 3)).toBe(false);
    expect(shouldTell(NOW, NOW - minutes(3), 3)).toBe(true);
    expect(shouldTell(NOW, NOW + minutes(4), 3)).toBe(true);
  });
});
