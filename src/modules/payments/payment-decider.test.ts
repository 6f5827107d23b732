import { describe, expect, it } from 'vitest';
import {
  decidePayment,
  evolvePayment,
  initialPaymentState,
  type PaymentCommand,
  type PaymentEvent,
  type PaymentState,
} from './payment-decider.js';

const at = new Date('2026-11-25T10:00:00Z');
const initiated = {
  paymentId: '00000000-0000-4000-8000-000000000001',
  userId: 'u1',
  purpose: { kind: 'topup' } as const,
  amountMinor: 5_000,
  currency: 'XAF' as const,
  phone: '+237670001234',
  operator: 'MTN' as const,
  idempotencyKey: 'key-00000001',
  at: at.toISOString(),
  expiresAt: new Date(at.getTime() + 15 * 60_000).toISOString(),
};
const requested = {
  provider: 'campay' as const,
  providerReference: 'ref-1',
  ussdCode: '*126#',
  failedOver: [],
  at: at.toISOString(),
};

function given(events: PaymentEvent[]): PaymentState {
  return events.reduce(evolvePayment, initialPaymentState());
}
const started: PaymentEvent[] = [
  { type: 'PaymentInitiated', data: initiated },
  { type: 'PaymentRequested', data: requested },
];
const status = (value: 'PENDING' | 'SUCCESSFUL' | 'FAILED', amount = 5_000n): PaymentCommand => ({
  type: 'ApplyProviderStatus',
  data: {
    status: value,
    amountMinor: amount,
    feeMinor: 125n,
    reason: value === 'FAILED' ? 'NOT_ENOUGH_FUNDS' : undefined,
    at,
  },
});

describe('payment decider', () => {
  it('initiates once: a retry of the same attempt records nothing', () => {
    const command: PaymentCommand = { type: 'InitiatePayment', data: { initiated, requested } };
    expect(decidePayment(command, initialPaymentState()).map((event) => event.type)).toEqual([
      'PaymentInitiated',
      'PaymentRequested',
    ]);
    expect(decidePayment(command, given(started))).toEqual([]);
  });

  it('a pending payment succeeds with the amount the provider reports, once', () => {
    const [event] = decidePayment(status('SUCCESSFUL', 4_000n), given(started));
    expect(event).toMatchObject({
      type: 'PaymentSucceeded',
      data: { amountMinor: 4_000, feeMinor: 125, afterExpiry: false },
    });
    expect(decidePayment(status('SUCCESSFUL'), given([...started, event!]))).toEqual([]);
  });

  it('a pending payment fails with the provider reason; a later success changes nothing', () => {
    const [event] = decidePayment(status('FAILED'), given(started));
    expect(event).toMatchObject({ type: 'PaymentFailed', data: { reason: 'NOT_ENOUGH_FUNDS' } });
    expect(decidePayment(status('SUCCESSFUL'), given([...started, event!]))).toEqual([]);
  });

  it('PENDING from the provider changes nothing', () => {
    expect(decidePayment(status('PENDING'), given(started))).toEqual([]);
  });

  it('expires only after its deadline and only while pending', () => {
    const before = new Date(at.getTime() + 14 * 60_000);
    const after = new Date(at.getTime() + 15 * 60_000);
    expect(decidePayment({ type: 'ExpirePayment', data: { now: before } }, given(started))).toEqual([]);
    expect(decidePayment({ type: 'ExpirePayment', data: { now: after } }, given(started))).toEqual([
      { type: 'PaymentExpired', data: { at: after.toISOString() } },
    ]);
    const failed = given([
      ...started,
      { type: 'PaymentFailed', data: { reason: 'x', at: at.toISOString() } },
    ]);
    expect(decidePayment({ type: 'ExpirePayment', data: { now: after } }, failed)).toEqual([]);
  });

  it('a late success after expiry is recorded as such (the money must land somewhere); a late failure is ignored', () => {
    const expired = given([...started, { type: 'PaymentExpired', data: { at: at.toISOString() } }]);
    expect(decidePayment(status('SUCCESSFUL'), expired)).toEqual([
      expect.objectContaining({
        type: 'PaymentSucceeded',
        data: expect.objectContaining({ afterExpiry: true }),
      }),
    ]);
    expect(decidePayment(status('FAILED'), expired)).toEqual([]);
  });

  it('refuses a success with no money or a fee above the amount', () => {
    expect(() => decidePayment(status('SUCCESSFUL', 0n), given(started))).toThrow(RangeError);
    expect(() => decidePayment(status('SUCCESSFUL', 100n), given(started))).toThrow(RangeError);
  });
});
