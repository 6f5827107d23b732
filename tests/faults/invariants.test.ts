/**
 * The invariant checker catches each violation it exists for: on a sound state it reports
 * nothing, then one defect at a time is injected (a second credit for one collection, a payout
 * disbursed twice, a collection never credited, a key stuck in progress, an order's escrow
 * drained, an escrow holding money for no order, a negative wallet, a tampered ledger event) and
 * each must be reported with its subject. A checker that cannot fail would prove nothing.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerWalletId,
  orderEscrowId,
  providerClearingId,
  worldId,
  type Account,
} from '../../ledger/rules/index.js';
import type { RunningSimulators } from '../../src/modules/payments/simulators/index.js';
import { authHeader } from '../helpers/auth.js';
import { placeOrder, type OrderWorld } from '../integration/orders/helpers.js';
import { key, listeningPaymentsWorld, until } from '../integration/payments/helpers.js';
import { invariantSource } from './harness/source.js';
import { checkInvariants, negativeBalances, settledInvariants, type Violation } from './invariants.js';

let world: OrderWorld;
let source: ReturnType<typeof invariantSource>;
let topUpPaymentId: string;
let orderId: string;

const services = () => world.testApp.services;
const simulators = (): RunningSimulators => services().payments.providers.simulators!;

async function submit(id: string, debitAccountId: string, creditAccountId: string, amountMinor: bigint) {
  const [outcome] = await services().ledger.submit([
    { id, debitAccountId, creditAccountId, amountMinor, currency: 'XAF', code: 'adjustment', flags: {} },
  ]);
  expect(outcome!.result).toBe('ok');
}

function simulatedTransaction(kind: 'collection' | 'disbursement', externalReference: string) {
  return simulators().campay.engine.create({
    reference: randomUUID(),
    kind,
    phone: '237670012348',
    operator: 'MTN',
    amount: 1_000n,
    currency: 'XAF',
    externalReference,
    description: 'injected by the checker test',
    code: 'CP-TEST',
    behaviour: 'succeed',
  });
}

const found = (violations: Violation[], invariant: Violation['invariant'], subject: string) =>
  violations.filter((violation) => violation.invariant === invariant && violation.subject.includes(subject));

beforeAll(async () => {
  world = await listeningPaymentsWorld();
  const config = services().runtime.config;
  source = invariantSource({
    databaseUrl: world.testApp.database.url,
    encryptionKey: config.ENCRYPTION_KEY,
    simulators: simulators(),
    leaseMs: 3_000,
  });
  const { customer } = world.actors;
  await submit('checker:wallet', worldId('XAF'), customerWalletId(customer.userId, 'XAF'), 20_000n);
  const topUp = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/topups',
    headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
    payload: { amountMinor: 2_000, phone: '+237670012348' },
  });
  expect(topUp.statusCode, topUp.body).toBe(202);
  topUpPaymentId = topUp.json().payment.paymentId as string;
  await until(
    () => services().payments.payments.view(topUpPaymentId),
    (view) => view?.status === 'SUCCEEDED',
  );
  const placed = await placeOrder(world, customer.accessToken);
  expect(placed.json().status, placed.body).toBe('PLACED');
  orderId = placed.json().id as string;
}, 60_000);
afterAll(async () => {
  await source?.close();
  await world?.testApp.close();
});

describe('the invariant checker', () => {
  it('reports nothing on a sound state (a top-up credited, a wallet order in escrow)', async () => {
    expect(await settledInvariants(source, 15_000)).toEqual([]);
  });

  it('catches a collection credited twice', async () => {
    await submit(
      `pay:${topUpPaymentId}:capture`,
      providerClearingId('campay', 'XAF'),
      worldId('XAF'),
      2_000n,
    );
    const violations = found(await checkInvariants(source), 'collection_credited_once', topUpPaymentId);
    expect(violations.map((violation) => violation.detail)).toEqual(['credited 2 times']);
  });

  it('catches a payout disbursed twice at the provider', async () => {
    const payoutId = randomUUID();
    simulatedTransaction('disbursement', payoutId);
    simulatedTransaction('disbursement', payoutId);
    const violations = found(await checkInvariants(source), 'payout_sent_at_most_once', payoutId);
    expect(violations.map((violation) => violation.detail)).toContain('disbursed 2 times at the provider');
  });

  it('catches a collection the provider made and we never credited', async () => {
    const paymentId = randomUUID();
    simulatedTransaction('collection', paymentId);
    const violations = await until(
      async () => found(await checkInvariants(source), 'collection_credited_once', paymentId),
      (list) => list.length > 0,
    );
    expect(violations[0]!.detail).toBe('collected at the provider, never credited');
  });

  it('catches an idempotency key left in progress after its lease', async () => {
    const stuck = key();
    await sql`INSERT INTO idempotency_keys (scope, key, request_hash, created_at, expires_at)
              VALUES ('topup:checker', ${stuck}, 'hash', now() - interval '1 hour', now() + interval '1 day')`.execute(
      source.db,
    );
    await sql`UPDATE idempotency_keys SET lease_expires_at = now() - interval '1 hour' WHERE key = ${stuck}`
      .execute(source.db)
      .catch(() => undefined); // no lease column before leases existed: created_at + lease counts
    expect(found(await checkInvariants(source), 'idempotency_key_stuck', stuck)).toHaveLength(1);
  });

  it('catches a paid order whose escrow does not hold its total, and an escrow holding money for no order', async () => {
    await submit('checker:drain', orderEscrowId(orderId, 'XAF'), worldId('XAF'), 1_000n);
    const drained = found(await checkInvariants(source), 'order_escrow', orderId);
    expect(drained.map((violation) => violation.detail)).toEqual([
      expect.stringMatching(/^PLACED with \d+ in escrow for a total of \d+$/),
    ]);
    const nowhere = randomUUID();
    await submit('checker:stranded', worldId('XAF'), orderEscrowId(nowhere, 'XAF'), 500n);
    expect(found(await checkInvariants(source), 'order_escrow', nowhere)[0]!.detail).toBe(
      'escrow holds 500 for an order that does not exist',
    );
  });

  it('catches a negative wallet (the ledger refuses one, so the account is made up)', () => {
    const wallet: Account = {
      id: customerWalletId(randomUUID(), 'XAF'),
      currency: 'XAF',
      kind: 'liability',
      flags: { debitsMustNotExceedCredits: true, creditsMustNotExceedDebits: false },
      debitsPending: 100n,
      debitsPosted: 1_000n,
      creditsPending: 0n,
      creditsPosted: 1_050n,
    };
    expect(negativeBalances([wallet]).map((violation) => violation.detail)).toEqual(['available -50']);
  });

  it('catches a tampered ledger event (ledger verify)', async () => {
    // One amount of the top-up's credit changed inside its stored batch: the hash chain breaks.
    const tampered = await sql`
      UPDATE eventstore_events
         SET data = jsonb_set(data, '{batch}', to_jsonb(regexp_replace(data->>'batch', '("amountMinor":"?)2000', '\\12001')))
       WHERE stream_id = 'ledger-main' AND data->>'batch' LIKE ${`%pay:${topUpPaymentId}:credit%`}`.execute(
      source.db,
    );
    expect(Number(tampered.numAffectedRows)).toBe(1);
    const violations = (await checkInvariants(source)).filter(
      (violation) => violation.invariant === 'ledger_verify',
    );
    expect(violations.length).toBeGreaterThan(0);
  });
});
