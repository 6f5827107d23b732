import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cancellationRefund,
  depositOf,
  endingTransfers,
  paymentTransfer,
  releaseTransfer,
} from './bulk-rules.js';

const ID = '6f1c1b1e-1111-4a4a-8b8b-000000000001';
const policy = { freeCancelHoursBefore: 24, lateCancelRefundPercent: 50 };

describe('bulk orders: deposit, cancellation, transfers', () => {
  it('the deposit is the percent rounded up, never over the total', () => {
    expect(depositOf(10_001n, 30)).toBe(3_001n);
    expect(depositOf(100n, 100)).toBe(100n);
    expect(() => depositOf(0n, 30)).toThrow(RangeError);
    expect(() => depositOf(100n, 0)).toThrow(RangeError);
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 12n }),
        fc.integer({ min: 1, max: 100 }),
        (total, percent) => {
          const deposit = depositOf(total, percent);
          expect(deposit >= 1n && deposit <= total).toBe(true);
          expect(deposit * 100n >= total * BigInt(percent)).toBe(true);
          expect((deposit - 1n) * 100n < total * BigInt(percent)).toBe(true);
        },
      ),
    );
  });

  it('a cancellation gives the whole deposit back before confirmation or the cutoff, the percent after', () => {
    const scheduledFor = new Date('2026-12-10T12:00:00Z');
    const request = { scheduledFor, depositMinor: 3_001n };
    const early = new Date('2026-12-09T11:59:59Z');
    const late = new Date('2026-12-09T12:00:00Z');
    expect(cancellationRefund({ ...request, status: 'requested' }, late, policy)).toBe(3_001n);
    expect(cancellationRefund({ ...request, status: 'proposed' }, late, policy)).toBe(3_001n);
    expect(cancellationRefund({ ...request, status: 'confirmed' }, early, policy)).toBe(3_001n);
    expect(cancellationRefund({ ...request, status: 'confirmed' }, late, policy)).toBe(1_500n);
    expect(
      cancellationRefund({ ...request, status: 'confirmed' }, late, {
        ...policy,
        lateCancelRefundPercent: 0,
      }),
    ).toBe(0n);
  });

  it('what an ended request pays out is exactly what its escrow holds', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 10n ** 9n }),
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.boolean(),
        fc.integer({ min: 0, max: 100 }),
        (depositMinor, balanceMinor, balancePaid, percent) => {
          const depositRefundMinor = (depositMinor * BigInt(percent)) / 100n;
          const held = [paymentTransfer(ID, 'u1', 'deposit', depositMinor)];
          if (balancePaid && balanceMinor > 0n) held.push(paymentTransfer(ID, 'u1', 'balance', balanceMinor));
          const out = endingTransfers({
            id: ID,
            customerId: 'u1',
            restaurantId: 'r1',
            depositMinor,
            depositRefundMinor,
            balanceMinor,
            balancePaid,
          });
          const sum = (transfers: { amountMinor: bigint }[]) =>
            transfers.reduce((total, transfer) => total + transfer.amountMinor, 0n);
          expect(sum(out)).toBe(sum(held));
          expect(new Set(out.map((transfer) => transfer.id)).size).toBe(out.length);
          for (const transfer of out) expect(transfer.debitAccountId).toBe(`escrow:bulk:${ID}:XAF`);
        },
      ),
    );
    expect(() =>
      endingTransfers({
        id: ID,
        customerId: 'u1',
        restaurantId: 'r1',
        depositMinor: 10n,
        depositRefundMinor: 11n,
        balanceMinor: 0n,
        balancePaid: false,
      }),
    ).toThrow(RangeError);
  });

  it('every transfer is named after the bulk order alone', () => {
    expect(paymentTransfer(ID, 'u1', 'deposit', 5n).id).toBe(`bulk-deposit:${ID}`);
    expect(paymentTransfer(ID, 'u1', 'balance', 5n).id).toBe(`bulk-balance:${ID}`);
    expect(releaseTransfer(ID, 'u1', 5n)).toMatchObject({
      id: `bulk-release:${ID}`,
      debitAccountId: `escrow:bulk:${ID}:XAF`,
      creditAccountId: 'wallet:customer:u1:XAF',
    });
  });
});
