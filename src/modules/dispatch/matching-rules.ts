/**
 * The dispatcher's score (pure, no I/O): who is offered an order first.
 *
 * For one order and one candidate driver, with facts the matcher gathered through ports (travel
 * from the routing port, rating from reviews, offers from dispatch's own history, load from the
 * orders the driver carries):
 *
 *   score =   rating     × (Bayesian mean rating − 1) / 4              ∈ [0, 1]
 *           + acceptance × Bayesian acceptance rate                   ∈ [0, 1]
 *           + vehicleFit × fit of the vehicle to the order            ∈ [0, 1]
 *           − travel     × minutes to reach the restaurant
 *           − lateness   × minutes the driver would arrive after the food is ready
 *           − load       × orders the driver already carries
 *
 * Weights are configuration (DISPATCH_WEIGHT_*). Ineligible candidates are kept with a reason, so
 * the audit can say why a nearby driver was not asked.
 */
import type { Vehicle } from './fix-rules.js';

export interface MatchWeights {
  travelPerMinute: number;
  latenessPerMinute: number;
  rating: number;
  acceptance: number;
  vehicleFit: number;
  loadPerOrder: number;
}

export interface MatchPolicy {
  weights: MatchWeights;
  /** Orders a driver may carry at once (a second one only when batching fits). */
  maxLoad: number;
  /** A bicycle takes deliveries up to this distance (restaurant → customer), metres. */
  bicycleMaxDeliveryMeters: number;
  /** A bicycle takes orders up to this many items. */
  bicycleMaxItems: number;
  /** A driver further than this (travel to the restaurant) is not asked, seconds. */
  maxTravelSeconds: number;
  /** The prior of the rating mean and its weight in reviews (a new driver is not last). */
  ratingPrior: number;
  ratingPriorWeight: number;
  /** The prior of the acceptance rate and its weight in offers. */
  acceptancePrior: number;
  acceptancePriorWeight: number;
}

export interface OrderFacts {
  /** When the food is expected ready, ms since the epoch. */
  readyAt: number;
  /** Restaurant → customer, by road, metres. */
  deliveryMeters: number;
  itemCount: number;
}

export interface CandidateFacts {
  driverId: string;
  vehicle: Vehicle;
  /** Driver → restaurant through the routing port. */
  travelSeconds: number;
  travelMeters: number;
  rating: { average: number; count: number };
  offers: { answered: number; accepted: number };
  /** Orders the driver carries now. */
  load: number;
  /** For a loaded driver: whether the batching rule accepts this order on their route. */
  batchFits?: boolean;
}

export type ScoreParts = {
  rating: number;
  acceptance: number;
  vehicleFit: number;
  travelMinutes: number;
  latenessMinutes: number;
  load: number;
};

export type Ineligibility = 'at_capacity' | 'batch_detour_too_long' | 'vehicle_unfit' | 'too_far';

export type Scored =
  | {
      driverId: string;
      eligible: true;
      score: number;
      parts: ScoreParts;
      travelSeconds: number;
      travelMeters: number;
    }
  | { driverId: string; eligible: false; reason: Ineligibility; travelSeconds: number };

export function bayesianRating(rating: { average: number; count: number }, policy: MatchPolicy): number {
  const count = Math.max(0, rating.count);
  const sum = rating.average * count + policy.ratingPrior * policy.ratingPriorWeight;
  return sum / (count + policy.ratingPriorWeight);
}

export function acceptanceRate(offers: { answered: number; accepted: number }, policy: MatchPolicy): number {
  const answered = Math.max(0, offers.answered);
  const accepted = Math.min(Math.max(0, offers.accepted), answered);
  return (
    (accepted + policy.acceptancePrior * policy.acceptancePriorWeight) /
    (answered + policy.acceptancePriorWeight)
  );
}

/** 1 for a fitting vehicle, 0 for one that cannot take the order; a car in town fits a little less. */
export function vehicleFit(vehicle: Vehicle, order: OrderFacts, policy: MatchPolicy): number {
  if (vehicle === 'bicycle')
    return order.deliveryMeters <= policy.bicycleMaxDeliveryMeters &&
      order.itemCount <= policy.bicycleMaxItems
      ? 1
      : 0;
  // A car is slower in traffic and costlier for a small, short order; it fits big ones best.
  if (vehicle === 'car') return order.itemCount > policy.bicycleMaxItems ? 1 : 0.8;
  return 1;
}

export function scoreCandidate(
  order: OrderFacts,
  candidate: CandidateFacts,
  policy: MatchPolicy,
  nowMs: number,
): Scored {
  const { driverId, travelSeconds } = candidate;
  if (candidate.load >= policy.maxLoad)
    return { driverId, eligible: false, reason: 'at_capacity', travelSeconds };
  if (candidate.load > 0 && candidate.batchFits !== true)
    return { driverId, eligible: false, reason: 'batch_detour_too_long', travelSeconds };
  if (travelSeconds > policy.maxTravelSeconds)
    return { driverId, eligible: false, reason: 'too_far', travelSeconds };
  const fit = vehicleFit(candidate.vehicle, order, policy);
  if (fit === 0) return { driverId, eligible: false, reason: 'vehicle_unfit', travelSeconds };
  const parts: ScoreParts = {
    rating: (bayesianRating(candidate.rating, policy) - 1) / 4,
    acceptance: acceptanceRate(candidate.offers, policy),
    vehicleFit: fit,
    travelMinutes: travelSeconds / 60,
    latenessMinutes: Math.max(0, nowMs + travelSeconds * 1000 - order.readyAt) / 60_000,
    load: candidate.load,
  };
  const w = policy.weights;
  const score =
    w.rating * parts.rating +
    w.acceptance * parts.acceptance +
    w.vehicleFit * parts.vehicleFit -
    w.travelPerMinute * parts.travelMinutes -
    w.latenessPerMinute * parts.latenessMinutes -
    w.loadPerOrder * parts.load;
  return {
    driverId,
    eligible: true,
    score: Math.round(score * 1000) / 1000,
    parts,
    travelSeconds,
    travelMeters: candidate.travelMeters,
  };
}

/** Eligible candidates best first (ties: the shorter trip, then the driver id), then the rest. */
export function rankCandidates(
  order: OrderFacts,
  candidates: readonly CandidateFacts[],
  policy: MatchPolicy,
  nowMs: number,
): Scored[] {
  const scored = candidates.map((candidate) => scoreCandidate(order, candidate, policy, nowMs));
  return scored.sort((a, b) => {
    if (a.eligible !== b.eligible) return a.eligible ? -1 : 1;
    if (a.eligible && b.eligible && a.score !== b.score) return b.score - a.score;
    if (a.travelSeconds !== b.travelSeconds) return a.travelSeconds - b.travelSeconds;
    return a.driverId < b.driverId ? -1 : a.driverId > b.driverId ? 1 : 0;
  });
}
