/**
 * Fault schedules for withdrawal holds (issue #23, docs/admin.md "Withdrawal holds"): the payout
 * job dying between holding a payout back (FAILED, `PAYOUT_HELD`) and voiding its ledger hold, or
 * after the void before its answer, with the hold released before the retry (the dangerous order:
 * a retry must never send a payout whose ledger hold is gone); holds placed and released while
 * several workers process the same payouts at once.
 *
 * After each schedule: every payout is SUCCEEDED and sent exactly once with its amount posted, or
 * held back and sent never with its money back in the payee's balance (nothing pending); the
 * ledger verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transfer } from '../../ledger/rules/index.js';
import { driverPayableId, providerClearingId, worldId } from '../../ledger/rules/index.js';
import { fieldCipherOf } from '../../src/platform/field-crypto.js';
import { createPayoutJob } from '../../src/modules/payments/payout-job.js';
import { createPayoutsRepository, type PayoutRow } from '../../src/modules/payments/payouts-repository.js';
import { PROVIDER_NAMES } from '../../src/modules/payments/providers/types.js';
import type { TestApp } from '../helpers/app.js';
import { authHeader, createUser, randomMtnPhone, withStepUp, type CreatedUser } from '../helpers/auth.js';
import { key, paymentsTestApp } from '../integration/payments/helpers.js';

let testApp: TestApp;
let admin: CreatedUser;
let stepUpToken: string;

beforeAll(async () => {
  testApp = await paymentsTestApp({ JOB_WORKERS_ENABLED: 'false' });
  admin = await createUser(testApp, { roles: ['admin'] });
  stepUpToken = await withStepUp(testApp, admin);
  await testApp.services.ledger.submit(
    PROVIDER_NAMES.map((provider) => ({
      id: `test:float:${provider}`,
      debitAccountId: providerClearingId(provider, 'XAF'),
      creditAccountId: worldId('XAF'),
      amountMinor: 10_000_000n,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    })),
  );
}, 120_000);
afterAll(async () => testApp?.close());

const services = () => testApp.services;
const phone = randomMtnPhone;

interface Payee {
  driver: CreatedUser;
  earnedMinor: bigint;
  payoutId: string;
  amountMinor: bigint;
}

/** A driver with earnings whose payout is requested and approved (the job not run yet). */
async function approvedPayout(earnedMinor: bigint, amountMinor: bigint): Promise<Payee> {
  const driver = await createUser(testApp, { roles: ['driver'], phone: phone() });
  const [credited] = await services().ledger.submit([
    {
      id: `test:earnings:${driver.userId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: driverPayableId(driver.userId, 'XAF'),
      amountMinor: earnedMinor,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  expect(credited!.result).toBe('ok');
  const requested = await testApp.app.inject({
    method: 'POST',
    url: '/v1/payouts',
    headers: { ...authHeader(driver.accessToken), 'idempotency-key': key() },
    payload: { payeeKind: 'driver', amountMinor: Number(amountMinor) },
  });
  expect(requested.statusCode, requested.body).toBe(201);
  const payoutId = requested.json().payoutId as string;
  const approved = await testApp.app.inject({
    method: 'POST',
    url: `/v1/admin/payouts/${payoutId}/approve`,
    headers: authHeader(stepUpToken),
  });
  expect(approved.statusCode, approved.body).toBe(200);
  return { driver, earnedMinor, payoutId, amountMinor };
}

async function placeHold(driverId: string): Promise<string> {
  const placed = await testApp.app.inject({
    method: 'POST',
    url: '/v1/admin/withdrawal-holds',
    headers: authHeader(admin.accessToken),
    payload: { payeeKind: 'driver', payeeId: driverId, reason: 'Fault schedule' },
  });
  expect(placed.statusCode, placed.body).toBe(201);
  return placed.json().id as string;
}

async function releaseHold(holdId: string): Promise<void> {
  const released = await testApp.app.inject({
    method: 'POST',
    url: `/v1/admin/withdrawal-holds/${holdId}/release`,
    headers: authHeader(admin.accessToken),
    payload: { note: 'Fault schedule over' },
  });
  expect(released.statusCode, released.body).toBe(200);
}

function disbursementsOf(payoutId: string) {
  const simulators = services().payments.providers.simulators!;
  return [...simulators.campay.engine.list(), ...simulators.mtn.engine.list()].filter(
    (transaction) => transaction.kind === 'disbursement' && transaction.externalReference === payoutId,
  );
}

/** Sent once with its amount posted, or held back and never sent with the money back; nothing pending. */
async function expectSound(payees: Payee[]): Promise<{ succeeded: number; heldBack: number }> {
  let succeeded = 0;
  let heldBack = 0;
  for (const payee of payees) {
    const row = (await services().payments.payouts.get(payee.payoutId))!;
    const account = (await services().ledger.account(driverPayableId(payee.driver.userId, 'XAF')))!;
    expect(account.debitsPending).toBe(0n);
    if (row.status === 'SUCCEEDED') {
      succeeded += 1;
      expect(disbursementsOf(payee.payoutId)).toHaveLength(1);
      expect(account.debitsPosted).toBe(payee.amountMinor);
      expect(account.availableMinor).toBe(payee.earnedMinor - payee.amountMinor);
    } else {
      heldBack += 1;
      expect(row).toMatchObject({ status: 'FAILED', failure_reason: 'PAYOUT_HELD', sent_at: null });
      expect(disbursementsOf(payee.payoutId)).toHaveLength(0);
      expect(account.debitsPosted).toBe(0n);
      expect(account.availableMinor).toBe(payee.earnedMinor);
    }
  }
  const report = await services().ledger.verify({ projections: false });
  expect(report.mismatches).toEqual([]);
  expect(report.ok).toBe(true);
  return { succeeded, heldBack };
}

type CrashPoint = 'before_void' | 'after_void';

/**
 * A second payout worker whose process "dies" when it voids a ledger hold: before the void
 * reaches the ledger, or after it landed and before the answer. The throw stands for the process
 * stopping there.
 */
function crashingJob(crashPoint: CrashPoint) {
  const ledger = services().ledger;
  const holds = services().admin.withdrawalHolds;
  return createPayoutJob({
    payouts: createPayoutsRepository(
      services().db as unknown as Parameters<typeof createPayoutsRepository>[0],
      fieldCipherOf(services().runtime.config),
    ),
    ledger: {
      account: (id) => ledger.account(id),
      async submit(transfers: readonly Transfer[]) {
        if (!transfers.some((transfer) => transfer.flags.voidPending === true))
          return ledger.submit(transfers);
        if (crashPoint === 'before_void') throw new Error('crash: before the void');
        await ledger.submit(transfers);
        throw new Error('crash: after the void, before its answer');
      },
    },
    router: services().payments.router,
    logger: services().runtime.logger,
    audit: services().identity.audit,
    now: () => new Date(),
    held: (row: PayoutRow) =>
      holds.isHeld({ kind: row.payee_kind, payeeId: row.payee_id, personId: row.payee_id }),
  });
}

describe('withdrawal holds under faults', () => {
  for (const crashPoint of ['before_void', 'after_void'] as const) {
    it(`the job dies ${crashPoint.replace('_', ' ')} of a held-back payout and the hold is released before the retry: never sent, the money back once`, async () => {
      const payees = await Promise.all([0, 1, 2].map(() => approvedPayout(7_000n, 6_000n)));
      const holds = await Promise.all(payees.map((payee) => placeHold(payee.driver.userId)));
      const crashing = crashingJob(crashPoint);
      const crashed = await Promise.allSettled(payees.map((payee) => crashing.process(payee.payoutId)));
      expect(crashed.every((outcome) => outcome.status === 'rejected')).toBe(true);
      for (const payee of payees) {
        const row = (await services().payments.payouts.get(payee.payoutId))!;
        expect(row).toMatchObject({ status: 'FAILED', failure_reason: 'PAYOUT_HELD' });
        const account = (await services().ledger.account(driverPayableId(payee.driver.userId, 'XAF')))!;
        expect(account.debitsPending).toBe(crashPoint === 'before_void' ? payee.amountMinor : 0n);
      }
      // The hold is released, then the queue redelivers the job, twice at once for each payout.
      for (const holdId of holds) await releaseHold(holdId);
      await Promise.all(
        [...payees, ...payees].map((payee) => services().payments.payouts.process(payee.payoutId)),
      );
      expect(await expectSound(payees)).toEqual({ succeeded: 0, heldBack: 3 });
      // Released, the payee asks again and is paid.
      const again = await testApp.app.inject({
        method: 'POST',
        url: '/v1/payouts',
        headers: { ...authHeader(payees[0]!.driver.accessToken), 'idempotency-key': key() },
        payload: { payeeKind: 'driver', amountMinor: 7_000 },
      });
      expect(again.statusCode, again.body).toBe(201);
    });
  }

  it('holds placed and released while three workers process the same payouts at once: each payout sent once or never, the money exact', async () => {
    const payees = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 7].map((index) => approvedPayout(5_000n + BigInt(index), 4_000n)),
    );
    const holds = new Map<string, string>();
    // Hold every other payee now, and toggle the others' holds while the workers run.
    for (const [index, payee] of payees.entries())
      if (index % 2 === 0) holds.set(payee.driver.userId, await placeHold(payee.driver.userId));
    const workers = [0, 1, 2].map(() =>
      Promise.allSettled(payees.map((payee) => services().payments.payouts.process(payee.payoutId))),
    );
    const toggling = (async () => {
      for (const [index, payee] of payees.entries()) {
        if (index % 2 === 0) continue;
        const holdId = await placeHold(payee.driver.userId);
        await releaseHold(holdId);
      }
    })();
    await Promise.all([...workers, toggling]);
    // A worker that lost a race (another was sending) throws for the queue to retry: retry them.
    for (let round = 0; round < 20; round += 1) {
      const rows = await Promise.all(payees.map((payee) => services().payments.payouts.get(payee.payoutId)));
      const open = rows.filter((row) => row!.status === 'APPROVED' || row!.status === 'PROCESSING');
      if (open.length === 0) break;
      await Promise.allSettled(open.map((row) => services().payments.payouts.process(row!.payout_id)));
    }
    const outcome = await expectSound(payees);
    expect(outcome.succeeded + outcome.heldBack).toBe(payees.length);
    // Held from the start: never sent.
    for (const [index, payee] of payees.entries())
      if (index % 2 === 0)
        expect((await services().payments.payouts.get(payee.payoutId))!.status).toBe('FAILED');
    expect(outcome.heldBack).toBeGreaterThanOrEqual(4);
    for (const holdId of holds.values()) await releaseHold(holdId);
  });
});
