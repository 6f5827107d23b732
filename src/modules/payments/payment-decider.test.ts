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
    operator: 'MTN',
    reason: value === 'FAILED' ? 'NOT_ENOUGH_FUNDS' : undefined,
    at,
  },
});

describe('payment decider', () => {
  it('initiates once, before any provider answer: a retry of the same attempt records nothing', () => {
    const command: PaymentCommand = { type: 'InitiatePayment', data: { initiated } };
    expect(decidePayment(command, initialPaymentState()).map((event) => event.type)).toEqual([
      'PaymentInitiated',
    ]);
    expect(decidePayment(command, given(started))).toEqual([]);
  });

  it("records the provider's reference once; a second one for the same attempt is not adopted", () => {
    const initiatedOnly = given([{ type: 'PaymentInitiated', data: initiated }]);
    expect(decidePayment({ type: 'RecordRequest', data: requested }, initiatedOnly)).toEqual([
      { type: 'PaymentRequested', data: requested },
    ]);
    const other = { ...requested, providerReference: 'ref-2' };
    expect(decidePayment({ type: 'RecordRequest', data: other }, given(started))).toEqual([]);
    expect(decidePayment({ type: 'RecordRequest', data: requested }, initialPaymentState())).toEqual([]);
  });

  it('a pending payment succeeds once; the fee is taken on what is credited', () => {
    const [event] = decidePayment(status('SUCCESSFUL', 5_000n), given(started));
    expect(event).toMatchObject({
      type: 'PaymentSucceeded',
      data: { amountMinor: 5_000, reportedMinor: 5_000, feeMinor: 125, afterExpiry: false },
    });
    expect(decidePayment(status('SUCCESSFUL'), given([...started, event!]))).toEqual([]);
  });

  it("a success of another collection than the attempt's (a second provider took it too) changes nothing here", () => {
    const other = (provider: string, providerReference: string): PaymentCommand => {
      const command = status('SUCCESSFUL');
      if (command.type !== 'ApplyProviderStatus') throw new Error('unreachable');
      return { ...command, data: { ...command.data, source: { provider, providerReference } } };
    };
    expect(decidePayment(other('orange_money', 'MP0001'), given(started))).toEqual([]);
    expect(decidePayment(other('campay', 'ref-2'), given(started))).toEqual([]);
    expect(decidePayment(other('campay', 'ref-1'), given(started)).map((event) => event.type)).toEqual([
      'PaymentSucceeded',
    ]);
  });

  it('never credits more than requested: a provider reporting more is booked at the request', () => {
    const [event] = decidePayment(status('SUCCESSFUL', 500_000n), given(started));
    expect(event).toMatchObject({
      type: 'PaymentSucceeded',
      data: { amountMinor: 5_000, reportedMinor: 500_000, feeMinor: 125 },
    });
  });

  it("credits less when the provider's status says it collected less", () => {
    const [event] = decidePayment(status('SUCCESSFUL', 4_000n), given(started));
    expect(event).toMatchObject({
      type: 'PaymentSucceeded',
      data: { amountMinor: 4_000, reportedMinor: 4_000, feeMinor: 100 },
    });
  });

  it('a submission that failed before any answer fails the attempt; a success found later still lands', () => {
    const initiatedOnly = given([{ type: 'PaymentInitiated', data: initiated }]);
    const [failed] = decidePayment(
      { type: 'FailSubmission', data: { reason: 'PROVIDER_UNREACHABLE', at } },
      initiatedOnly,
    );
    expect(failed).toMatchObject({ type: 'PaymentFailed', data: { beforeRequest: true } });
    // Not once a provider answered: its status decides.
    expect(decidePayment({ type: 'FailSubmission', data: { reason: 'x', at } }, given(started))).toEqual([]);
    const found = given([
      { type: 'PaymentInitiated', data: initiated },
      failed!,
      { type: 'PaymentRequested', data: requested },
    ]);
    expect(found.status).toBe('FAILED');
    expect(decidePayment(status('SUCCESSFUL'), found)).toEqual([
      expect.objectContaining({
        type: 'PaymentSucceeded',
        data: expect.objectContaining({ afterExpiry: true, amountMinor: 5_000 }),
      }),
    ]);
    // A failure the provider reported stays final.
    const reported = given([
      ...started,
      { type: 'PaymentFailed', data: { reason: 'x', at: at.toISOString() } },
    ]);
    expect(decidePayment(status('SUCCESSFUL'), reported)).toEqual([]);
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

  it('refuses a success with no money', () => {
    expect(() => decidePayment(status('SUCCESSFUL', 0n), given(started))).toThrow(RangeError);
  });
});
