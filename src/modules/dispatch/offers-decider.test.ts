import { describe, expect, it } from 'vitest';
import { isDomainError } from '../../shared/errors.js';
import {
  askedDrivers,
  cityDispatchRules,
  decideDispatch,
  evolveDispatch,
  initialDispatchState,
  roundHasRoom,
  roundRules,
  type DispatchCommand,
  type DispatchEvent,
  type DispatchRules,
  type DispatchState,
} from './offers-decider.js';

const rules: DispatchRules = { offersPerRound: 2, maxRounds: 2, radiusStepKm: 3, maxRadiusKm: 10 };
const T0 = Date.parse('2026-12-06T12:00:00Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000);
const iso = (seconds: number) => at(seconds).toISOString();
const parts = { rating: 0.9, acceptance: 0.8, vehicleFit: 1, travelMinutes: 4, latenessMinutes: 0, load: 0 };

const opened: DispatchEvent = {
  type: 'DispatchOpened',
  data: {
    orderId: 'o-1',
    restaurantId: 'r-1',
    restaurantOwnerId: 'u-owner',
    customerId: 'u-customer',
    pickup: { latitude: 4.05, longitude: 9.7 },
    dropoff: { latitude: 4.06, longitude: 9.71 },
    readyAt: iso(900),
    itemCount: 2,
    deliveryMeters: 2_000,
    radiusKm: 3,
    at: iso(0),
  },
};
const offered = (offerId: string, driverId: string, expiresIn = 30): DispatchEvent => ({
  type: 'DriverOffered',
  data: {
    offerId,
    driverId,
    round: 1,
    radiusKm: 3,
    score: 1.2,
    parts,
    travelSeconds: 240,
    considered: 3,
    expiresAt: iso(expiresIn),
    at: iso(0),
  },
});

function given(events: DispatchEvent[]) {
  const state: DispatchState = events.reduce(evolveDispatch, initialDispatchState());
  return {
    state,
    when(command: DispatchCommand) {
      return {
        then: (expected: DispatchEvent[]) => expect(decideDispatch(state, command, rules)).toEqual(expected),
        thenFails(code: string) {
          try {
            decideDispatch(state, command, rules);
          } catch (error) {
            expect(isDomainError(error) && error.code).toBe(code);
            return;
          }
          throw new Error(`expected ${code}`);
        },
      };
    },
  };
}

describe('dispatch decider', () => {
  it('opens once: a repeated open changes nothing', () => {
    given([])
      .when({ type: 'Open', data: opened.data as never })
      .then([opened]);
    given([opened])
      .when({ type: 'Open', data: opened.data as never })
      .then([]);
  });

  it('given an open offer, when its driver accepts in time, then the order is assigned', () => {
    const history = [opened, offered('of-1', 'd-1')];
    given(history)
      .when({ type: 'Accept', data: { offerId: 'of-1', driverId: 'd-1', at: at(10) } })
      .then([{ type: 'OfferAccepted', data: { offerId: 'of-1', driverId: 'd-1', at: iso(10) } }]);
    const accepted = [
      ...history,
      { type: 'OfferAccepted', data: { offerId: 'of-1', driverId: 'd-1', at: iso(10) } } as const,
    ];
    expect(given(accepted).state).toMatchObject({ status: 'assigned', driverId: 'd-1' });
    // a retried accept is idempotent
    given(accepted)
      .when({ type: 'Accept', data: { offerId: 'of-1', driverId: 'd-1', at: at(11) } })
      .then([]);
  });

  it('refuses an accept after the deadline even before the sweep expired the offer (409)', () => {
    given([opened, offered('of-1', 'd-1')])
      .when({ type: 'Accept', data: { offerId: 'of-1', driverId: 'd-1', at: at(30) } })
      .thenFails('offer_expired');
  });

  it("refuses another driver's accept (403) and an unknown offer (404)", () => {
    const history = [opened, offered('of-1', 'd-1')];
    given(history)
      .when({ type: 'Accept', data: { offerId: 'of-1', driverId: 'd-2', at: at(5) } })
      .thenFails('offer_not_yours');
    given(history)
      .when({ type: 'Accept', data: { offerId: 'nope', driverId: 'd-1', at: at(5) } })
      .thenFails('offer_not_found');
  });

  it('given a declined offer, when the driver accepts it after all, then it is refused (409)', () => {
    const declined: DispatchEvent = {
      type: 'OfferDeclined',
      data: { offerId: 'of-1', driverId: 'd-1', reason: null, at: iso(3) },
    };
    given([opened, offered('of-1', 'd-1'), declined])
      .when({ type: 'Accept', data: { offerId: 'of-1', driverId: 'd-1', at: at(4) } })
      .thenFails('offer_closed');
  });

  it('expires an offer at its deadline and not before; the next offer may follow', () => {
    const history = [opened, offered('of-1', 'd-1')];
    given(history)
      .when({ type: 'Expire', data: { now: at(29) } })
      .then([]);
    given(history)
      .when({ type: 'Expire', data: { now: at(30) } })
      .then([{ type: 'OfferExpired', data: { offerId: 'of-1', driverId: 'd-1', at: iso(30) } }]);
    const expired = [
      ...history,
      { type: 'OfferExpired', data: { offerId: 'of-1', driverId: 'd-1', at: iso(30) } } as const,
    ];
    const state = given(expired).state;
    expect(state.status).toBe('searching');
    expect(askedDrivers(state)).toEqual(new Set(['d-1']));
    expect(roundHasRoom(state, rules)).toBe(true);
  });

  it('refuses a second offer while one is open', () => {
    const {
      offerId: _offerId,
      round: _round,
      radiusKm: _radius,
      ...rest
    } = (offered('of-2', 'd-2') as Extract<DispatchEvent, { type: 'DriverOffered' }>).data;
    given([opened, offered('of-1', 'd-1')])
      .when({ type: 'Offer', data: { ...rest, offerId: 'of-2' } })
      .thenFails('dispatch_busy');
  });

  it('widens the radius after a round, up to the maximum, then fails after the last round', () => {
    given([opened])
      .when({ type: 'EndRound', data: { at: at(60) } })
      .then([{ type: 'DispatchRadiusWidened', data: { round: 2, radiusKm: 6, at: iso(60) } }]);
    const widened: DispatchEvent = {
      type: 'DispatchRadiusWidened',
      data: { round: 2, radiusKm: 6, at: iso(60) },
    };
    given([opened, widened])
      .when({ type: 'EndRound', data: { at: at(90) } })
      .then([{ type: 'DispatchFailed', data: { reason: 'no_driver', rounds: 2, asked: 0, at: iso(90) } }]);
  });

  it('cancels an open dispatch (withdrawing its offer) and refuses accepts afterwards', () => {
    const history = [opened, offered('of-1', 'd-1')];
    given(history)
      .when({ type: 'Cancel', data: { reason: 'order_cancelled', at: at(5) } })
      .then([{ type: 'DispatchCancelled', data: { reason: 'order_cancelled', at: iso(5) } }]);
    const cancelled = [
      ...history,
      { type: 'DispatchCancelled', data: { reason: 'order_cancelled', at: iso(5) } } as const,
    ];
    given(cancelled)
      .when({ type: 'Accept', data: { offerId: 'of-1', driverId: 'd-1', at: at(6) } })
      .thenFails('offer_closed');
    given(cancelled)
      .when({ type: 'Cancel', data: { reason: 'again', at: at(7) } })
      .then([]);
  });
  it('a staff retry restarts a failed dispatch from round 1; only a failed one; drivers may be asked again', () => {
    const failed: DispatchEvent = {
      type: 'DispatchFailed',
      data: { reason: 'no_driver', rounds: 2, asked: 1, at: iso(90) },
    };
    const expired: DispatchEvent = {
      type: 'OfferExpired',
      data: { offerId: 'of-1', driverId: 'd-1', at: iso(30) },
    };
    const widened: DispatchEvent = {
      type: 'DispatchRadiusWidened',
      data: { round: 2, radiusKm: 6, at: iso(60) },
    };
    const history = [opened, offered('of-1', 'd-1'), expired, widened, failed];
    const retried: DispatchEvent = {
      type: 'DispatchRetried',
      data: { attempt: 1, radiusKm: 3, at: iso(100) },
    };
    given(history)
      .when({ type: 'Retry', data: { radiusKm: 3, at: at(100) } })
      .then([retried]);
    const state = given([...history, retried]).state;
    expect(state).toMatchObject({
      status: 'searching',
      round: 1,
      radiusKm: 3,
      offersThisRound: 0,
      retries: 1,
    });
    expect(askedDrivers(state)).toEqual(new Set());
    // A second retry while it searches (a lost race, a double click): refused.
    given([...history, retried])
      .when({ type: 'Retry', data: { radiusKm: 3, at: at(101) } })
      .thenFails('dispatch_not_retryable');
    // Never an open, assigned or cancelled dispatch.
    given([opened, offered('of-1', 'd-1')])
      .when({ type: 'Retry', data: { radiusKm: 3, at: at(5) } })
      .thenFails('dispatch_not_retryable');
    given([])
      .when({ type: 'Retry', data: { radiusKm: 3, at: at(5) } })
      .thenFails('dispatch_not_retryable');
    // The second failure is retried as attempt 2.
    const failedAgain = [...history, retried, { ...failed, data: { ...failed.data, at: iso(200) } }];
    given(failedAgain)
      .when({ type: 'Retry', data: { radiusKm: 3, at: at(300) } })
      .then([{ type: 'DispatchRetried', data: { attempt: 2, radiusKm: 3, at: iso(300) } }]);
  });
});

describe("a city's matching radii (issue #26)", () => {
  const defaults = { firstRadiusKm: 3, radiusStepKm: 3, maxRadiusKm: 12 };
  const none = { radiusKm: null, radiusStepKm: null, maxRadiusKm: null };

  it('takes each rule the city sets and the configured one otherwise', () => {
    expect(cityDispatchRules(defaults, { cityId: 'douala', ...none })).toEqual({
      cityId: 'douala',
      ...defaults,
    });
    expect(
      cityDispatchRules(defaults, { cityId: 'garoua', radiusKm: 5, radiusStepKm: null, maxRadiusKm: 20 }),
    ).toEqual({ cityId: 'garoua', firstRadiusKm: 5, radiusStepKm: 3, maxRadiusKm: 20 });
  });

  it('never lets the widest radius fall below the first', () => {
    expect(
      cityDispatchRules(defaults, { cityId: 'garoua', radiusKm: 15, radiusStepKm: null, maxRadiusKm: null })
        .maxRadiusKm,
    ).toBe(15);
  });

  it("widens by the city's step up to the city's widest, kept from the opening", () => {
    const city = { cityId: 'limbe', firstRadiusKm: 1, radiusStepKm: 0.5, maxRadiusKm: 1.5 };
    const cityOpened: DispatchEvent = {
      type: 'DispatchOpened',
      data: {
        ...(opened.data as Extract<DispatchEvent, { type: 'DispatchOpened' }>['data']),
        radiusKm: 1,
        city,
      },
    };
    const threeRounds = { ...rules, maxRounds: 3 };
    const state = [cityOpened].reduce(evolveDispatch, initialDispatchState());
    expect(decideDispatch(state, { type: 'EndRound', data: { at: at(60) } }, threeRounds)).toEqual([
      { type: 'DispatchRadiusWidened', data: { round: 2, radiusKm: 1.5, at: iso(60) } },
    ]);
    const second = evolveDispatch(state, {
      type: 'DispatchRadiusWidened',
      data: { round: 2, radiusKm: 1.5, at: iso(60) },
    });
    expect(decideDispatch(second, { type: 'EndRound', data: { at: at(90) } }, threeRounds)).toEqual([
      { type: 'DispatchRadiusWidened', data: { round: 3, radiusKm: 1.5, at: iso(90) } },
    ]);
    // A dispatch opened before cities had radii keeps the configured ones.
    expect(roundRules([opened].reduce(evolveDispatch, initialDispatchState()), rules)).toEqual(rules);
  });
});
