import { describe, expect, it } from 'vitest';
import { reconcile, type InternalLine, type ProviderLine } from './reconcile-rules.js';

const p = (reference: string, status: ProviderLine['status'], amount = 1_000n, fee = 25n): ProviderLine => ({
  reference,
  kind: 'collection',
  amountMinor: amount,
  feeMinor: fee,
  status,
});
const i = (
  reference: string,
  status: InternalLine['status'],
  ledger: bigint | null = 1_000n,
  fee: bigint | null = 25n,
): InternalLine => ({
  reference,
  internalId: `id-${reference}`,
  kind: 'collection',
  ledgerMinor: ledger,
  feeMinor: fee,
  status,
});
const statusOf = (providerLines: ProviderLine[], internalLines: InternalLine[]) =>
  reconcile(providerLines, internalLines, { toleranceMinor: 5n }).map((item) => item.status);

describe('reconciliation matching', () => {
  it('matches a success booked for the same amount and fee', () => {
    expect(statusOf([p('a', 'SUCCESSFUL')], [i('a', 'SUCCEEDED')])).toEqual(['MATCHED']);
  });
  it('accepts a small fee difference as within tolerance, not a large one', () => {
    expect(statusOf([p('a', 'SUCCESSFUL', 1_000n, 28n)], [i('a', 'SUCCEEDED')])).toEqual([
      'MATCHED_WITHIN_TOLERANCE',
    ]);
    expect(statusOf([p('a', 'SUCCESSFUL', 1_000n, 60n)], [i('a', 'SUCCEEDED')])).toEqual(['AMOUNT_MISMATCH']);
  });
  it('flags an amount the ledger booked differently', () => {
    expect(statusOf([p('a', 'SUCCESSFUL', 1_000n)], [i('a', 'SUCCEEDED', 900n)])).toEqual([
      'AMOUNT_MISMATCH',
    ]);
  });
  it('flags money at the provider we never booked, and bookings the provider never saw', () => {
    expect(statusOf([p('a', 'SUCCESSFUL')], [])).toEqual(['MISSING_IN_LEDGER']);
    expect(statusOf([p('a', 'SUCCESSFUL')], [i('a', 'SUCCEEDED', null)])).toEqual(['MISSING_IN_LEDGER']);
    expect(statusOf([], [i('a', 'SUCCEEDED')])).toEqual(['MISSING_AT_PROVIDER']);
  });
  it('calls pending and in-flight lines expected', () => {
    expect(statusOf([p('a', 'PENDING')], [i('a', 'EXPIRED', null)])).toEqual(['EXPECTED']);
    expect(statusOf([p('a', 'SUCCESSFUL')], [i('a', 'PENDING', null)])).toEqual(['EXPECTED']);
    expect(statusOf([], [i('a', 'PROCESSING', null)])).toEqual(['EXPECTED']);
  });
  it('flags opposite outcomes as a status mismatch and agrees on failures', () => {
    expect(statusOf([p('a', 'SUCCESSFUL')], [i('a', 'FAILED', null)])).toEqual(['STATUS_MISMATCH']);
    expect(statusOf([p('a', 'FAILED')], [i('a', 'SUCCEEDED')])).toEqual(['STATUS_MISMATCH']);
    expect(statusOf([p('a', 'FAILED')], [i('a', 'FAILED', null)])).toEqual(['MATCHED']);
  });
  it('flags a reference seen twice', () => {
    expect(statusOf([p('a', 'SUCCESSFUL'), p('a', 'SUCCESSFUL')], [i('a', 'SUCCEEDED')])).toEqual([
      'DUPLICATE',
    ]);
  });
  it('gives one item per reference, in a stable order', () => {
    const items = reconcile(
      [p('b', 'SUCCESSFUL'), p('a', 'SUCCESSFUL')],
      [i('a', 'SUCCEEDED'), i('c', 'SUCCEEDED')],
      { toleranceMinor: 0n },
    );
    expect(items.map((item) => [item.reference, item.status])).toEqual([
      ['a', 'MATCHED'],
      ['b', 'MISSING_IN_LEDGER'],
      ['c', 'MISSING_AT_PROVIDER'],
    ]);
  });
});
