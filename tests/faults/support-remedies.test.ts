/**
 * Fault schedules for support's dispute remedies (docs/support.md "Dispute remedies"): the process
 * dying between the remedy's steps (decision recorded, chain booked, status marked, payout
 * requested), the request retried after its answer was lost, and the same decision retried by
 * several instances at once. After each: the remedy's transfers were booked exactly once, the
 * customer's wallet moved by the remedy's amount once, one payout at most, the order holds one
 * `OrderRemedyRecorded` for it (its view counts the refund once), and the ledger verifies.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, providerClearingId, worldId, type Transfer } from '../../ledger/rules/index.js';
import {
  createSupportRemedies,
  remedyTransferId,
  type SupportPayoutsPort,
} from '../../src/modules/support/index.js';
import { fieldCipherOf } from '../../src/platform/field-crypto.js';
import { permissionsForRoles } from '../../src/shared/principal.js';
import { authHeader, randomMtnPhone, type CreatedUser } from '../helpers/auth.js';
import { deliveredOrder, fundedCustomer, loyaltyWorld, until } from '../integration/loyalty/helpers.js';
import { idempotencyKey, type OrderWorld } from '../integration/orders/helpers.js';
import { randomUUID } from 'node:crypto';
import { expectLedgerVerifies as verifyLedger } from '../helpers/ledger.js';

let world: OrderWorld;
const services = () => world.testApp.services;
const db = () => services().db;

beforeAll(async () => {
  world = await loyaltyWorld({ JOB_WORKERS_ENABLED: 'false' });
  for (const provider of ['campay', 'mtn_momo', 'orange_money'] as const) {
    const [funded] = await services().ledger.submit([
      {
        id: `remedy-faults:float:${provider}`,
        debitAccountId: providerClearingId(provider, 'XAF'),
        creditAccountId: worldId('XAF'),
        amountMinor: 1_000_000n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
    ]);
    expect(funded!.result).toBe('ok');
  }
  await services().support.agents.configure(world.support.userId, { supervisor: true }, new Date());
}, 240_000);
afterAll(async () => world?.testApp.close());

const supervisorCaller = () => ({
  userId: world.support.userId,
  roles: ['support' as const],
  permissions: permissionsForRoles(['support']),
  actor: { kind: 'user' as const, userId: world.support.userId },
});

/** A delivered order of a new customer (an MTN number, so Mobile Money can pay them), and their ticket about it. */
async function disputedTicket(): Promise<{ customer: CreatedUser; ticketId: string; orderId: string }> {
  const customer = await fundedCustomer(world, 50_000n, { phone: randomMtnPhone() });
  const order = await deliveredOrder(world, customer.accessToken);
  const opened = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/support/tickets',
    headers: authHeader(customer.accessToken),
    payload: { category: 'order_problem', subject: 'Froid', body: 'Arrivé froid.', orderId: order.id },
  });
  expect(opened.statusCode, opened.body).toBe(201);
  return { customer, ticketId: opened.json().id, orderId: order.id };
}

type CrashPoint =
  | 'before_booking'
  | 'after_booking'
  | 'before_order_event'
  | 'after_order_event'
  | 'before_payout'
  | 'after_payout';

/** Another instance's remedies whose process "dies" at `crashPoint` (the throw stands for it). */
function crashingRemedies(crashPoint: CrashPoint) {
  const real = services();
  const payouts: SupportPayoutsPort = {
    async request(input) {
      if (crashPoint === 'before_payout') throw new Error('crash: before the payout');
      const row = await real.payments.payouts.request(input);
      if (crashPoint === 'after_payout') throw new Error('crash: after the payout, before the answer');
      return row;
    },
  };
  return createSupportRemedies({
    db: db() as never,
    cipher: fieldCipherOf(real.runtime.config),
    ledger: {
      async submit(transfers: readonly Transfer[]) {
        if (crashPoint === 'before_booking') throw new Error('crash: before booking');
        const outcomes = await real.ledger.submit(transfers);
        if (crashPoint === 'after_booking') throw new Error('crash: after booking, before the status');
        return outcomes;
      },
    },
    payouts,
    orders: real.orders.parties,
    orderRemedies: {
      async record(orderId, remedy, metadata) {
        if (crashPoint === 'before_order_event') throw new Error('crash: booked, before the order event');
        const recorded = await real.orders.remedies.record(orderId, remedy, metadata);
        if (crashPoint === 'after_order_event')
          throw new Error('crash: after the order event, before the status');
        return recorded;
      },
    },
    staffTicket: (caller, id) => real.support.staffTicket(caller, id),
    isSupervisor: (caller) => real.support.isSupervisor(caller),
    audit: async () => {},
    limits: { agentMaxMinor: 5_000, supervisorMaxMinor: 100_000 },
    logger: { warn() {}, error() {} },
  });
}

/** The remedy's transfers in the ledger's entries (a projection, waited for): each leg once. */
async function creditLines(remedyId: string, leg: 'goodwill' | 'restaurant' | 'driver' | 'platform') {
  const result = await sql<{ count: string }>`SELECT count(*)::text AS count FROM ledger_entries
    WHERE transfer_id = ${remedyTransferId(remedyId, leg)} AND side = 'credit'`.execute(db());
  return Number(result.rows[0]!.count);
}

async function walletBalance(userId: string): Promise<bigint> {
  const account = await services().ledger.account(customerWalletId(userId, 'XAF'));
  return account === null ? 0n : account.creditsPosted - account.debitsPosted - account.debitsPending;
}

/** The order's `OrderRemedyRecorded` events for this remedy (its stream, the truth). */
async function remedyEvents(orderId: string, remedyId: string) {
  const events = await services().eventStore.readStream(`order-${orderId}`);
  return events.filter(
    (event) =>
      event.type === 'OrderRemedyRecorded' && (event.data as { remedyId: string }).remedyId === remedyId,
  );
}

/** The order counts the refund once: one event, and the view's refund and remedies. */
async function expectOrderCountsOnce(
  orderId: string,
  remedyId: string,
  customer: CreatedUser,
  refund: { amountMinor: number; restaurantMinor: number },
) {
  const events = await remedyEvents(orderId, remedyId);
  expect(events).toHaveLength(1);
  expect(events[0]!.data).toMatchObject({
    kind: 'refund',
    amountMinor: refund.amountMinor,
    shares: { restaurantMinor: refund.restaurantMinor },
  });
  const view = await world.testApp.app.inject({
    method: 'GET',
    url: `/v1/orders/${orderId}`,
    headers: authHeader(customer.accessToken),
  });
  expect(view.statusCode, view.body).toBe(200);
  expect(view.json().refundMinor).toBe(refund.amountMinor);
  expect(view.json().remedies).toEqual([
    expect.objectContaining({ remedyId, kind: 'refund', amountMinor: refund.amountMinor }),
  ]);
}

const expectLedgerVerifies = () => verifyLedger(world.testApp);

describe('dispute remedies under faults', () => {
  for (const crashPoint of [
    'before_booking',
    'after_booking',
    'before_order_event',
    'after_order_event',
  ] as const) {
    it(`the process dies ${crashPoint.replaceAll('_', ' ')}: three instances retry at once, the refund is booked once and recorded on the order once`, async () => {
      const { customer, ticketId, orderId } = await disputedTicket();
      const before = await walletBalance(customer.userId);
      const ids = { remedyId: randomUUID(), payoutId: randomUUID() };
      const request = {
        kind: 'refund' as const,
        amountMinor: 900,
        shares: { restaurantMinor: 600, platformMinor: 300 },
        note: 'Froid',
      };
      await expect(
        crashingRemedies(crashPoint).decide(supervisorCaller(), ticketId, request, ids),
      ).rejects.toThrow(/crash/);
      const left = await db()
        .selectFrom('support_remedies')
        .select('status')
        .where('id', '=', ids.remedyId)
        .execute();
      expect(left).toEqual([{ status: 'deciding' }]);
      const recovered = await Promise.all(
        [0, 1, 2].map(() => services().support.remedies.decide(supervisorCaller(), ticketId, request, ids)),
      );
      expect(recovered.map((each) => each.status)).toEqual(['booked', 'booked', 'booked']);
      expect((await walletBalance(customer.userId)) - before).toBe(900n);
      await until(
        () => creditLines(ids.remedyId, 'restaurant'),
        (count) => count === 1,
        30_000,
      );
      await until(
        () => creditLines(ids.remedyId, 'platform'),
        (count) => count === 1,
        30_000,
      );
      expect(await creditLines(ids.remedyId, 'driver')).toBe(0);
      await expectOrderCountsOnce(orderId, ids.remedyId, customer, {
        amountMinor: 900,
        restaurantMinor: 600,
      });
      await expectLedgerVerifies();
    });
  }

  for (const crashPoint of ['before_payout', 'after_payout'] as const) {
    it(`a Mobile Money refund whose process dies ${crashPoint.replace('_', ' ')}: the retry requests one payout, the wallet pays it once`, async () => {
      const { customer, ticketId } = await disputedTicket();
      const before = await walletBalance(customer.userId);
      const ids = { remedyId: randomUUID(), payoutId: randomUUID() };
      const request = {
        kind: 'refund' as const,
        amountMinor: 700,
        refundTo: 'mobile_money' as const,
        note: 'x',
      };
      await expect(
        crashingRemedies(crashPoint).decide(supervisorCaller(), ticketId, request, ids),
      ).rejects.toThrow(/crash/);
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const retried = await services().support.remedies.decide(supervisorCaller(), ticketId, request, ids);
        expect(retried.payout).toEqual({ id: ids.payoutId, refusal: null });
      }
      const payouts = await db()
        .selectFrom('payouts')
        .select(['payout_id', 'amount_minor'])
        .where('payee_id', '=', customer.userId)
        .execute();
      expect(payouts).toEqual([{ payout_id: ids.payoutId, amount_minor: 700n }]);
      // Credited 700 by the refund, 700 held by the withdrawal: available where it started.
      expect(await walletBalance(customer.userId)).toBe(before);
      await until(
        () => creditLines(ids.remedyId, 'platform'),
        (count) => count === 1,
        30_000,
      );
      await expectLedgerVerifies();
    });
  }

  it('the answer is lost after the work (lease over): the retried request answers the same remedy, booked once', async () => {
    const { customer, ticketId } = await disputedTicket();
    const before = await walletBalance(customer.userId);
    const key = idempotencyKey();
    const post = () =>
      world.testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/support/tickets/${ticketId}/remedies`,
        headers: { ...authHeader(world.support.accessToken), 'idempotency-key': key },
        payload: { kind: 'goodwill_credit', amountMinor: 400, note: 'Retard' },
      });
    const first = await post();
    expect(first.statusCode, first.body).toBe(201);
    const lost = await sql`UPDATE idempotency_keys SET status_code = NULL, response_body = NULL,
        lease_expires_at = now() - interval '1 second' WHERE key = ${key}`.execute(db());
    expect(Number(lost.numAffectedRows)).toBe(1);
    const retried = await post();
    expect(retried.statusCode, retried.body).toBe(201);
    expect(retried.headers['idempotent-replayed']).toBeUndefined();
    expect(retried.json().id).toBe(first.json().id);
    expect((await walletBalance(customer.userId)) - before).toBe(400n);
    await until(
      () => creditLines(first.json().id, 'goodwill'),
      (count) => count === 1,
      30_000,
    );
    await expectLedgerVerifies();
  });
});

/** The remedy as if decided `minutes` ago: the sweep takes only what clients had time to retry. */
async function age(remedyId: string, minutes = 20) {
  await sql`UPDATE support_remedies SET created_at = now() - make_interval(mins => ${minutes})
    WHERE id = ${remedyId}`.execute(db());
}

async function sweptAudits(remedyId: string): Promise<number> {
  const result = await sql<{ count: string }>`SELECT count(*)::text AS count FROM audit_logs
    WHERE action = 'support.remedy_swept' AND new_value->>'remedyId' = ${remedyId}`.execute(db());
  return Number(result.rows[0]!.count);
}

describe('half-done remedies nobody retried, finished by the sweep', () => {
  for (const crashPoint of ['before_booking', 'after_booking', 'before_order_event'] as const) {
    it(`the process dies ${crashPoint.replaceAll('_', ' ')} and the client never retries: two sweeps at once book it once and record it on the order once, a late retry changes nothing`, async () => {
      const { customer, ticketId, orderId } = await disputedTicket();
      const before = await walletBalance(customer.userId);
      const ids = { remedyId: randomUUID(), payoutId: randomUUID() };
      const request = {
        kind: 'refund' as const,
        amountMinor: 800,
        shares: { restaurantMinor: 500, platformMinor: 300 },
        note: 'Froid',
      };
      await expect(
        crashingRemedies(crashPoint).decide(supervisorCaller(), ticketId, request, ids),
      ).rejects.toThrow(/crash/);
      // Too young: a client may still retry it.
      await Promise.all([services().support.remedies.sweep(), services().support.remedies.sweep()]);
      const young = await db()
        .selectFrom('support_remedies')
        .select('status')
        .where('id', '=', ids.remedyId)
        .execute();
      expect(young).toEqual([{ status: 'deciding' }]);
      await age(ids.remedyId);
      await Promise.all([services().support.remedies.sweep(), services().support.remedies.sweep()]);
      const swept = await db()
        .selectFrom('support_remedies')
        .select(['status', 'booked_at'])
        .where('id', '=', ids.remedyId)
        .executeTakeFirstOrThrow();
      expect(swept.status).toBe('booked');
      expect(await sweptAudits(ids.remedyId)).toBe(1);
      expect((await walletBalance(customer.userId)) - before).toBe(800n);
      const late = await services().support.remedies.decide(supervisorCaller(), ticketId, request, ids);
      expect(late.status).toBe('booked');
      expect((await walletBalance(customer.userId)) - before).toBe(800n);
      // Swept again later: nothing left to finish for this remedy.
      await age(ids.remedyId, 60);
      await services().support.remedies.sweep();
      expect(await sweptAudits(ids.remedyId)).toBe(1);
      for (const leg of ['restaurant', 'platform'] as const)
        await until(
          () => creditLines(ids.remedyId, leg),
          (count) => count === 1,
          30_000,
        );
      await expectOrderCountsOnce(orderId, ids.remedyId, customer, {
        amountMinor: 800,
        restaurantMinor: 500,
      });
      await expectLedgerVerifies();
    });
  }

  it('a Mobile Money refund dies before its payout and nobody retries: the sweep requests the payout named at the decision, a late retry finds the same one', async () => {
    const { customer, ticketId } = await disputedTicket();
    const before = await walletBalance(customer.userId);
    const ids = { remedyId: randomUUID(), payoutId: randomUUID() };
    const request = {
      kind: 'refund' as const,
      amountMinor: 600,
      refundTo: 'mobile_money' as const,
      note: 'x',
    };
    await expect(
      crashingRemedies('before_payout').decide(supervisorCaller(), ticketId, request, ids),
    ).rejects.toThrow(/crash/);
    await age(ids.remedyId);
    await Promise.all([services().support.remedies.sweep(), services().support.remedies.sweep()]);
    const payouts = async () =>
      db()
        .selectFrom('payouts')
        .select(['payout_id', 'amount_minor'])
        .where('payee_id', '=', customer.userId)
        .execute();
    expect(await payouts()).toEqual([{ payout_id: ids.payoutId, amount_minor: 600n }]);
    expect(await sweptAudits(ids.remedyId)).toBe(1);
    const late = await services().support.remedies.decide(supervisorCaller(), ticketId, request, ids);
    expect(late.payout).toEqual({ id: ids.payoutId, refusal: null });
    expect(await payouts()).toEqual([{ payout_id: ids.payoutId, amount_minor: 600n }]);
    // Credited 600 by the refund, 600 held by the one withdrawal.
    expect(await walletBalance(customer.userId)).toBe(before);
    await expectLedgerVerifies();
  });
});
