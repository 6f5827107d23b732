/**
 * Card fundings in reconciliation (issue #28): a run for `flutterwave` compares Flutterwave's
 * transactions list (paged) with our card fundings and what the ledger booked on the clearing
 * account of their currency (USD, or EUR for a EUR funding); an exception is resolved with a
 * corrective transfer in that currency, once. Starting a run is audited, once per Idempotency-Key.
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

async function fund(
  customer: CreatedUser,
  amountMinor: number,
  card: string | null,
  currency: 'USD' | 'EUR' = 'USD',
) {
  const opened = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/card-fundings',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
    payload: { amountMinor, currency },
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

/** Starts a Flutterwave run from `since` to a minute from now and reads its items (one page of 100). */
async function runSince(since: string): Promise<{ runId: string; items: unknown[] }> {
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
  return { runId, items: all.json().items as unknown[] };
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

    const { runId, items: listed } = await runSince(since);
    type Item = {
      itemNo: number;
      status: string;
      kind: string;
      providerReference: string;
      providerAmountMinor: number | null;
      ledgerAmountMinor: number | null;
    };
    const items = new Map((listed as Item[]).map((item) => [item.providerReference, item]));
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

  it('a EUR funding is matched on the EUR clearing; one Flutterwave later restates is AMOUNT_MISMATCH, resolved in EUR once; one paid short is STATUS_MISMATCH; every currency balances', async () => {
    simulator().setWebhookMode('none');
    const since = new Date(Date.now() - 1_000).toISOString();
    const customers = await Promise.all([0, 1, 2].map(() => createUser(world.testApp)));
    const matched = await fund(customers[0]!, 2_500, MAGIC_CARDS.succeed, 'EUR');
    const restated = await fund(customers[1]!, 2_000, MAGIC_CARDS.succeed, 'EUR');
    const short = await fund(customers[2]!, 1_800, MAGIC_CARDS.short, 'EUR');
    const rows = [];
    for (const funding of [matched, restated, short])
      rows.push(
        await until(
          async () => (await cards().refresh(funding.fundingId))!,
          (row) => row.status !== 'PENDING',
        ),
      );
    expect(rows.map((row) => [row.currency, row.status])).toEqual([
      ['EUR', 'CREDITED'],
      ['EUR', 'CREDITED'],
      ['EUR', 'REVIEW'],
    ]);
    // Credited at €20.00, Flutterwave's records now say €19.00.
    simulator().restate(restated.txRef, 1_900n);
    simulator().setWebhookMode('normal');
    await world.testApp.services.projections.waitUntilCaughtUp('ledger', 10_000);

    const { runId, items: listed } = await runSince(since);
    type Item = {
      itemNo: number;
      status: string;
      internalId: string | null;
      providerAmountMinor: number | null;
      ledgerAmountMinor: number | null;
      providerStatus: string | null;
      internalStatus: string | null;
    };
    const items = new Map(
      (listed as (Item & { providerReference: string })[]).map((item) => [item.providerReference, item]),
    );
    // The amounts are EUR cents on both sides: what the EUR clearing booked, not the francs credited.
    expect(items.get(matched.txRef)).toMatchObject({
      status: 'MATCHED',
      internalId: matched.fundingId,
      providerAmountMinor: 2_500,
      ledgerAmountMinor: 2_500,
    });
    expect(items.get(restated.txRef)).toMatchObject({
      status: 'AMOUNT_MISMATCH',
      internalId: restated.fundingId,
      providerAmountMinor: 1_900,
      ledgerAmountMinor: 2_000,
    });
    expect(items.get(short.txRef)).toMatchObject({
      status: 'STATUS_MISMATCH',
      providerAmountMinor: 900,
      ledgerAmountMinor: null,
      providerStatus: 'SUCCESSFUL',
      internalStatus: 'FAILED',
    });

    // Resolving the restated one moves €1.00 out of the EUR clearing (to what Flutterwave says), once; USD untouched.
    const eurClearing = providerClearingId('flutterwave', 'EUR');
    const usdClearing = providerClearingId('flutterwave', 'USD');
    const eurBefore = (await world.testApp.services.ledger.account(eurClearing))!;
    const usdBefore = await world.testApp.services.ledger.account(usdClearing);
    const resolve = () =>
      world.testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/reconciliation/runs/${runId}/items/${items.get(restated.txRef)!.itemNo}/resolve`,
        headers: admin(),
        payload: { reason: 'Flutterwave adjusted the capture; agreed with their support' },
      });
    const resolved = await resolve();
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json()).toMatchObject({
      status: 'AMOUNT_MISMATCH',
      resolutionTransferId: `recon:${runId}:${items.get(restated.txRef)!.itemNo}`,
    });
    expect((await resolve()).statusCode).toBe(409);
    const eurAfter = (await world.testApp.services.ledger.account(eurClearing))!;
    expect(eurAfter.creditsPosted - eurBefore.creditsPosted).toBe(100n);
    expect(eurAfter.debitsPosted).toBe(eurBefore.debitsPosted);
    const usdAfter = await world.testApp.services.ledger.account(usdClearing);
    expect(usdAfter?.creditsPosted).toBe(usdBefore?.creditsPosted);
    expect(usdAfter?.debitsPosted).toBe(usdBefore?.debitsPosted);

    const report = await world.testApp.services.ledger.verify({ projections: false });
    expect(report.ok, JSON.stringify(report.mismatches)).toBe(true);
    for (const currency of ['XAF', 'USD', 'EUR'] as const) {
      const line = report.trialBalance[currency];
      expect(line.debitsPosted, currency).toBe(line.creditsPosted);
    }
  });

  it('starting a run is audited once: the actor, provider, period and run id; a retry with the same Idempotency-Key replays it with no second run or audit line', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const to = new Date(Date.now() + 60_000).toISOString();
    const idempotencyKey = key();
    const start = (headers: Record<string, string>) =>
      world.testApp.app.inject({
        method: 'POST',
        url: '/v1/admin/reconciliation/runs',
        headers,
        payload: { provider: 'flutterwave', from, to },
      });
    const first = await start({ ...admin(), 'idempotency-key': idempotencyKey });
    expect(first.statusCode, first.body).toBe(201);
    const runId = first.json().runId as string;
    expect(first.headers.location).toBe(`/v1/admin/reconciliation/runs/${runId}`);
    const again = await start({ ...admin(), 'idempotency-key': idempotencyKey });
    expect(again.statusCode, again.body).toBe(201);
    expect(again.json().runId).toBe(runId);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers.location).toBe(`/v1/admin/reconciliation/runs/${runId}`);
    // The same key with another period is a conflict: nothing started.
    const reused = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: { ...admin(), 'idempotency-key': idempotencyKey },
      payload: { provider: 'flutterwave', from, to: new Date(Date.now() + 120_000).toISOString() },
    });
    expect(reused.statusCode, reused.body).toBe(409);
    expect(reused.json().code).toBe('idempotency_key_reused');

    const audits = () =>
      world.testApp.services.db
        .selectFrom('audit_logs')
        .select(['actor_kind', 'actor_id', 'resource', 'new_value'])
        .where('action', '=', 'reconciliation.run_started')
        .where('actor_id', '=', world.actors.admin.userId)
        .orderBy('id')
        .execute();
    const mine = (await audits()).filter((row) => row.resource === `reconciliation:${runId}`);
    expect(mine).toEqual([
      {
        actor_kind: 'user',
        actor_id: world.actors.admin.userId,
        resource: `reconciliation:${runId}`,
        new_value: { runId, provider: 'flutterwave', periodFrom: from, periodTo: to },
      },
    ]);
    const runs = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/reconciliation/runs?provider=flutterwave&limit=100',
      headers: admin(),
    });
    const started = (runs.json().items as { runId: string; from: string; to: string }[]).filter(
      (run) => run.from === from && run.to === to,
    );
    expect(started.map((run) => run.runId)).toEqual([runId]);

    // Another key (or none) is another run, with its own line.
    const other = await start(admin());
    expect(other.statusCode, other.body).toBe(201);
    expect(other.json().runId).not.toBe(runId);
    const lines = (await audits()).map((row) => row.resource);
    expect(lines.filter((resource) => resource === `reconciliation:${runId}`)).toHaveLength(1);
    expect(lines.filter((resource) => resource === `reconciliation:${other.json().runId}`)).toHaveLength(1);
  });

  it('a run refused for its period writes no run and no audit line', async () => {
    const count = async () =>
      (
        await world.testApp.services.db
          .selectFrom('audit_logs')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('action', '=', 'reconciliation.run_started')
          .executeTakeFirstOrThrow()
      ).n;
    const before = await count();
    const refused = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: admin(),
      payload: {
        provider: 'flutterwave',
        from: new Date(Date.now() - 40 * 86_400_000).toISOString(),
        to: new Date().toISOString(),
      },
    });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(await count()).toBe(before);
  });
});
