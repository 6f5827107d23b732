import { describe, expect, it } from 'vitest';
import { calibrateRoadFactors, MIN_SAMPLES, trailRatio } from './road-calibration.js';

const DOUALA = { name: 'Douala', latitude: 4.0511, longitude: 9.7679, radiusKm: 30 };
/** 0.001° is about 111 m. An L-shaped trail: east then north, `steps` points on each leg. */
function lTrail(start: { latitude: number; longitude: number }, legDegrees: number, steps = 20) {
  const points = [];
  for (let step = 0; step <= steps; step += 1)
    points.push({ latitude: start.latitude, longitude: start.longitude + (legDegrees * step) / steps });
  for (let step = 1; step <= steps; step += 1)
    points.push({
      latitude: start.latitude + (legDegrees * step) / steps,
      longitude: start.longitude + legDegrees,
    });
  return points;
}

describe('road factors from trails', () => {
  it('an L-shaped trail measures √2 against the straight line', () => {
    const measured = trailRatio(lTrail(DOUALA, 0.01));
    expect(measured?.ratio).toBeCloseTo(Math.SQRT2, 2);
  });

  it('leaves out a short trail, a trail of few points, a round trip, and stationary jitter', () => {
    expect(trailRatio(lTrail(DOUALA, 0.001))).toBeUndefined(); // about 157 m in a straight line
    expect(trailRatio(lTrail(DOUALA, 0.01).filter((_, index) => index % 10 === 0))).toBeDefined();
    expect(trailRatio(lTrail(DOUALA, 0.01).slice(0, 3))).toBeUndefined();
    const there = lTrail(DOUALA, 0.01);
    expect(trailRatio([...there, ...[...there].reverse(), there[there.length - 1]!])).toBeUndefined();
    // A driver waiting at a light: fixes a few metres apart add no length.
    const straight = Array.from({ length: 11 }, (_, index) => ({
      latitude: DOUALA.latitude + index * 0.001,
      longitude: DOUALA.longitude,
    }));
    const jittered = straight.flatMap((point) => [
      point,
      { latitude: point.latitude + 0.00003, longitude: point.longitude - 0.00003 },
    ]);
    expect(trailRatio(jittered)?.ratio).toBeCloseTo(1, 1);
  });

  it('suggests a city’s median once it has enough trails, and names where the rest started', () => {
    const trails = Array.from({ length: MIN_SAMPLES }, (_, index) =>
      lTrail({ latitude: DOUALA.latitude + index * 0.0005, longitude: DOUALA.longitude }, 0.01),
    );
    const elsewhere = lTrail({ latitude: 5.96, longitude: 10.15 }, 0.01); // Bamenda
    const [douala, rest] = calibrateRoadFactors([...trails, elsewhere], [DOUALA]);
    expect(douala).toMatchObject({
      city: 'Douala',
      trails: MIN_SAMPLES,
      usable: MIN_SAMPLES,
      suggested: 1.41,
    });
    expect(rest).toMatchObject({ city: 'elsewhere', trails: 1, usable: 1, median: 1.41, suggested: null });
  });
});
