/**
 * Matching, offers and ETAs put together from config and the dispatch context's parts (index.ts
 * calls this once, so the context's definition stays small).
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import { ownTables } from '../../db/own-tables.js';
import type { EventStore } from '../../eventstore/index.js';
import type { PersonalDataHook, Reactor } from '../../platform/context.js';
import type { RealtimeBus } from '../../realtime/index.js';
import type { CatalogOrdersApi } from '../catalog/index.js';
import type { DriverOrdersLookup } from '../orders/index.js';
import { createEtaService, type EtaService, type EtaServiceOptions } from './eta.js';
import type { DriverLocationIndex } from './location-index.js';
import { createMatcher, type DriverRatings, type MatcherOptions } from './matching.js';
import type { MatchPolicy } from './matching-rules.js';
import {
  createOffersService,
  type DispatchOrders,
  type OffersService,
  type OffersServiceOptions,
} from './offers.js';
import type { DispatchRules } from './offers-decider.js';
import { dispatchReactor, dispatchSweep } from './offers-reactor.js';
import { createOffersRepository, type OffersRepository } from './offers-repository.js';
import type { OffersTables } from './offers-tables.js';
import type { DispatchRepository } from './repository.js';
import type { RoutingPort } from './routing.js';
import type { DispatchTables } from './tables.js';
import type { Throttle } from './throttle.js';

type MatchingConfig = Pick<
  Config,
  | 'DISPATCH_MATCHING_ENABLED'
  | 'DISPATCH_OFFER_TIMEOUT_SECONDS'
  | 'DISPATCH_OFFERS_PER_ROUND'
  | 'DISPATCH_MAX_ROUNDS'
  | 'DISPATCH_EMPTY_ROUND_WAIT_SECONDS'
  | 'DISPATCH_RADIUS_KM'
  | 'DISPATCH_RADIUS_STEP_KM'
  | 'DISPATCH_MAX_RADIUS_KM'
  | 'DISPATCH_CANDIDATES'
  | 'DISPATCH_MAX_TRAVEL_MINUTES'
  | 'DISPATCH_MAX_LOAD'
  | 'DISPATCH_BATCH_MAX_DELAY_MINUTES'
  | 'DISPATCH_BICYCLE_MAX_DELIVERY_KM'
  | 'DISPATCH_BICYCLE_MAX_ITEMS'
  | 'DISPATCH_WEIGHT_TRAVEL_PER_MINUTE'
  | 'DISPATCH_WEIGHT_LATENESS_PER_MINUTE'
  | 'DISPATCH_WEIGHT_RATING'
  | 'DISPATCH_WEIGHT_ACCEPTANCE'
  | 'DISPATCH_WEIGHT_VEHICLE_FIT'
  | 'DISPATCH_WEIGHT_LOAD_PER_ORDER'
  | 'DISPATCH_SWEEP_INTERVAL_MS'
  | 'DISPATCH_ETA_PUSH_MINUTES'
  | 'DISPATCH_ETA_INTERVAL_MS'
>;

export function matchPolicyFromConfig(config: MatchingConfig): MatchPolicy {
  return {
    weights: {
      travelPerMinute: config.DISPATCH_WEIGHT_TRAVEL_PER_MINUTE,
      latenessPerMinute: config.DISPATCH_WEIGHT_LATENESS_PER_MINUTE,
      rating: config.DISPATCH_WEIGHT_RATING,
      acceptance: config.DISPATCH_WEIGHT_ACCEPTANCE,
      vehicleFit: config.DISPATCH_WEIGHT_VEHICLE_FIT,
      loadPerOrder: config.DISPATCH_WEIGHT_LOAD_PER_ORDER,
    },
    maxLoad: config.DISPATCH_MAX_LOAD,
    bicycleMaxDeliveryMeters: config.DISPATCH_BICYCLE_MAX_DELIVERY_KM * 1000,
    bicycleMaxItems: config.DISPATCH_BICYCLE_MAX_ITEMS,
    maxTravelSeconds: config.DISPATCH_MAX_TRAVEL_MINUTES * 60,
    ratingPrior: 4.5,
    ratingPriorWeight: 5,
    acceptancePrior: 0.8,
    acceptancePriorWeight: 5,
  };
}

export function dispatchRulesFromConfig(config: MatchingConfig): DispatchRules {
  return {
    offersPerRound: config.DISPATCH_OFFERS_PER_ROUND,
    maxRounds: config.DISPATCH_MAX_ROUNDS,
    radiusStepKm: config.DISPATCH_RADIUS_STEP_KM,
    maxRadiusKm: config.DISPATCH_MAX_RADIUS_KM,
  };
}

/** Dispatch's personal-data hook with the offers and ETAs added (issue #15). */
export function withOffersPersonalData(
  hook: PersonalDataHook,
  repository: OffersRepository,
): PersonalDataHook {
  return {
    async export(userId, contacts) {
      const [base, offers] = await Promise.all([
        hook.export?.(userId, contacts) ?? Promise.resolve({}),
        repository.offersOf(userId),
      ]);
      return {
        ...(base as Record<string, unknown>),
        offers: offers.map((offer) => ({
          offerId: offer.offer_id,
          orderId: offer.order_id,
          status: offer.status,
          score: offer.score,
          createdAt: offer.created_at.toISOString(),
          answeredAt: offer.answered_at?.toISOString() ?? null,
        })),
      };
    },
    async erase(userId, contacts) {
      const base = await hook.erase(userId, contacts);
      return { ...(base as Record<string, unknown>), ...(await repository.eraseSubject(userId)) };
    },
  };
}

export interface MatchingParts {
  offers: OffersService;
  eta: EtaService;
  repository: OffersRepository;
  reactors: Reactor[];
}

export function createMatching(options: {
  config: MatchingConfig;
  db: Kysely<DispatchTables>;
  eventStore: EventStore;
  bus: RealtimeBus;
  logger: Logger;
  index: DriverLocationIndex;
  routing: RoutingPort;
  throttle: Throttle;
  dispatchRepository: DispatchRepository;
  orders: () => DispatchOrders & { driverOrders: DriverOrdersLookup };
  catalog: () => {
    orders: Pick<CatalogOrdersApi, 'readOrderSnapshot' | 'deliveryTerms'>;
    reviews: DriverRatings;
  };
  audit?: OffersServiceOptions['audit'];
  /** Onboarding: the candidates who may get offers (approved, documents unexpired). */
  eligibleAmong?: MatcherOptions['eligibleAmong'];
  /** A customer's ETA moved past the threshold: the push to their phone (notify). */
  etaMoved?: EtaServiceOptions['onMoved'];
}): MatchingParts {
  const { config, logger } = options;
  const repository = createOffersRepository(ownTables<OffersTables, DispatchTables>(options.db));
  // The matcher and ETAs read orders' places from the offers service built after them.
  const late: { offers?: OffersService } = {};
  const matcher = createMatcher({
    db: ownTables<Pick<DispatchTables, 'driver_availability'>, DispatchTables>(options.db),
    index: options.index,
    routing: options.routing,
    ratings: {
      driverRating: (driverId) => options.catalog().reviews.driverRating(driverId),
      driverRatingsMany: (driverIds) => {
        const reviews = options.catalog().reviews;
        return reviews.driverRatingsMany === undefined
          ? Promise.all(driverIds.map((id) => reviews.driverRating(id))).then(
              (found) => new Map(driverIds.map((id, index) => [id, found[index]!])),
            )
          : reviews.driverRatingsMany(driverIds);
      },
    },
    offers: repository,
    driverOrders: () => options.orders().driverOrders,
    heldOrderPlaces: (orderId) => late.offers!.heldOrderPlaces(orderId),
    policy: matchPolicyFromConfig(config),
    candidates: config.DISPATCH_CANDIDATES,
    batchMaxDelaySeconds: config.DISPATCH_BATCH_MAX_DELAY_MINUTES * 60,
    ...(options.eligibleAmong === undefined ? {} : { eligibleAmong: options.eligibleAmong }),
  });
  const driverOf = async (driverId: string) => {
    const row = await options.dispatchRepository.availability(driverId);
    const position =
      row?.last_latitude === null || row?.last_longitude === null || row === undefined
        ? undefined
        : { latitude: row.last_latitude, longitude: row.last_longitude };
    return { position, vehicle: row?.vehicle ?? 'motorbike' };
  };
  const eta = createEtaService({
    repository,
    routing: options.routing,
    bus: options.bus,
    throttle: options.throttle,
    logger,
    opened: async (orderId) => (await late.offers!.load(orderId)).state.opened,
    driver: driverOf,
    pushThresholdMinutes: config.DISPATCH_ETA_PUSH_MINUTES,
    intervalMs: config.DISPATCH_ETA_INTERVAL_MS,
    ...(options.etaMoved === undefined ? {} : { onMoved: options.etaMoved }),
  });
  const offers = createOffersService({
    eventStore: options.eventStore,
    repository,
    matcher,
    routing: options.routing,
    bus: options.bus,
    orders: options.orders,
    logger,
    rules: dispatchRulesFromConfig(config),
    firstRadiusKm: config.DISPATCH_RADIUS_KM,
    offerTimeoutMs: config.DISPATCH_OFFER_TIMEOUT_SECONDS * 1000,
    emptyRoundWaitMs: config.DISPATCH_EMPTY_ROUND_WAIT_SECONDS * 1000,
    onAssigned: async (orderId, driverId) => {
      await eta.accepted(orderId, driverId);
    },
    ...(options.audit === undefined ? {} : { audit: options.audit }),
  });
  late.offers = offers;
  offers.useRestaurantPlaces(async (restaurantId) => {
    const snapshot = await options.catalog().orders.readOrderSnapshot(restaurantId, [], new Date());
    return snapshot === undefined
      ? undefined
      : { location: snapshot.restaurant.location, cityId: snapshot.restaurant.city };
  });
  // The city's matching radii come from the catalog's delivery terms (the one place a city's
  // rules are read), not from a copy here.
  offers.useCityRadii(async (cityId, dropoff, at) => {
    const terms = await options.catalog().orders.deliveryTerms(cityId, dropoff, at);
    return terms?.dispatch;
  });
  return {
    offers,
    eta,
    repository,
    reactors: [
      dispatchReactor({
        db: ownTables<OffersTables, DispatchTables>(options.db),
        eventStore: options.eventStore,
        offers,
        eta,
        logger,
        matchingEnabled: config.DISPATCH_MATCHING_ENABLED,
      }),
      dispatchSweep(offers, config.DISPATCH_SWEEP_INTERVAL_MS, logger),
    ],
  };
}
