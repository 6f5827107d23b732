/**
 * Card fundings in reconciliation (issue #28): a run for `flutterwave` compares Flutterwave's
 * transactions list (paged) with our card fundings and what the ledger booked on its USD clearing
 * account; an exception is resolved with a corrective USD transfer, once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { providerClearingId } from '../../../ledger/rules/index.js';
import {
  FLUTTERWAVE_SIMULATOR_CREDENTIALS,
  MAGIC_CARDS,
} from '../../../src/modules/payments/simulators/flutterwave.js';
import { authHeader, createUser, withStepUp, type CreatedUser } from '../../helpers/auth.js';
import type { OrderWorld } from '../orders/helpers.js';
import { key, listeningPaymentsWorld, until } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await listeningPaymentsWorld();
}, 60_000);
afterAll(async () => world?.testApp.close());

const admin = () => authHeader(world.actors.admin.accessToken);
const simulator = () => world.testApp.services.payments.cardProvider.simulator!;
const cards = () => world.testApp.services.payments.cards;

async function fund(customer: CreatedUser, amountMinor: number, card: string | null) {
  const opened = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/card-fundings',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
    payload: { amountMinor, currency: 'USD' },
  });
  expect(opened.statusCode, opened.body).toBe(201);
  const funding = opened.json() as { fundingId: string; txRef: string; checkoutUrl: string };
  if (card !== null)
    await fetch(funding.checkoutUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cardNumber: card }),
    });
  return funding;
}

describe('card fundings in reconciliation', () => {
  it('matches credited and declined fundings, flags a review and a stray payment, and resolves the stray in USD once', async () => {
    simulator().setWebhookMode('none');
    const since = new Date(Date.now() - 60_000).toISOString();
    const customers = await Promise.all([0, 1, 2, 3].map(() => createUser(world.testApp)));
    const credited = await fund(customers[0]!, 1_200, MAGIC_CARDS.succeed);
    const declined = await fund(customers[1]!, 1_300, MAGIC_CARDS.decline);
    const short = await fund(customers[2]!, 1_400, MAGIC_CARDS.short);
    const unpaid = await fund(customers[3]!, 1_500, null);
    for (const funding of [credited, declined, short])
      await until(
        async () => (await cards().refresh(funding.fundingId))!.status,
        (status) => status !== 'PENDING',
      );
    // Twelve more credited fundings, so that the provider's list spans pages (10 a page).
    for (let index = 0; index < 12; index += 1) {
      const funding = await fund(customers[0]!, 100 + index, MAGIC_CARDS.succeed);
      await cards().refresh(funding.fundingId);
    }
    // A payment at Flutterwave carrying one of our prefixes that no funding of ours recorded.
    const stray = await fetch(`${simulator().url}/v3/payments`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${FLUTTERWAVE_SIMULATOR_CREDENTIALS.secretKey}`,
      },
      body: JSON.stringify({
        tx_ref: 'cf-stray-dashboard-payment',
        amount: 7,
        currency: 'USD',
        customer: { email: 'x@example.test' },
      }),
    });
    const strayLink = ((await stray.json()) as { data: { link: string } }).data.link;
    await fetch(strayLink, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cardNumber: MAGIC_CARDS.succeed }),
    });
    await world.testApp.services.projections.waitUntilCaughtUp('ledger', 10_000);

    const run = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: admin(),
      payload: { provider: 'flutterwave', from: since, to: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(run.statusCode, run.body).toBe(201);
    const body = run.json() as {
      runId: string;
      counts: Record<string, number>;
      items: { itemNo: number; status: string; providerReference: string; providerAmountMinor: number }[];
    };
    expect(body.counts.MATCHED).toBe(14); // 13 credited, 1 declined
    expect(body.counts.EXPECTED).toBe(1); // opened, never paid
    const exceptions = new Map(body.items.map((item) => [item.providerReference, item]));
    expect(exceptions.get(short.txRef)?.status).toBe('STATUS_MISMATCH'); // paid, held for review, not credited
    expect(exceptions.get('cf-stray-dashboard-payment')).toMatchObject({
      status: 'MISSING_IN_LEDGER',
      providerAmountMinor: 700,
    });
    expect(exceptions.has(unpaid.txRef)).toBe(false);

    const clearing = providerClearingId('flutterwave', 'USD');
    const before = (await world.testApp.services.ledger.account(clearing))!;
    const itemNo = exceptions.get('cf-stray-dashboard-payment')!.itemNo;
    const resolve = () =>
      world.testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/reconciliation/runs/${body.runId}/items/${itemNo}/resolve`,
        headers: admin(),
        payload: { reason: 'paid on the dashboard by support, refunded by hand' },
      });
    const resolved = await resolve();
    expect(resolved.statusCode, resolved.body).toBe(200);
    const after = (await world.testApp.services.ledger.account(clearing))!;
    expect(after.debitsPosted - before.debitsPosted).toBe(700n);
    expect((await resolve()).statusCode).toBe(409);
    const report = await world.testApp.services.ledger.verify({ projections: false });
    expect(report.ok).toBe(true);
    simulator().setWebhookMode('normal');
  });

  it("lists refunds and chargebacks beside fundings: ours matched by the provider's id, one refunded outside our flow missing in the ledger and resolved once, EUR ones on the EUR clearing", async () => {
    const since = new Date(Date.now() - 1_000).toISOString();
    const steppedUp = await withStepUp(world.testApp, world.actors.admin);
    const customer = await createUser(world.testApp);
    const usd = await fund(customer, 2_000, MAGIC_CARDS.succeed);
    const usdRow = await until(
      async () => (await cards().refresh(usd.fundingId))!,
      (found) => found.status === 'CREDITED',
    );
    // Finance refunds $5.00 through our flow.
    const refunded = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/card-fundings/${usd.fundingId}/refunds`,
      headers: { ...authHeader(steppedUp), 'idempotency-key': key() },
      payload: { amountMinor: 500, reason: 'the funder asked' },
    });
    expect(refunded.statusCode, refunded.body).toBe(200);
    const refundId = refunded.json().providerReference as string;
    // The bank takes $10.00 back; another dispute is won by us; a third is still open.
    const lost = simulator().raiseChargeback(usd.txRef, { status: 'lost', amountMinor: 1_000n });
    const won = simulator().raiseChargeback(usd.txRef, { status: 'won', amountMinor: 300n });
    const open = simulator().raiseChargeback(usd.txRef, { status: 'pending', amountMinor: 200n });
    await simulator().drainWebhooks();
    await world.testApp.services.payments.cardReversals.syncChargebacks(usdRow);
    // Someone refunds $2.00 on Flutterwave's dashboard: no record of ours.
    const stray = await world.testApp.services.payments.cardProvider.provider!.refund(
      usdRow.provider_transaction_id!,
      200n,
      'USD',
    );
    // A EUR funding and its accepted €4.00 chargeback.
    const eurOpened = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/card-fundings',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { amountMinor: 1_000, currency: 'EUR' },
    });
    expect(eurOpened.statusCode, eurOpened.body).toBe(201);
    const eur = eurOpened.json() as { fundingId: string; txRef: string; checkoutUrl: string };
    await fetch(eur.checkoutUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ cardNumber: MAGIC_CARDS.succeed }),
    });
    const eurRow = await until(
      async () => (await cards().refresh(eur.fundingId))!,
      (found) => found.status === 'CREDITED',
    );
    const eurChargeback = simulator().raiseChargeback(eur.txRef, { status: 'accepted', amountMinor: 400n });
    await simulator().drainWebhooks();
    await world.testApp.services.payments.cardReversals.syncChargebacks(eurRow);
    await world.testApp.services.projections.waitUntilCaughtUp('ledger', 10_000);

    const run = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: admin(),
      payload: { provider: 'flutterwave', from: since, to: new Date(Date.now() + 60_000).toISOString() },
    });
    expect(run.statusCode, run.body).toBe(201);
    const runId = run.json().runId as string;
    const all = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/reconciliation/runs/${runId}?limit=100`,
      headers: admin(),
    });
    expect(all.statusCode, all.body).toBe(200);
    type Item = {
      itemNo: number;
      status: string;
      kind: string;
      providerReference: string;
      providerAmountMinor: number | null;
      ledgerAmountMinor: number | null;
    };
    const items = new Map((all.json().items as Item[]).map((item) => [item.providerReference, item]));
    expect(items.get(usd.txRef)?.status).toBe('MATCHED');
    expect(items.get(eur.txRef)?.status).toBe('MATCHED');
    expect(items.get(`refund:${refundId}`)).toMatchObject({
      status: 'MATCHED',
      kind: 'disbursement',
      providerAmountMinor: 500,
      ledgerAmountMinor: 500,
    });
    expect(items.get(`chargeback:${lost.id}`)).toMatchObject({ status: 'MATCHED', ledgerAmountMinor: 1_000 });
    expect(items.get(`chargeback:${won.id}`)).toMatchObject({ status: 'MATCHED', ledgerAmountMinor: null });
    expect(items.get(`chargeback:${open.id}`)?.status).toBe('EXPECTED');
    expect(items.get(`chargeback:${eurChargeback.id}`)).toMatchObject({
      status: 'MATCHED',
      providerAmountMinor: 400,
      ledgerAmountMinor: 400,
    });
    const missing = items.get(`refund:${stray.id}`)!;
    expect(missing).toMatchObject({
      status: 'MISSING_IN_LEDGER',
      kind: 'disbursement',
      providerAmountMinor: 200,
    });
    // Every refund or chargeback line is one of the six above (the window may also hold the previous test's fundings).
    expect([...items.keys()].filter((reference) => /^(refund|chargeback):/.test(reference)).sort()).toEqual(
      [
        `refund:${refundId}`,
        `refund:${stray.id}`,
        `chargeback:${lost.id}`,
        `chargeback:${won.id}`,
        `chargeback:${open.id}`,
        `chargeback:${eurChargeback.id}`,
      ].sort(),
    );

    // Resolving it books the $2.00 out of the USD clearing once (the provider paid it from there).
    const clearing = providerClearingId('flutterwave', 'USD');
    const before = (await world.testApp.services.ledger.account(clearing))!;
    const resolve = () =>
      world.testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/reconciliation/runs/${runId}/items/${missing.itemNo}/resolve`,
        headers: admin(),
        payload: { reason: 'refunded on the dashboard by support' },
      });
    expect((await resolve()).statusCode).toBe(200);
    expect((await resolve()).statusCode).toBe(409);
    const after = (await world.testApp.services.ledger.account(clearing))!;
    expect(after.creditsPosted - before.creditsPosted).toBe(200n);
    expect((await world.testApp.services.ledger.verify({ projections: false })).ok).toBe(true);
  });

  it('the provider down during a run: the run fails with a problem and books nothing', async () => {
    simulator().setOutage('http_503');
    try {
      const run = await world.testApp.app.inject({
        method: 'POST',
        url: '/v1/admin/reconciliation/runs',
        headers: admin(),
        payload: {
          provider: 'flutterwave',
          from: new Date(Date.now() - 60_000).toISOString(),
          to: new Date().toISOString(),
        },
      });
      expect(run.statusCode).toBe(502);
      expect(run.json().code).toBe('card_provider_bad_response');
    } finally {
      simulator().setOutage('none');
    }
  });

  it('only finance admins may run it', async () => {
    const customer = await createUser(world.testApp);
    const run = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: authHeader(customer.accessToken),
      payload: {
        provider: 'flutterwave',
        from: new Date(Date.now() - 60_000).toISOString(),
        to: new Date().toISOString(),
      },
    });
    expect(run.statusCode).toBe(403);
  });
});
