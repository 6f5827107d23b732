import { describe, expect, it } from 'vitest';
import type { TransactionStatus } from './providers/index.js';
import { afterLookup, MAX_SENDS, nextSendStep, RESEND_AFTER_MS } from './payout-rules.js';

const sentAt = new Date('2026-11-26T10:00:00Z');
const lost = { providerReference: null, sentAt, sends: 1 };
const transaction = (reference: string): TransactionStatus => ({
  provider: 'campay',
  kind: 'disbursement',
  providerReference: reference,
  status: 'SUCCESSFUL',
  amountMinor: 5_000n,
  currency: 'XAF',
});
const at = (afterMs: number) => new Date(sentAt.getTime() + afterMs);

describe('when a payout may be sent', () => {
  it('sends once, reads what has a reference, asks the provider when the answer was lost', () => {
    expect(nextSendStep({ providerReference: null, sentAt: null, sends: 0 })).toEqual({ action: 'send' });
    expect(nextSendStep({ providerReference: 'r1', sentAt, sends: 1 })).toEqual({
      action: 'read',
      reference: 'r1',
    });
    expect(nextSendStep(lost)).toEqual({ action: 'lookup' });
  });

  it('adopts the one transaction the provider holds under our reference', () => {
    expect(afterLookup({ verdict: 'found', transactions: [transaction('r1')] }, lost, at(1_000))).toEqual({
      action: 'adopt',
      transaction: transaction('r1'),
    });
  });

  it('stops for finance when the provider paid more than once, or cannot tell', () => {
    expect(
      afterLookup(
        { verdict: 'found', transactions: [transaction('r1'), transaction('r2')] },
        lost,
        at(1_000),
      ),
    ).toMatchObject({ action: 'review', reason: expect.stringContaining('DUPLICATE_AT_PROVIDER') });
    expect(
      afterLookup({ verdict: 'unknown', reason: 'no index' }, lost, at(RESEND_AFTER_MS * 10)),
    ).toMatchObject({
      action: 'review',
      reason: expect.stringContaining('PROVIDER_CANNOT_CONFIRM'),
    });
  });

  it('resends only once the provider proved it holds nothing and the lost request is too old to arrive', () => {
    expect(afterLookup({ verdict: 'absent' }, lost, at(RESEND_AFTER_MS - 1))).toEqual({ action: 'wait' });
    expect(afterLookup({ verdict: 'absent' }, lost, at(RESEND_AFTER_MS))).toEqual({ action: 'resend' });
    expect(
      afterLookup({ verdict: 'absent' }, { ...lost, sends: MAX_SENDS }, at(RESEND_AFTER_MS)),
    ).toMatchObject({ action: 'review', reason: expect.stringContaining('NOT_AT_PROVIDER') });
  });
});
