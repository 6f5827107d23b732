/**
 * A collect or a payout that times out at CamPay may have been taken there: it must never be
 * sent to MTN MoMo as well (the payer charged twice, the payee paid twice). The router keeps it
 * with CamPay; our reference finds it there later, and it is counted exactly once. Found when
 * the router still failed over on timeouts (docs/faults.md).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, providerClearingId, worldId } from '../../../ledger/rules/index.js';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { key, paymentsTestApp, topUp, until, wallet } from './helpers.js';

/** Our adapters give up after this; CamPay answers after HOLD_MS, having taken the request. */
const TIMEOUT_MS = 800;
const HOLD_MS = 2_500;

let testApp: TestApp;
const services = () => testApp.services;
const simulators = () => services().payments.providers.simulators!;

async function holdCampayAnswers(ms: number): Promise<void> {
  const response = await fetch(`${simulators().campayControlUrl}/answer-delay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ms }),
  });
  expect(response.status).toBe(200);
}

function movedAt(simulator: 'campay' | 'mtn', kind: 'collection' | 'disbursement', reference: string) {
  const engine = simulators()[simulator].engine;
  return engine
    .list()
    .filter((transaction) => transaction.kind === kind && transaction.externalReference === reference);
}

beforeAll(async () => {
  // Job workers off: each test runs the sweep, polls and the payout job itself.
  testApp = await paymentsTestApp({
    PAYMENT_PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
    JOB_WORKERS_ENABLED: 'false',
  });
});
afterEach(async () => holdCampayAnswers(0));
afterAll(async () => testApp?.close());

describe('a money movement timing out at CamPay is never sent to MTN MoMo', () => {
  it('a collect: 503 with Retry-After, MTN never receives it, and the CamPay success is credited exactly once', async () => {
    const user = await createUser(testApp, { roles: ['customer'] });
    const mtnRequests = simulators().mtn.state.counters.apiRequests;
    await holdCampayAnswers(HOLD_MS);
    const response = await topUp(testApp, user.accessToken, 3_000, '+237670123987');
    expect(response.statusCode, response.body).toBe(503);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['retry-after']).toBe('30');
    expect(response.json()).toMatchObject({
      code: 'payment_provider_unavailable',
      providerCode: 'TIMEOUT',
    });
    const paymentId = response.json().paymentId as string;
    // CamPay took it (and settles it), MTN MoMo heard nothing.
    const atCampay = await until(
      async () => movedAt('campay', 'collection', paymentId),
      (found) => found.length === 1 && found[0]!.status === 'SUCCESSFUL',
    );
    expect(movedAt('mtn', 'collection', paymentId)).toEqual([]);
    expect(simulators().mtn.state.counters.apiRequests).toBe(mtnRequests);

    // CamPay's webhook (and, without it, the late poll by our reference) finds it there and books it.
    const payments = services().payments.payments;
    await payments.poll(paymentId, 1);
    await until(
      () => wallet(testApp, user.accessToken),
      (w) => w.balanceMinor === 3_000,
    );
    const row = await services()
      .db.selectFrom('payment_attempts')
      .select(['provider', 'provider_reference', 'status'])
      .where('payment_id', '=', paymentId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      provider: 'campay',
      provider_reference: atCampay[0]!.reference,
      status: 'SUCCEEDED',
    });
    // Everything that may look at it again finds nothing more to credit.
    await payments.sweep(new Date(Date.now() + 5 * 60_000));
    await payments.poll(paymentId, 1);
    await payments.settle(paymentId);
    expect((await wallet(testApp, user.accessToken)).balanceMinor).toBe(3_000);
    expect(movedAt('campay', 'collection', paymentId)).toHaveLength(1);
    expect(movedAt('mtn', 'collection', paymentId)).toEqual([]);
  });

  it('a payout: the timed-out withdrawal is found at CamPay by our reference, paid once, and MTN never receives a transfer', async () => {
    const [float] = await services().ledger.submit([
      {
        id: `no-double:float:${key()}`,
        debitAccountId: providerClearingId('campay', 'XAF'),
        creditAccountId: worldId('XAF'),
        amountMinor: 1_000_000n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
    ]);
    expect(float!.result).toBe('ok');
    const customer = await createUser(testApp, { roles: ['customer'], phone: '+237670055987' });
    const [funded] = await services().ledger.submit([
      {
        id: `no-double:fund:${customer.userId}`,
        debitAccountId: worldId('XAF'),
        creditAccountId: customerWalletId(customer.userId, 'XAF'),
        amountMinor: 5_000n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
    ]);
    expect(funded!.result).toBe('ok');
    const requested = await testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/withdrawals',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { amountMinor: 3_000 },
    });
    expect(requested.statusCode, requested.body).toBe(201);
    const payoutId = requested.json().payoutId as string;
    const mtnRequests = simulators().mtn.state.counters.apiRequests;

    await holdCampayAnswers(HOLD_MS);
    const payouts = services().payments.payouts;
    // The withdrawal times out: the job gives up for now, and nothing goes to MTN MoMo.
    await payouts.process(payoutId).catch(() => undefined);
    await until(
      async () => movedAt('campay', 'disbursement', payoutId),
      (found) => found.length === 1 && found[0]!.status === 'SUCCESSFUL',
    );
    expect((await payouts.get(payoutId))!.status).not.toBe('SUCCEEDED');
    await holdCampayAnswers(0);

    // The next run asks CamPay by our reference before any resend, and adopts what it finds.
    await until(
      async () => {
        await payouts.process(payoutId).catch(() => undefined);
        return payouts.get(payoutId);
      },
      (row) => row?.status === 'SUCCEEDED',
    );
    await payouts.process(payoutId);
    expect(movedAt('campay', 'disbursement', payoutId)).toHaveLength(1);
    expect(movedAt('mtn', 'disbursement', payoutId)).toEqual([]);
    expect(simulators().mtn.state.counters.apiRequests).toBe(mtnRequests);
    const debited = (await services().ledger.account(customerWalletId(customer.userId, 'XAF')))!;
    expect(debited.debitsPosted).toBe(3_000n);
    expect(debited.debitsPending).toBe(0n);
  });
});
