/**
 * Fault schedules for receivable recovery (issue #28): the process dying after a credit landed and
 * before its recovery, after the recovery was decided and before the ledger, after the ledger and
 * before the row said so; two credits landing at once with many runs racing them; a second
 * instance (its own service over the same tables and ledger) racing the first; a replayed credit;
 * the customer spending between the decision and the booking. After each: never more recovered
 * than owed, the receivable never below zero, each credit recovered at most once, the wallet never
 * negative, and the ledger verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderEscrowId } from '../../ledger/rules/index.js';
import {
  createReceivableRecovery,
  recoveryTransfer,
  recoveryTransferId,
} from '../../src/modules/payments/receivable-recovery.js';
import { createReceivableRecoveryRepository } from '../../src/modules/payments/receivable-recovery-repository.js';
import type { PaymentsDb } from '../../src/modules/payments/tables.js';
import type { TestApp } from '../helpers/app.js';
import { createUser, type CreatedUser } from '../helpers/auth.js';
import { expectLedgerVerifies } from '../helpers/ledger.js';
import { paymentsTestApp } from '../integration/payments/helpers.js';
import {
  creditBalance,
  debitBalance,
  fundByCard,
  owingCustomer,
  projected,
} from '../integration/payments/receivable-helpers.js';

let testApp: TestApp;
let admin: CreatedUser;

beforeAll(async () => {
  testApp = await paymentsTestApp();
  admin = await createUser(testApp, { roles: ['admin'] });
}, 60_000);
afterAll(async () => testApp?.close());

const services = () => testApp.services;
const receivables = () => services().payments.receivables;
const db = () => services().runtime.database.db as unknown as PaymentsDb;
const repository = () => createReceivableRecoveryRepository(db());

/** Another instance's recovery service: its own objects over the same tables and ledger. */
function secondInstance() {
  return createReceivableRecovery({
    repository: repository(),
    ledger: services().ledger,
    logger: services().runtime.logger.child({ instance: 'second' }),
    audit: services().identity.audit,
    enabled: true,
  });
}

/** The recovery transfers that landed for this customer's credits, from the ledger itself. */
async function recovered(creditTransferIds: string[], wallet: string): Promise<bigint> {
  let total = 0n;
  for (const id of creditTransferIds) {
    const rows = await db()
      .selectFrom('receivable_recoveries')
      .selectAll()
      .where('credit_transfer_id', '=', id)
      .execute();
    expect(rows.length).toBeLessThanOrEqual(1);
    if (rows[0]?.status === 'BOOKED') total += rows[0].recovered_minor ?? 0n;
  }
  expect(await creditBalance(testApp, wallet)).toBeGreaterThanOrEqual(0n);
  return total;
}

const creditId = (fundingId: string) => `card:${fundingId}:credit`;

describe('receivable recovery under faults', () => {
  it('a crash after the credit and before the recovery: the next sweep recovers it, once', async () => {
    const customer = await createUser(testApp);
    const owing = await owingCustomer(testApp, customer, admin);
    // The credit lands; the process that would have recovered it dies (nothing recorded).
    const funded = await fundByCard(testApp, customer, 500);
    await projected(testApp);
    await receivables().sweep();
    await receivables().sweep();
    expect(await debitBalance(testApp, owing.receivable)).toBe(700n);
    expect(await creditBalance(testApp, owing.wallet)).toBe(0n);
    expect(await recovered([creditId(funded.funding_id)], owing.wallet)).toBe(500n);
    await expectLedgerVerifies(testApp);
  });

  it('a crash after the decision (before the ledger), and one after the ledger (before the row): each booked once', async () => {
    const customer = await createUser(testApp);
    const owing = await owingCustomer(testApp, customer, admin);
    const a = await fundByCard(testApp, customer, 400);
    const b = await fundByCard(testApp, customer, 300);
    await projected(testApp);
    const repo = repository();
    // A: decided ($4.00) and then the process died before the ledger.
    await repo.decide({
      creditTransferId: creditId(a.funding_id),
      recoveryTransferId: recoveryTransferId(creditId(a.funding_id)),
      userId: customer.userId,
      currency: 'USD',
      creditCode: 'topup',
      creditMinor: 400n,
      recoveredMinor: 400n,
    });
    // B: decided ($3.00), the ledger booked it, the process died before marking the row.
    await repo.decide({
      creditTransferId: creditId(b.funding_id),
      recoveryTransferId: recoveryTransferId(creditId(b.funding_id)),
      userId: customer.userId,
      currency: 'USD',
      creditCode: 'topup',
      creditMinor: 300n,
      recoveredMinor: 300n,
    });
    const landed = await services().ledger.submit([
      recoveryTransfer((await repo.find(creditId(b.funding_id)))!),
    ]);
    expect(landed[0]!.result).toBe('ok');
    expect(await debitBalance(testApp, owing.receivable)).toBe(900n);

    await Promise.all([receivables().sweep(), receivables().recoverFor(customer.userId, 'USD')]);
    expect(await debitBalance(testApp, owing.receivable)).toBe(500n);
    expect(await creditBalance(testApp, owing.wallet)).toBe(0n);
    expect(await recovered([creditId(a.funding_id), creditId(b.funding_id)], owing.wallet)).toBe(700n);
    for (const id of [creditId(a.funding_id), creditId(b.funding_id)])
      expect((await repo.find(id))!.status).toBe('BOOKED');
    await expectLedgerVerifies(testApp);
  });

  it('two credits at once, twelve runs on two instances racing: $12.00 owed, $10.00 + $10.00 landed → exactly $12.00 recovered', async () => {
    const customer = await createUser(testApp);
    const owing = await owingCustomer(testApp, customer, admin);
    const [a, b] = await Promise.all([
      fundByCard(testApp, customer, 1_000),
      fundByCard(testApp, customer, 1_000),
    ]);
    await projected(testApp);
    const other = secondInstance();
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 3 === 0
          ? other.recoverFor(customer.userId, 'USD')
          : i % 3 === 1
            ? receivables().recoverFor(customer.userId, 'USD')
            : receivables().sweep(),
      ),
    );
    expect(await debitBalance(testApp, owing.receivable)).toBe(0n);
    expect(await creditBalance(testApp, owing.wallet)).toBe(800n);
    expect(await recovered([creditId(a!.funding_id), creditId(b!.funding_id)], owing.wallet)).toBe(1_200n);
    await expectLedgerVerifies(testApp);
  });

  it('a replayed credit (the funding credited again, its entry seen again by every run and another instance) recovers nothing twice', async () => {
    const customer = await createUser(testApp);
    const owing = await owingCustomer(testApp, customer, admin);
    const funded = await fundByCard(testApp, customer, 500);
    await projected(testApp);
    await receivables().recoverFor(customer.userId, 'USD');
    expect(await debitBalance(testApp, owing.receivable)).toBe(700n);
    // The card funding is read again (a replayed webhook): its credit path runs again.
    await services().payments.cards.refresh(funded.funding_id);
    await projected(testApp);
    await Promise.all([
      receivables().sweep(),
      secondInstance().recoverFor(customer.userId, 'USD'),
      receivables().recoverFor(customer.userId, 'USD'),
    ]);
    expect(await debitBalance(testApp, owing.receivable)).toBe(700n);
    expect(await creditBalance(testApp, owing.wallet)).toBe(0n);
    expect(await recovered([creditId(funded.funding_id)], owing.wallet)).toBe(500n);
    await expectLedgerVerifies(testApp);
  });

  it('the customer spends between the decision and the booking: the ledger refuses, it is decided again from what is left', async () => {
    const customer = await createUser(testApp);
    const owing = await owingCustomer(testApp, customer, admin);
    const funded = await fundByCard(testApp, customer, 500);
    await projected(testApp);
    const repo = repository();
    await repo.decide({
      creditTransferId: creditId(funded.funding_id),
      recoveryTransferId: recoveryTransferId(creditId(funded.funding_id)),
      userId: customer.userId,
      currency: 'USD',
      creditCode: 'topup',
      creditMinor: 500n,
      recoveredMinor: 500n,
    });
    // Then (the process stalled) the customer pays $3.00 of it for an order: $2.00 is left.
    const spent = await services().ledger.submit([
      {
        id: `wallet-pay:${owing.orderId}:later`,
        debitAccountId: owing.wallet,
        creditAccountId: orderEscrowId(owing.orderId, 'USD'),
        amountMinor: 300n,
        currency: 'USD',
        code: 'payment_capture',
        flags: {},
        userData: { orderId: owing.orderId },
      },
    ]);
    expect(spent[0]!.result).toBe('ok');
    await receivables().recoverFor(customer.userId, 'USD');
    expect(await creditBalance(testApp, owing.wallet)).toBe(0n);
    expect(await debitBalance(testApp, owing.receivable)).toBe(1_000n);
    expect((await repo.find(creditId(funded.funding_id)))!).toMatchObject({
      status: 'BOOKED',
      recovered_minor: 200n,
    });
    await expectLedgerVerifies(testApp);
  });
});
