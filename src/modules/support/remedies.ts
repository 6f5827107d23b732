/**
 * Dispute remedies an agent decides on a ticket (docs/support.md, "Dispute remedies"): a goodwill
 * credit to the customer's wallet, a refund to the wallet or by Mobile Money (the wallet, then a
 * withdrawal through payments' payouts) with the restaurant's, driver's and platform's shares,
 * and mediation notes. Steps, each safe to repeat (a retry with the same id resumes):
 *
 *   1. record the decision (`deciding`), under the ticket's row lock so two remedies on one order
 *      never refund more than it cost;
 *   2. book its transfers, one linked chain named after the remedy (`exists` on a retry);
 *   3. record it on the order (`OrderRemedyRecorded`, once per remedy id: orders' decider appends
 *      nothing for a remedy it already has), so the order's figures count it;
 *   4. mark it `booked`; for Mobile Money, request the payout named after the remedy (payments
 *      resumes the same payout on a retry); audit and tell the opener.
 *
 * A chain the ledger refuses (a payable short of its share) removes the decision: nothing moved.
 */
import type { Logger } from 'pino';
import type { FieldCipher } from '../../platform/field-crypto.js';
import { isDomainError } from '../../shared/errors.js';
import { supportErrors } from './errors.js';
import type { SupportAudit, SupportOrderPartiesPort, SupportOrderRemediesPort } from './ports.js';
import {
  checkAmount,
  checkShares,
  REFUNDABLE_ORDER_STATUSES,
  refundableMinor,
  REMEDIES_PER_TICKET_MAX,
  REMEDY_NOTE_MAX,
  remedyTransfers,
  type RemedyLimits,
  type RemedyRequest,
  type RemedyShares,
} from './remedy-rules.js';
import type { SupportCaller } from './service.js';
import type { SupportDb, SupportRemediesTable } from './tables.js';
import { sql, type Selectable } from 'kysely';

export const NOTE_PURPOSE = 'support_remedies.note';
/** How old a half-done remedy is before the sweep finishes it (a client retries well before). */
export const REMEDY_SWEEP_AFTER_MINUTES = 15;
export const REMEDY_SWEEP_BATCH = 50;

type RemedyRow = Selectable<SupportRemediesTable>;
type TicketRow = { id: string; opener_id: string; opener_role: string; order_id: string | null };

/** The ledger, as support uses it: structurally the ledger context's `submit`. */
export interface SupportLedgerPort {
  submit(
    transfers: readonly import('../../../ledger/rules/index.js').Transfer[],
  ): Promise<{ id: string; result: string; detail?: string }[]>;
}

/** Implemented by payments (`payouts.request`): a customer's withdrawal to their verified number. */
export interface SupportPayoutsPort {
  request(input: {
    payoutId: string;
    requesterId: string;
    kind: 'customer';
    amountMinor: bigint;
    isAdmin: boolean;
    automatic: boolean;
  }): Promise<{ payout_id: string; status: string }>;
}

export interface RemedyDependencies {
  db: SupportDb;
  cipher: FieldCipher;
  ledger: SupportLedgerPort;
  payouts?: SupportPayoutsPort;
  orders: SupportOrderPartiesPort;
  /** Orders' `remedies`: a booked remedy recorded on its order, once per remedy id. */
  orderRemedies: SupportOrderRemediesPort;
  /** The ticket when the caller is staff who may see it (else 404): the service's rule. */
  staffTicket(caller: SupportCaller, ticketId: string): Promise<TicketRow>;
  isSupervisor(caller: SupportCaller): Promise<boolean>;
  audit: SupportAudit;
  /** Tells the ticket's audiences (best effort). */
  publish?(ticketId: string, data: Record<string, unknown>): Promise<void>;
  limits: RemedyLimits;
  logger: Pick<Logger, 'warn' | 'error'>;
  now?: () => Date;
}

const ACCEPTED = new Set(['ok', 'exists']);

function refusalError(refusal: Exclude<ReturnType<typeof checkAmount>, { amountMinor: number }>) {
  if (refusal.code === 'remedy_limit_exceeded')
    return supportErrors.of(
      'forbidden',
      'remedy_limit_exceeded',
      `You may grant at most ${refusal.limitMinor} XAF in one remedy; ask a supervisor.`,
      { details: { limitMinor: refusal.limitMinor } },
    );
  return supportErrors.of('validation', refusal.code, refusal.detail);
}

const notApplicable = (detail: string) => supportErrors.of('conflict', 'remedy_not_applicable', detail);

export function createSupportRemedies(deps: RemedyDependencies) {
  const now = deps.now ?? (() => new Date());

  function view(row: RemedyRow) {
    return {
      id: row.id,
      ticketId: row.ticket_id,
      orderId: row.order_id,
      kind: row.kind,
      amountMinor: Number(row.amount_minor),
      shares:
        row.kind === 'refund'
          ? {
              restaurantMinor: Number(row.restaurant_minor),
              driverMinor: Number(row.driver_minor),
              platformMinor: Number(row.platform_minor),
            }
          : null,
      refundTo: row.refund_to,
      note: deps.cipher.decrypt(NOTE_PURPOSE, row.note),
      decidedBy: row.decided_by,
      status: row.status,
      payout: row.payout_id === null ? null : { id: row.payout_id, refusal: row.payout_refusal },
      createdAt: row.created_at.toISOString(),
    };
  }

  function checkNote(note: string): string {
    const trimmed = note.trim();
    if (trimmed.length === 0)
      throw supportErrors.of('validation', 'text_blank', 'The note holds only spaces.', {
        details: { field: 'note' },
      });
    if (trimmed.length > REMEDY_NOTE_MAX)
      throw supportErrors.of(
        'validation',
        'validation_failed',
        `The note is at most ${REMEDY_NOTE_MAX} characters.`,
      );
    return trimmed;
  }

  /** Who is credited, and from which order's parties, or why this remedy does not apply here. */
  async function subjectOf(ticket: TicketRow, request: RemedyRequest) {
    const parties = ticket.order_id === null ? undefined : await deps.orders.partiesOf(ticket.order_id);
    if (request.kind === 'refund') {
      if (parties === undefined) throw notApplicable('A refund needs a ticket about an order.');
      if (!(REFUNDABLE_ORDER_STATUSES as readonly string[]).includes(parties.status))
        throw notApplicable(`The order is ${parties.status}: orders refund it before delivery.`);
      return { beneficiaryId: parties.customerId, parties };
    }
    if (request.kind === 'goodwill_credit') {
      if (parties !== undefined) return { beneficiaryId: parties.customerId, parties };
      if (ticket.opener_role !== 'customer') throw notApplicable('A goodwill credit goes to a customer.');
      return { beneficiaryId: ticket.opener_id, parties };
    }
    return { beneficiaryId: parties?.customerId ?? ticket.opener_id, parties };
  }

  /** Step 1: the decision, under the ticket's lock; a retry finds the row its first attempt wrote. */
  async function record(
    row: Omit<RemedyRow, 'created_at' | 'booked_at' | 'status' | 'payout_id' | 'payout_refusal' | 'swept_at'>,
    totals?: { totalMinor: number; refundMinor: number },
  ) {
    return deps.db.transaction().execute(async (trx) => {
      // One remedy at a time per order (tickets about one order may be several), else per ticket.
      const lock = `support-remedy:${row.order_id ?? row.ticket_id}`;
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${lock}, 0))`.execute(trx);
      const earlier = await trx
        .selectFrom('support_remedies')
        .selectAll()
        .where('id', '=', row.id)
        .executeTakeFirst();
      if (earlier !== undefined) return earlier;
      if (totals !== undefined && row.order_id !== null) {
        const { sum } = await trx
          .selectFrom('support_remedies')
          .select(sql<string>`coalesce(sum(amount_minor), 0)::text`.as('sum'))
          .where('order_id', '=', row.order_id)
          .where('kind', '=', 'refund')
          .executeTakeFirstOrThrow();
        const left = refundableMinor(totals.totalMinor, totals.refundMinor, Number(sum));
        if (Number(row.amount_minor) > left)
          throw supportErrors.of(
            'unprocessable',
            'refund_exceeds_order',
            `At most ${left} XAF of this order is still refundable.`,
            {
              details: { refundableMinor: left },
            },
          );
      }
      const count = await trx
        .selectFrom('support_remedies')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('ticket_id', '=', row.ticket_id)
        .executeTakeFirstOrThrow();
      if (Number(count.count) >= REMEDIES_PER_TICKET_MAX)
        throw supportErrors.of(
          'conflict',
          'remedies_full',
          `A ticket holds at most ${REMEDIES_PER_TICKET_MAX} remedies.`,
        );
      return trx
        .insertInto('support_remedies')
        .values({ ...row, status: 'deciding' })
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  /** Step 2: the chain; refused whole, the decision goes (nothing moved) and the caller hears why. */
  async function book(row: RemedyRow): Promise<RemedyRow> {
    const transfers = remedyTransfers({
      id: row.id,
      kind: row.kind,
      beneficiaryId: row.beneficiary_id,
      orderId: row.order_id,
      ticketId: row.ticket_id,
      amountMinor: BigInt(row.amount_minor),
      restaurantMinor: BigInt(row.restaurant_minor),
      driverMinor: BigInt(row.driver_minor),
      platformMinor: BigInt(row.platform_minor),
      restaurantId: row.restaurant_id,
      driverId: row.driver_id,
    });
    if (transfers.length > 0) {
      const outcomes = await deps.ledger.submit(transfers);
      const refused =
        outcomes.find(
          (outcome) =>
            !ACCEPTED.has(outcome.result) &&
            outcome.result !== 'linked_event_failed' &&
            outcome.result !== 'linked_event_chain_open',
        ) ?? outcomes.find((outcome) => !ACCEPTED.has(outcome.result));
      if (refused !== undefined) {
        if (row.status === 'deciding')
          await deps.db
            .deleteFrom('support_remedies')
            .where('id', '=', row.id)
            .where('status', '=', 'deciding')
            .execute();
        if (refused.result === 'exceeds_credits') {
          const leg = refused.id.slice(refused.id.lastIndexOf(':') + 1);
          throw supportErrors.of(
            'unprocessable',
            'remedy_share_unavailable',
            `The ${leg}'s balance cannot give back its share now; change the shares.`,
            { details: { share: leg } },
          );
        }
        throw new Error(`ledger refused remedy ${row.id}: ${refused.id} ${refused.result}`);
      }
    }
    await recordOnOrder(row);
    if (row.status === 'booked') return row;
    return deps.db
      .updateTable('support_remedies')
      .set({ status: 'booked', booked_at: now() })
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /**
   * Step 3: the order counts the remedy (its view, the restaurant's revenue report). After the
   * booking and before the row is marked booked, so a crash in between leaves it `deciding`: the
   * retry or the sweep books again (`exists`) and records again (orders appends it once).
   */
  async function recordOnOrder(row: RemedyRow): Promise<void> {
    if (row.order_id === null || (row.kind !== 'refund' && row.kind !== 'goodwill_credit')) return;
    await deps.orderRemedies.record(
      row.order_id,
      {
        remedyId: row.id,
        ticketId: row.ticket_id,
        kind: row.kind,
        amountMinor: Number(row.amount_minor),
        shares:
          row.kind === 'refund'
            ? {
                restaurantMinor: Number(row.restaurant_minor),
                driverMinor: Number(row.driver_minor),
                platformMinor: Number(row.platform_minor),
              }
            : { restaurantMinor: 0, driverMinor: 0, platformMinor: Number(row.amount_minor) },
        refundTo: row.kind === 'refund' ? row.refund_to : null,
        by: { role: 'support', id: row.decided_by },
      },
      { actorId: row.decided_by, actorRole: 'support', correlationId: `support-remedy:${row.id}` },
    );
  }

  /** Step 4 for Mobile Money: the customer's withdrawal, named after the remedy; refused, it stays in the wallet. */
  async function payOut(row: RemedyRow, payoutId: string): Promise<RemedyRow> {
    if (row.refund_to !== 'mobile_money' || deps.payouts === undefined) return row;
    let refusal: string | null = null;
    try {
      await deps.payouts.request({
        payoutId,
        requesterId: row.beneficiary_id,
        kind: 'customer',
        amountMinor: BigInt(row.amount_minor),
        isAdmin: false,
        automatic: true,
      });
    } catch (error) {
      if (!isDomainError(error)) throw error;
      refusal = error.code;
      deps.logger.warn(
        { remedyId: row.id, code: error.code },
        'support remedy: Mobile Money payout refused, the refund stays in the wallet',
      );
    }
    return deps.db
      .updateTable('support_remedies')
      .set({ payout_id: payoutId, payout_refusal: refusal })
      .where('id', '=', row.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /**
   * Decides a remedy on a ticket (support staff who may see it), named `remedyId` (from the
   * request's Idempotency-Key) and `payoutId` (the Mobile Money withdrawal's, likewise).
   */
  async function decide(
    caller: SupportCaller,
    ticketId: string,
    request: RemedyRequest,
    ids: { remedyId: string; payoutId: string },
  ) {
    const ticket = await deps.staffTicket(caller, ticketId);
    const note = checkNote(request.note);
    const supervisor = await deps.isSupervisor(caller);
    const amount = checkAmount(request, supervisor, deps.limits);
    if (!('amountMinor' in amount)) throw refusalError(amount);
    const { beneficiaryId, parties } = await subjectOf(ticket, request);
    let shares: RemedyShares = { restaurantMinor: 0, driverMinor: 0, platformMinor: 0 };
    if (request.kind === 'refund') {
      const checked = checkShares(amount.amountMinor, request.shares, parties?.driverId != null);
      if (!('platformMinor' in checked)) throw refusalError(checked);
      shares = checked;
    } else if (request.shares !== undefined || request.refundTo !== undefined)
      throw supportErrors.of(
        'validation',
        'remedy_shares_invalid',
        'Only a refund has shares and a destination.',
      );
    const recorded = await record(
      {
        id: ids.remedyId,
        ticket_id: ticket.id,
        order_id: ticket.order_id,
        beneficiary_id: beneficiaryId,
        kind: request.kind,
        amount_minor: BigInt(amount.amountMinor),
        restaurant_minor: BigInt(shares.restaurantMinor),
        driver_minor: BigInt(shares.driverMinor),
        platform_minor: BigInt(shares.platformMinor),
        restaurant_id: parties?.restaurantId ?? null,
        driver_id: parties?.driverId ?? null,
        refund_to: request.kind === 'refund' ? (request.refundTo ?? 'wallet') : null,
        planned_payout_id:
          request.kind === 'refund' && request.refundTo === 'mobile_money' ? ids.payoutId : null,
        note: deps.cipher.encrypt(NOTE_PURPOSE, note),
        decided_by: caller.userId,
      },
      request.kind === 'refund' && parties !== undefined
        ? { totalMinor: parties.totalMinor, refundMinor: parties.refundMinor }
        : undefined,
    );
    const booked = await payOut(await book(recorded), ids.payoutId);
    await deps.audit({
      action: 'support.remedy_decided',
      actor: caller.actor,
      subjectUserId: booked.beneficiary_id,
      resource: `support_ticket:${booked.ticket_id}`,
      newValue: {
        remedyId: booked.id,
        kind: booked.kind,
        amountMinor: Number(booked.amount_minor),
        shares: {
          restaurant: Number(booked.restaurant_minor),
          driver: Number(booked.driver_minor),
          platform: Number(booked.platform_minor),
        },
        refundTo: booked.refund_to,
        payoutId: booked.payout_id,
        payoutRefusal: booked.payout_refusal,
        supervisor,
      },
    });
    await deps.publish?.(booked.ticket_id, {
      remedyId: booked.id,
      kind: booked.kind,
      amountMinor: Number(booked.amount_minor),
    });
    return view(booked);
  }

  /** The remedies of a ticket (staff who may see it), oldest first. */
  async function list(caller: SupportCaller, ticketId: string) {
    const ticket = await deps.staffTicket(caller, ticketId);
    const rows = await deps.db
      .selectFrom('support_remedies')
      .selectAll()
      .where('ticket_id', '=', ticket.id)
      .orderBy('created_at')
      .orderBy('id')
      .limit(REMEDIES_PER_TICKET_MAX)
      .execute();
    return { items: rows.map(view) };
  }

  /** One remedy of a ticket (staff who may see the ticket), else 404. */
  async function get(caller: SupportCaller, ticketId: string, remedyId: string) {
    const ticket = await deps.staffTicket(caller, ticketId);
    const row = await deps.db
      .selectFrom('support_remedies')
      .selectAll()
      .where('id', '=', remedyId)
      .where('ticket_id', '=', ticket.id)
      .executeTakeFirst();
    if (row === undefined)
      throw supportErrors.of('not_found', 'remedy_not_found', 'There is no such remedy on this ticket.');
    return view(row);
  }

  /**
   * Finishes remedies a client left half done and never retried, once they are
   * REMEDY_SWEEP_AFTER_MINUTES old: a `deciding` one is booked as its agent decided it (the chain
   * is named after it, so transfers already booked answer `exists`, and the refund cap counted
   * it when it was recorded); a Mobile Money refund whose payout was never recorded resumes the
   * payout under the id named at the decision (payments answers the same payout to a late retry).
   * Each row is claimed (`swept_at`) by one instance at a time; a claim older than the delay is
   * taken again (a sweep that died). A chain the ledger now refuses (a share no longer there)
   * drops the decision, nothing moved, and the audit says so.
   */
  async function sweep(limit = REMEDY_SWEEP_BATCH): Promise<{ finished: number; dropped: number }> {
    const before = new Date(now().getTime() - REMEDY_SWEEP_AFTER_MINUTES * 60_000);
    const claimed = await deps.db
      .updateTable('support_remedies')
      .set({ swept_at: now() })
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('support_remedies')
          .select('id')
          .where('created_at', '<', before)
          .where((inner) =>
            inner.or([
              inner('status', '=', 'deciding'),
              inner.and([
                inner('refund_to', '=', 'mobile_money'),
                inner('payout_id', 'is', null),
                inner('payout_refusal', 'is', null),
                inner('planned_payout_id', 'is not', null),
              ]),
            ]),
          )
          .where((inner) => inner.or([inner('swept_at', 'is', null), inner('swept_at', '<', before)]))
          .orderBy('created_at')
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .returningAll()
      .execute();
    let finished = 0;
    let dropped = 0;
    for (const row of claimed) {
      const outcome = await finish(row);
      if (outcome === 'finished') finished += 1;
      if (outcome === 'dropped') dropped += 1;
    }
    return { finished, dropped };
  }

  async function finish(row: RemedyRow): Promise<'finished' | 'dropped' | 'failed'> {
    const actor = { kind: 'system' as const, userId: null };
    try {
      let done = row.status === 'deciding' ? await book(row) : row;
      if (done.payout_id === null && done.planned_payout_id !== null)
        done = await payOut(done, done.planned_payout_id);
      await deps.audit({
        action: 'support.remedy_swept',
        actor,
        subjectUserId: done.beneficiary_id,
        resource: `support_ticket:${done.ticket_id}`,
        newValue: {
          remedyId: done.id,
          kind: done.kind,
          amountMinor: Number(done.amount_minor),
          decidedBy: done.decided_by,
          wasDeciding: row.status === 'deciding',
          payoutId: done.payout_id,
          payoutRefusal: done.payout_refusal,
        },
      });
      await deps.publish?.(done.ticket_id, {
        remedyId: done.id,
        kind: done.kind,
        amountMinor: Number(done.amount_minor),
      });
      return 'finished';
    } catch (error) {
      if (isDomainError(error) && error.code === 'remedy_share_unavailable') {
        await deps.audit({
          action: 'support.remedy_dropped',
          actor,
          subjectUserId: row.beneficiary_id,
          resource: `support_ticket:${row.ticket_id}`,
          newValue: {
            remedyId: row.id,
            kind: row.kind,
            amountMinor: Number(row.amount_minor),
            code: error.code,
          },
        });
        return 'dropped';
      }
      // An outage: the claim lapses and a later sweep tries again.
      deps.logger.error({ err: error, remedyId: row.id }, 'support remedy sweep could not finish a remedy');
      return 'failed';
    }
  }

  /** Erasure: the notes about a person's tickets (the amounts stay: they are the books). */
  async function erase(userId: string): Promise<number> {
    const result = await deps.db
      .updateTable('support_remedies')
      .set({ note: null })
      .where('beneficiary_id', '=', userId)
      .where('note', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  return { decide, list, get, erase, book, view, sweep };
}

export type SupportRemedies = ReturnType<typeof createSupportRemedies>;
