import { describe, expect, it } from 'vitest';
import { estimateArrival } from './eta-rules.js';
import {
  cityOf,
  createHaversineRouting,
  doualaHour,
  haversineFromConfig,
  parseSpeedFactorsByHour,
} from './routing.js';

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

describe('speed factors per city', () => {
  const douala = { latitude: 4.0511, longitude: 9.7679 };
  const doualaDrop = { latitude: 4.0611, longitude: 9.7719 };
  const yaounde = { latitude: 3.848, longitude: 11.5021 };
  const yaoundeDrop = { latitude: 3.858, longitude: 11.5061 };
  const bafoussam = { latitude: 5.4781, longitude: 10.4176 };
  const bafoussamDrop = { latitude: 5.4881, longitude: 10.4216 };
  const base = {
    ROUTING_ROAD_FACTOR_DOUALA: 1.4,
    ROUTING_ROAD_FACTOR_YAOUNDE: 1.4,
    ROUTING_ROAD_FACTOR_DEFAULT: 1.4,
    ROUTING_SPEED_KMH_MOTORBIKE: 20,
    ROUTING_SPEED_KMH_CAR: 18,
    ROUTING_SPEED_KMH_BICYCLE: 12,
    ROUTING_SPEED_FACTORS_BY_HOUR: '7-10:0.8',
    ROUTING_SPEED_FACTORS_BY_HOUR_DOUALA: '7-10:0.5',
    ROUTING_SPEED_FACTORS_BY_HOUR_YAOUNDE: '',
  };
  const secondsAt = (config: typeof base, clock: string, from: typeof douala, to: typeof douala) =>
    haversineFromConfig(config, at(clock)).travel(from, to, 'motorbike');

  it("a city's own table applies in the city; a city without one, and places outside every city, take the default", async () => {
    const mean = (metres: number) => metres / (20_000 / 3_600);
    const inDouala = await secondsAt(base, '08:15', douala, doualaDrop);
    const inYaounde = await secondsAt(base, '08:15', yaounde, yaoundeDrop);
    const outside = await secondsAt(base, '08:15', bafoussam, bafoussamDrop);
    expect(Math.abs(inDouala.durationSeconds - mean(inDouala.distanceMeters) / 0.5)).toBeLessThanOrEqual(1);
    expect(Math.abs(inYaounde.durationSeconds - mean(inYaounde.distanceMeters) / 0.8)).toBeLessThanOrEqual(1);
    expect(Math.abs(outside.durationSeconds - mean(outside.distanceMeters) / 0.8)).toBeLessThanOrEqual(1);
    // Outside the city's hours its table says 1, whatever the default says at that hour.
    const noon = await secondsAt(base, '12:00', douala, doualaDrop);
    expect(Math.abs(noon.durationSeconds - mean(noon.distanceMeters))).toBeLessThanOrEqual(1);
    // The distance never changes with the hour.
    expect(noon.distanceMeters).toBe(inDouala.distanceMeters);
  });

  it('an ETA through the port follows the city table (the path eta.ts takes: routing, then estimateArrival)', async () => {
    const nowMs = at('08:15')();
    const eta = async (config: typeof base) =>
      estimateArrival({
        phase: 'to_customer',
        nowMs,
        readyAtMs: nowMs,
        toRestaurantSeconds: 0,
        toCustomerSeconds: (await secondsAt(config, '08:15', douala, doualaDrop)).durationSeconds,
      });
    const slowDouala = await eta(base);
    const defaultOnly = await eta({ ...base, ROUTING_SPEED_FACTORS_BY_HOUR_DOUALA: '' });
    // 0.5 against 0.8 at rush hour: the ride takes 1.6 times as long.
    expect(Math.abs((slowDouala - nowMs) / (defaultOnly - nowMs) - 1.6)).toBeLessThan(0.01);
  });

  it('a bad city table stops the boot naming its variable', () => {
    expect(() => haversineFromConfig({ ...base, ROUTING_SPEED_FACTORS_BY_HOUR_YAOUNDE: '7-10:5' })).toThrow(
      /ROUTING_SPEED_FACTORS_BY_HOUR_YAOUNDE/,
    );
    expect(() => haversineFromConfig({ ...base, ROUTING_SPEED_FACTORS_BY_HOUR_DOUALA: '9-9:0.5' })).toThrow(
      /ROUTING_SPEED_FACTORS_BY_HOUR_DOUALA/,
    );
    expect(cityOf(bafoussam, [])).toBeUndefined();
  });
});
