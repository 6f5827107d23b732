/**
 * Shared by the receivable recovery tests (integration and faults): a customer a card chargeback
 * left owing, through the real routes, the Flutterwave simulator and the real ledger.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { customerReceivableId, customerWalletId, orderEscrowId } from '../../../ledger/rules/index.js';
import type { CardFundingRow } from '../../../src/modules/payments/card-funding-repository.js';
import { MAGIC_CARDS } from '../../../src/modules/payments/simulators/flutterwave.js';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, type CreatedUser } from '../../helpers/auth.js';
import { key, until } from './helpers.js';

/** A card pays `amountMinor` US cents into the customer's own USD wallet through the hosted page. */
export async function fundByCard(
  testApp: TestApp,
  customer: CreatedUser,
  amountMinor: number,
): Promise<CardFundingRow> {
  const opened = await testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/card-fundings',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
    payload: { amountMinor, currency: 'USD' },
  });
  expect(opened.statusCode, opened.body).toBe(201);
  const funding = opened.json() as { fundingId: string; checkoutUrl: string };
  await fetch(funding.checkoutUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cardNumber: MAGIC_CARDS.succeed }),
  });
  const row = await until(
    async () => (await testApp.services.payments.cards.refresh(funding.fundingId))!,
    (found) => found.status !== 'PENDING',
  );
  expect(row.status).toBe('CREDITED');
  return row;
}

/** Credit-normal balance (wallets). */
export async function creditBalance(testApp: TestApp, accountId: string): Promise<bigint> {
  const account = await testApp.services.ledger.account(accountId);
  return account === null ? 0n : account.creditsPosted - account.debitsPosted;
}

/** Debit-normal balance (receivables). */
export async function debitBalance(testApp: TestApp, accountId: string): Promise<bigint> {
  const account = await testApp.services.ledger.account(accountId);
  return account === null ? 0n : account.debitsPosted - account.creditsPosted;
}

export interface OwingCustomer {
  customer: CreatedUser;
  wallet: string;
  receivable: string;
  /** The order the customer paid from the USD wallet before the chargeback. */
  orderId: string;
}

/**
 * A customer funds $20.00 by card, converts $9.00 to XAF and pays a $3.00 order from the USD wallet
 * (its escrow), then the bank takes the $20.00 back: the wallet gives its $8.00, the customer owes
 * $12.00 and their wallets go under review. A finance admin then unfreezes the USD wallet (the
 * only way new money can land on it while the debt stands).
 */
export async function owingCustomer(
  testApp: TestApp,
  customer: CreatedUser,
  admin: CreatedUser,
): Promise<OwingCustomer> {
  const funded = await fundByCard(testApp, customer, 2_000);
  const quote = await testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/fx/quotes',
    headers: authHeader(customer.accessToken),
    payload: { fromCurrency: 'USD', toCurrency: 'XAF', amountMinor: 900 },
  });
  expect(quote.statusCode, quote.body).toBe(201);
  const converted = await testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/fx/conversions',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
    payload: { quoteId: quote.json().quoteId },
  });
  expect(converted.statusCode, converted.body).toBe(200);
  // An order paid from the USD wallet before the chargeback (held in its escrow).
  const orderId = randomUUID();
  const wallet = customerWalletId(customer.userId, 'USD');
  const paid = await testApp.services.ledger.submit([
    {
      id: `wallet-pay:${orderId}:food`,
      debitAccountId: wallet,
      creditAccountId: orderEscrowId(orderId, 'USD'),
      amountMinor: 300n,
      currency: 'USD',
      code: 'payment_capture',
      flags: {},
      userData: { orderId, category: 'food' },
    },
  ]);
  expect(paid[0]!.result).toBe('ok');
  expect(await creditBalance(testApp, wallet)).toBe(800n);

  const simulator = testApp.services.payments.cardProvider.simulator!;
  simulator.raiseChargeback(funded.tx_ref, { status: 'lost' });
  await simulator.drainWebhooks();
  await until(
    () => testApp.services.payments.cardReversals.list(funded.funding_id),
    (items) => items.length === 1 && items[0]!.status === 'BOOKED',
    20_000,
  );
  const receivable = customerReceivableId(customer.userId, 'USD');
  expect(await creditBalance(testApp, wallet)).toBe(0n);
  expect(await debitBalance(testApp, receivable)).toBe(1_200n);

  const unfrozen = await testApp.app.inject({
    method: 'POST',
    url: `/v1/admin/wallets/${customer.userId}/freeze`,
    headers: authHeader(admin.accessToken),
    payload: { frozen: false, reason: 'reviewed: the customer is who they say', currency: 'USD' },
  });
  expect(unfrozen.statusCode, unfrozen.body).toBe(200);
  return { customer, wallet, receivable, orderId };
}

/** The order paid before the chargeback is refunded to the wallet (code `refund`, as escrow refunds are). */
export async function refundEarlierOrder(testApp: TestApp, owing: OwingCustomer): Promise<string> {
  const id = `refund:${owing.orderId}:test`;
  const outcome = await testApp.services.ledger.submit([
    {
      id,
      debitAccountId: orderEscrowId(owing.orderId, 'USD'),
      creditAccountId: owing.wallet,
      amountMinor: 300n,
      currency: 'USD',
      code: 'refund',
      flags: {},
      userData: { orderId: owing.orderId, category: 'refunds' },
    },
  ]);
  expect(outcome[0]!.result).toBe('ok');
  return id;
}

/** The ledger's read model has applied everything (the recovery reads new credits from it). */
export async function projected(testApp: TestApp): Promise<void> {
  await testApp.services.projections.waitUntilCaughtUp('ledger', 20_000);
}
