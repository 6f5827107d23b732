import { describe, expect, it } from 'vitest';
import {
  acceptanceRate,
  bayesianRating,
  rankCandidates,
  scoreCandidate,
  type CandidateFacts,
  type MatchPolicy,
  type OrderFacts,
} from './matching-rules.js';

const policy: MatchPolicy = {
  weights: {
    travelPerMinute: 0.1,
    latenessPerMinute: 0.2,
    rating: 1,
    acceptance: 1,
    vehicleFit: 0.5,
    loadPerOrder: 0.5,
  },
  maxLoad: 2,
  bicycleMaxDeliveryMeters: 5_000,
  bicycleMaxItems: 6,
  maxTravelSeconds: 1_800,
  ratingPrior: 4.5,
  ratingPriorWeight: 5,
  acceptancePrior: 0.8,
  acceptancePriorWeight: 5,
};
const NOW = Date.parse('2026-12-06T12:00:00Z');
const order: OrderFacts = { readyAt: NOW + 10 * 60_000, deliveryMeters: 3_000, itemCount: 3 };
const driver = (overrides: Partial<CandidateFacts> = {}): CandidateFacts => ({
  driverId: 'd-1',
  vehicle: 'motorbike',
  travelSeconds: 300,
  travelMeters: 1_500,
  rating: { average: 4.5, count: 10 },
  offers: { answered: 10, accepted: 8 },
  load: 0,
  ...overrides,
});

describe('scoreCandidate', () => {
  it('given two equal drivers, when one is nearer, then the nearer one scores higher', () => {
    const near = scoreCandidate(order, driver({ travelSeconds: 120 }), policy, NOW);
    const far = scoreCandidate(order, driver({ travelSeconds: 900 }), policy, NOW);
    expect(near.eligible && far.eligible).toBe(true);
    if (near.eligible && far.eligible) expect(near.score).toBeGreaterThan(far.score);
  });

  it('given arrival after the food is ready, then the lateness counts as well as the travel', () => {
    const late = scoreCandidate(order, driver({ travelSeconds: 900 }), policy, NOW);
    expect(late.eligible && late.parts.latenessMinutes).toBe(5);
    const early = scoreCandidate(order, driver({ travelSeconds: 300 }), policy, NOW);
    expect(early.eligible && early.parts.latenessMinutes).toBe(0);
  });

  it('given a better rating and acceptance at the same distance, then that driver scores higher', () => {
    const good = scoreCandidate(
      order,
      driver({ rating: { average: 5, count: 50 }, offers: { answered: 50, accepted: 50 } }),
      policy,
      NOW,
    );
    const poor = scoreCandidate(
      order,
      driver({ rating: { average: 3, count: 50 }, offers: { answered: 50, accepted: 10 } }),
      policy,
      NOW,
    );
    if (!good.eligible || !poor.eligible) throw new Error('both eligible');
    expect(good.score).toBeGreaterThan(poor.score);
  });

  it.each([
    [
      'a bicycle for a long delivery',
      driver({ vehicle: 'bicycle' }),
      { ...order, deliveryMeters: 8_000 },
      'vehicle_unfit',
    ],
    [
      'a bicycle for a big order',
      driver({ vehicle: 'bicycle' }),
      { ...order, itemCount: 12 },
      'vehicle_unfit',
    ],
    ['a driver at capacity', driver({ load: 2 }), order, 'at_capacity'],
    [
      'a loaded driver whose detour is too long',
      driver({ load: 1, batchFits: false }),
      order,
      'batch_detour_too_long',
    ],
    ['a driver too far away', driver({ travelSeconds: 3_600 }), order, 'too_far'],
  ] as const)(
    'given %s, then the candidate is not eligible and says why',
    (_name, candidate, facts, reason) => {
      const scored = scoreCandidate(facts, candidate, policy, NOW);
      expect(scored).toMatchObject({ eligible: false, reason });
    },
  );

  it('given a loaded driver whose batch fits, then they are eligible with a load penalty', () => {
    const free = scoreCandidate(order, driver(), policy, NOW);
    const loaded = scoreCandidate(order, driver({ load: 1, batchFits: true }), policy, NOW);
    if (!free.eligible || !loaded.eligible) throw new Error('both eligible');
    expect(free.score - loaded.score).toBeCloseTo(0.5);
  });

  it('new drivers get the priors, not zero', () => {
    expect(bayesianRating({ average: 0, count: 0 }, policy)).toBe(4.5);
    expect(acceptanceRate({ answered: 0, accepted: 0 }, policy)).toBe(0.8);
    // accepted can never exceed answered (a corrupt count is clamped)
    expect(acceptanceRate({ answered: 2, accepted: 9 }, policy)).toBeCloseTo((2 + 4) / 7);
  });
});

describe('rankCandidates', () => {
  it('puts eligible drivers first, best score first, then the ineligible with their reasons', () => {
    const ranked = rankCandidates(
      order,
      [
        driver({ driverId: 'far', travelSeconds: 1_200 }),
        driver({ driverId: 'full', load: 2, travelSeconds: 10 }),
        driver({ driverId: 'near', travelSeconds: 60 }),
      ],
      policy,
      NOW,
    );
    expect(ranked.map((scored) => scored.driverId)).toEqual(['near', 'far', 'full']);
  });

  it('breaks ties by travel time, then by driver id (deterministic)', () => {
    const ranked = rankCandidates(order, [driver({ driverId: 'b' }), driver({ driverId: 'a' })], policy, NOW);
    expect(ranked.map((scored) => scored.driverId)).toEqual(['a', 'b']);
  });
});
