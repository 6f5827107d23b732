import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, providerClearingId } from '../../../ledger/rules/index.js';
import {
  CHALLENGE_OTP,
  FLUTTERWAVE_SIMULATOR_CREDENTIALS,
  MAGIC_CARDS,
} from '../../../src/modules/payments/simulators/flutterwave.js';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { key, paymentsTestApp, until } from './helpers.js';

/**
 * Card funding against the Flutterwave simulator, the real PostgreSQL ledger and the app's
 * webhook route: what lands in a wallet is what the provider's verify endpoint confirms, once.
 */
let testApp: TestApp;

beforeAll(async () => {
  testApp = await paymentsTestApp();
}, 60_000);
afterAll(async () => testApp?.close());

const simulator = () => testApp.services.payments.cardProvider.simulator!;

async function fund(token: string, body: Record<string, unknown>, idempotencyKey = key()) {
  return testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/card-fundings',
    headers: { ...authHeader(token), 'idempotency-key': idempotencyKey },
    payload: body,
  });
}

/** The payer on the hosted page: posts the card number (the app never sees it). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the simulator's JSON, read loosely
async function pay(checkoutUrl: string, cardNumber: string): Promise<any> {
  const response = await fetch(checkoutUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ cardNumber }),
  });
  return response.json();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the API's JSON, read loosely
async function funding(token: string, fundingId: string): Promise<any> {
  const response = await testApp.app.inject({
    method: 'GET',
    url: `/v1/wallet/card-fundings/${fundingId}`,
    headers: authHeader(token),
  });
  return response.json();
}

async function usdCredits(userId: string): Promise<bigint> {
  const account = await testApp.services.ledger.account(customerWalletId(userId, 'USD'));
  return account === null ? 0n : account.creditsPosted - account.debitsPosted;
}

const settled = (token: string, fundingId: string) =>
  until(
    () => funding(token, fundingId),
    (view) => view.status !== 'PENDING',
    20_000,
  );

describe('card funding of a USD wallet (Flutterwave simulator)', () => {
  it('funds your own wallet through the hosted page; the webhook is verified and credits exactly once', async () => {
    const customer = await createUser(testApp);
    const idempotencyKey = key();
    const created = await fund(customer.accessToken, { amountMinor: 2_500, currency: 'USD' }, idempotencyKey);
    expect(created.statusCode).toBe(201);
    const body = created.json();
    expect(body).toMatchObject({ status: 'PENDING', role: 'self', amountMinor: 2_500, currency: 'USD' });
    expect(body.checkoutUrl).toMatch(/\/checkout\/cf-/);
    // A retried request answers the same funding (no second checkout, no second charge).
    const again = await fund(customer.accessToken, { amountMinor: 2_500, currency: 'USD' }, idempotencyKey);
    expect(again.json().fundingId).toBe(body.fundingId);

    expect((await pay(body.checkoutUrl, MAGIC_CARDS.succeed)).data.status).toBe('successful');
    const view = await settled(customer.accessToken, body.fundingId);
    expect(view.status).toBe('CREDITED');
    expect(await usdCredits(customer.userId)).toBe(2_500n);
    const clearing = await testApp.services.ledger.account(providerClearingId('flutterwave', 'USD'));
    expect(clearing!.debitsPosted - clearing!.creditsPosted).toBeGreaterThan(0n);
    const wallet = await testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet?currency=USD',
      headers: authHeader(customer.accessToken),
    });
    expect(wallet.json()).toMatchObject({ currency: 'USD', balanceMinor: 2_500 });
    // The provider's webhook may come again: nothing moves twice.
    await simulator().drainWebhooks();
    await testApp.services.payments.cards.refresh(body.fundingId);
    expect(await usdCredits(customer.userId)).toBe(2_500n);
  });

  it('a 3-D Secure challenge pays with the right code and fails with a wrong one', async () => {
    const customer = await createUser(testApp);
    const first = (await fund(customer.accessToken, { amountMinor: 1_000, currency: 'USD' })).json();
    const challenged = await pay(first.checkoutUrl, MAGIC_CARDS.challenge);
    expect(challenged.data.auth_mode).toBe('3DS');
    // Nothing is credited while the challenge is open.
    expect((await funding(customer.accessToken, first.fundingId)).status).toBe('PENDING');
    await fetch(challenged.data.challenge, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ otp: CHALLENGE_OTP }),
    });
    expect((await settled(customer.accessToken, first.fundingId)).status).toBe('CREDITED');

    const second = (await fund(customer.accessToken, { amountMinor: 700, currency: 'USD' })).json();
    const challenge = (await pay(second.checkoutUrl, MAGIC_CARDS.challenge)).data.challenge;
    await fetch(challenge, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ otp: '00000' }),
    });
    const failed = await settled(customer.accessToken, second.fundingId);
    expect(failed).toMatchObject({ status: 'FAILED', failureReason: '3DS authentication failed' });
    expect(await usdCredits(customer.userId)).toBe(1_000n);
  });

  it('a declined card credits nothing', async () => {
    const customer = await createUser(testApp);
    const created = (await fund(customer.accessToken, { amountMinor: 900, currency: 'USD' })).json();
    await pay(created.checkoutUrl, MAGIC_CARDS.decline);
    expect(await settled(customer.accessToken, created.fundingId)).toMatchObject({
      status: 'FAILED',
      failureReason: 'Insufficient funds',
    });
    expect(await usdCredits(customer.userId)).toBe(0n);
  });

  it('a provider reporting another amount or currency than requested credits nothing and holds the funding for review', async () => {
    const customer = await createUser(testApp);
    const short = (await fund(customer.accessToken, { amountMinor: 4_000, currency: 'USD' })).json();
    await pay(short.checkoutUrl, MAGIC_CARDS.short);
    expect(await settled(customer.accessToken, short.fundingId)).toMatchObject({
      status: 'REVIEW',
      failureReason: 'AMOUNT_MISMATCH',
    });
    const other = (await fund(customer.accessToken, { amountMinor: 4_000, currency: 'USD' })).json();
    await pay(other.checkoutUrl, MAGIC_CARDS.otherCurrency);
    expect(await settled(customer.accessToken, other.fundingId)).toMatchObject({
      status: 'REVIEW',
      failureReason: 'CURRENCY_MISMATCH',
    });
    expect(await usdCredits(customer.userId)).toBe(0n);
  });

  it('funds a relative by phone only once they consented; a refusal stands; the funder’s wallet is untouched', async () => {
    const funder = await createUser(testApp);
    const relative = await createUser(testApp);
    const asked = await fund(funder.accessToken, {
      amountMinor: 3_000,
      currency: 'USD',
      recipientPhone: relative.phone,
    });
    expect(asked.statusCode).toBe(409);
    expect(asked.json().code).toBe('recipient_consent_required');
    const list = await testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet/funders',
      headers: authHeader(relative.accessToken),
    });
    expect(list.json().items).toEqual([
      expect.objectContaining({ funderUserId: funder.userId, status: 'requested' }),
    ]);
    expect(list.json().items[0].funderPhone).not.toBe(funder.phone);
    const accepted = await testApp.app.inject({
      method: 'PUT',
      url: `/v1/wallet/funders/${funder.userId}`,
      headers: authHeader(relative.accessToken),
      payload: { allow: true },
    });
    expect(accepted.json()).toEqual({ funderUserId: funder.userId, status: 'granted' });

    const created = await fund(funder.accessToken, {
      amountMinor: 3_000,
      currency: 'USD',
      recipientPhone: relative.phone,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().role).toBe('funder');
    await pay(created.json().checkoutUrl, MAGIC_CARDS.succeed);
    expect((await settled(funder.accessToken, created.json().fundingId)).status).toBe('CREDITED');
    expect(await usdCredits(relative.userId)).toBe(3_000n);
    expect(await usdCredits(funder.userId)).toBe(0n);
    // The recipient sees it (without the payment link); a stranger does not.
    const seen = await funding(relative.accessToken, created.json().fundingId);
    expect(seen).toMatchObject({ role: 'recipient', checkoutUrl: null, status: 'CREDITED' });
    const stranger = await createUser(testApp);
    const hidden = await testApp.app.inject({
      method: 'GET',
      url: `/v1/wallet/card-fundings/${created.json().fundingId}`,
      headers: authHeader(stranger.accessToken),
    });
    expect(hidden.statusCode).toBe(404);

    const other = await createUser(testApp);
    expect(
      (await fund(other.accessToken, { amountMinor: 100, currency: 'USD', recipientPhone: relative.phone }))
        .statusCode,
    ).toBe(409);
    await testApp.app.inject({
      method: 'PUT',
      url: `/v1/wallet/funders/${other.userId}`,
      headers: authHeader(relative.accessToken),
      payload: { allow: false },
    });
    const refused = await fund(other.accessToken, {
      amountMinor: 100,
      currency: 'USD',
      recipientPhone: relative.phone,
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('funding_refused_by_recipient');
  });

  it('refuses bad input with a problem and records nothing', async () => {
    const customer = await createUser(testApp);
    const cases: [Record<string, unknown>, number, string][] = [
      [{ amountMinor: 1_000, currency: 'GBP' }, 400, 'validation_failed'],
      [{ amountMinor: 50, currency: 'USD' }, 400, 'validation_failed'],
      [{ amountMinor: 1_000, currency: 'USD', extra: 1 }, 400, 'validation_failed'],
      [{ amountMinor: 60_000, currency: 'USD' }, 422, 'card_funding_limit_exceeded'],
      [
        { amountMinor: 1_000, currency: 'USD', recipientPhone: '+237699999999' },
        422,
        'funding_recipient_unknown',
      ],
    ];
    for (const [body, status, code] of cases) {
      const response = await fund(customer.accessToken, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      if (status !== 400) expect(response.json().code).toBe(code);
    }
    const noKey = await testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/card-fundings',
      headers: authHeader(customer.accessToken),
      payload: { amountMinor: 1_000, currency: 'USD' },
    });
    expect(noKey.statusCode).toBe(400);
    const list = await testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet/card-fundings',
      headers: authHeader(customer.accessToken),
    });
    expect(list.json().items).toEqual([]);
  });

  it('enforces the daily limit per funder', async () => {
    const customer = await createUser(testApp);
    for (let index = 0; index < 2; index += 1)
      expect((await fund(customer.accessToken, { amountMinor: 50_000, currency: 'USD' })).statusCode).toBe(
        201,
      );
    const over = await fund(customer.accessToken, { amountMinor: 100, currency: 'USD' });
    expect(over.statusCode).toBe(422);
    expect(over.json()).toMatchObject({ code: 'card_funding_limit_exceeded', limit: 'funder_daily' });
  });

  it('a webhook without the verif-hash is 401 and changes nothing', async () => {
    const customer = await createUser(testApp);
    const created = (await fund(customer.accessToken, { amountMinor: 1_200, currency: 'USD' })).json();
    const forged = await testApp.app.inject({
      method: 'POST',
      url: '/v1/webhooks/flutterwave',
      headers: { 'verif-hash': 'not-the-secret' },
      payload: {
        event: 'charge.completed',
        data: { id: 1, tx_ref: created.txRef, status: 'successful', amount: 12, currency: 'USD' },
      },
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json().code).toBe('webhook_signature_invalid');
    // Authentic but lying about a transaction the provider never completed: verified, so nothing.
    const lying = await testApp.app.inject({
      method: 'POST',
      url: '/v1/webhooks/flutterwave',
      headers: { 'verif-hash': FLUTTERWAVE_SIMULATOR_CREDENTIALS.webhookHash },
      payload: {
        event: 'charge.completed',
        data: { id: 1, tx_ref: created.txRef, status: 'successful', amount: 12, currency: 'USD' },
      },
    });
    expect(lying.json()).toEqual({ received: true, applied: false });
    expect((await funding(customer.accessToken, created.fundingId)).status).toBe('PENDING');
    expect(await usdCredits(customer.userId)).toBe(0n);
  });

  it('keeps the ledger verifiable', async () => {
    const report = await testApp.services.ledger.verify({ projections: false });
    expect(report.ok).toBe(true);
  });
});
