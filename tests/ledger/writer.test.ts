import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerWalletId,
  orderEscrowId,
  providerClearingId,
  type Transfer,
} from '../../ledger/rules/index.js';
import { batchBodyBytes, decodeBatchEvent, encodeBatchEvent, sealBatch } from '../../ledger/rules/index.js';
import { sealEncoded } from '../../ledger/writer/events.js';
import { createLedgerHarness, type LedgerHarness } from './harness.js';

let harness: LedgerHarness;
beforeAll(async () => {
  harness = await createLedgerHarness();
});
afterAll(async () => harness.close());

const treasury = providerClearingId('campay', 'XAF');
// A top-up: the provider collected the money (clearing, an asset, debited) for the wallet.
const fund = (id: string, wallet: string, amount: bigint): Transfer[] => [
  {
    id,
    debitAccountId: treasury,
    creditAccountId: wallet,
    amountMinor: amount,
    currency: 'XAF',
    code: 'topup',
    flags: {},
  },
];

describe('ledger writer', () => {
  it('seals and encodes a batch byte for byte as the rules do, in one pass', () => {
    const body = {
      accountsCreated: [
        {
          id: 'wallet:customer:x:XAF',
          currency: 'XAF' as const,
          kind: 'liability' as const,
          flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false },
          debitsPending: 0n,
          debitsPosted: 0n,
          creditsPending: 0n,
          creditsPosted: 0n,
        },
      ],
      transfersAccepted: [
        {
          ...fund('e1', 'wallet:customer:x:XAF', 7n)[0]!,
          userData: { orderId: 'o"1', b: 'é' },
          timestamp: 5n,
        },
      ],
    };
    const previous = 'ab'.repeat(32);
    const fast = sealEncoded(previous, body);
    const sealed = sealBatch(previous, body);
    expect(fast.hash).toBe(sealed.hash);
    expect(fast.data.batch).toBe(encodeBatchEvent(sealed));
  });

  it('a decoded event hashes the body cut from its stored text, equal to encoding it afresh', () => {
    // User data that mimics the top-level members must not fool the cut.
    const tricky = { hash: 'x', previousHash: 'y', transfersAccepted: 'z' };
    const body = {
      accountsCreated: [],
      transfersAccepted: [
        { ...fund('e2', 'wallet:customer:y:XAF', 9n)[0]!, userData: tricky, timestamp: 6n },
      ],
    };
    const text = encodeBatchEvent(sealBatch('cd'.repeat(32), body));
    const decoded = decodeBatchEvent(text);
    expect(Buffer.from(batchBodyBytes(decoded)).toString('utf8')).toBe(
      Buffer.from(
        batchBodyBytes({
          accountsCreated: decoded.accountsCreated,
          transfersAccepted: decoded.transfersAccepted,
        }),
      ).toString('utf8'),
    );
  });

  it('opens chart accounts lazily, appends one event per batch and answers each caller', async () => {
    const writer = harness.writer({ stream: 'ledger-basic' });
    const wallet = customerWalletId('alice', 'XAF');
    const results = await writer.submit(fund('t1', wallet, 5_000n));
    expect(results.map((entry) => entry.result)).toEqual(['ok']);
    const again = await writer.submit(fund('t1', wallet, 5_000n));
    expect(again.map((entry) => entry.result)).toEqual(['exists']);
    const different = await writer.submit([{ ...fund('t1', wallet, 5_000n)[0]!, amountMinor: 1n }]);
    expect(different[0]).toMatchObject({ result: 'exists_with_different_fields', detail: 'amountMinor' });
    const account = await writer.account(wallet);
    expect(account).toMatchObject({ creditsPosted: 5_000n, availableMinor: 5_000n });
    const concurrent = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        writer.submit([
          {
            id: `pay-${index}`,
            debitAccountId: wallet,
            creditAccountId: orderEscrowId(`o${index}`, 'XAF'),
            amountMinor: 150n,
            currency: 'XAF',
            code: 'payment_capture',
            flags: {},
          },
        ]),
      ),
    );
    const oks = concurrent.filter((entry) => entry[0]?.result === 'ok').length;
    expect(oks).toBe(33); // 33 × 150 = 4,950 ≤ 5,000 < 34 × 150
    expect((await writer.account(wallet))?.availableMinor).toBe(50n);
    await writer.close();
  });

  it('restores from a snapshot plus the tail and reloads evicted accounts from its snapshot', async () => {
    const stream = 'ledger-restore';
    const first = harness.writer({ stream, snapshotEveryEvents: 3 });
    const wallet = customerWalletId('bob', 'XAF');
    await first.submit(fund('f1', wallet, 1_000n));
    for (let index = 0; index < 6; index += 1) {
      const escrow = orderEscrowId(`r${index}`, 'XAF');
      await first.submit([
        {
          id: `r${index}:pay`,
          debitAccountId: wallet,
          creditAccountId: escrow,
          amountMinor: 100n,
          currency: 'XAF',
          code: 'payment_capture',
          flags: { linked: true },
        },
        {
          id: `r${index}:refund`,
          debitAccountId: escrow,
          creditAccountId: wallet,
          amountMinor: 100n,
          currency: 'XAF',
          code: 'refund',
          flags: { closingDebit: true },
        },
      ]);
    }
    await first.snapshotNow();
    await first.submit([
      {
        id: 'tail-1',
        debitAccountId: wallet,
        creditAccountId: orderEscrowId('tail', 'XAF'),
        amountMinor: 10n,
        currency: 'XAF',
        code: 'payment_capture',
        flags: {},
      },
    ]);
    const head = first.head();
    // Closed, zeroed escrows left memory after the snapshot.
    expect(first.memory().accounts).toBeLessThan(6);
    await first.close();

    const second = harness.writer({ stream });
    await second.start();
    expect(second.head()).toMatchObject({ revision: head.revision, hash: head.hash });
    expect((await second.account(wallet))?.creditsPosted).toBe(1_600n);
    // An evicted, closed escrow is reloaded from the snapshot to answer `exists` and `account_closed`.
    const retry = await second.submit([
      {
        id: 'r0:pay',
        debitAccountId: wallet,
        creditAccountId: orderEscrowId('r0', 'XAF'),
        amountMinor: 100n,
        currency: 'XAF',
        code: 'payment_capture',
        flags: { linked: true },
      },
      {
        id: 'r0:refund',
        debitAccountId: orderEscrowId('r0', 'XAF'),
        creditAccountId: wallet,
        amountMinor: 100n,
        currency: 'XAF',
        code: 'refund',
        flags: { closingDebit: true },
      },
    ]);
    expect(retry.map((entry) => entry.result)).toEqual(['exists', 'exists']);
    const closed = await second.submit([
      {
        id: 'late',
        debitAccountId: wallet,
        creditAccountId: orderEscrowId('r0', 'XAF'),
        amountMinor: 1n,
        currency: 'XAF',
        code: 'payment_capture',
        flags: {},
      },
    ]);
    expect(closed[0]?.result).toBe('account_closed');
    await second.close();
  });

  it('a writer that loses the append race catches up from the stream and decides again', async () => {
    const stream = 'ledger-race';
    const left = harness.writer({ stream, leaseConnectionString: null });
    const right = harness.writer({ stream, leaseConnectionString: null });
    const wallet = customerWalletId('carol', 'XAF');
    await left.submit(fund('c1', wallet, 300n));
    await right.start();
    await left.submit([
      {
        id: 'spend-left',
        debitAccountId: wallet,
        creditAccountId: orderEscrowId('l', 'XAF'),
        amountMinor: 200n,
        currency: 'XAF',
        code: 'payment_capture',
        flags: {},
      },
    ]);
    // `right` still believes 300 is available: its append fails, it catches up and re-decides.
    const result = await right.submit([
      {
        id: 'spend-right',
        debitAccountId: wallet,
        creditAccountId: orderEscrowId('r', 'XAF'),
        amountMinor: 200n,
        currency: 'XAF',
        code: 'payment_capture',
        flags: {},
      },
    ]);
    expect(result[0]?.result).toBe('exceeds_credits');
    expect(right.head().revision).toBe(left.head().revision);
  });

  it('the lease lets one writer at a time append to a stream', async () => {
    const stream = 'ledger-lease';
    const holder = harness.writer({ stream });
    await holder.start();
    const waiting = harness.writer({ stream, unavailableTimeoutMs: 300 });
    await expect(waiting.start()).rejects.toThrow(/not available/);
    await holder.close();
    const wallet = customerWalletId('dan', 'XAF');
    const taken = harness.writer({ stream });
    expect((await taken.submit(fund('d1', wallet, 10n))).map((entry) => entry.result)).toEqual(['ok']);
  });
});
