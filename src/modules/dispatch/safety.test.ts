import { describe, expect, it } from 'vitest';
import { speedAlertsOf } from './safety.js';

const at = (seconds: number) => new Date(Date.parse('2026-12-06T10:00:00Z') + seconds * 1000);

describe('speed alerts from a trail', () => {
  it('flags consecutive points of one order faster than the threshold, never across orders', () => {
    // 0.009° of latitude ≈ 1 km.
    const points = [
      { order_id: 'a', latitude: 4.05, longitude: 9.76, recorded_at: at(0) },
      { order_id: 'a', latitude: 4.059, longitude: 9.76, recorded_at: at(60) }, // 1 km in 60 s: 60 km/h
      { order_id: 'a', latitude: 4.077, longitude: 9.76, recorded_at: at(120) }, // 2 km in 60 s: 120 km/h
      { order_id: 'b', latitude: 4.5, longitude: 9.76, recorded_at: at(121) }, // another order: no pair
      { order_id: 'b', latitude: 4.5, longitude: 9.76, recorded_at: at(121) }, // no time elapsed: skipped
    ];
    const alerts = speedAlertsOf(points, 80);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ orderId: 'a', limitKmh: 80 });
    expect(alerts[0]!.speedKmh).toBeGreaterThan(115);
    expect(alerts[0]!.speedKmh).toBeLessThan(125);
    expect(speedAlertsOf(points, 50)).toHaveLength(2);
  });
});
