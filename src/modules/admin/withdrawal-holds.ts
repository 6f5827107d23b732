import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { audiences, type RealtimeBus } from '../../realtime/index.js';
import type { Actor, AuditFunction } from '../identity/index.js';
import { adminErrors } from './errors.js';
import type { AdminDb, WithdrawalPayeeKind } from './tables.js';
import { newestFirstPage } from './cursor.js';

/**
 * Admins' holds on a payee's payouts and withdrawals (docs/admin.md "Withdrawal holds"): a
 * driver, a restaurant or a customer is paid nothing while a hold lasts. Payments asks `isHeld`
 * before a request, an approval and the first send of a payout; a payout approved but not yet
 * sent when the hold is placed is held back (its ledger hold voided: the money stays in the
 * payee's balance). One active hold per payee; placing and releasing are audited in the same
 * transaction. Fraud cases' own holds (fraud.ts) are checked alongside.
 */
export const HOLDS_PAGE_MAX = 100;
export const WITHDRAWAL_PAYEE_KINDS = ['driver', 'restaurant', 'customer'] as const;

export interface WithdrawalHoldView {
  id: string;
  payeeKind: WithdrawalPayeeKind;
  payeeId: string;
  reason: string;
  placedBy: string;
  placedAt: string;
  releasedAt: string | null;
  releasedBy: string | null;
  releaseNote: string | null;
}

type HoldRow = {
  id: string;
  payee_kind: WithdrawalPayeeKind;
  payee_id: string;
  reason: string;
  placed_by: string;
  placed_at: Date;
  released_at: Date | null;
  released_by: string | null;
  release_note: string | null;
};

function holdView(row: HoldRow): WithdrawalHoldView {
  return {
    id: row.id,
    payeeKind: row.payee_kind,
    payeeId: row.payee_id,
    reason: row.reason,
    placedBy: row.placed_by,
    placedAt: row.placed_at.toISOString(),
    releasedAt: row.released_at?.toISOString() ?? null,
    releasedBy: row.released_by,
    releaseNote: row.release_note,
  };
}

/** Who is paid: the payee (a restaurant or a person) and the person behind it. */
export interface Payee {
  kind: WithdrawalPayeeKind;
  payeeId: string;
  /** The person paid: the driver or customer, or the restaurant's owner. */
  personId: string;
}

export function createWithdrawalHolds(deps: {
  db: AdminDb;
  audit: AuditFunction;
  bus: RealtimeBus;
  logger: Logger;
  /** Whether the payee exists (a driver or customer account, a restaurant). */
  payeeExists: (kind: WithdrawalPayeeKind, payeeId: string) => Promise<boolean>;
  /** A fraud case's hold on the person (fraud.ts). */
  fraudHeld: (personId: string) => Promise<boolean>;
}) {
  const { db } = deps;

  function trimmed(text: string, code: string): string {
    const value = text.trim();
    if (value.length < 3) throw adminErrors.of('validation', code, 'Say why, in at least 3 characters.');
    return value;
  }

  async function place(
    input: { payeeKind: WithdrawalPayeeKind; payeeId: string; reason: string },
    actor: Actor,
    id: string = randomUUID(),
  ): Promise<WithdrawalHoldView> {
    const reason = trimmed(input.reason, 'reason_required');
    if (!(await deps.payeeExists(input.payeeKind, input.payeeId)))
      throw adminErrors.of('not_found', 'payee_not_found', `There is no such ${input.payeeKind}.`);
    const row = await db.transaction().execute(async (trx) => {
      const placed = await trx
        .insertInto('admin_withdrawal_holds')
        .values({
          id,
          payee_kind: input.payeeKind,
          payee_id: input.payeeId,
          reason,
          placed_by: actor.userId ?? 'system',
        })
        .onConflict((conflict) => conflict.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (placed === undefined) {
        const active = await trx
          .selectFrom('admin_withdrawal_holds')
          .select('id')
          .where('payee_kind', '=', input.payeeKind)
          .where('payee_id', '=', input.payeeId)
          .where('released_at', 'is', null)
          .executeTakeFirst();
        throw adminErrors.of('conflict', 'payee_already_held', 'This payee is already on hold.', {
          details: { holdId: active?.id ?? id },
        });
      }
      await deps.audit(
        {
          action: 'admin.withdrawal_hold_placed',
          actor,
          subjectUserId: input.payeeKind === 'restaurant' ? null : input.payeeId,
          resource: `withdrawal_hold:${id}`,
          newValue: { payeeKind: input.payeeKind, payeeId: input.payeeId, reason },
        },
        trx,
      );
      return placed;
    });
    deps.logger.info({ holdId: id, payeeKind: input.payeeKind }, 'withdrawal hold placed');
    await deps.bus.publish([
      {
        audiences: [audiences.admin],
        message: {
          channel: 'system-alerts',
          type: 'withdrawal-hold',
          at: new Date().toISOString(),
          data: { holdId: id, payeeKind: input.payeeKind, payeeId: input.payeeId },
        },
      },
    ]);
    return holdView(row);
  }

  /** Releases a hold (audited once); released already, it answers the same and changes nothing. */
  async function release(holdId: string, input: { note: string }, actor: Actor): Promise<WithdrawalHoldView> {
    const note = trimmed(input.note, 'note_required');
    return db.transaction().execute(async (trx) => {
      const released = await trx
        .updateTable('admin_withdrawal_holds')
        .set({ released_at: sql<Date>`now()`, released_by: actor.userId ?? 'system', release_note: note })
        .where('id', '=', holdId)
        .where('released_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (released === undefined) {
        const row = await trx
          .selectFrom('admin_withdrawal_holds')
          .selectAll()
          .where('id', '=', holdId)
          .executeTakeFirst();
        if (row === undefined) throw adminErrors.notFound('No such withdrawal hold.');
        return holdView(row);
      }
      await deps.audit(
        {
          action: 'admin.withdrawal_hold_released',
          actor,
          subjectUserId: released.payee_kind === 'restaurant' ? null : released.payee_id,
          resource: `withdrawal_hold:${holdId}`,
          oldValue: { held: true },
          newValue: { held: false, note },
        },
        trx,
      );
      return holdView(released);
    });
  }

  async function list(query: {
    active?: boolean | undefined;
    cursor?: string | undefined;
    limit?: number | undefined;
  }) {
    let select = db.selectFrom('admin_withdrawal_holds').selectAll();
    if (query.active === true) select = select.where('released_at', 'is', null);
    if (query.active === false) select = select.where('released_at', 'is not', null);
    const { rows, nextCursor } = await newestFirstPage(select, 'placed_at', (row) => row.placed_at, {
      cursor: query.cursor,
      limit: Math.min(query.limit ?? 20, HOLDS_PAGE_MAX),
    });
    return { items: rows.map(holdView), nextCursor };
  }

  /** For payments: whether an admin's hold or a fraud case's hold stops paying this payee now. */
  async function isHeld(payee: Payee): Promise<boolean> {
    const row = await db
      .selectFrom('admin_withdrawal_holds')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('payee_kind', '=', payee.kind), eb('payee_id', '=', payee.payeeId)]),
          // A person held as a driver or customer is held whatever they are paid as.
          eb.and([eb('payee_kind', '!=', 'restaurant'), eb('payee_id', '=', payee.personId)]),
        ]),
      )
      .where('released_at', 'is', null)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined || (await deps.fraudHeld(payee.personId));
  }

  async function get(holdId: string): Promise<WithdrawalHoldView> {
    const row = await db
      .selectFrom('admin_withdrawal_holds')
      .selectAll()
      .where('id', '=', holdId)
      .executeTakeFirst();
    if (row === undefined) throw adminErrors.notFound('No such withdrawal hold.');
    return holdView(row);
  }

  return { place, release, list, get, isHeld };
}

export type WithdrawalHolds = ReturnType<typeof createWithdrawalHolds>;
