/**
 * Money survives crashes and lying providers (issue 15): top-ups whose provider answer was lost,
 * amounts a provider misreports, payouts held at request, payouts the provider cannot account
 * for, and orders placed while no provider can take them. Real app, PostgreSQL, Redis and the
 * provider simulators; a "crash" in-process is an error thrown right after (or before) the real
 * provider call, where the app would have died (the child-process kills are in payout-kill.test.ts
 * and tests/faults/).
 */
import { randomInt } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { driverPayableId, orderEscrowId, providerClearingId, worldId } from '../../../ledger/rules/index.js';
import type { CollectRequest, DisburseRequest } from '../../../src/modules/payments/providers/index.js';
import {
  decidePayment,
  evolvePayment,
  initialPaymentState,
  paymentStream,
  type PaymentEvent,
} from '../../../src/modules/payments/payment-decider.js';
import { MAGIC_NUMBERS } from '../../../src/modules/payments/simulators/index.js';
import { authHeader, createUser, withStepUp, type CreatedUser } from '../../helpers/auth.js';
import { placeOrder, type OrderWorld } from '../orders/helpers.js';
import { key, listeningPaymentsWorld, topUp, until, wallet } from './helpers.js';

let world: OrderWorld;
const restore: (() => void)[] = [];

beforeAll(async () => {
  world = await listeningPaymentsWorld();
});
afterEach(async () => {
  for (const undo of restore.splice(0)) undo();
  const simulators = world.testApp.services.payments.providers.simulators!;
  for (const control of [simulators.campayControlUrl, simulators.mtnControlUrl])
    await fetch(`${control}/outage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'none' }),
    });
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const simulators = () => services().payments.providers.simulators!;
const admin = () => authHeader(world.actors.admin.accessToken);
const db = () => services().db;
/** An MTN number of no magic ending (the last digit is 8). */
const mtnPhone = () => `+237679${String(randomInt(10_000, 99_999))}8`;

/**
 * The process "dies" around the real collect: `after` — the provider took it, its answer is
 * lost; `before` — it never left. The router is the real one; only the return is cut.
 */
function crashCollect(when: 'before' | 'after'): void {
  const router = services().payments.router;
  const collect = router.collect.bind(router);
  router.collect = async (request: CollectRequest) => {
    if (when === 'after') await collect(request);
    throw new Error('simulated crash around the provider call');
  };
  restore.push(() => (router.collect = collect));
}

async function attemptOf(userId: string) {
  return db()
    .selectFrom('payment_attempts')
    .selectAll()
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
}

const collectionsFor = (paymentId: string) =>
  simulators()
    .campay.engine.list()
    .filter(
      (transaction) => transaction.kind === 'collection' && transaction.externalReference === paymentId,
    );

describe('a top-up whose provider answer was lost (crash between the collect and our record)', () => {
  it('the webhook finds the attempt by our reference: credited once', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    crashCollect('after');
    const response = await topUp(world.testApp, customer.accessToken, 2_000, mtnPhone());
    expect(response.statusCode).toBe(500);
    const attempt = await attemptOf(customer.userId);
    expect(attempt).toMatchObject({ status: 'PENDING', provider_reference: null });
    await until(
      () => wallet(world.testApp, customer.accessToken),
      (w) => w.balanceMinor === 2_000,
    );
    await simulators().drainWebhooks();
    const [collection] = collectionsFor(attempt.payment_id);
    expect(await attemptOf(customer.userId)).toMatchObject({
      status: 'SUCCEEDED',
      provider: 'campay',
      provider_reference: collection!.reference,
    });
    await services().payments.payments.sweep(new Date(Date.now() + 3 * 60_000));
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(2_000);
  });

  it('no webhook ever comes (…0004): the sweep finds it by our reference, credited once', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    crashCollect('after');
    expect(
      (await topUp(world.testApp, customer.accessToken, 3_000, MAGIC_NUMBERS.MTN.noWebhook)).statusCode,
    ).toBe(500);
    const attempt = await attemptOf(customer.userId);
    await until(
      async () => collectionsFor(attempt.payment_id)[0]?.status,
      (status) => status === 'SUCCESSFUL',
    );
    const later = new Date(Date.now() + 3 * 60_000);
    expect((await services().payments.payments.sweep(later)).located).toBeGreaterThanOrEqual(1);
    await until(
      () => wallet(world.testApp, customer.accessToken),
      (w) => w.balanceMinor === 3_000,
    );
    await services().payments.payments.sweep(later);
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(3_000);
    expect((await attemptOf(customer.userId)).status).toBe('SUCCEEDED');
  });

  it('a collect that never left: one empty lookup proves nothing; every provider still holding nothing 10 minutes on fails it NOT_SUBMITTED', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    crashCollect('before');
    expect((await topUp(world.testApp, customer.accessToken, 2_500, mtnPhone())).statusCode).toBe(500);
    await services().payments.payments.sweep(new Date(Date.now() + 3 * 60_000));
    expect(await attemptOf(customer.userId)).toMatchObject({ status: 'PENDING', provider_reference: null });
    await services().payments.payments.sweep(new Date(Date.now() + 11 * 60_000));
    expect(await attemptOf(customer.userId)).toMatchObject({
      status: 'FAILED',
      failure_reason: 'NOT_SUBMITTED',
    });
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(0);
  });

  it('a lookup that finds nothing at first (a collection not yet in the statement): the order keeps waiting, a later sweep finds it and the money reaches the order once', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    crashCollect('after');
    const placed = await placeOrder(world, customer.accessToken, {
      items: [{ itemId: world.jusId, quantity: 1 }],
      tipMinor: 0,
      payment: { kind: 'mobile_money', provider: 'MTN', phone: MAGIC_NUMBERS.MTN.noWebhook },
    });
    expect(placed.statusCode, placed.body).toBe(201);
    const orderId = placed.json().id as string;
    const attempt = await attemptOf(customer.userId);
    expect(attempt).toMatchObject({ status: 'PENDING', provider_reference: null });
    await until(
      async () => collectionsFor(attempt.payment_id)[0]?.status,
      (status) => status === 'SUCCESSFUL',
    );
    // A provider stand-in whose search by our reference misses the collection the first time.
    const router = services().payments.router;
    const find = router.findByExternalReference.bind(router);
    let lookups = 0;
    router.findByExternalReference = async (provider, query) => {
      if (query.externalReference !== attempt.payment_id) return find(provider, query);
      lookups += 1;
      return lookups === 1 ? { verdict: 'absent' } : find(provider, query);
    };
    restore.push(() => (router.findByExternalReference = find));
    await services().payments.payments.sweep(new Date(Date.now() + 3 * 60_000));
    expect(lookups).toBeGreaterThanOrEqual(1);
    expect(await attemptOf(customer.userId)).toMatchObject({ status: 'PENDING', provider_reference: null });
    expect((await services().orders.orders.load(orderId)).state.status).toBe('PENDING_PAYMENT');
    await services().payments.payments.sweep(new Date(Date.now() + 4 * 60_000));
    await until(
      async () => (await services().orders.orders.load(orderId)).state.status,
      (status) => status === 'PLACED',
    );
    expect(await attemptOf(customer.userId)).toMatchObject({
      status: 'SUCCEEDED',
      after_expiry: false,
      provider_reference: collectionsFor(attempt.payment_id)[0]!.reference,
    });
    const escrow = await services().ledger.account(orderEscrowId(orderId, 'XAF'));
    expect(escrow!.creditsPosted).toBe(BigInt(placed.json().pricing.totalMinor));
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(0);
  });

  it('a kill after the reference was recorded and before its poll was queued, its webhook lost (…0004): the sweep re-reads it, credited once', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const queue = services().jobs.queue;
    const enqueue = queue.enqueue.bind(queue);
    queue.enqueue = (async (name: string, data: unknown, options?: { jobId?: string }) => {
      if (name === 'payments-poll' && options?.jobId?.startsWith('poll-') === true)
        throw new Error('simulated crash before the poll was queued');
      return enqueue(name, data, options);
    }) as typeof queue.enqueue;
    restore.push(() => (queue.enqueue = enqueue));
    expect(
      (await topUp(world.testApp, customer.accessToken, 2_200, MAGIC_NUMBERS.MTN.noWebhook)).statusCode,
    ).toBe(500);
    queue.enqueue = enqueue;
    const attempt = await attemptOf(customer.userId);
    expect(attempt).toMatchObject({ status: 'PENDING', provider: 'campay' });
    await until(
      async () => collectionsFor(attempt.payment_id)[0]?.status,
      (status) => status === 'SUCCESSFUL',
    );
    const swept = await services().payments.payments.sweep(new Date(Date.now() + 3 * 60_000));
    await until(
      () => wallet(world.testApp, customer.accessToken),
      (w) => w.balanceMinor === 2_200,
    );
    expect(swept.reread).toBeGreaterThanOrEqual(1);
    expect(await attemptOf(customer.userId)).toMatchObject({ status: 'SUCCEEDED', after_expiry: false });
    await services().payments.payments.sweep(new Date(Date.now() + 4 * 60_000));
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(2_200);
  });

  it('a success recorded whose booking died with its process (row still PENDING): the next re-read books it, once', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    crashCollect('after');
    expect(
      (await topUp(world.testApp, customer.accessToken, 2_100, MAGIC_NUMBERS.MTN.noWebhook)).statusCode,
    ).toBe(500);
    const attempt = await attemptOf(customer.userId);
    const collection = await until(
      async () => collectionsFor(attempt.payment_id)[0],
      (found) => found?.status === 'SUCCESSFUL',
    );
    // What the dying process had appended: the reference, then the success; nothing booked, no row written.
    const stream = paymentStream(attempt.payment_id);
    const recorded = await services().eventStore.readStream(stream);
    let state = initialPaymentState();
    for (const event of recorded) state = evolvePayment(state, event as unknown as PaymentEvent);
    const requested = decidePayment(
      {
        type: 'RecordRequest',
        data: {
          provider: 'campay',
          providerReference: collection!.reference,
          ussdCode: null,
          failedOver: [],
          at: new Date().toISOString(),
        },
      },
      state,
    );
    state = requested.reduce(evolvePayment, state);
    const succeeded = decidePayment(
      {
        type: 'ApplyProviderStatus',
        data: { status: 'SUCCESSFUL', amountMinor: 2_100n, operator: 'MTN', at: new Date() },
      },
      state,
    );
    await services().eventStore.append(stream, [...requested, ...succeeded], {
      expectedRevision: recorded.at(-1)!.revision,
    });
    expect(await attemptOf(customer.userId)).toMatchObject({ status: 'PENDING', provider_reference: null });
    await services().payments.payments.refresh(attempt.payment_id);
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(2_100);
    expect(await attemptOf(customer.userId)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await attemptOf(customer.userId)).settled_at).not.toBeNull();
    await services().payments.payments.refresh(attempt.payment_id);
    await services().payments.payments.sweep(new Date(Date.now() + 3 * 60_000));
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(2_100);
  });

  it('a retried top-up whose first request died after the collect locates its collection at once, without waiting for the sweep', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const idempotencyKey = key();
    crashCollect('after');
    expect(
      (await topUp(world.testApp, customer.accessToken, 1_900, MAGIC_NUMBERS.MTN.noWebhook, idempotencyKey))
        .statusCode,
    ).toBe(500);
    for (const undo of restore.splice(0)) undo();
    const attempt = await attemptOf(customer.userId);
    await until(
      async () => collectionsFor(attempt.payment_id)[0]?.status,
      (status) => status === 'SUCCESSFUL',
    );
    const retried = await topUp(
      world.testApp,
      customer.accessToken,
      1_900,
      MAGIC_NUMBERS.MTN.noWebhook,
      idempotencyKey,
    );
    expect(retried.statusCode, retried.body).toBe(202);
    expect(retried.json().payment ?? retried.json()).toMatchObject({ paymentId: attempt.payment_id });
    await until(
      () => wallet(world.testApp, customer.accessToken),
      (w) => w.balanceMinor === 1_900,
    );
    expect(collectionsFor(attempt.payment_id)).toHaveLength(1);
  });

  it('an attempt whose row was never written (killed between the append and the row) is written again by its retry, so the sweep sees it', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const idempotencyKey = key();
    const phone = mtnPhone();
    crashCollect('before');
    expect((await topUp(world.testApp, customer.accessToken, 1_300, phone, idempotencyKey)).statusCode).toBe(
      500,
    );
    for (const undo of restore.splice(0)) undo();
    const { payment_id: paymentId } = await attemptOf(customer.userId);
    await db().deleteFrom('payment_attempts').where('payment_id', '=', paymentId).execute();
    const retried = await topUp(world.testApp, customer.accessToken, 1_300, phone, idempotencyKey);
    expect(retried.statusCode, retried.body).toBe(202);
    expect(await attemptOf(customer.userId)).toMatchObject({
      payment_id: paymentId,
      status: 'PENDING',
      provider_reference: null,
    });
    await services().payments.payments.sweep(new Date(Date.now() + 11 * 60_000));
    expect(await attemptOf(customer.userId)).toMatchObject({
      status: 'FAILED',
      failure_reason: 'NOT_SUBMITTED',
    });
  });

  it("reconciliation names the attempt; resolving credits the payer's wallet, not the world, once", async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const since = new Date(Date.now() - 60_000).toISOString();
    crashCollect('after');
    await topUp(world.testApp, customer.accessToken, 1_700, MAGIC_NUMBERS.MTN.noWebhook);
    const attempt = await attemptOf(customer.userId);
    const collection = await until(
      async () => collectionsFor(attempt.payment_id)[0],
      (found) => found?.status === 'SUCCESSFUL',
    );
    const run = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: admin(),
      payload: { provider: 'campay', from: since, to: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(run.statusCode, run.body).toBe(201);
    const item = (run.json().items as { providerReference: string }[]).find(
      (candidate) => candidate.providerReference === collection!.reference,
    );
    expect(item).toMatchObject({ status: 'MISSING_IN_LEDGER', internalId: attempt.payment_id });
    const itemNo = (item as unknown as { itemNo: number }).itemNo;
    const worldMoves = async () => {
      const account = await services().ledger.account(worldId('XAF'));
      return (account?.creditsPosted ?? 0n) + (account?.debitsPosted ?? 0n);
    };
    const worldBefore = await worldMoves();
    const resolve = () =>
      world.testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/reconciliation/runs/${run.json().runId}/items/${itemNo}/resolve`,
        headers: admin(),
        payload: { reason: 'collection of a crashed top-up' },
      });
    const resolved = await resolve();
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json().resolutionTransferId).toBe(`pay:${attempt.payment_id}:credit`);
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(1_700);
    // Nothing booked against the outside world for it.
    expect(await worldMoves()).toBe(worldBefore);
    expect((await resolve()).statusCode).toBe(409);
    await services().payments.payments.sweep(new Date(Date.now() + 3 * 60_000));
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(1_700);
  });
});

describe('a provider that reports another amount than requested', () => {
  async function lyingTopUp(requested: number, reported: number) {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const since = new Date(Date.now() - 60_000).toISOString();
    const started = await topUp(
      world.testApp,
      customer.accessToken,
      requested,
      MAGIC_NUMBERS.MTN.pendingForever,
    );
    expect(started.statusCode, started.body).toBe(202);
    const reference = (await attemptOf(customer.userId)).provider_reference!;
    const control = `${simulators().campayControlUrl}/transactions/${reference}`;
    const lie = await fetch(`${control}/amount`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amountMinor: reported }),
    });
    expect(lie.status).toBe(200);
    expect((await fetch(`${control}/approve`, { method: 'POST' })).status).toBe(200);
    await until(
      async () => (await attemptOf(customer.userId)).settled_at,
      (settled) => settled !== null,
    );
    const run = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: admin(),
      payload: { provider: 'campay', from: since, to: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(run.statusCode, run.body).toBe(201);
    const item = (run.json().items as { providerReference: string }[]).find(
      (candidate) => candidate.providerReference === reference,
    ) as { status: string; itemNo: number; detail: string } | undefined;
    return { customer, reference, item, runId: run.json().runId as string };
  }

  it('1,000 requested, 100,000 reported: 1,000 credited (and withdrawable), the difference is a reconciliation exception', async () => {
    const { customer, item } = await lyingTopUp(1_000, 100_000);
    const balance = await wallet(world.testApp, customer.accessToken);
    expect(balance.balanceMinor).toBe(1_000);
    expect(balance.availableMinor).toBe(1_000);
    expect(await attemptOf(customer.userId)).toMatchObject({ status: 'SUCCEEDED', received_minor: 100_000n });
    expect(item).toMatchObject({ status: 'AMOUNT_MISMATCH' });
  });

  it("600 reported for 1,000 requested: the provider's status proves 600, 600 is credited and finance sees the gap", async () => {
    const { customer, item, runId } = await lyingTopUp(1_000, 600);
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(600);
    expect(item).toMatchObject({ status: 'AMOUNT_MISMATCH' });
    expect(item!.detail).toContain('for a request of 1000');
    const resolved = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/reconciliation/runs/${runId}/items/${item!.itemNo}/resolve`,
      headers: admin(),
      payload: { reason: 'payer told; the provider collected 600' },
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json().resolutionTransferId).toBeNull(); // the clearing account already agrees
  });
});

describe('payouts hold the money at request time', () => {
  async function driverWith(amountMinor: bigint): Promise<CreatedUser> {
    const driver = await createUser(world.testApp, { roles: ['driver'], phone: mtnPhone() });
    const outcomes = await services().ledger.submit([
      {
        id: `test:float:${driver.userId}`,
        debitAccountId: providerClearingId('campay', 'XAF'),
        creditAccountId: worldId('XAF'),
        amountMinor: amountMinor * 2n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
      {
        id: `test:earnings:${driver.userId}`,
        debitAccountId: worldId('XAF'),
        creditAccountId: driverPayableId(driver.userId, 'XAF'),
        amountMinor,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
    ]);
    expect(outcomes.map((outcome) => outcome.result)).toEqual(['ok', 'ok']);
    return driver;
  }

  const request = (driver: CreatedUser, amountMinor: number) =>
    world.testApp.app.inject({
      method: 'POST',
      url: '/v1/payouts',
      headers: { ...authHeader(driver.accessToken), 'idempotency-key': key() },
      payload: { payeeKind: 'driver', amountMinor },
    });

  it('five parallel requests for the whole balance: exactly one is created and held, four are 422 insufficient_funds at once', async () => {
    const driver = await driverWith(10_000n);
    const answers = await Promise.all(Array.from({ length: 5 }, () => request(driver, 10_000)));
    expect(answers.map((answer) => answer.statusCode).sort()).toEqual([201, 422, 422, 422, 422]);
    const refused = answers.filter((answer) => answer.statusCode === 422);
    for (const answer of refused) {
      expect(answer.headers['content-type']).toContain('application/problem+json');
      expect(answer.json()).toMatchObject({ code: 'insufficient_funds', availableMinor: 0 });
    }
    const payable = (await services().ledger.account(driverPayableId(driver.userId, 'XAF')))!;
    expect(payable.debitsPending).toBe(10_000n);
    expect(payable.availableMinor).toBe(0n);
    const rows = await db()
      .selectFrom('payouts')
      .select('status')
      .where('payee_id', '=', driver.userId)
      .execute();
    expect(rows).toEqual([{ status: 'REQUESTED' }]);
    expect((await request(driver, 500)).statusCode).toBe(422);
  });

  it('a rejected request releases its hold (audited); a second rejection is 409', async () => {
    const driver = await driverWith(4_000n);
    const requested = await request(driver, 3_000);
    expect(requested.statusCode, requested.body).toBe(201);
    const reject = () =>
      world.testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/payouts/${requested.json().payoutId}/reject`,
        headers: admin(),
        payload: { reason: 'bank details under review' },
      });
    const rejected = await reject();
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json().status).toBe('REJECTED');
    const payable = (await services().ledger.account(driverPayableId(driver.userId, 'XAF')))!;
    expect(payable.debitsPending).toBe(0n);
    expect(payable.availableMinor).toBe(4_000n);
    expect((await reject()).statusCode).toBe(409);
    expect((await request(driver, 4_000)).statusCode).toBe(201);
  });

  it('a provider holding two disbursements under one payout: the job stops in NEEDS_REVIEW, sends nothing more, and finance settles it (step-up, audited)', async () => {
    const driver = await driverWith(6_000n);
    const requested = await request(driver, 6_000);
    const payoutId = requested.json().payoutId as string;
    const control = simulators().campayControlUrl;
    const setDeduplication = (enabled: boolean) =>
      fetch(`${control}/deduplication`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ enabled }),
      });
    await setDeduplication(false);
    restore.push(() => void setDeduplication(true));
    // The answer is lost after the request went out twice (a retrying proxy, a provider that does not deduplicate).
    const adapter = services().payments.router.provider('campay');
    const disburse = adapter.disburse.bind(adapter);
    adapter.disburse = async (disbursement: DisburseRequest) => {
      await disburse(disbursement);
      await disburse(disbursement);
      throw new Error('simulated crash after the provider took the payout');
    };
    restore.push(() => (adapter.disburse = disburse));
    const approved = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/payouts/${payoutId}/approve`,
      headers: authHeader(await withStepUp(world.testApp, world.actors.admin)),
    });
    expect(approved.statusCode, approved.body).toBe(200);
    const sent = () =>
      simulators()
        .campay.engine.list()
        .filter(
          (transaction) => transaction.kind === 'disbursement' && transaction.externalReference === payoutId,
        );
    await until(
      () => services().payments.payouts.get(payoutId),
      (row) => row?.status === 'NEEDS_REVIEW',
      30_000,
    );
    expect(sent()).toHaveLength(2);
    expect((await services().payments.payouts.get(payoutId))!.review_reason).toContain(
      'DUPLICATE_AT_PROVIDER',
    );
    await services().payments.payouts.process(payoutId); // nothing more is sent
    expect(sent()).toHaveLength(2);
    const noStepUp = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/payouts/${payoutId}/resolve`,
      headers: admin(),
      payload: { outcome: 'sent', reason: 'paid twice; the second is being recovered' },
    });
    expect(noStepUp.statusCode).toBe(403);
    const resolved = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/payouts/${payoutId}/resolve`,
      headers: authHeader(await withStepUp(world.testApp, world.actors.admin)),
      payload: { outcome: 'sent', reason: 'paid twice; the second is being recovered' },
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json().status).toBe('SUCCEEDED');
    const payable = (await services().ledger.account(driverPayableId(driver.userId, 'XAF')))!;
    expect(payable.debitsPosted).toBe(6_000n);
    expect(payable.debitsPending).toBe(0n);
  });
});

describe('Mobile Money orders: operator checked, outages answered', () => {
  const juice = () => ({ items: [{ itemId: world.jusId, quantity: 1 }], tipMinor: 0 });

  async function ordersOf(customer: CreatedUser) {
    return db()
      .selectFrom('orders_view')
      .select(['order_id', 'status'])
      .where('customer_id', '=', customer.userId)
      .execute();
  }

  it('an MTN number sent as ORANGE is 422 operator_mismatch and creates no order', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const placed = await placeOrder(world, customer.accessToken, {
      ...juice(),
      payment: { kind: 'mobile_money', provider: 'ORANGE', phone: mtnPhone() },
    });
    expect(placed.statusCode, placed.body).toBe(422);
    expect(placed.json()).toMatchObject({ code: 'operator_mismatch', operator: 'MTN' });
    expect(await ordersOf(customer)).toEqual([]);
  });

  it('no provider reachable: 503 with Retry-After naming the order, which is PAYMENT_FAILED at once', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    for (const control of [simulators().campayControlUrl, simulators().mtnControlUrl])
      await fetch(`${control}/outage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'error' }),
      });
    const placed = await placeOrder(world, customer.accessToken, {
      ...juice(),
      payment: { kind: 'mobile_money', provider: 'MTN', phone: mtnPhone() },
    });
    expect(placed.statusCode, placed.body).toBe(503);
    expect(placed.headers['retry-after']).toBe('30');
    expect(placed.json()).toMatchObject({
      code: 'payment_provider_unavailable',
      orderStatus: 'PAYMENT_FAILED',
    });
    const orderId = placed.json().orderId as string;
    const order = await services().orders.orders.load(orderId);
    expect(order.state.status).toBe('PAYMENT_FAILED');
  });

  it('a provider answering garbage: 502 payment_provider_bad_response, the order failed', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fetch(`${simulators().campayControlUrl}/outage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'garbage' }),
    });
    const placed = await placeOrder(world, customer.accessToken, {
      ...juice(),
      payment: {
        kind: 'mobile_money',
        provider: 'ORANGE',
        phone: `+237699${String(randomInt(10_000, 99_999))}8`,
      },
    });
    expect(placed.statusCode, placed.body).toBe(502);
    expect(placed.json().code).toBe('payment_provider_bad_response');
    expect((await services().orders.orders.load(placed.json().orderId as string)).state.status).toBe(
      'PAYMENT_FAILED',
    );
  });
});
