/**
 * Bulk orders' rows (docs/community.md, "Bulk orders"). Every change of a request's status or of
 * its balance runs under the row's lock (`FOR UPDATE`), so the restaurant's answer, the
 * customer's cancellation, a payment and the sweep's expiry are ordered: whichever comes second
 * sees what the first did.
 */
import { placementClaims } from './placement-claim.js';
import { sql, type Transaction, type Updateable } from 'kysely';
import type {
  BulkBalanceState,
  BulkDepositState,
  BulkOrderStatus,
  BulkOrdersTable,
  CommunityDb,
  CommunityTables,
  GroupLine,
} from './tables.js';

export interface BulkOrderRow {
  id: string;
  customerId: string;
  restaurantId: string;
  lines: GroupLine[];
  delivery: { latitude: number; longitude: number; text: string };
  note: string | null;
  scheduledFor: Date;
  status: BulkOrderStatus;
  totalMinor: bigint;
  depositMinor: bigint;
  balanceMinor: bigint;
  balanceState: BulkBalanceState;
  respondBy: Date;
  proposedFor: Date | null;
  proposalNote: string | null;
  released: boolean;
  depositRefundMinor: bigint | null;
  refundsDone: boolean;
  orderId: string;
  failure: string | null;
  depositState: BulkDepositState;
  depositPaymentId: string | null;
  balancePaymentId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

type Tx = Transaction<CommunityTables>;
type Row = Omit<
  BulkOrdersTable,
  | 'status'
  | 'balance_state'
  | 'released'
  | 'refunds_done'
  | 'created_at'
  | 'updated_at'
  | 'deposit_state'
  | 'deposit_payment_id'
  | 'balance_payment_id'
> & {
  status: BulkOrderStatus;
  balance_state: BulkBalanceState;
  deposit_state: BulkDepositState;
  deposit_payment_id: string | null;
  balance_payment_id: string | null;
  released: boolean;
  refunds_done: boolean;
  created_at: Date;
  updated_at: Date;
};

function rowOf(row: Row): BulkOrderRow {
  return {
    id: row.id,
    customerId: row.customer_id,
    restaurantId: row.restaurant_id,
    lines: row.lines,
    delivery: row.delivery,
    note: row.note,
    scheduledFor: row.scheduled_for,
    status: row.status,
    totalMinor: BigInt(row.total_minor),
    depositMinor: BigInt(row.deposit_minor),
    balanceMinor: BigInt(row.balance_minor),
    balanceState: row.balance_state,
    respondBy: row.respond_by,
    proposedFor: row.proposed_for,
    proposalNote: row.proposal_note,
    released: row.released,
    depositRefundMinor: row.deposit_refund_minor === null ? null : BigInt(row.deposit_refund_minor),
    refundsDone: row.refunds_done,
    orderId: row.order_id,
    failure: row.failure,
    depositState: row.deposit_state,
    depositPaymentId: row.deposit_payment_id,
    balancePaymentId: row.balance_payment_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A page's position: the last row's creation time and id, opaque to clients. */
export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } | null {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  if (at === undefined || id === undefined) return null;
  const createdAt = new Date(at);
  if (Number.isNaN(createdAt.getTime())) return null;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return null;
  return { createdAt, id };
}

export function createBulkOrdersRepository(db: CommunityDb) {
  const claims = placementClaims(db, 'bulk_orders');
  async function find(id: string, transaction: CommunityDb | Tx = db): Promise<BulkOrderRow | undefined> {
    const row = await transaction
      .selectFrom('bulk_orders')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : rowOf(row as Row);
  }

  return {
    db,
    find,
    /** Within a transaction holding the request's lock. */
    withRequest<T>(id: string, work: (row: BulkOrderRow | undefined, transaction: Tx) => Promise<T>) {
      return db.transaction().execute(async (transaction) => {
        const row = await transaction
          .selectFrom('bulk_orders')
          .selectAll()
          .where('id', '=', id)
          .forUpdate()
          .executeTakeFirst();
        return work(row === undefined ? undefined : rowOf(row as Row), transaction);
      });
    },

    /** Records a new request (status `paying`); false when one with this id exists (a retry). */
    async insert(request: {
      id: string;
      customerId: string;
      restaurantId: string;
      lines: GroupLine[];
      delivery: BulkOrderRow['delivery'];
      note: string | null;
      scheduledFor: Date;
      totalMinor: bigint;
      depositMinor: bigint;
      respondBy: Date;
      orderId: string;
      /** Mobile Money: the request waits for its deposit (`awaiting_deposit`, deposit `due`). */
      byMobileMoney?: boolean;
    }): Promise<boolean> {
      const inserted = await db
        .insertInto('bulk_orders')
        .values({
          id: request.id,
          customer_id: request.customerId,
          restaurant_id: request.restaurantId,
          lines: sql`${JSON.stringify(request.lines)}::jsonb` as never,
          delivery: sql`${JSON.stringify(request.delivery)}::jsonb` as never,
          note: request.note,
          scheduled_for: request.scheduledFor,
          total_minor: request.totalMinor,
          deposit_minor: request.depositMinor,
          balance_minor: request.totalMinor - request.depositMinor,
          // A deposit of the whole total leaves no balance to pay.
          balance_state: request.totalMinor === request.depositMinor ? 'paid' : 'due',
          respond_by: request.respondBy,
          order_id: request.orderId,
          ...(request.byMobileMoney === true
            ? { status: 'awaiting_deposit' as const, deposit_state: 'due' as const }
            : {}),
          deposit_refund_minor: null,
          proposed_for: null,
          proposal_note: null,
          failure: null,
        })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    /** Changes a request whose status is one of `from`; false when it was in none of them. */
    async update(
      transaction: CommunityDb | Tx,
      id: string,
      from: readonly BulkOrderStatus[],
      fields: Updateable<BulkOrdersTable>,
    ): Promise<boolean> {
      const result = await transaction
        .updateTable('bulk_orders')
        .set({ ...fields, updated_at: sql`now()` as never })
        .where('id', '=', id)
        .where('status', 'in', [...from])
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** The placement claim (placement-claim.ts): one caller places the order. */
    claimPlacement: claims.claim,
    releasePlacement: claims.release,

    /** Moves the balance from one state to another; false when it was not in `from`. */
    async moveBalance(id: string, from: BulkBalanceState, to: BulkBalanceState): Promise<boolean> {
      const result = await db
        .updateTable('bulk_orders')
        .set({ balance_state: to, updated_at: sql`now()` as never })
        .where('id', '=', id)
        .where('balance_state', '=', from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /**
     * Marks a deposit or balance as being collected by this payment, from `due` (or already by
     * this very payment: a retry with the same key). False when it was paid, or another
     * collection is in flight.
     */
    async startCollection(
      transaction: Tx,
      id: string,
      part: 'deposit' | 'balance',
      paymentId: string,
    ): Promise<boolean> {
      const state = part === 'deposit' ? 'deposit_state' : 'balance_state';
      const payment = part === 'deposit' ? 'deposit_payment_id' : 'balance_payment_id';
      const result = await transaction
        .updateTable('bulk_orders')
        .set({ [state]: 'collecting', [payment]: paymentId, updated_at: sql`now()` } as never)
        .where('id', '=', id)
        .where((where) =>
          where.or([
            where(state, '=', 'due'),
            where.and([where(state, '=', 'collecting'), where(payment, '=', paymentId)]),
          ]),
        )
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** A collection that will not land: its part is `due` again (only if it is still this one's). */
    async dropCollection(id: string, part: 'deposit' | 'balance', paymentId: string): Promise<boolean> {
      const state = part === 'deposit' ? 'deposit_state' : 'balance_state';
      const payment = part === 'deposit' ? 'deposit_payment_id' : 'balance_payment_id';
      const result = await db
        .updateTable('bulk_orders')
        .set({ [state]: 'due', [payment]: null, updated_at: sql`now()` } as never)
        .where('id', '=', id)
        .where(state, '=', 'collecting')
        .where(payment, '=', paymentId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** The decision already taken on a landed collection, if any. */
    async collectionOutcome(transaction: Tx, paymentId: string): Promise<'kept' | 'returned' | undefined> {
      const row = await transaction
        .selectFrom('bulk_order_collections')
        .select('outcome')
        .where('payment_id', '=', paymentId)
        .executeTakeFirst();
      return row?.outcome;
    },

    async recordCollection(
      transaction: Tx,
      decision: {
        paymentId: string;
        bulkOrderId: string;
        part: 'deposit' | 'balance';
        amountMinor: bigint;
        outcome: 'kept' | 'returned';
      },
    ): Promise<void> {
      await transaction
        .insertInto('bulk_order_collections')
        .values({
          payment_id: decision.paymentId,
          bulk_order_id: decision.bulkOrderId,
          part: decision.part,
          amount_minor: decision.amountMinor,
          outcome: decision.outcome,
        })
        .execute();
    },

    /** A request whose deposit the ledger refused: removed, as if never made (it was never shown). */
    async dropUnpaid(id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('bulk_orders')
        .where('id', '=', id)
        .where('status', '=', 'paying')
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Newest first, after `cursor`; one more than `limit` tells whether a next page exists. */
    async list(
      by: { customerId: string } | { restaurantId: string },
      cursor: { createdAt: Date; id: string } | null,
      limit: number,
      statuses?: readonly BulkOrderStatus[],
    ): Promise<BulkOrderRow[]> {
      let query = db.selectFrom('bulk_orders').selectAll().where('status', '!=', 'paying');
      // A request waiting for its Mobile Money deposit is its customer's only.
      query =
        'customerId' in by
          ? query.where('customer_id', '=', by.customerId)
          : query.where('restaurant_id', '=', by.restaurantId).where('status', '!=', 'awaiting_deposit');
      if (statuses !== undefined && statuses.length > 0) query = query.where('status', 'in', [...statuses]);
      if (cursor !== null)
        query = query.where((where) =>
          where.or([
            where('created_at', '<', cursor.createdAt),
            where.and([where('created_at', '=', cursor.createdAt), where('id', '<', cursor.id)]),
          ]),
        );
      const rows = await query
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      return rows.map((row) => rowOf(row as Row));
    },

    /**
     * Requests the sweep has something to do for: a deposit or a balance left `paying`, an answer
     * or a payment overdue, a placement due or left half done, an ended request not yet refunded.
     */
    async needingWork(
      at: Date,
      settleBefore: Date,
      windows: { balanceHoursBefore: number; placeMinutesBefore: number },
      limit: number,
    ): Promise<string[]> {
      const balanceDue = new Date(at.getTime() + windows.balanceHoursBefore * 3_600_000);
      const placeDue = new Date(at.getTime() + windows.placeMinutesBefore * 60_000);
      const rows = await db
        .selectFrom('bulk_orders')
        .select('id')
        .where((where) =>
          where.or([
            where.and([
              where('status', 'in', ['paying', 'placing']),
              where('updated_at', '<=', settleBefore),
            ]),
            where.and([
              where('status', 'in', ['requested', 'proposed', 'awaiting_deposit']),
              where('respond_by', '<=', at),
            ]),
            where.and([
              where('status', '=', 'awaiting_deposit'),
              where('deposit_state', '=', 'collecting'),
              where('updated_at', '<=', settleBefore),
            ]),
            where.and([
              where('status', '=', 'confirmed'),
              where.or([
                where.and([where('balance_state', '!=', 'paid'), where('scheduled_for', '<=', balanceDue)]),
                where('scheduled_for', '<=', placeDue),
                where.and([
                  where('balance_state', 'in', ['paying', 'collecting']),
                  where('updated_at', '<=', settleBefore),
                ]),
              ]),
            ]),
            where.and([
              where('status', 'in', ['cancelled', 'refused', 'expired', 'failed']),
              where('refunds_done', '=', false),
            ]),
          ]),
        )
        .orderBy('updated_at')
        .limit(limit)
        .execute();
      return rows.map((row) => row.id);
    },

    /** A person's bulk orders, for their data export. */
    async ofPerson(userId: string) {
      const rows = await db
        .selectFrom('bulk_orders')
        .selectAll()
        .where('customer_id', '=', userId)
        .orderBy('created_at')
        .limit(1000)
        .execute();
      return rows.map((row) => rowOf(row as Row));
    },

    /** Erasure: the free texts of a person's requests (amounts and dates stay: money records). */
    async eraseTexts(userId: string): Promise<number> {
      const result = await db
        .updateTable('bulk_orders')
        .set({ note: null, delivery: sql`jsonb_set(delivery, '{text}', '"[redacted]"')` as never })
        .where('customer_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type BulkOrdersRepository = ReturnType<typeof createBulkOrdersRepository>;
