/**
 * A customer's receivable recovered from later credits (issue #28), against the Flutterwave
 * simulator, the app's routes and the real ledger: a chargeback leaves $12.00 owed; a refund of an
 * order paid before it is not taken; a $5.00 card funding gives back $5.00, a $20.00 one $7.00 and
 * leaves $13.00; the statement files them under `recoveries`; finance reads it; the wallets stay
 * under review; the ledger verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recoveryTransferId } from '../../../src/modules/payments/receivable-recovery.js';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { expectLedgerVerifies } from '../../helpers/ledger.js';
import { paymentsTestApp } from './helpers.js';
import {
  creditBalance,
  debitBalance,
  fundByCard,
  owingCustomer,
  projected,
  refundEarlierOrder,
} from './receivable-helpers.js';

let testApp: TestApp;
let admin: CreatedUser;

beforeAll(async () => {
  testApp = await paymentsTestApp();
  admin = await createUser(testApp, { roles: ['admin'] });
}, 60_000);
afterAll(async () => testApp?.close());

const receivables = () => testApp.services.payments.receivables;

describe('receivable recovery', () => {
  it('takes min(credit, owed) from each later top-up, never a refund of an earlier order; statement, admin read, audit', async () => {
    const customer = await createUser(testApp);
    const owing = await owingCustomer(testApp, customer, admin);

    // The order paid before the chargeback is refunded: the customer is owed it whatever they owe us.
    const refundId = await refundEarlierOrder(testApp, owing);
    await projected(testApp);
    expect((await receivables().sweep()).booked).toBe(0);
    expect(await creditBalance(testApp, owing.wallet)).toBe(300n);
    expect(await debitBalance(testApp, owing.receivable)).toBe(1_200n);

    // $5.00 by card: all of it goes to the debt ($7.00 left).
    const five = await fundByCard(testApp, customer, 500);
    await projected(testApp);
    // (The app's own every-minute schedule may run it first: the balances are what count.)
    expect((await receivables().sweep()).errors).toBe(0);
    expect(await debitBalance(testApp, owing.receivable)).toBe(700n);
    expect(await creditBalance(testApp, owing.wallet)).toBe(300n);

    // $20.00 by card: $7.00 of it, the rest ($13.00) stays with the customer, beside the refund.
    const twenty = await fundByCard(testApp, customer, 2_000);
    await projected(testApp);
    await receivables().recoverFor(customer.userId, 'USD');
    expect(await debitBalance(testApp, owing.receivable)).toBe(0n);
    expect(await creditBalance(testApp, owing.wallet)).toBe(300n + 1_300n);

    // Nothing owed: the next run takes nothing, and a replay of the same credit books nothing twice.
    await projected(testApp);
    expect((await receivables().sweep()).booked).toBe(0);
    expect((await receivables().recoverFor(customer.userId, 'USD')).booked).toBe(0);
    expect(await creditBalance(testApp, owing.wallet)).toBe(1_600n);

    // The statement shows both recoveries under their own category, the refund under refunds.
    await projected(testApp);
    const statement = await testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet/transactions?currency=USD&category=recoveries',
      headers: authHeader(customer.accessToken),
    });
    expect(statement.statusCode, statement.body).toBe(200);
    const items = statement.json().items as { transferId: string; category: string; amountMinor: number }[];
    expect(items.map((item) => [item.transferId, item.amountMinor])).toEqual([
      [recoveryTransferId(`card:${twenty.funding_id}:credit`), 700],
      [recoveryTransferId(`card:${five.funding_id}:credit`), 500],
    ]);
    const refunds = await testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet/transactions?currency=USD&category=refunds',
      headers: authHeader(customer.accessToken),
    });
    expect(refunds.json().items.map((item: { transferId: string }) => item.transferId)).toEqual([refundId]);

    // Recovered in full, the wallets stay under review (XAF still frozen: an admin decides).
    const xaf = await testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet?currency=XAF',
      headers: authHeader(customer.accessToken),
    });
    expect(xaf.json().status).toBe('frozen');

    // Finance reads it: the customer's recoveries and what they owe, and the list of receivables.
    const one = await testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/receivables/${customer.userId}`,
      headers: authHeader(admin.accessToken),
    });
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json().owed).toEqual({ USD: 0, XAF: 0 });
    expect(
      one
        .json()
        .recoveries.map((r: { recoveredMinor: number; owedAfterMinor: number; status: string }) => [
          r.recoveredMinor,
          r.owedAfterMinor,
          r.status,
        ]),
    ).toEqual([
      [700, 0, 'BOOKED'],
      [500, 700, 'BOOKED'],
    ]);
    let found: { owedMinor: number; recoveredMinor: number; recoveries: number } | undefined;
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<TestApp['app']['inject']>> = await testApp.app.inject({
        method: 'GET',
        url: `/v1/admin/receivables?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
        headers: authHeader(admin.accessToken),
      });
      expect(page.statusCode, page.body).toBe(200);
      found ??= page.json().items.find((item: { userId: string }) => item.userId === customer.userId);
      cursor = page.json().nextCursor;
    } while (cursor !== null && found === undefined);
    expect(found).toMatchObject({ owedMinor: 0, recoveredMinor: 1_200, recoveries: 2 });

    // Audited: each recovery, and finance's reads.
    const audits = await testApp.services.runtime.database.db
      .selectFrom('audit_logs' as never)
      .select(['action' as never])
      .where('subject_user_id' as never, '=', customer.userId as never)
      .where('action' as never, 'in', ['wallet.receivable_recovered', 'finance.receivable_viewed'] as never)
      .execute();
    expect(audits.map((row) => (row as { action: string }).action).sort()).toEqual([
      'finance.receivable_viewed',
      'wallet.receivable_recovered',
      'wallet.receivable_recovered',
    ]);
    await expectLedgerVerifies(testApp);
  });

  it('refuses anyone but a finance admin, and a forged cursor', async () => {
    const customer = await createUser(testApp);
    for (const url of ['/v1/admin/receivables', `/v1/admin/receivables/${customer.userId}`]) {
      const denied = await testApp.app.inject({
        method: 'GET',
        url,
        headers: authHeader(customer.accessToken),
      });
      expect(denied.statusCode).toBe(403);
      expect(denied.headers['content-type']).toContain('application/problem+json');
    }
    const forged = await testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/receivables?cursor=bm90LWEtY3Vyc29y',
      headers: authHeader(admin.accessToken),
    });
    expect(forged.statusCode).toBe(400);
    expect(forged.json().code).toBe('invalid_cursor');
  });

  it('is off when RECEIVABLE_RECOVERY is false: the debt is left to finance', async () => {
    const off = await paymentsTestApp({ RECEIVABLE_RECOVERY: 'false' });
    try {
      const offAdmin = await createUser(off, { roles: ['admin'] });
      const customer = await createUser(off);
      const owing = await owingCustomer(off, customer, offAdmin);
      await fundByCard(off, customer, 500);
      await projected(off);
      expect(await off.services.payments.receivables.sweep()).toMatchObject({ customers: 0, booked: 0 });
      expect(await debitBalance(off, owing.receivable)).toBe(1_200n);
      expect(await creditBalance(off, owing.wallet)).toBe(500n);
    } finally {
      await off.close();
    }
  });
});
