import { describe, expect, it } from 'vitest';
import { judgeFix, usableForDecisions, type FixPolicy, type PositionFix } from './fix-rules.js';
import { createHaversineRouting } from './routing.js';
import { distanceMeters } from './geo.js';

const policy: FixPolicy = {
  maxAccuracyMeters: 100,
  maxAgeMs: 120_000,
  minIntervalMs: 4_000,
  maxSpeedKmh: { motorbike: 150, car: 150, bicycle: 60 },
};
const NOW = Date.parse('2026-12-05T12:00:00Z');
const AKWA = { latitude: 4.0511, longitude: 9.7679 };
const fix = (overrides: Partial<PositionFix> = {}): PositionFix => ({
  ...AKWA,
  accuracyMeters: 10,
  recordedAt: NOW - 1_000,
  ...overrides,
});
const last = { ...AKWA, recordedAt: NOW - 60_000, acceptedAt: NOW - 60_000 };

describe('usableForDecisions', () => {
  it('accepts a coarse fix but keeps it out of matching and geofences', () => {
    const strict = { ...policy, usableAccuracyMeters: 50 };
    const coarse = fix({ accuracyMeters: 80 });
    expect(judgeFix(coarse, undefined, 'motorbike', strict, NOW).outcome).toBe('accepted');
    expect(usableForDecisions(coarse, strict)).toBe(false);
    expect(usableForDecisions(fix({ accuracyMeters: 50 }), strict)).toBe(true);
    expect(usableForDecisions(fix({ accuracyMeters: 3 }), strict)).toBe(true);
    // Without the setting, every accepted fix is usable.
    expect(usableForDecisions(coarse, policy)).toBe(true);
  });
});

describe('judgeFix', () => {
  it('accepts a first fix and a believable next one', () => {
    expect(judgeFix(fix(), undefined, 'motorbike', policy, NOW).outcome).toBe('accepted');
    // ~1.1 km in 59 s: 68 km/h
    expect(judgeFix(fix({ latitude: 4.0611 }), last, 'motorbike', policy, NOW).outcome).toBe('accepted');
  });

  it.each([
    ['latitude out of range', fix({ latitude: 91 }), 'location_invalid'],
    ['latitude beyond the index (85.05°)', fix({ latitude: -86 }), 'location_invalid'],
    ['longitude out of range', fix({ longitude: -180.5 }), 'location_invalid'],
    ['NaN', fix({ latitude: Number.NaN }), 'location_invalid'],
    ['accuracy too coarse', fix({ accuracyMeters: 150 }), 'location_invalid'],
    ['in the future', fix({ recordedAt: NOW + 60_000 }), 'location_in_future'],
    ['too old', fix({ recordedAt: NOW - 121_000 }), 'location_too_old'],
  ])('refuses %s', (_name, candidate, code) => {
    const verdict = judgeFix(candidate, undefined, 'motorbike', policy, NOW);
    expect(verdict).toMatchObject({ outcome: 'refused', code });
  });

  it('tolerates a phone clock a few seconds ahead', () => {
    expect(judgeFix(fix({ recordedAt: NOW + 3_000 }), undefined, 'car', policy, NOW).outcome).toBe(
      'accepted',
    );
  });

  it('refuses a fix sooner than the interval after the last accepted one, saying when to retry', () => {
    const recent = { ...last, acceptedAt: NOW - 1_500 };
    expect(judgeFix(fix(), recent, 'motorbike', policy, NOW)).toMatchObject({
      outcome: 'refused',
      code: 'location_too_frequent',
      retryAfterMs: 2_500,
    });
  });

  it('refuses a fix not later than the last accepted one', () => {
    expect(judgeFix(fix({ recordedAt: NOW - 60_000 }), last, 'motorbike', policy, NOW)).toMatchObject({
      code: 'location_out_of_order',
    });
  });

  it('flags an impossible speed for the vehicle: 5.5 km in 59 s is fine for nobody, 3 km in 59 s only for a motorbike', () => {
    const far = fix({ latitude: 4.1011 }); // ~5.6 km north
    expect(judgeFix(far, last, 'car', policy, NOW)).toMatchObject({ outcome: 'flagged', limitKmh: 150 });
    const mid = fix({ latitude: 4.0681 }); // ~1.9 km: ~115 km/h
    expect(judgeFix(mid, last, 'motorbike', policy, NOW).outcome).toBe('accepted');
    expect(judgeFix(mid, last, 'bicycle', policy, NOW)).toMatchObject({ outcome: 'flagged', limitKmh: 60 });
  });
});

describe('haversine routing', () => {
  const routing = createHaversineRouting({
    cities: [
      { name: 'Douala', ...AKWA, radiusKm: 30, roadFactor: 1.35 },
      { name: 'Yaoundé', latitude: 3.848, longitude: 11.5021, radiusKm: 30, roadFactor: 1.45 },
    ],
    defaultRoadFactor: 1.4,
    speedKmh: { motorbike: 22, car: 18, bicycle: 12 },
  });

  it("applies the road factor of the city the trip starts in and the vehicle's speed", async () => {
    const to = { latitude: 4.0611, longitude: 9.7719 };
    const straight = distanceMeters(AKWA, to);
    const byMotorbike = await routing.travel(AKWA, to, 'motorbike');
    expect(byMotorbike.distanceMeters).toBe(Math.round(straight * 1.35));
    expect(byMotorbike.durationSeconds).toBe(Math.round((straight * 1.35) / (22 / 3.6)));
    const byBicycle = await routing.travel(AKWA, to, 'bicycle');
    expect(byBicycle.durationSeconds).toBeGreaterThan(byMotorbike.durationSeconds);

    const mvogMbi = { latitude: 3.8577, longitude: 11.5171 };
    const inYaounde = await routing.travel({ latitude: 3.848, longitude: 11.5021 }, mvogMbi, 'car');
    expect(inYaounde.distanceMeters).toBe(
      Math.round(distanceMeters({ latitude: 3.848, longitude: 11.5021 }, mvogMbi) * 1.45),
    );
    const elsewhere = { latitude: 5.4781, longitude: 10.4176 }; // Bafoussam
    const outside = await routing.travel(elsewhere, { latitude: 5.49, longitude: 10.42 }, 'car');
    expect(outside.distanceMeters).toBe(
      Math.round(distanceMeters(elsewhere, { latitude: 5.49, longitude: 10.42 }) * 1.4),
    );
  });
});
