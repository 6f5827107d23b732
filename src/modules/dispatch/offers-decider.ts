/**
 * The dispatch of one order (stream `dispatch-<orderId>`), a pure decider: who was asked, why
 * (score and its parts), what they answered, when the radius widened, and how it ended. Every
 * decision is an event, so the history is the audit (docs/architecture.md, decision 12).
 *
 * One offer is open at a time. An offer ends accepted, declined or expired; a round asks up to
 * `offersPerRound` drivers within the radius, then the radius widens; after `maxRounds` the
 * dispatch fails (staff are alerted, the restaurant told). Accept is decided with the clock: an
 * accept at or after the deadline is refused even if the sweep has not expired the offer yet.
 */
import { dispatchErrors } from './errors.js';
import type { GeoPoint } from './geo.js';
import type { ScoreParts } from './matching-rules.js';

export const DISPATCH_STREAM_PREFIX = 'dispatch-';
export const dispatchStream = (orderId: string): string => `${DISPATCH_STREAM_PREFIX}${orderId}`;

export interface DispatchOpenedData {
  orderId: string;
  restaurantId: string;
  restaurantOwnerId: string;
  customerId: string;
  pickup: GeoPoint;
  dropoff: GeoPoint;
  /** When the food is expected ready (acceptance + preparation). */
  readyAt: string;
  itemCount: number;
  /** Restaurant → customer by road (routing port), metres. */
  deliveryMeters: number;
  radiusKm: number;
  /** The city's matching radii, read at opening (absent on dispatches opened before issue #26). */
  city?: CityDispatchRules;
  at: string;
}

/**
 * A city's matching radii (issue #26), read through the catalog's delivery terms when the
 * dispatch opens and kept in `DispatchOpened`, so that every round and a staff retry follow the
 * rules the dispatch started with, and the stream says why a radius was what it was.
 */
export interface CityDispatchRules {
  cityId: string;
  firstRadiusKm: number;
  radiusStepKm: number;
  maxRadiusKm: number;
}

/**
 * The radii a dispatch in `cityId` uses: each rule the city sets, the configured one otherwise;
 * the widest never below the first (a city's first radius of 15 km with the default widest of 12
 * would otherwise shrink as the rounds go).
 */
export function cityDispatchRules(
  defaults: { firstRadiusKm: number; radiusStepKm: number; maxRadiusKm: number },
  city: {
    cityId: string;
    radiusKm: number | null;
    radiusStepKm: number | null;
    maxRadiusKm: number | null;
  },
): CityDispatchRules {
  const firstRadiusKm = city.radiusKm ?? defaults.firstRadiusKm;
  return {
    cityId: city.cityId,
    firstRadiusKm,
    radiusStepKm: city.radiusStepKm ?? defaults.radiusStepKm,
    maxRadiusKm: Math.max(firstRadiusKm, city.maxRadiusKm ?? defaults.maxRadiusKm),
  };
}

/** The rules of the dispatch's rounds: the city's radii, when it opened with them, over the configured. */
export function roundRules(state: DispatchState, rules: DispatchRules): DispatchRules {
  const city = state.opened?.city;
  return city === undefined
    ? rules
    : { ...rules, radiusStepKm: city.radiusStepKm, maxRadiusKm: city.maxRadiusKm };
}

export interface OfferData {
  offerId: string;
  driverId: string;
  round: number;
  radiusKm: number;
  score: number;
  parts: ScoreParts;
  travelSeconds: number;
  /** Driver → restaurant by road (routing port), metres; absent on offers made before it was kept. */
  travelMeters?: number;
  /** Candidates scored with this one, for the audit (best first, capped). */
  considered: number;
  expiresAt: string;
  at: string;
}

export type DispatchEvent =
  | { type: 'DispatchOpened'; data: DispatchOpenedData }
  | { type: 'DriverOffered'; data: OfferData }
  | { type: 'OfferDeclined'; data: { offerId: string; driverId: string; reason: string | null; at: string } }
  | { type: 'OfferExpired'; data: { offerId: string; driverId: string; at: string } }
  | { type: 'OfferAccepted'; data: { offerId: string; driverId: string; at: string } }
  | { type: 'DispatchRadiusWidened'; data: { round: number; radiusKm: number; at: string } }
  | { type: 'DispatchFailed'; data: { reason: 'no_driver'; rounds: number; asked: number; at: string } }
  | { type: 'DispatchCancelled'; data: { reason: string; at: string } }
  | { type: 'DispatchRetried'; data: { attempt: number; radiusKm: number; at: string } };

export const DISPATCH_EVENT_TYPES: readonly DispatchEvent['type'][] = [
  'DispatchOpened',
  'DriverOffered',
  'OfferDeclined',
  'OfferExpired',
  'OfferAccepted',
  'DispatchRadiusWidened',
  'DispatchFailed',
  'DispatchCancelled',
  'DispatchRetried',
];

export type DispatchStatus = 'none' | 'searching' | 'offered' | 'assigned' | 'failed' | 'cancelled';

export interface OfferRecord {
  offerId: string;
  driverId: string;
  expiresAt: string;
  outcome: 'open' | 'accepted' | 'declined' | 'expired' | 'withdrawn';
}

export interface DispatchState {
  status: DispatchStatus;
  opened: DispatchOpenedData | null;
  round: number;
  radiusKm: number;
  /** Offers made in the current round. */
  offersThisRound: number;
  offers: OfferRecord[];
  current: OfferRecord | null;
  driverId: string | null;
  /** Staff retries after a failure (each starts the rounds again from the first radius). */
  retries: number;
  /** Index in `offers` where the current attempt starts: drivers asked before it may be asked again. */
  attemptStartsAt: number;
}

export type DispatchCommand =
  | { type: 'Open'; data: DispatchOpenedData }
  | { type: 'Offer'; data: Omit<OfferData, 'round' | 'radiusKm'> }
  | { type: 'Accept'; data: { offerId: string; driverId: string; at: Date } }
  | { type: 'Decline'; data: { offerId: string; driverId: string; reason: string | null; at: Date } }
  | { type: 'Expire'; data: { now: Date } }
  | { type: 'EndRound'; data: { at: Date } }
  | { type: 'Cancel'; data: { reason: string; at: Date } }
  | { type: 'Retry'; data: { radiusKm: number; at: Date } };

export interface DispatchRules {
  offersPerRound: number;
  maxRounds: number;
  radiusStepKm: number;
  maxRadiusKm: number;
}

const KIND_OF_REFUSAL = {
  offer_not_found: 'not_found',
  offer_not_yours: 'forbidden',
  offer_expired: 'conflict',
  offer_closed: 'conflict',
  dispatch_closed: 'conflict',
  dispatch_busy: 'conflict',
  dispatch_not_retryable: 'conflict',
} as const;
export type DispatchRefusal = keyof typeof KIND_OF_REFUSAL;

/** A refusal of the decider, as the context's domain error (404, 403 or 409 at the edge). */
function refuse(code: DispatchRefusal, message: string): Error {
  return dispatchErrors.of(KIND_OF_REFUSAL[code], code, message);
}

export function initialDispatchState(): DispatchState {
  return {
    status: 'none',
    opened: null,
    round: 0,
    radiusKm: 0,
    offersThisRound: 0,
    offers: [],
    current: null,
    driverId: null,
    retries: 0,
    attemptStartsAt: 0,
  };
}

function closeCurrent(state: DispatchState, offerId: string, outcome: OfferRecord['outcome']): DispatchState {
  const offers = state.offers.map((offer) => (offer.offerId === offerId ? { ...offer, outcome } : offer));
  return { ...state, offers, current: null };
}

export function evolveDispatch(state: DispatchState, event: DispatchEvent): DispatchState {
  switch (event.type) {
    case 'DispatchOpened':
      return { ...state, status: 'searching', opened: event.data, round: 1, radiusKm: event.data.radiusKm };
    case 'DriverOffered': {
      const offer: OfferRecord = {
        offerId: event.data.offerId,
        driverId: event.data.driverId,
        expiresAt: event.data.expiresAt,
        outcome: 'open',
      };
      return {
        ...state,
        status: 'offered',
        offers: [...state.offers, offer],
        current: offer,
        offersThisRound: state.offersThisRound + 1,
      };
    }
    case 'OfferDeclined':
      return { ...closeCurrent(state, event.data.offerId, 'declined'), status: 'searching' };
    case 'OfferExpired':
      return { ...closeCurrent(state, event.data.offerId, 'expired'), status: 'searching' };
    case 'OfferAccepted':
      return {
        ...closeCurrent(state, event.data.offerId, 'accepted'),
        status: 'assigned',
        driverId: event.data.driverId,
      };
    case 'DispatchRadiusWidened':
      return { ...state, round: event.data.round, radiusKm: event.data.radiusKm, offersThisRound: 0 };
    case 'DispatchFailed':
      return { ...state, status: 'failed' };
    case 'DispatchCancelled': {
      const closed = state.current === null ? state : closeCurrent(state, state.current.offerId, 'withdrawn');
      return { ...closed, status: 'cancelled' };
    }
    case 'DispatchRetried':
      return {
        ...state,
        status: 'searching',
        round: 1,
        radiusKm: event.data.radiusKm,
        offersThisRound: 0,
        retries: event.data.attempt,
        attemptStartsAt: state.offers.length,
      };
    default: {
      const never: never = event;
      return never;
    }
  }
}

const iso = (at: Date) => at.toISOString();
const isOpen = (status: DispatchStatus) => status === 'searching' || status === 'offered';

function decideAnswer(
  state: DispatchState,
  command: Extract<DispatchCommand, { type: 'Accept' | 'Decline' }>,
): DispatchEvent[] {
  const { offerId, driverId, at } = command.data;
  const offer = state.offers.find((candidate) => candidate.offerId === offerId);
  if (offer === undefined) throw refuse('offer_not_found', 'No such offer.');
  if (offer.driverId !== driverId) throw refuse('offer_not_yours', 'This offer was made to another driver.');
  const accepting = command.type === 'Accept';
  // A retried answer changes nothing.
  if (offer.outcome === (accepting ? 'accepted' : 'declined')) return [];
  if (
    offer.outcome === 'expired' ||
    (offer.outcome === 'open' && Date.parse(offer.expiresAt) <= at.getTime())
  )
    throw refuse('offer_expired', 'The offer expired; it went to another driver.');
  if (offer.outcome !== 'open') throw refuse('offer_closed', `The offer was ${offer.outcome}.`);
  if (accepting) return [{ type: 'OfferAccepted', data: { offerId, driverId, at: iso(at) } }];
  return [{ type: 'OfferDeclined', data: { offerId, driverId, reason: command.data.reason, at: iso(at) } }];
}

export function decideDispatch(
  state: DispatchState,
  command: DispatchCommand,
  rules: DispatchRules,
): DispatchEvent[] {
  switch (command.type) {
    case 'Open':
      return state.status === 'none' ? [{ type: 'DispatchOpened', data: command.data }] : [];
    case 'Offer': {
      if (state.status !== 'searching')
        throw refuse(
          state.status === 'offered' ? 'dispatch_busy' : 'dispatch_closed',
          'No offer can be made now.',
        );
      const data = { ...command.data, round: state.round, radiusKm: state.radiusKm };
      return [{ type: 'DriverOffered', data }];
    }
    case 'Accept':
    case 'Decline':
      return decideAnswer(state, command);
    case 'Expire': {
      const current = state.current;
      if (state.status !== 'offered' || current === null) return [];
      if (Date.parse(current.expiresAt) > command.data.now.getTime()) return [];
      return [
        {
          type: 'OfferExpired',
          data: { offerId: current.offerId, driverId: current.driverId, at: iso(command.data.now) },
        },
      ];
    }
    case 'EndRound': {
      if (state.status !== 'searching') return [];
      const at = iso(command.data.at);
      const round = roundRules(state, rules);
      if (state.round >= round.maxRounds)
        return [
          {
            type: 'DispatchFailed',
            data: { reason: 'no_driver', rounds: state.round, asked: state.offers.length, at },
          },
        ];
      const radiusKm = Math.min(round.maxRadiusKm, state.radiusKm + round.radiusStepKm);
      return [{ type: 'DispatchRadiusWidened', data: { round: state.round + 1, radiusKm, at } }];
    }
    case 'Cancel':
      return isOpen(state.status)
        ? [{ type: 'DispatchCancelled', data: { reason: command.data.reason, at: iso(command.data.at) } }]
        : [];
    case 'Retry':
      // Only a failed dispatch starts again; a retry that lost a race finds it searching: 409.
      if (state.status !== 'failed')
        throw refuse(
          'dispatch_not_retryable',
          `The dispatch is ${state.status}; only a failed one is retried.`,
        );
      return [
        {
          type: 'DispatchRetried',
          data: { attempt: state.retries + 1, radiusKm: command.data.radiusKm, at: iso(command.data.at) },
        },
      ];
    default: {
      const never: never = command;
      return never;
    }
  }
}

/** Whether the current round may still make an offer. */
export function roundHasRoom(state: DispatchState, rules: DispatchRules): boolean {
  return state.offersThisRound < rules.offersPerRound;
}

/**
 * Drivers already asked in this attempt of the dispatch (never asked twice). A staff retry starts
 * a new attempt: a driver who declined an hour ago may be free now.
 */
export function askedDrivers(state: DispatchState): Set<string> {
  return new Set(state.offers.slice(state.attemptStartsAt).map((offer) => offer.driverId));
}
