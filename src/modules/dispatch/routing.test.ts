import { describe, expect, it } from 'vitest';
import { createHaversineRouting, doualaHour, parseSpeedFactorsByHour } from './routing.js';

const from = { latitude: 4.0511, longitude: 9.7679 };
const to = { latitude: 4.0611, longitude: 9.7719 };
const at = (doualaClock: string) => () => Date.parse(`2026-12-07T${doualaClock}:00+01:00`);

describe('speeds by time of day', () => {
  it('parses the table by Douala hour: ranges, a range across midnight, 1 elsewhere', () => {
    const factors = parseSpeedFactorsByHour('7-10:0.5,22-2:0.8');
    expect(factors).toHaveLength(24);
    expect(factors.slice(6, 11)).toEqual([1, 0.5, 0.5, 0.5, 1]);
    expect([factors[21], factors[22], factors[23], factors[0], factors[1], factors[2]]).toEqual([
      1, 0.8, 0.8, 0.8, 0.8, 1,
    ]);
    expect(parseSpeedFactorsByHour('0-24:0.5')).toEqual(Array.from({ length: 24 }, () => 0.5));
    expect(parseSpeedFactorsByHour('')).toEqual(Array.from({ length: 24 }, () => 1));
    for (const bad of ['7-10', '7-7:0.5', '25-3:1', '7-10:0', '7-10:3', 'x'])
      expect(() => parseSpeedFactorsByHour(bad), bad).toThrow(/ROUTING_SPEED_FACTORS_BY_HOUR/);
    expect(doualaHour(Date.parse('2026-12-07T06:30:00Z'))).toBe(7);
  });

  it('a rush-hour factor lengthens the duration, not the distance; other hours keep the mean speed', async () => {
    const options = {
      cities: [],
      defaultRoadFactor: 1.4,
      speedKmh: { motorbike: 20, car: 18, bicycle: 12 },
      speedFactorByHour: parseSpeedFactorsByHour('7-10:0.5'),
    };
    const rush = await createHaversineRouting({ ...options, now: at('08:15') }).travel(from, to, 'motorbike');
    const noon = await createHaversineRouting({ ...options, now: at('12:00') }).travel(from, to, 'motorbike');
    const plain = await createHaversineRouting({
      ...options,
      speedFactorByHour: undefined,
      now: at('08:15'),
    }).travel(from, to, 'motorbike');
    expect(rush.distanceMeters).toBe(noon.distanceMeters);
    expect(noon).toEqual(plain);
    expect(Math.abs(rush.durationSeconds - 2 * noon.durationSeconds)).toBeLessThanOrEqual(1);
    // 20 km/h: metres / (20000 / 3600) seconds.
    expect(Math.abs(noon.durationSeconds - noon.distanceMeters / (20_000 / 3_600))).toBeLessThanOrEqual(1);
  });
});
