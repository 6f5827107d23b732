/**
 * Fault schedules for the card funding money path (issue #28): webhooks repeated, out of order or
 * missing, a webhook racing the payer's return and the verify job, the process dying between the
 * ledger's answer and the funding row, the provider answering 503s or garbage at checkout. After
 * each schedule: every successful card credited exactly its amount once, nothing else credited,
 * the card clearing account equal to what was credited less fees, and the ledger verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, providerClearingId } from '../../ledger/rules/index.js';
import { creditTransfers } from '../../src/modules/payments/card-funding.js';
import {
  MAGIC_CARDS,
  type CardOutageMode,
  type WebhookMode,
} from '../../src/modules/payments/simulators/flutterwave.js';
import type { TestApp } from '../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../helpers/auth.js';
import { key, paymentsTestApp, until } from '../integration/payments/helpers.js';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await paymentsTestApp();
}, 60_000);
afterAll(async () => testApp?.close());

const cards = () => testApp.services.payments.cards;
const simulator = () => testApp.services.payments.cardProvider.simulator!;

interface Opened {
  fundingId: string;
  txRef: string;
  checkoutUrl: string;
  amountMinor: number;
}

async function open(customer: CreatedUser, amountMinor: number, idempotencyKey = key()) {
  return testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/card-fundings',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': idempotencyKey },
    payload: { amountMinor, currency: 'USD' },
  });
}

async function pay(checkoutUrl: string, cardNumber: string): Promise<void> {
  await fetch(checkoutUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cardNumber }),
  });
}

async function row(fundingId: string) {
  return testApp.services.runtime.database.db
    .selectFrom('card_fundings' as never)
    .selectAll()
    .where('funding_id' as never, '=', fundingId as never)
    .executeTakeFirstOrThrow() as Promise<{ status: string; fee_minor: bigint | null }>;
}

async function balance(userId: string): Promise<bigint> {
  const account = await testApp.services.ledger.account(customerWalletId(userId, 'USD'));
  return account === null ? 0n : account.creditsPosted - account.debitsPosted;
}

async function clearingNet(): Promise<bigint> {
  const account = await testApp.services.ledger.account(providerClearingId('flutterwave', 'USD'));
  return account === null ? 0n : account.debitsPosted - account.creditsPosted;
}

/** The invariants after a schedule: each customer holds exactly what their successful cards paid. */
async function expectSound(expected: Map<CreatedUser, bigint>, clearingBefore: bigint, feesMinor: bigint) {
  let credited = 0n;
  for (const [customer, amount] of expected) {
    expect(await balance(customer.userId)).toBe(amount);
    credited += amount;
  }
  expect(await clearingNet()).toBe(clearingBefore + credited - feesMinor);
  const report = await testApp.services.ledger.verify({ projections: false });
  expect(report.ok).toBe(true);
}

describe('card funding under faults', () => {
  const modes: WebhookMode[] = ['duplicate', 'out_of_order', 'none', 'normal'];
  for (const mode of modes) {
    it(`webhooks ${mode}, racing the payer's return and the verify job: each card credited once`, async () => {
      simulator().setWebhookMode(mode);
      const clearingBefore = await clearingNet();
      const customers = await Promise.all([0, 1, 2, 3].map(() => createUser(testApp)));
      const expected = new Map<CreatedUser, bigint>();
      const opened: Opened[] = [];
      for (const [index, customer] of customers.entries()) {
        const response = await open(customer, 1_000 + index * 111);
        expect(response.statusCode).toBe(201);
        opened.push(response.json());
        // The last one is declined: nothing for it.
        expected.set(customer, index === 3 ? 0n : BigInt(1_000 + index * 111));
      }
      await Promise.all(
        opened.map(async (funding, index) => {
          await pay(funding.checkoutUrl, index === 3 ? MAGIC_CARDS.decline : MAGIC_CARDS.succeed);
          // Return page, job and webhook all race for the same funding.
          await Promise.all([
            testApp.app.inject({ method: 'GET', url: `/v1/card-fundings/return?tx_ref=${funding.txRef}` }),
            cards().refresh(funding.fundingId),
            cards().refresh(funding.fundingId),
          ]);
        }),
      );
      await simulator().drainWebhooks();
      const rows = await Promise.all(
        opened.map((funding) =>
          until(
            () => row(funding.fundingId),
            (r) => r.status !== 'PENDING',
          ),
        ),
      );
      expect(rows.map((r) => r.status)).toEqual(['CREDITED', 'CREDITED', 'CREDITED', 'FAILED']);
      const fees = rows.reduce((sum, r) => sum + (r.fee_minor ?? 0n), 0n);
      await expectSound(expected, clearingBefore, fees);
      simulator().setWebhookMode('normal');
    });
  }

  it('webhooks only (no return, no GET): the webhook alone credits', async () => {
    simulator().setWebhookMode('duplicate');
    const customer = await createUser(testApp);
    const funding: Opened = (await open(customer, 2_222)).json();
    await pay(funding.checkoutUrl, MAGIC_CARDS.succeed);
    await simulator().drainWebhooks();
    expect(
      (
        await until(
          () => row(funding.fundingId),
          (r) => r.status !== 'PENDING',
        )
      ).status,
    ).toBe('CREDITED');
    expect(await balance(customer.userId)).toBe(2_222n);
    simulator().setWebhookMode('normal');
  });

  it('the process died after the ledger credited and before the row said so: the next read books nothing twice', async () => {
    simulator().setWebhookMode('none');
    const clearingBefore = await clearingNet();
    const customer = await createUser(testApp);
    const funding: Opened = (await open(customer, 3_000)).json();
    await pay(funding.checkoutUrl, MAGIC_CARDS.succeed);
    // What the dead process had submitted: the same chain, with the fee the provider reports.
    const reported = simulator().transaction(funding.txRef)!;
    const feeMinor = BigInt(Math.round(reported.app_fee * 100));
    const before = await row(funding.fundingId);
    expect(before.status).toBe('PENDING');
    await testApp.services.ledger.submit(
      creditTransfers(
        {
          ...(before as never as Parameters<typeof creditTransfers>[0]),
        },
        feeMinor,
      ),
    );
    expect(await balance(customer.userId)).toBe(3_000n);
    await cards().refresh(funding.fundingId);
    expect((await row(funding.fundingId)).status).toBe('CREDITED');
    await expectSound(new Map([[customer, 3_000n]]), clearingBefore, feeMinor);
    simulator().setWebhookMode('normal');
  });

  const outages: [CardOutageMode, number, string][] = [
    ['http_503', 502, 'card_provider_bad_response'],
    ['garbage', 502, 'card_provider_bad_response'],
  ];
  for (const [mode, status, code] of outages) {
    it(`the provider answers ${mode} at checkout: a problem, no link, and the retry with the same key completes`, async () => {
      const customer = await createUser(testApp);
      const idempotencyKey = key();
      simulator().setOutage(mode);
      const failed = await open(customer, 1_500, idempotencyKey);
      simulator().setOutage('none');
      expect(failed.statusCode).toBe(status);
      expect(failed.json().code).toBe(code);
      const retried = await open(customer, 1_500, idempotencyKey);
      expect(retried.statusCode).toBe(201);
      const funding: Opened = retried.json();
      expect(funding.checkoutUrl).toMatch(/checkout/);
      await pay(funding.checkoutUrl, MAGIC_CARDS.succeed);
      await cards().refresh(funding.fundingId);
      expect(
        (
          await until(
            () => row(funding.fundingId),
            (r) => r.status !== 'PENDING',
          )
        ).status,
      ).toBe('CREDITED');
      expect(await balance(customer.userId)).toBe(1_500n);
    });
  }
});

describe('card funding sweep', () => {
  it('credits a funding paid long after its checkout opened, with no webhook and nobody asking', async () => {
    simulator().setWebhookMode('none');
    const customer = await createUser(testApp);
    const funding: Opened = (await open(customer, 1_750)).json();
    await pay(funding.checkoutUrl, MAGIC_CARDS.succeed);
    // Too young for the sweep: untouched.
    await cards().sweep(new Date());
    expect((await row(funding.fundingId)).status).toBe('PENDING');
    // Eleven minutes later (its early job reads long gone), the sweep finds and credits it.
    const result = await cards().sweep(new Date(Date.now() + 11 * 60_000));
    expect(result.settled).toBeGreaterThanOrEqual(1);
    expect((await row(funding.fundingId)).status).toBe('CREDITED');
    expect(await balance(customer.userId)).toBe(1_750n);
    simulator().setWebhookMode('normal');
  });
});
