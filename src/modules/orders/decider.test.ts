import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CANCELLATION_RULES,
  decide,
  deliveryPinAttempts,
  deliveryPinRefusal,
  evolve,
  initialState,
  OrderError,
  pickupCodeAttempts,
  pickupCodeRefusal,
  TRANSITIONS,
  type OrderState,
  type OrderStatusOrNone,
} from './decider.js';
import {
  ORDER_STATUSES,
  TERMINAL_STATUSES,
  type OrderActor,
  type OrderCommand,
  type OrderCommandType,
  type OrderEvent,
  type OrderPolicy,
} from './events.js';
import {
  ADMIN,
  ALL_STATUSES,
  at,
  createdData,
  CUSTOMER,
  DRIVER_ID,
  EVENTS,
  historyFor,
  iso,
  OTHER_DRIVER_ID,
  OWNER,
  sampleCommand,
  SUPPORT,
} from './fixtures.js';

/** Given/when/then (Emmett's DeciderSpecification, in a few lines). */
function given(events: OrderEvent[]) {
  const state = events.reduce<OrderState>(evolve, initialState());
  return {
    state,
    when(command: OrderCommand) {
      return {
        then(expected: OrderEvent[]) {
          expect(decide(command, state)).toEqual(expected);
        },
        thenFails(code: OrderError['code'], currentStatus?: OrderStatusOrNone) {
          let caught: unknown;
          try {
            decide(command, state);
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(OrderError);
          expect((caught as OrderError).code).toBe(code);
          if (currentStatus !== undefined) expect((caught as OrderError).currentStatus).toBe(currentStatus);
          return caught as OrderError;
        },
      };
    },
  };
}

const COMMAND_TYPES = Object.keys(TRANSITIONS) as OrderCommandType[];
/** The commands that move an order (RecordRemedy only records support's remedy on it). */
const TRANSITION_TYPES = COMMAND_TYPES.filter((type) => type !== 'RecordRemedy');

describe('order decider: the fixtures reach the status they are named after', () => {
  it.each(ALL_STATUSES)('history for %s folds to %s', (status) => {
    expect(given(historyFor(status)).state.status).toBe(status);
  });
});

describe('order decider: every illegal (command, status) pair is refused, generated from the table', () => {
  const illegal = COMMAND_TYPES.flatMap((type) =>
    ALL_STATUSES.filter((status) => !TRANSITIONS[type].includes(status)).map(
      (status) => [type, status] as const,
    ),
  );
  it('covers many pairs (the table is not trivially permissive)', () => {
    expect(illegal.length).toBeGreaterThan(200);
  });
  it.each(illegal)('%s from %s is refused naming the current status and emits nothing', (type, status) => {
    const error = given(historyFor(status))
      .when(sampleCommand(type))
      .thenFails(status === 'NONE' ? 'order_not_found' : 'illegal_transition', status);
    if (status !== 'NONE') expect(error.message).toContain(status);
    expect(error.kind).toBe(status === 'NONE' ? 'not_found' : 'conflict');
  });
  it('terminal statuses accept no transition at all (a remedy support booked is recorded, not a transition)', () => {
    for (const status of TERMINAL_STATUSES) {
      for (const type of TRANSITION_TYPES) expect(TRANSITIONS[type]).not.toContain(status);
    }
    // RecordRemedy: in every status but NONE (the money already moved), and it never moves the status.
    expect([...TRANSITIONS.RecordRemedy].sort()).toEqual([...ORDER_STATUSES].sort());
  });
});

describe('order decider: every legal transition', () => {
  it('CreateOrder from NONE → OrderCreated (PENDING_PAYMENT)', () => {
    given([])
      .when(sampleCommand('CreateOrder'))
      .then([{ type: 'OrderCreated', data: createdData() }]);
    expect(given([EVENTS.created()]).state.status).toBe('PENDING_PAYMENT');
  });
  it('CreateOrder refuses totals that do not add up', () => {
    const data = createdData();
    given([])
      .when({ type: 'CreateOrder', data: { ...data, pricing: { ...data.pricing, totalMinor: 6_999 } } })
      .thenFails('invalid_command');
    given([])
      .when({
        type: 'CreateOrder',
        data: { ...data, pricing: { ...data.pricing, subtotalMinor: 5_000, totalMinor: 6_000 } },
      })
      .thenFails('invalid_command');
  });
  it('CreateOrder refuses a discount larger than the food, even when the total adds up', () => {
    const data = createdData();
    const { subtotalMinor, totalMinor } = data.pricing;
    const extra = 100;
    const discountMinor = subtotalMinor + extra;
    // The delivery fee grows by as much as the discount, so the total still adds up.
    const deliveryFeeMinor = data.pricing.deliveryFeeMinor + discountMinor - data.pricing.discountMinor;
    const pricing = { ...data.pricing, discountMinor, deliveryFeeMinor, totalMinor };
    expect(
      pricing.subtotalMinor -
        pricing.discountMinor +
        pricing.deliveryFeeMinor +
        pricing.taxMinor +
        pricing.tipMinor,
    ).toBe(totalMinor);
    given([])
      .when({ type: 'CreateOrder', data: { ...data, pricing } })
      .thenFails('invalid_command');
  });
  it('CapturePayment: PENDING_PAYMENT → PLACED, only for the exact total', () => {
    given(historyFor('PENDING_PAYMENT')).when(sampleCommand('CapturePayment')).then([EVENTS.captured()]);
    given(historyFor('PENDING_PAYMENT'))
      .when({ type: 'CapturePayment', data: { paymentId: 'p1', amountMinor: 6_999, at: at(1) } })
      .thenFails('invalid_command');
  });
  it('FailPayment: PENDING_PAYMENT → PAYMENT_FAILED', () => {
    given(historyFor('PENDING_PAYMENT'))
      .when(sampleCommand('FailPayment'))
      .then([{ type: 'OrderPaymentFailed', data: { reason: 'declined', at: iso(1) } }]);
  });
  it('ExpirePayment: PENDING_PAYMENT → PAYMENT_EXPIRED at the deadline, not a minute before', () => {
    given(historyFor('PENDING_PAYMENT'))
      .when({ type: 'ExpirePayment', data: { now: at(14.99) } })
      .thenFails('too_early');
    given(historyFor('PENDING_PAYMENT'))
      .when({ type: 'ExpirePayment', data: { now: at(15) } })
      .then([{ type: 'OrderPaymentExpired', data: { at: iso(15) } }]);
  });
  it('AcceptOrder: PLACED → ACCEPTED with the preparation minutes (1-240)', () => {
    given(historyFor('PLACED'))
      .when(sampleCommand('AcceptOrder'))
      .then([{ type: 'OrderAccepted', data: { by: OWNER, preparationMinutes: 15, at: iso(3) } }]);
    for (const minutes of [0, 241, 1.5]) {
      given(historyFor('PLACED'))
        .when({ type: 'AcceptOrder', data: { by: OWNER, preparationMinutes: minutes, at: at(3) } })
        .thenFails('invalid_command');
    }
  });
  it('RejectOrder: PLACED → REJECTED with a reason, refunding everything', () => {
    given(historyFor('PLACED'))
      .when(sampleCommand('RejectOrder'))
      .then([
        {
          type: 'OrderRejected',
          data: { by: OWNER, reason: 'closing', automatic: false, refundMinor: 7_000, at: iso(3) },
        },
      ]);
    given(historyFor('PLACED'))
      .when({ type: 'RejectOrder', data: { by: OWNER, reason: '  ', at: at(3) } })
      .thenFails('invalid_command');
  });
  /** What RejectUnanswered appends for the fixture order (total 7,000, timeout 10 minutes). */
  const rejectedUnanswered = (minute: number): OrderEvent => ({
    type: 'OrderRejected',
    data: {
      by: { role: 'system', id: 'acceptance-timeout' },
      reason: 'no answer from the restaurant within 10 minutes',
      automatic: true,
      refundMinor: 7_000,
      at: iso(minute),
    },
  });
  it('RejectUnanswered: PLACED → REJECTED automatically once acceptTimeoutMinutes passed since PLACED', () => {
    // PLACED at minute 1, timeout 10 minutes: due at minute 11.
    given(historyFor('PLACED'))
      .when({ type: 'RejectUnanswered', data: { now: at(10.9) } })
      .thenFails('too_early');
    given(historyFor('PLACED'))
      .when({ type: 'RejectUnanswered', data: { now: at(11) } })
      .then([rejectedUnanswered(11)]);
  });
  it('RejectUnanswered: a scheduled order counts from its release (scheduledFor − scheduledReleaseMinutes) if later', () => {
    const scheduled = (scheduledFor: number, release: number | undefined) =>
      historyFor('PLACED').map((event) => {
        if (event.type !== 'OrderCreated') return event;
        const { scheduledReleaseMinutes: _old, ...policy } = event.data.policy;
        return {
          ...event,
          data: {
            ...event.data,
            scheduledFor: iso(scheduledFor),
            policy: release === undefined ? policy : { ...policy, scheduledReleaseMinutes: release },
          },
        };
      });
    const rejectAt = (minute: number) => ({ type: 'RejectUnanswered' as const, data: { now: at(minute) } });
    // For minute 300, released at 240: due at 250, not at 11.
    given(scheduled(300, 60)).when(rejectAt(11)).thenFails('too_early');
    given(scheduled(300, 60)).when(rejectAt(249.9)).thenFails('too_early');
    expect(given(scheduled(300, 60)).state.status).toBe('PLACED');
    given(scheduled(300, 60))
      .when(rejectAt(250))
      .then([rejectedUnanswered(250)]);
    // Released before it was paid (scheduled soon): the timer starts at payment, minute 1.
    given(scheduled(40, 60)).when(rejectAt(10.9)).thenFails('too_early');
    expect(decide(rejectAt(11), given(scheduled(40, 60)).state)[0]?.type).toBe('OrderRejected');
    // Orders from before the release existed: the timer starts at payment, scheduled or not.
    expect(decide(rejectAt(11), given(scheduled(300, undefined)).state)[0]?.type).toBe('OrderRejected');
  });
  it('StartPreparing: ACCEPTED → PREPARING', () => {
    given(historyFor('ACCEPTED'))
      .when(sampleCommand('StartPreparing'))
      .then([{ type: 'OrderPreparationStarted', data: { by: OWNER, at: iso(4) } }]);
  });
  it('MarkReady: PREPARING → READY_FOR_PICKUP', () => {
    given(historyFor('PREPARING'))
      .when(sampleCommand('MarkReady'))
      .then([{ type: 'OrderReadyForPickup', data: { by: OWNER, at: iso(20) } }]);
  });
  it.each(['ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP'] as const)(
    'ClaimOrder from %s: one driver per order',
    (status) => {
      given(historyFor(status))
        .when({ type: 'ClaimOrder', data: { driverId: DRIVER_ID, at: at(21) } })
        .then([{ type: 'OrderDriverClaimed', data: { driverId: DRIVER_ID, at: iso(21) } }]);
      const claimed = [...historyFor(status), EVENTS.claimed()];
      given(claimed)
        .when({ type: 'ClaimOrder', data: { driverId: OTHER_DRIVER_ID, at: at(22) } })
        .thenFails('already_claimed', status);
      // The same driver claiming again (a retry) changes nothing.
      given(claimed)
        .when({ type: 'ClaimOrder', data: { driverId: DRIVER_ID, at: at(22) } })
        .then([]);
      expect(given(claimed).state.status).toBe(status);
    },
  );
  it('PickUpOrder: READY_FOR_PICKUP → PICKED_UP by the claiming driver with the pickup code', () => {
    const ready = [...historyFor('READY_FOR_PICKUP'), EVENTS.claimed()];
    given(ready).when(sampleCommand('PickUpOrder')).then([EVENTS.pickedUp()]);
    // A wrong code is recorded (the service appends it, then answers 422 invalid_pickup_code).
    given(ready)
      .when({ type: 'PickUpOrder', data: { driverId: DRIVER_ID, pickupCode: '0000', at: at(25) } })
      .then([{ type: 'OrderPickupCodeRejected', data: { driverId: DRIVER_ID, at: iso(25) } }]);
    given(ready)
      .when({ type: 'PickUpOrder', data: { driverId: OTHER_DRIVER_ID, pickupCode: '7315', at: at(25) } })
      .thenFails('not_assigned_driver');
    // Another driver's guesses are refused before they count.
    given(ready)
      .when({ type: 'PickUpOrder', data: { driverId: OTHER_DRIVER_ID, pickupCode: '0000', at: at(25) } })
      .thenFails('not_assigned_driver');
    given(historyFor('READY_FOR_PICKUP')).when(sampleCommand('PickUpOrder')).thenFails('not_assigned_driver');
  });
  describe('pickup code lockout (5 wrong codes in any 15 minutes by default)', () => {
    const ready = [...historyFor('READY_FOR_PICKUP'), EVENTS.claimed()];
    const wrong = (minute: number): OrderEvent => ({
      type: 'OrderPickupCodeRejected',
      data: { driverId: DRIVER_ID, at: iso(minute) },
    });
    const pickUp = (minute: number, pickupCode = '7315'): OrderCommand => ({
      type: 'PickUpOrder',
      data: { driverId: DRIVER_ID, pickupCode, at: at(minute) },
    });
    const fiveWrong = [...ready, wrong(21), wrong(22), wrong(23), wrong(24), wrong(25)];

    it('counts wrong codes and tells how many tries are left', () => {
      const state = given([...ready, wrong(21), wrong(22)]).state;
      expect(state.pickupCodeFailures).toEqual([iso(21), iso(22)]);
      expect(state.status).toBe('READY_FOR_PICKUP');
      expect(pickupCodeAttempts(state, at(23))).toEqual({
        attemptsLeft: 3,
        lockedUntil: null,
        retryAfterSeconds: 0,
      });
      const refusal = pickupCodeRefusal([wrong(23)], evolve(state, wrong(23)));
      expect(refusal?.code).toBe('invalid_pickup_code');
      expect(refusal?.kind).toBe('unprocessable');
      expect(refusal?.details).toEqual({ currentStatus: 'READY_FOR_PICKUP', attemptsLeft: 2 });
      expect(pickupCodeRefusal([EVENTS.pickedUp()], state)).toBeUndefined();
      // The two lockouts count apart: wrong pickup codes are not wrong delivery PINs.
      expect(deliveryPinAttempts(state, at(23)).attemptsLeft).toBe(5);
    });

    it('refuses every code, the right one too, while five wrong ones are in the window', () => {
      const locked = given(fiveWrong).when(pickUp(26)).thenFails('pickup_code_locked', 'READY_FOR_PICKUP');
      expect(locked.kind).toBe('rate_limited');
      // The window opens again when the oldest of the five (minute 21) is 15 minutes old.
      expect(locked.details).toEqual({ currentStatus: 'READY_FOR_PICKUP', lockedUntil: iso(36) });
      expect(locked.retryAfterSeconds).toBe(600);
      given(fiveWrong).when(pickUp(35, '0000')).thenFails('pickup_code_locked');
    });

    it('opens again as the oldest failure leaves the window (sliding, not reset)', () => {
      given(fiveWrong)
        .when(pickUp(36))
        .then([{ type: 'OrderPickedUp', data: { driverId: DRIVER_ID, at: iso(36) } }]);
      const again = [...fiveWrong, wrong(36)];
      const locked = given(again).when(pickUp(36.5)).thenFails('pickup_code_locked');
      expect(locked.details.lockedUntil).toBe(iso(37));
    });

    it("follows the order's captured policy; orders from before the limit get the defaults", () => {
      const withPolicy = (change: (policy: OrderPolicy) => OrderPolicy) =>
        ready.map((event) =>
          event.type === 'OrderCreated'
            ? { ...event, data: { ...event.data, policy: change(event.data.policy) } }
            : event,
        );
      const strict = withPolicy((policy) => ({
        ...policy,
        pickupCodeMaxAttempts: 2,
        pickupCodeLockMinutes: 60,
      }));
      given([...strict, wrong(21), wrong(22)])
        .when(pickUp(80))
        .thenFails('pickup_code_locked');
      given([...strict, wrong(21), wrong(22)])
        .when(pickUp(82))
        .then([{ type: 'OrderPickedUp', data: { driverId: DRIVER_ID, at: iso(82) } }]);
      const legacy = withPolicy(
        ({ pickupCodeMaxAttempts: _max, pickupCodeLockMinutes: _lock, ...policy }) => policy,
      );
      given([...legacy, wrong(21), wrong(22), wrong(23), wrong(24)])
        .when(pickUp(25))
        .then([{ type: 'OrderPickedUp', data: { driverId: DRIVER_ID, at: iso(25) } }]);
      given([...legacy, wrong(21), wrong(22), wrong(23), wrong(24), wrong(25)])
        .when(pickUp(26))
        .thenFails('pickup_code_locked');
    });
  });
  it("DeliverOrder: PICKED_UP → DELIVERED by the claiming driver with the customer's PIN", () => {
    given(historyFor('PICKED_UP')).when(sampleCommand('DeliverOrder')).then([EVENTS.delivered()]);
    // A wrong PIN is recorded (the service appends it, then answers 422 invalid_delivery_pin).
    given(historyFor('PICKED_UP'))
      .when({ type: 'DeliverOrder', data: { driverId: DRIVER_ID, deliveryPin: '1111', at: at(40) } })
      .then([{ type: 'OrderDeliveryPinRejected', data: { driverId: DRIVER_ID, at: iso(40) } }]);
    given(historyFor('PICKED_UP'))
      .when({ type: 'DeliverOrder', data: { driverId: OTHER_DRIVER_ID, deliveryPin: '4821', at: at(40) } })
      .thenFails('not_assigned_driver');
    // Another driver's guesses are refused before they count.
    given(historyFor('PICKED_UP'))
      .when({ type: 'DeliverOrder', data: { driverId: OTHER_DRIVER_ID, deliveryPin: '1111', at: at(40) } })
      .thenFails('not_assigned_driver');
  });

  describe('delivery PIN lockout (5 wrong PINs in any 15 minutes by default)', () => {
    const wrong = (minute: number): OrderEvent => ({
      type: 'OrderDeliveryPinRejected',
      data: { driverId: DRIVER_ID, at: iso(minute) },
    });
    const deliver = (minute: number, deliveryPin = '4821'): OrderCommand => ({
      type: 'DeliverOrder',
      data: { driverId: DRIVER_ID, deliveryPin, at: at(minute) },
    });
    const fiveWrong = [...historyFor('PICKED_UP'), wrong(41), wrong(42), wrong(43), wrong(44), wrong(45)];

    it('counts wrong PINs and tells how many tries are left', () => {
      const state = given([...historyFor('PICKED_UP'), wrong(41), wrong(42)]).state;
      expect(state.deliveryPinFailures).toEqual([iso(41), iso(42)]);
      expect(deliveryPinAttempts(state, at(43))).toEqual({
        attemptsLeft: 3,
        lockedUntil: null,
        retryAfterSeconds: 0,
      });
      const refusal = deliveryPinRefusal([wrong(43)], evolve(state, wrong(43)));
      expect(refusal?.code).toBe('invalid_delivery_pin');
      expect(refusal?.details).toEqual({ currentStatus: 'PICKED_UP', attemptsLeft: 2 });
      expect(deliveryPinRefusal([EVENTS.delivered()], state)).toBeUndefined();
    });

    it('refuses every PIN, the right one too, while five wrong ones are in the window', () => {
      const locked = given(fiveWrong).when(deliver(46)).thenFails('delivery_pin_locked', 'PICKED_UP');
      expect(locked.kind).toBe('rate_limited');
      // The window opens again when the oldest of the five (minute 41) is 15 minutes old.
      expect(locked.details).toEqual({ currentStatus: 'PICKED_UP', lockedUntil: iso(56) });
      expect(locked.retryAfterSeconds).toBe(600);
      given(fiveWrong).when(deliver(55, '0000')).thenFails('delivery_pin_locked');
    });

    it('opens again as the oldest failure leaves the window (sliding, not reset)', () => {
      given(fiveWrong)
        .when(deliver(56))
        .then([{ type: 'OrderDelivered', data: { driverId: DRIVER_ID, at: iso(56) } }]);
      // One more wrong PIN at minute 56 fills the window again until minute 42 + 15.
      const again = [...fiveWrong, wrong(56)];
      const locked = given(again).when(deliver(56.5)).thenFails('delivery_pin_locked');
      expect(locked.details.lockedUntil).toBe(iso(57));
    });

    it("follows the order's captured policy; orders from before the limit get the defaults", () => {
      const strict = historyFor('PICKED_UP').map((event) =>
        event.type === 'OrderCreated'
          ? {
              ...event,
              data: {
                ...event.data,
                policy: { ...event.data.policy, deliveryPinMaxAttempts: 2, deliveryPinLockMinutes: 60 },
              },
            }
          : event,
      );
      given([...strict, wrong(41), wrong(42)])
        .when(deliver(100))
        .thenFails('delivery_pin_locked');
      given([...strict, wrong(41), wrong(42)])
        .when(deliver(102))
        .then([{ type: 'OrderDelivered', data: { driverId: DRIVER_ID, at: iso(102) } }]);
      const legacy = historyFor('PICKED_UP').map((event) => {
        if (event.type !== 'OrderCreated') return event;
        const { deliveryPinMaxAttempts: _max, deliveryPinLockMinutes: _lock, ...policy } = event.data.policy;
        return { ...event, data: { ...event.data, policy } };
      });
      given([...legacy, wrong(41), wrong(42), wrong(43), wrong(44)])
        .when(deliver(45))
        .then([{ type: 'OrderDelivered', data: { driverId: DRIVER_ID, at: iso(45) } }]);
      given([...legacy, wrong(41), wrong(42), wrong(43), wrong(44), wrong(45)])
        .when(deliver(46))
        .thenFails('delivery_pin_locked');
    });
  });
  it('FailDelivery: PICKED_UP → DELIVERY_FAILED by the claiming driver or staff', () => {
    given(historyFor('PICKED_UP'))
      .when(sampleCommand('FailDelivery'))
      .then([
        {
          type: 'OrderDeliveryFailed',
          data: { by: { role: 'driver', id: DRIVER_ID }, reason: 'no answer', at: iso(45) },
        },
      ]);
    given(historyFor('PICKED_UP'))
      .when({
        type: 'FailDelivery',
        data: { by: { role: 'driver', id: OTHER_DRIVER_ID }, reason: 'x', at: at(45) },
      })
      .thenFails('not_assigned_driver');
    given(historyFor('PICKED_UP'))
      .when({ type: 'FailDelivery', data: { by: SUPPORT, reason: 'driver accident', at: at(45) } })
      .then([{ type: 'OrderDeliveryFailed', data: { by: SUPPORT, reason: 'driver accident', at: iso(45) } }]);
  });
  it('OpenDispute: DELIVERED → DISPUTED within the dispute window only', () => {
    given(historyFor('DELIVERED'))
      .when(sampleCommand('OpenDispute'))
      .then([{ type: 'OrderDisputeOpened', data: { by: CUSTOMER, reason: 'missing item', at: iso(50) } }]);
    // Delivered at minute 40, window 1,440 minutes: closes at minute 1,480.
    given(historyFor('DELIVERED'))
      .when({ type: 'OpenDispute', data: { by: CUSTOMER, reason: 'late', at: at(1_480) } })
      .thenFails('dispute_window_closed');
  });
  it.each(['DISPUTED', 'DELIVERY_FAILED'] as const)(
    'ResolveDispute: %s → RESOLVED with a refund of 0 to the total',
    (status) => {
      given(historyFor(status))
        .when(sampleCommand('ResolveDispute'))
        .then([
          {
            type: 'OrderDisputeResolved',
            data: { by: SUPPORT, refundMinor: 1_000, note: 'partial', at: iso(60) },
          },
        ]);
      given(historyFor(status))
        .when({
          type: 'ResolveDispute',
          data: { by: SUPPORT, refundMinor: 7_001, note: 'too much', at: at(60) },
        })
        .thenFails('invalid_command');
      expect(given(historyFor('RESOLVED')).state.refundMinor).toBe(3_000n);
    },
  );
  it('RecordRemedy: support’s remedy is recorded once per remedy id, in any status, its shares adding up', () => {
    const remedy = sampleCommand('RecordRemedy') as Extract<OrderCommand, { type: 'RecordRemedy' }>;
    const { at: when, ...data } = remedy.data;
    for (const status of ['DELIVERED', 'COMPLETED', 'DISPUTED', 'RESOLVED'] as const)
      given(historyFor(status))
        .when(remedy)
        .then([{ type: 'OrderRemedyRecorded', data: { ...data, at: when.toISOString() } }]);
    const recorded: OrderEvent = { type: 'OrderRemedyRecorded', data: { ...data, at: when.toISOString() } };
    const withRemedy = [...historyFor('DELIVERED'), recorded];
    // A retry or a sweep naming the same remedy appends nothing; another remedy is recorded.
    given(withRemedy).when(remedy).then([]);
    given(withRemedy)
      .when({ ...remedy, data: { ...remedy.data, remedyId: 'r2' } })
      .then([{ type: 'OrderRemedyRecorded', data: { ...data, remedyId: 'r2', at: when.toISOString() } }]);
    expect(given(withRemedy).state.status).toBe('DELIVERED');
    expect(given(withRemedy).state.remedies).toEqual([recorded.data]);
    for (const shares of [
      { restaurantMinor: 600, driverMinor: 0, platformMinor: 300 },
      { restaurantMinor: -100, driverMinor: 0, platformMinor: 1_100 },
      { restaurantMinor: 0.5, driverMinor: 0, platformMinor: 999.5 },
    ])
      given(historyFor('DELIVERED'))
        .when({ ...remedy, data: { ...remedy.data, shares } })
        .thenFails('invalid_command');
    given([]).when(remedy).thenFails('order_not_found');
  });
  it('ResolveDispute: the refund is at most what support’s refund remedies left of the total', () => {
    const remedy = sampleCommand('RecordRemedy') as Extract<OrderCommand, { type: 'RecordRemedy' }>;
    const { at: when, ...data } = remedy.data;
    const history: OrderEvent[] = [
      ...historyFor('DISPUTED'),
      { type: 'OrderRemedyRecorded', data: { ...data, amountMinor: 1_000, at: when.toISOString() } },
    ];
    const total = createdData().pricing.totalMinor;
    given(history)
      .when({
        type: 'ResolveDispute',
        data: { by: SUPPORT, refundMinor: total - 999, note: 'n', at: at(60) },
      })
      .thenFails('invalid_command');
    given(history)
      .when({
        type: 'ResolveDispute',
        data: { by: SUPPORT, refundMinor: total - 1_000, note: 'n', at: at(60) },
      })
      .then([
        {
          type: 'OrderDisputeResolved',
          data: { by: SUPPORT, refundMinor: total - 1_000, note: 'n', at: iso(60) },
        },
      ]);
  });
  it('CompleteOrder: DELIVERED → COMPLETED once the dispute window closed', () => {
    given(historyFor('DELIVERED'))
      .when({ type: 'CompleteOrder', data: { now: at(1_479) } })
      .thenFails('too_early');
    given(historyFor('DELIVERED'))
      .when({ type: 'CompleteOrder', data: { now: at(1_480) } })
      .then([{ type: 'OrderCompleted', data: { at: iso(1_480) } }]);
  });
});

describe('order decider: cancellation rules (who may cancel, what is refunded)', () => {
  const roles: OrderActor['role'][] = ['customer', 'restaurant', 'driver', 'support', 'admin', 'system'];
  const actor = (role: OrderActor['role']): OrderActor => ({ role, id: `${role}-1` });
  const cases = ORDER_STATUSES.flatMap((status) => roles.map((role) => [status, role] as const));

  it.each(cases)('from %s, a %s may cancel exactly when the rules say so', (status, role) => {
    const command: OrderCommand = {
      type: 'CancelOrder',
      data: { by: actor(role), reason: 'because', at: at(30) },
    };
    const spec = given(historyFor(status)).when(command);
    if (!TRANSITIONS.CancelOrder.includes(status)) {
      spec.thenFails('illegal_transition', status);
    } else if (!CANCELLATION_RULES[status].includes(role)) {
      spec.thenFails('cancellation_not_allowed', status);
    } else {
      const [event] = decide(command, given(historyFor(status)).state);
      expect(event?.type).toBe('OrderCancelled');
    }
  });

  it('the customer cancels for free before acceptance: the whole total comes back', () => {
    given(historyFor('PLACED'))
      .when({ type: 'CancelOrder', data: { by: CUSTOMER, reason: 'changed my mind', at: at(2) } })
      .then([
        {
          type: 'OrderCancelled',
          data: {
            by: CUSTOMER,
            reason: 'changed my mind',
            previousStatus: 'PLACED',
            refundMinor: 7_000,
            cancellationFeeMinor: 0,
            at: iso(2),
          },
        },
      ]);
  });
  it('before payment nothing was captured, so nothing is refunded', () => {
    const [event] = decide(
      { type: 'CancelOrder', data: { by: CUSTOMER, reason: 'oops', at: at(1) } },
      given(historyFor('PENDING_PAYMENT')).state,
    );
    expect(event).toMatchObject({ data: { refundMinor: 0, cancellationFeeMinor: 0 } });
  });
  it('after acceptance the customer pays 10 % of the food (rounded down) and gets the rest back', () => {
    // food 6,000 → fee 600; total 7,000 → refund 6,400 (delivery fee and tip come back).
    const [event] = decide(
      { type: 'CancelOrder', data: { by: CUSTOMER, reason: 'too slow', at: at(5) } },
      given(historyFor('ACCEPTED')).state,
    );
    expect(event).toMatchObject({
      data: { refundMinor: 6_400, cancellationFeeMinor: 600, previousStatus: 'ACCEPTED' },
    });
  });
  it('the fee rounds down: 10 % of 6,005 food is 600, not 601', () => {
    const data = createdData();
    const odd = {
      ...data,
      lines: [
        { ...data.lines[0]!, lineTotalMinor: 6_005, unitPriceMinor: 6_005, quantity: 1, modifiers: [] },
      ],
      pricing: { ...data.pricing, subtotalMinor: 6_005, totalMinor: 7_005 },
    };
    const history: OrderEvent[] = [
      { type: 'OrderCreated', data: odd },
      { type: 'OrderPaymentCaptured', data: { paymentId: 'p', amountMinor: 7_005, at: iso(1) } },
      EVENTS.accepted(),
    ];
    const [event] = decide(
      { type: 'CancelOrder', data: { by: CUSTOMER, reason: 'x', at: at(5) } },
      given(history).state,
    );
    expect(event).toMatchObject({ data: { cancellationFeeMinor: 600, refundMinor: 6_405 } });
  });
  it.each(['ACCEPTED', 'PREPARING'] as const)(
    'a restaurant that cannot fulfil (%s) refunds everything',
    (status) => {
      const [event] = decide(
        { type: 'CancelOrder', data: { by: OWNER, reason: 'out of fish', at: at(6) } },
        given(historyFor(status)).state,
      );
      expect(event).toMatchObject({ data: { refundMinor: 7_000, cancellationFeeMinor: 0 } });
    },
  );
  it.each(['PLACED', 'ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP'] as const)(
    'support and admins cancel from %s with a full refund',
    (status) => {
      for (const by of [SUPPORT, ADMIN]) {
        const [event] = decide(
          { type: 'CancelOrder', data: { by, reason: 'incident', at: at(22) } },
          given(historyFor(status)).state,
        );
        expect(event).toMatchObject({ data: { refundMinor: 7_000, cancellationFeeMinor: 0 } });
      }
    },
  );
  it('a cancellation needs a reason', () => {
    given(historyFor('PLACED'))
      .when({ type: 'CancelOrder', data: { by: CUSTOMER, reason: '', at: at(2) } })
      .thenFails('invalid_command');
  });
});

describe('order decider: properties over random command sequences', () => {
  const commandArbitrary = fc.constantFrom(...COMMAND_TYPES).map(sampleCommand);
  it('status always equals the last timeline entry, money stays within the total, refused commands emit nothing', () => {
    fc.assert(
      fc.property(fc.array(commandArbitrary, { maxLength: 25 }), (commands) => {
        let state = initialState();
        for (const command of commands) {
          let events: OrderEvent[] = [];
          try {
            events = decide(command, state);
          } catch (error) {
            expect(error).toBeInstanceOf(OrderError);
            continue;
          }
          const before = state.status;
          state = events.reduce(evolve, state);
          if (command.type === 'RecordRemedy') expect(state.status).toBe(before);
          const last = state.timeline.at(-1);
          expect(state.status).toBe(last === undefined ? 'NONE' : last.status);
          expect(state.refundMinor + state.cancellationFeeMinor).toBeLessThanOrEqual(7_000n);
          // The sample remedy is recorded once however often it comes.
          expect(new Set(state.remedies.map((remedy) => remedy.remedyId)).size).toBe(state.remedies.length);
          if (TERMINAL_STATUSES.has(state.status as never)) {
            for (const type of TRANSITION_TYPES)
              expect(() => decide(sampleCommand(type), state)).toThrow(OrderError);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
