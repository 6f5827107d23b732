/**
 * A payout or withdrawal request whose answer was lost (the process died after the payout was
 * written and held, before the answer was stored; or it failed with a 5xx there) is retried with
 * the same Idempotency-Key once the key's lease ended: the retry must answer the same payout, not
 * make a second one (a withdrawal sent twice) nor refuse with 422 because the first holds the
 * balance. Found by the fault suite (PostgreSQL connections cut during payout requests).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerWalletId,
  driverPayableId,
  providerClearingId,
  worldId,
} from '../../../ledger/rules/index.js';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { key, paymentsTestApp } from './helpers.js';

let testApp: TestApp;

beforeAll(async () => {
  testApp = await paymentsTestApp({ JOB_WORKERS_ENABLED: 'false' });
  const outcomes = await testApp.services.ledger.submit([
    {
      id: 'retry:float',
      debitAccountId: providerClearingId('campay', 'XAF'),
      creditAccountId: worldId('XAF'),
      amountMinor: 1_000_000n,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  expect(outcomes[0]!.result).toBe('ok');
});
afterAll(async () => testApp?.close());

async function fund(accountId: string, amountMinor: bigint): Promise<void> {
  const [outcome] = await testApp.services.ledger.submit([
    {
      id: `retry:${accountId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: accountId,
      amountMinor,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  expect(outcome!.result).toBe('ok');
}

/** The state a crash between the work and the stored answer leaves: no answer, the lease over. */
async function loseAnswer(idempotencyKey: string): Promise<void> {
  const lost = await sql`UPDATE idempotency_keys SET status_code = NULL, response_body = NULL,
                                lease_expires_at = now() - interval '1 second'
                          WHERE key = ${idempotencyKey}`.execute(testApp.services.db);
  expect(Number(lost.numAffectedRows)).toBe(1);
}

async function send(
  user: CreatedUser,
  url: string,
  payload: Record<string, unknown>,
  idempotencyKey: string,
) {
  return testApp.app.inject({
    method: 'POST',
    url,
    headers: { ...authHeader(user.accessToken), 'idempotency-key': idempotencyKey },
    payload,
  });
}

async function payoutsOf(payeeId: string) {
  return testApp.services.db
    .selectFrom('payouts')
    .select(['payout_id', 'amount_minor'])
    .where('payee_id', '=', payeeId)
    .execute();
}

describe('a payout request retried after its answer was lost', () => {
  it('a withdrawal: the retry answers the same payout, one hold, nothing sent twice', async () => {
    const customer = await createUser(testApp, { roles: ['customer'], phone: '+237670055518' });
    await fund(customerWalletId(customer.userId, 'XAF'), 5_000n);
    const idempotencyKey = key();
    const first = await send(customer, '/v1/wallet/withdrawals', { amountMinor: 3_000 }, idempotencyKey);
    expect(first.statusCode, first.body).toBe(201);
    await loseAnswer(idempotencyKey);
    const retry = await send(customer, '/v1/wallet/withdrawals', { amountMinor: 3_000 }, idempotencyKey);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.json().payoutId).toBe(first.json().payoutId);
    expect(await payoutsOf(customer.userId)).toHaveLength(1);
    const wallet = await testApp.services.ledger.account(customerWalletId(customer.userId, 'XAF'));
    expect(wallet!.debitsPending + wallet!.debitsPosted).toBe(3_000n);
  });

  it("a driver's payout: the retry answers the same payout instead of 422 insufficient_funds", async () => {
    const driver = await createUser(testApp, { roles: ['driver'], phone: '+237670055528' });
    await fund(driverPayableId(driver.userId, 'XAF'), 4_000n);
    const idempotencyKey = key();
    const body = { payeeKind: 'driver', amountMinor: 4_000 };
    const first = await send(driver, '/v1/payouts', body, idempotencyKey);
    expect(first.statusCode, first.body).toBe(201);
    await loseAnswer(idempotencyKey);
    const retry = await send(driver, '/v1/payouts', body, idempotencyKey);
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.json().payoutId).toBe(first.json().payoutId);
    expect(await payoutsOf(driver.userId)).toHaveLength(1);
  });
});
