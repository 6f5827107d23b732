/**
 * Dispute remedies decided by support staff (docs/support.md "Dispute remedies"), against the real
 * ledger, PostgreSQL and the payment simulators: a goodwill credit, a refund with the restaurant's,
 * driver's and platform's shares, a refund by Mobile Money (a withdrawal through payments'
 * payouts), mediation notes; the agent's and supervisor's limits; refusals that book nothing.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerWalletId,
  driverPayableId,
  promotionsExpenseId,
  providerClearingId,
  restaurantPayableId,
  worldId,
} from '../../../ledger/rules/index.js';
import { remedyTransferId } from '../../../src/modules/support/index.js';
import { authHeader, createUser, randomMtnPhone, type CreatedUser } from '../../helpers/auth.js';
import { deliveredOrder, fundedCustomer, loyaltyWorld, until } from '../loyalty/helpers.js';
import { idempotencyKey, type OrderWorld } from '../orders/helpers.js';

const AGENT_MAX = 1_000;
const SUPERVISOR_MAX = 20_000;
let world: OrderWorld;
let customer: CreatedUser;
let supervisor: CreatedUser;
let agent: CreatedUser;
let otherAgent: CreatedUser;
let order: Awaited<ReturnType<typeof deliveredOrder>>;
let ticketId: string;

const services = () => world.testApp.services;
const db = () => services().db;

beforeAll(async () => {
  world = await loyaltyWorld({
    SUPPORT_REMEDY_AGENT_MAX_XAF: String(AGENT_MAX),
    SUPPORT_REMEDY_SUPERVISOR_MAX_XAF: String(SUPERVISOR_MAX),
  });
  // The providers hold money of ours to pay withdrawals out of (as customers' top-ups would).
  for (const provider of ['campay', 'mtn_momo', 'orange_money'] as const) {
    const [funded] = await services().ledger.submit([
      {
        id: `remedies:float:${provider}`,
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
  customer = await fundedCustomer(world);
  supervisor = world.support;
  await services().support.agents.configure(supervisor.userId, { supervisor: true }, new Date());
  [agent, otherAgent] = await Promise.all([
    createUser(world.testApp, { roles: ['support'] }),
    createUser(world.testApp, { roles: ['support'] }),
  ]);
  order = await deliveredOrder(world, customer.accessToken);
  const opened = await send('POST', '/v1/support/tickets', customer, {
    category: 'order_problem',
    subject: 'Plat froid',
    body: 'Le ndolé est arrivé froid.',
    orderId: order.id,
  });
  expect(opened.statusCode, opened.body).toBe(201);
  ticketId = opened.json().id;
  const assigned = await send('POST', `/v1/admin/support/tickets/${ticketId}/assign`, supervisor, {
    assigneeId: agent.userId,
  });
  expect(assigned.statusCode, assigned.body).toBe(200);
}, 240_000);
afterAll(async () => world?.testApp.close());

function send(method: 'GET' | 'POST', url: string, user: CreatedUser, payload?: unknown, key?: string) {
  return world.testApp.app.inject({
    method,
    url,
    headers: { ...authHeader(user.accessToken), ...(key === undefined ? {} : { 'idempotency-key': key }) },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

const remedy = (user: CreatedUser, payload: Record<string, unknown>, key = idempotencyKey(), id = ticketId) =>
  send('POST', `/v1/admin/support/tickets/${id}/remedies`, user, payload, key);

/** The restaurant's figures as its owner reads them (`GET /v1/restaurants/{id}/order-figures`). */
async function figures(): Promise<{ refundedMinor: number; revenueMinor: number }> {
  const answer = await send('GET', `/v1/restaurants/${world.restaurantId}/order-figures`, world.actors.owner);
  expect(answer.statusCode, answer.body).toBe(200);
  return answer.json();
}

async function balance(accountId: string): Promise<bigint> {
  const account = await services().ledger.account(accountId);
  return account === null ? 0n : account.creditsPosted - account.debitsPosted;
}

async function books() {
  return {
    wallet: await balance(customerWalletId(customer.userId, 'XAF')),
    restaurant: await balance(restaurantPayableId(world.restaurantId, 'XAF')),
    driver: await balance(driverPayableId(world.driver.userId, 'XAF')),
    promotions: await balance(promotionsExpenseId('XAF')),
  };
}

const remedyCount = async () =>
  Number(
    (
      await db()
        .selectFrom('support_remedies')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .executeTakeFirstOrThrow()
    ).count,
  );

describe('dispute remedies', () => {
  it('a goodwill credit within the agent’s limit lands in the wallet once, from the platform; a retry books nothing more', async () => {
    const before = await books();
    const key = idempotencyKey();
    const body = { kind: 'goodwill_credit', amountMinor: 800, note: 'Geste pour le retard' };
    const first = await remedy(agent, body, key);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({
      kind: 'goodwill_credit',
      amountMinor: 800,
      status: 'booked',
      decidedBy: agent.userId,
      note: 'Geste pour le retard',
      orderId: order.id,
    });
    const again = await remedy(agent, body, key);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.json().id);
    const after = await books();
    expect(after.wallet - before.wallet).toBe(800n);
    // The promotions expense is debit-normal: its credit-minus-debit falls by what it paid.
    expect(before.promotions - after.promotions).toBe(800n);
    expect(after.restaurant).toBe(before.restaurant);
    // The ledger's entries (a projection, so waited for) hold the credit once.
    const creditLines = async () =>
      Number(
        (
          await sql<{ count: string }>`SELECT count(*)::text AS count FROM ledger_entries
            WHERE transfer_id = ${remedyTransferId(first.json().id, 'goodwill')} AND side = 'credit'`.execute(
            db(),
          )
        ).rows[0]!.count,
      );
    await until(creditLines, (count) => count === 1, 30_000);
    // The note is encrypted at rest; the audit names the amounts, never the note.
    const row = await db()
      .selectFrom('support_remedies')
      .select('note')
      .where('id', '=', first.json().id)
      .executeTakeFirstOrThrow();
    expect(row.note).toMatch(/^pii1\./);
    const audit = await db()
      .selectFrom('audit_logs')
      .select(['action', 'new_value', 'subject_user_id'])
      .where('resource', '=', `support_ticket:${ticketId}`)
      .where('action', '=', 'support.remedy_decided')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]!.subject_user_id).toBe(customer.userId);
    expect(JSON.stringify(audit[0]!.new_value)).not.toContain('retard');
  });

  it('an agent above their limit gets 403 with the limit; the supervisor grants it', async () => {
    const before = await books();
    const count = await remedyCount();
    const refused = await remedy(agent, {
      kind: 'goodwill_credit',
      amountMinor: AGENT_MAX + 1,
      note: 'Trop',
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'remedy_limit_exceeded', limitMinor: AGENT_MAX });
    expect(await remedyCount()).toBe(count);
    expect(await books()).toEqual(before);
    const granted = await remedy(supervisor, {
      kind: 'goodwill_credit',
      amountMinor: AGENT_MAX + 1,
      note: 'OK',
    });
    expect(granted.statusCode, granted.body).toBe(201);
    const overSupervisor = await remedy(supervisor, {
      kind: 'goodwill_credit',
      amountMinor: SUPERVISOR_MAX + 1,
      note: 'Trop',
    });
    expect(overSupervisor.statusCode).toBe(403);
    expect(overSupervisor.json().limitMinor).toBe(SUPERVISOR_MAX);
    expect((await books()).wallet - before.wallet).toBe(BigInt(AGENT_MAX + 1));
  });

  it('a refund with adjusted shares takes each party’s part back into the wallet, in one chain; the order and the restaurant’s report count it', async () => {
    const before = await books();
    const refundedBefore = (await figures()).refundedMinor as number;
    const orderBefore = (await send('GET', `/v1/orders/${order.id}`, customer)).json();
    const answer = await remedy(supervisor, {
      kind: 'refund',
      amountMinor: 1_200,
      shares: { restaurantMinor: 700, driverMinor: 200, platformMinor: 300 },
      note: 'Plat froid : le restaurant et le livreur partagent',
    });
    expect(answer.statusCode, answer.body).toBe(201);
    expect(answer.json()).toMatchObject({
      kind: 'refund',
      refundTo: 'wallet',
      shares: { restaurantMinor: 700, driverMinor: 200, platformMinor: 300 },
      payout: null,
    });
    const after = await books();
    expect(after.wallet - before.wallet).toBe(1_200n);
    expect(before.restaurant - after.restaurant).toBe(700n);
    expect(before.driver - after.driver).toBe(200n);
    expect(before.promotions - after.promotions).toBe(300n);
    // The order's view counts the refund and lists the remedy (the customer and the restaurant see it).
    const viewed = await send('GET', `/v1/orders/${order.id}`, customer);
    expect(viewed.json().refundMinor - orderBefore.refundMinor).toBe(1_200);
    expect(viewed.json().remedies.at(-1)).toEqual({
      remedyId: answer.json().id,
      kind: 'refund',
      amountMinor: 1_200,
      shares: { restaurantMinor: 700, driverMinor: 200, platformMinor: 300 },
      refundTo: 'wallet',
      at: expect.any(String),
    });
    // The restaurant's report takes off its own share only (the projection follows the event).
    const report = await until(
      () => figures(),
      (body) => body.refundedMinor === refundedBefore + 700,
      30_000,
    );
    expect(report.refundedMinor).toBe(refundedBefore + 700);
  });

  it('refuses a refund beyond what is left of the order, and shares that do not add up, booking nothing', async () => {
    const before = await books();
    const count = await remedyCount();
    const refundable = order.pricing.totalMinor - 1_200;
    const tooMuch = await remedy(supervisor, { kind: 'refund', amountMinor: refundable + 1, note: 'Tout' });
    expect(tooMuch.statusCode).toBe(422);
    expect(tooMuch.json()).toMatchObject({ code: 'refund_exceeds_order', refundableMinor: refundable });
    const badShares = await remedy(supervisor, {
      kind: 'refund',
      amountMinor: 500,
      shares: { restaurantMinor: 100, platformMinor: 100 },
      note: 'Parts',
    });
    expect(badShares.statusCode).toBe(400);
    expect(badShares.json().code).toBe('remedy_shares_invalid');
    // The driver's payable holds the fee and tip of one order: a share beyond it refuses the chain whole.
    const driverShort = await remedy(supervisor, {
      kind: 'refund',
      amountMinor: refundable,
      shares: { driverMinor: refundable },
      note: 'Livreur',
    });
    expect(before.driver).toBeLessThan(BigInt(refundable));
    expect(driverShort.statusCode, driverShort.body).toBe(422);
    expect(driverShort.json()).toMatchObject({ code: 'remedy_share_unavailable', share: 'driver' });
    for (const payload of [
      { kind: 'mediation_note', amountMinor: 5, note: 'x' },
      { kind: 'goodwill_credit', note: 'sans montant' },
      { kind: 'goodwill_credit', amountMinor: 0, note: 'zéro' },
      { kind: 'goodwill_credit', amountMinor: 10, note: '   ' },
      { kind: 'goodwill_credit', amountMinor: 10, note: 'x', refundTo: 'mobile_money' },
      { kind: 'goodwill_credit', amountMinor: '10', note: 'x' },
      { kind: 'goodwill_credit', amountMinor: 10, note: 'x', extra: true },
      { kind: 'cash', amountMinor: 10, note: 'x' },
      { kind: 'goodwill_credit', amountMinor: 10, note: 'a\u0000b' },
    ]) {
      const refused = await remedy(supervisor, payload);
      expect(refused.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const noKey = await send('POST', `/v1/admin/support/tickets/${ticketId}/remedies`, supervisor, {
      kind: 'mediation_note',
      note: 'x',
    });
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json().code).toBe('idempotency_key_required');
    expect(await remedyCount()).toBe(count);
    expect(await books()).toEqual(before);
  });

  it('only staff who may see the ticket decide: the customer 403, another plain agent 404', async () => {
    const count = await remedyCount();
    const byCustomer = await remedy(customer, { kind: 'mediation_note', note: 'moi' });
    expect(byCustomer.statusCode).toBe(403);
    const byOther = await remedy(otherAgent, { kind: 'mediation_note', note: 'pas le mien' });
    expect(byOther.statusCode).toBe(404);
    expect(byOther.json().code).toBe('ticket_not_found');
    const listed = await send('GET', `/v1/admin/support/tickets/${ticketId}/remedies`, otherAgent);
    expect(listed.statusCode).toBe(404);
    expect(await remedyCount()).toBe(count);
  });

  it('mediation notes are kept (encrypted) and listed with the remedies, oldest first', async () => {
    const note = await remedy(agent, { kind: 'mediation_note', note: 'Appelé le restaurant : il reconnaît' });
    expect(note.statusCode, note.body).toBe(201);
    expect(note.json()).toMatchObject({
      kind: 'mediation_note',
      amountMinor: 0,
      shares: null,
      status: 'booked',
    });
    expect(note.headers.location).toBe(`/v1/admin/support/tickets/${ticketId}/remedies/${note.json().id}`);
    const one = await send('GET', note.headers.location as string, agent);
    expect(one.statusCode).toBe(200);
    expect(one.json()).toEqual(note.json());
    expect((await send('GET', note.headers.location as string, otherAgent)).statusCode).toBe(404);
    const unknown = await send('GET', `/v1/admin/support/tickets/${ticketId}/remedies/${ticketId}`, agent);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('remedy_not_found');
    const listed = await send('GET', `/v1/admin/support/tickets/${ticketId}/remedies`, agent);
    expect(listed.statusCode).toBe(200);
    const kinds = listed.json().items.map((item: { kind: string }) => item.kind);
    expect(kinds[0]).toBe('goodwill_credit');
    expect(kinds.at(-1)).toBe('mediation_note');
    expect(listed.json().items.at(-1).note).toBe('Appelé le restaurant : il reconnaît');
  });

  it('a refund by Mobile Money lands in the wallet, then leaves it as one withdrawal to the customer’s number', async () => {
    const buyer = await fundedCustomer(world, 50_000n, { phone: randomMtnPhone() });
    const paid = await deliveredOrder(world, buyer.accessToken);
    const opened = await send('POST', '/v1/support/tickets', buyer, {
      category: 'order_problem',
      subject: 'Manquant',
      body: 'Il manquait le jus.',
      orderId: paid.id,
    });
    expect(opened.statusCode, opened.body).toBe(201);
    const wallet = customerWalletId(buyer.userId, 'XAF');
    const before = await balance(wallet);
    const key = idempotencyKey();
    const body = { kind: 'refund', amountMinor: 600, refundTo: 'mobile_money', note: 'Jus manquant' };
    const answer = await remedy(supervisor, body, key, opened.json().id);
    expect(answer.statusCode, answer.body).toBe(201);
    expect(answer.json().payout).toMatchObject({ refusal: null });
    const payoutId = answer.json().payout.id as string;
    const payouts = await db()
      .selectFrom('payouts')
      .select(['payout_id', 'amount_minor', 'payee_kind'])
      .where('payee_id', '=', buyer.userId)
      .execute();
    expect(payouts).toEqual([{ payout_id: payoutId, amount_minor: 600n, payee_kind: 'customer' }]);
    // Sent by the payout job through the simulator: the wallet ends where it started.
    await until(
      () => services().ledger.account(wallet),
      (account) =>
        account !== null &&
        account.debitsPending === 0n &&
        account.creditsPosted - account.debitsPosted === before,
      60_000,
    );
    const again = await remedy(supervisor, body, key, opened.json().id);
    expect(again.json().payout.id).toBe(payoutId);
    expect(
      await db().selectFrom('payouts').select('payout_id').where('payee_id', '=', buyer.userId).execute(),
    ).toHaveLength(1);
  });
});
