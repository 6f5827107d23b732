/**
 * The dispatcher (issue #20, "Matching and offers"): a paid and accepted order is offered to the
 * best candidate, one at a time, each with a deadline; a decline or a timeout moves to the next;
 * after `offersPerRound` offers the radius widens; after `maxRounds` staff are alerted and the
 * restaurant told. Every decision is an event on `dispatch-<orderId>` (offers-decider.ts), with
 * the score and its parts, so who was asked and why is auditable.
 *
 * Several instances: the deadline of each open dispatch is a row (`dispatch_work`) claimed by a
 * sweep with SKIP LOCKED and a lease, so an offer expires even if the instance that made it died;
 * the stream's expected revision settles any race (two accepts, an accept against the sweep);
 * a driver's one open offer is held by a unique index (`dispatch_offers`).
 *
 * The order itself is claimed through orders' decider (ClaimOrder), as the staff claim is; a
 * crash between the accept and the claim is finished by the sweep (the work row stays until the
 * claim is made).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { aggregateStream, createAggregateCache, handleCommand } from '../../eventstore/aggregate.js';
import type { EventStore } from '../../eventstore/index.js';
import { audiences, type RealtimeBus } from '../../realtime/index.js';
import { isDomainError } from '../../shared/errors.js';
import type { OrderCommand, OrdersService } from '../orders/index.js';
import { dispatchErrors } from './errors.js';
import { isValidPoint, type GeoPoint } from './geo.js';
import type { Matcher } from './matching.js';
import {
  askedDrivers,
  cityDispatchRules,
  decideDispatch,
  dispatchStream,
  evolveDispatch,
  initialDispatchState,
  roundHasRoom,
  type DispatchCommand,
  type DispatchEvent,
  type DispatchOpenedData,
  type DispatchRules,
  type DispatchState,
  type OfferData,
} from './offers-decider.js';
import type { OffersRepository } from './offers-repository.js';
import type { RoutingPort } from './routing.js';

/** Where a restaurant is, and its city (whose matching radii the dispatch takes). */
export interface RestaurantPlace {
  location: GeoPoint;
  cityId?: string;
}

/** A city's matching radii (km) at a drop point and instant; null: the configured default. */
export type CityRadiiLookup = (
  cityId: string,
  dropoff: GeoPoint,
  at: Date,
) => Promise<
  { radiusKm: number | null; radiusStepKm: number | null; maxRadiusKm: number | null } | undefined
>;

/** What dispatch asks of orders: read an order, and claim it for the accepting driver. */
export type DispatchOrders = Pick<OrdersService, 'find' | 'execute'>;

/** Told of each offer made, e.g. to push it to the driver's phone (notify adds the intent). */
export type OfferListener = (offer: {
  offerId: string;
  orderId: string;
  driverId: string;
  expiresAt: string;
  restaurantId: string;
  /** Driver → restaurant by road, metres (0 when the offer did not record it). */
  travelMeters: number;
}) => void;

export interface OffersServiceOptions {
  eventStore: EventStore;
  repository: OffersRepository;
  matcher: Matcher;
  routing: RoutingPort;
  bus: RealtimeBus;
  orders: () => DispatchOrders;
  logger: Logger;
  rules: DispatchRules;
  firstRadiusKm: number;
  offerTimeoutMs: number;
  /**
   * After a round in which nobody could be asked (no driver online in the radius), how long to
   * wait before the next round: drivers come online, and three empty rounds in a millisecond
   * would fail an order that a driver could have taken a minute later. 0: at once.
   */
  emptyRoundWaitMs?: number;
  /** Called after an order is assigned (the ETA at acceptance). */
  onAssigned?: (orderId: string, driverId: string) => Promise<void>;
  /** The audit log (identity): staff actions on a dispatch (a retry). */
  audit?: (entry: {
    action: string;
    actor: StaffActor;
    resource: string;
    newValue: unknown;
  }) => Promise<unknown>;
  now?: () => number;
}

/** The staff member behind an action, as identity's audit log records them. */
export interface StaffActor {
  kind: 'user';
  userId: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

const DISPATCHABLE = new Set(['ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP']);
/** Steps one advance may take (offers, expiries, widenings): a bound, never reached in practice. */
const MAX_STEPS = 64;
/** Dispatches one sweep claims per instance. */
const SWEEP_BATCH = 50;

const itemsOf = (lines: { quantity: number }[]) => lines.reduce((sum, line) => sum + line.quantity, 0);

export function createOffersService(options: OffersServiceOptions) {
  const { repository, logger, rules, eventStore } = options;
  const now = options.now ?? Date.now;
  const listeners = new Set<OfferListener>();
  const decider = {
    initialState: initialDispatchState,
    evolve: evolveDispatch,
    // The customer's drop point is their personal data: crypto-shredded with their key (decision 8).
    decide: (command: DispatchCommand, state: DispatchState) =>
      decideDispatch(state, command, rules).map((event) =>
        event.type === 'DispatchOpened'
          ? { ...event, personalData: { subjectId: event.data.customerId, fields: ['dropoff'] } }
          : event,
      ),
  };

  // The last state this instance wrote per dispatch: a command needs no read when nobody else
  // wrote since (the append's expected revision catches it when someone did).
  const states = createAggregateCache<DispatchState>({ maxEntries: 5_000, ttlMs: 60_000 });
  const run = (orderId: string, command: DispatchCommand) =>
    handleCommand(eventStore, dispatchStream(orderId), decider, command, {
      maxAttempts: 5,
      metadata: { actorRole: 'system' },
      cache: states,
    });

  async function load(orderId: string) {
    return aggregateStream<DispatchEvent, DispatchState>(
      eventStore,
      dispatchStream(orderId),
      evolveDispatch,
      initialDispatchState(),
      5_000,
    );
  }

  /** The order, when it still waits for a driver (accepted, not claimed, not cancelled). */
  async function waitingOrder(orderId: string) {
    const found = await options.orders().find(orderId);
    const order = found?.state.order;
    if (found === undefined || order === null || order === undefined) return undefined;
    if (!DISPATCHABLE.has(found.state.status) || found.state.driverId !== null) return undefined;
    return { found, order };
  }

  async function openedFromOrder(orderId: string): Promise<DispatchOpenedData | undefined> {
    const waiting = await waitingOrder(orderId);
    if (waiting === undefined) return undefined;
    const { found, order } = waiting;
    const acceptedAt = found.state.timeline.find((entry) => entry.status === 'ACCEPTED')?.at;
    const minutes = found.state.preparationMinutes ?? order.estimatedPreparationMinutes;
    const readyAt = new Date(Date.parse(acceptedAt ?? new Date(now()).toISOString()) + minutes * 60_000);
    const place = await restaurantPlace(order.restaurantId);
    if (place === undefined) return undefined;
    const pickup = place.location;
    const dropoff = { latitude: order.delivery.latitude, longitude: order.delivery.longitude };
    const delivery = await options.routing.travel(pickup, dropoff, 'motorbike');
    const city = await cityRulesOf(place.cityId, dropoff);
    return {
      orderId,
      restaurantId: order.restaurantId,
      restaurantOwnerId: order.restaurantOwnerId,
      customerId: order.customer.id,
      pickup,
      dropoff,
      readyAt: readyAt.toISOString(),
      itemCount: itemsOf(order.lines),
      deliveryMeters: delivery.distanceMeters,
      radiusKm: city?.firstRadiusKm ?? options.firstRadiusKm,
      ...(city === undefined ? {} : { city }),
      at: new Date(now()).toISOString(),
    };
  }

  let restaurantPlace: (restaurantId: string) => Promise<RestaurantPlace | undefined> = async () => undefined;
  let cityRadii: CityRadiiLookup | undefined;

  /** The city's matching radii at the drop point (catalog's delivery terms); none: the configured. */
  async function cityRulesOf(cityId: string | undefined, dropoff: GeoPoint) {
    if (cityId === undefined || cityRadii === undefined) return undefined;
    const radii = await cityRadii(cityId, dropoff, new Date(now()));
    if (radii === undefined) return undefined;
    const defaults = {
      firstRadiusKm: options.firstRadiusKm,
      radiusStepKm: rules.radiusStepKm,
      maxRadiusKm: rules.maxRadiusKm,
    };
    return cityDispatchRules(defaults, { cityId, ...radii });
  }

  async function publishOffer(opened: DispatchOpenedData, offer: OfferData) {
    const message = {
      type: 'DriverOffered',
      channel: 'dispatch-offers',
      orderId: opened.orderId,
      at: offer.at,
      data: {
        offerId: offer.offerId,
        orderId: opened.orderId,
        restaurantId: opened.restaurantId,
        pickup: opened.pickup,
        readyAt: opened.readyAt,
        deliveryMeters: opened.deliveryMeters,
        travelSeconds: offer.travelSeconds,
        expiresAt: offer.expiresAt,
      },
    };
    await options.bus.publish([{ audiences: [audiences.driver(offer.driverId)], message }]);
    for (const listener of listeners) {
      try {
        listener({
          offerId: offer.offerId,
          orderId: opened.orderId,
          driverId: offer.driverId,
          expiresAt: offer.expiresAt,
          restaurantId: opened.restaurantId,
          travelMeters: offer.travelMeters ?? 0,
        });
      } catch (error) {
        logger.warn({ err: error, offerId: offer.offerId }, 'an offer listener failed');
      }
    }
  }

  async function alertFailure(opened: DispatchOpenedData, state: DispatchState) {
    const at = new Date(now()).toISOString();
    logger.warn(
      { orderId: opened.orderId, rounds: state.round, asked: state.offers.length },
      'dispatch failed: no driver accepted the order; staff alerted',
    );
    const data = { orderId: opened.orderId, rounds: state.round, asked: state.offers.length };
    await options.bus.publish([
      {
        audiences: [audiences.admin, audiences.support],
        message: { type: 'DispatchFailed', channel: 'dispatch-alerts', orderId: opened.orderId, at, data },
      },
      {
        audiences: [audiences.owner(opened.restaurantOwnerId)],
        message: { type: 'NoDriverFound', channel: 'order-assignments', orderId: opened.orderId, at, data },
      },
    ]);
  }

  /** Makes the next offer, or ends the round when nobody is left in the radius. */
  async function offerNext(orderId: string, state: DispatchState): Promise<'offered' | 'round_ended'> {
    const opened = state.opened!;
    const atMs = now();
    if (roundHasRoom(state, rules)) {
      const { ranked } = await options.matcher.rank(opened, state.radiusKm, askedDrivers(state), atMs);
      const eligible = ranked.filter((candidate) => candidate.eligible);
      for (const candidate of eligible) {
        if (!candidate.eligible) continue;
        const offerId = randomUUID();
        const expiresAt = new Date(atMs + options.offerTimeoutMs);
        const locked = await repository.openOffer({
          offerId,
          orderId,
          driverId: candidate.driverId,
          round: state.round,
          score: candidate.score,
          travelSeconds: candidate.travelSeconds,
          expiresAt,
        });
        if (!locked) continue; // offered another order meanwhile (another instance)
        const data = {
          offerId,
          driverId: candidate.driverId,
          score: candidate.score,
          parts: candidate.parts,
          travelSeconds: candidate.travelSeconds,
          travelMeters: candidate.travelMeters,
          considered: ranked.length,
          expiresAt: expiresAt.toISOString(),
          at: new Date(atMs).toISOString(),
        };
        let made: OfferData;
        try {
          const result = await run(orderId, { type: 'Offer', data });
          const event = result.newEvents.find((item) => item.type === 'DriverOffered');
          if (event?.type !== 'DriverOffered') throw new Error('the Offer command made no offer');
          made = event.data;
        } catch (error) {
          await repository.forgetOffer(offerId);
          throw error;
        }
        // One statement: the offer shown to the driver and the work row due at its expiry.
        await repository.offerMade(offerId, { orderId, dueAt: expiresAt });
        // A lost message is not a lost offer: the driver lists open offers on reconnecting.
        await publishOffer(opened, made).catch((error: unknown) =>
          logger.warn({ err: error, orderId }, 'publishing an offer failed'),
        );
        return 'offered';
      }
    }
    const ended = await run(orderId, { type: 'EndRound', data: { at: new Date(atMs) } });
    if (ended.state.status === 'failed' && ended.newEvents.length > 0)
      await alertFailure(opened, ended.state);
    return 'round_ended';
  }

  /** Claims the order for the accepted driver through orders' decider (a retry changes nothing). */
  async function claim(orderId: string, driverId: string): Promise<void> {
    const command: OrderCommand = { type: 'ClaimOrder', data: { driverId, at: new Date(now()) } };
    await options.orders().execute(orderId, command, { actorRole: 'driver', actorId: driverId });
  }

  async function finishAssignment(orderId: string, driverId: string): Promise<void> {
    try {
      await claim(orderId, driverId);
    } catch (error) {
      if (isDomainError(error) && error.kind === 'conflict') {
        // Staff claimed it for someone else, or the order was cancelled meanwhile.
        await run(orderId, {
          type: 'Cancel',
          data: { reason: `claim_refused:${error.code}`, at: new Date(now()) },
        });
        await repository.done(orderId);
        throw dispatchErrors.of('conflict', 'order_taken', 'The order was taken or cancelled meanwhile.');
      }
      throw error;
    }
    await repository.done(orderId);
    if (options.onAssigned !== undefined)
      await options.onAssigned(orderId, driverId).catch((error: unknown) => {
        logger.warn({ err: error, orderId }, 'ETA at acceptance failed');
      });
  }

  /** Moves a dispatch as far as it can go now: expire, offer, widen, fail, finish a claim. */
  async function advance(orderId: string, known?: DispatchState): Promise<DispatchState['status']> {
    // `known`: the state this instance has just written (a command's result), so the first step
    // needs no read of the stream; a write on an older state is caught by the append's revision.
    let next = known;
    for (let step = 0; step < MAX_STEPS; step++) {
      const state = next ?? (await load(orderId)).state;
      next = undefined;
      switch (state.status) {
        case 'none': {
          // Queued by the reactor but not opened yet (a crash, the catalog down): open it now.
          const opened = await openedFromOrder(orderId);
          if (opened === undefined) {
            await repository.done(orderId);
            return state.status;
          }
          next = (await run(orderId, { type: 'Open', data: opened })).state;
          continue;
        }
        case 'failed':
        case 'cancelled':
          await repository.done(orderId);
          return state.status;
        case 'assigned':
          await finishAssignment(orderId, state.driverId!);
          return state.status;
        case 'offered': {
          const current = state.current!;
          if (Date.parse(current.expiresAt) > now()) {
            await repository.reschedule(orderId, new Date(current.expiresAt));
            return state.status;
          }
          const expired = await run(orderId, { type: 'Expire', data: { now: new Date(now()) } });
          // Only when this expiry was recorded: an accept that won the race keeps its row.
          if (expired.newEvents.length > 0)
            await repository.closeOffer(current.offerId, 'expired', new Date(now()));
          next = expired.state;
          continue;
        }
        case 'searching': {
          if ((await offerNext(orderId, state)) === 'offered') return 'offered';
          const wait = options.emptyRoundWaitMs ?? 0;
          if (state.offersThisRound === 0 && wait > 0) {
            // The round asked nobody: the next one runs when the sweep finds this row due.
            const after = await load(orderId);
            if (after.state.status === 'searching') {
              await repository.reschedule(orderId, new Date(now() + wait));
              return 'searching';
            }
          }
          continue;
        }
        default: {
          const never: never = state.status;
          return never;
        }
      }
    }
    logger.error({ orderId }, 'dispatch did not settle within its step bound');
    return 'searching';
  }

  return {
    /** Plugs in where a restaurant is (catalog), once every context is built. */
    useRestaurantPlaces(lookup: (restaurantId: string) => Promise<RestaurantPlace | undefined>) {
      restaurantPlace = lookup;
    },

    /** Plugs in the cities' matching radii (catalog's delivery terms), once every context is built. */
    useCityRadii(lookup: CityRadiiLookup) {
      cityRadii = lookup;
    },

    onOffer(listener: OfferListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /**
     * Opens the dispatch of an accepted order (idempotent) and makes the first offer. The work row
     * comes first, held for this instance: whatever fails after it, the sweep finishes.
     */
    async open(orderId: string): Promise<DispatchState['status']> {
      const existing = await load(orderId);
      if (existing.state.status !== 'none') return existing.state.status;
      await repository.hold(orderId, new Date(now()));
      return advance(orderId);
    },

    /**
     * Opens a dispatch from facts already gathered (the order's places and ready time) and makes
     * the first offer: `open` without the order lookup (the matching benchmark uses it).
     */
    async openWith(opened: DispatchOpenedData): Promise<DispatchState['status']> {
      await repository.hold(opened.orderId, new Date(now()));
      const { state } = await run(opened.orderId, { type: 'Open', data: opened });
      return advance(opened.orderId, state);
    },

    advance,

    async answer(driverId: string, offerId: string, accept: boolean, reason: string | null = null) {
      const row = await repository.offer(offerId);
      if (row === undefined) throw dispatchErrors.of('not_found', 'offer_not_found', 'No such offer.');
      if (row.driver_id !== driverId)
        throw dispatchErrors.of('forbidden', 'offer_not_yours', 'This offer was made to another driver.');
      const at = new Date(now());
      const command: DispatchCommand = accept
        ? { type: 'Accept', data: { offerId, driverId, at } }
        : { type: 'Decline', data: { offerId, driverId, reason, at } };
      const result = await run(row.order_id, command);
      if (accept) {
        await repository.closeOffer(offerId, 'accepted', at);
        await finishAssignment(row.order_id, driverId);
        return { offerId, orderId: row.order_id, status: 'accepted' as const };
      }
      await repository.closeOffer(offerId, 'declined', at);
      if (result.newEvents.length > 0) {
        // The next candidate now; the sweep does it if this fails.
        await repository.hold(row.order_id, at);
        void advance(row.order_id, result.state).catch((error: unknown) =>
          logger.warn(
            { err: error, orderId: row.order_id },
            'dispatch after a decline failed; the sweep retries',
          ),
        );
      }
      return { offerId, orderId: row.order_id, status: 'declined' as const };
    },

    /**
     * Staff start a failed dispatch again (issue #20): the rounds restart from the first radius and
     * drivers asked before may be asked again. Only a failed dispatch of an order that still waits
     * for a driver (409 `dispatch_not_retryable` otherwise: open, assigned, cancelled, or the order
     * claimed by hand or cancelled since); two retries at once: the stream's revision lets one
     * through. The work row comes first, as in `open`, so a crash is finished by the sweep.
     */
    async retry(orderId: string, actor: StaffActor) {
      const { state } = await load(orderId);
      if (state.status === 'none')
        throw dispatchErrors.of('not_found', 'dispatch_not_found', 'This order was never dispatched.');
      if (state.status !== 'failed')
        throw dispatchErrors.of(
          'conflict',
          'dispatch_not_retryable',
          `The dispatch is ${state.status}; only a failed one is retried.`,
        );
      if ((await waitingOrder(orderId)) === undefined)
        throw dispatchErrors.of(
          'conflict',
          'dispatch_not_retryable',
          'The order no longer waits for a driver (claimed, cancelled or past pickup).',
        );
      const at = new Date(now());
      // The first radius of the city the dispatch opened in (its rules are kept in the stream).
      const radiusKm = state.opened?.city?.firstRadiusKm ?? options.firstRadiusKm;
      await repository.hold(orderId, at);
      const retried = await run(orderId, { type: 'Retry', data: { radiusKm, at } });
      const attempt = retried.state.retries;
      await options.audit?.({
        action: 'dispatch.retried',
        actor,
        resource: `dispatch:${orderId}`,
        newValue: { attempt, radiusKm },
      });
      const status = await advance(orderId, retried.state);
      return { orderId, attempt, status };
    },

    /** Ends an open dispatch (the order was cancelled, rejected or claimed by hand). */
    async cancel(orderId: string, reason: string) {
      const { state } = await load(orderId);
      if (state.status !== 'searching' && state.status !== 'offered') return;
      await run(orderId, { type: 'Cancel', data: { reason, at: new Date(now()) } });
      if (state.current !== null)
        await repository.closeOffer(state.current.offerId, 'withdrawn', new Date(now()));
      await repository.done(orderId);
    },

    /** Advances every dispatch whose deadline passed (each instance, one claim per dispatch). */
    async sweep(): Promise<number> {
      const due = await repository.claimDue(new Date(now()), SWEEP_BATCH);
      for (const orderId of due) {
        try {
          await advance(orderId);
        } catch (error) {
          logger.warn({ err: error, orderId }, 'dispatch sweep step failed; retried after the lease');
        }
      }
      return due.length;
    },

    async openOffersOf(driverId: string) {
      const rows = await repository.openOffersOf(driverId, new Date(now()));
      return rows.map((row) => ({
        offerId: row.offer_id,
        orderId: row.order_id,
        travelSeconds: row.travel_seconds,
        expiresAt: row.expires_at.toISOString(),
      }));
    },

    /** The dispatch's history, for staff: who was asked, with which score, and what happened. */
    async history(orderId: string) {
      const events = await eventStore.readStream(dispatchStream(orderId), {
        maxCount: 1_000,
        missingAsEmpty: true,
      });
      return events.map((event) => ({ type: event.type, data: event.data as Record<string, unknown> }));
    },

    load,

    /** Where an order a driver holds starts and ends, from its own dispatch (batching). */
    async heldOrderPlaces(orderId: string) {
      const opened = (await load(orderId)).state.opened;
      // Absent, or erased (the drop point reads as redacted): dispatch does not know the route.
      if (opened === null || !isValidPoint(opened.dropoff)) return undefined;
      return { pickup: opened.pickup, dropoff: opened.dropoff, readyAt: Date.parse(opened.readyAt) };
    },

    /**
     * Where any order starts and ends (geofences): its dispatch's places, or, for an order claimed
     * by hand, the order's drop point and the restaurant's place.
     */
    async orderPlaces(orderId: string): Promise<{ pickup: GeoPoint; dropoff: GeoPoint } | undefined> {
      const opened = (await load(orderId)).state.opened;
      if (opened !== null) return isValidPoint(opened.dropoff) ? opened : undefined;
      const order = (await options.orders().find(orderId))?.state.order;
      if (order === null || order === undefined) return undefined;
      const dropoff = { latitude: order.delivery.latitude, longitude: order.delivery.longitude };
      const place = await restaurantPlace(order.restaurantId);
      return place === undefined || !isValidPoint(dropoff) ? undefined : { pickup: place.location, dropoff };
    },
  };
}

export type OffersService = ReturnType<typeof createOffersService>;
