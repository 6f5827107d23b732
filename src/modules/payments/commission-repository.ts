/**
 * The SQL of commission rates: a restaurant's overrides (changes set by admins, each from a moment
 * on) and the clock of its first settlement, from which the tier in force is computed (escrow.ts).
 *
 * The override in force at a moment is the latest change (not cancelled) effective by then; a
 * change with a null rate sends the restaurant back to the tiers.
 */
import { sql } from 'kysely';
import type { PaymentsDb } from './tables.js';

export interface CommissionChange {
  changeId: string;
  restaurantId: string;
  /** A decimal rate as a string (decimal.js), e.g. "0.12"; null: back to the tiers. */
  rate: string | null;
  effectiveFrom: Date;
  reason: string;
  setBy: string;
  setAt: Date;
  cancelledAt: Date | null;
  cancelledBy: string | null;
}

export interface NewCommissionChange {
  changeId: string;
  restaurantId: string;
  rate: string | null;
  effectiveFrom: Date;
  reason: string;
  setBy: string;
}

export type CommissionRepository = ReturnType<typeof createCommissionRepository>;

type Row = {
  change_id: string;
  restaurant_id: string;
  rate: string | null;
  effective_from: Date;
  reason: string;
  set_by: string;
  set_at: Date;
  cancelled_at: Date | null;
  cancelled_by: string | null;
};

const changeOf = (row: Row): CommissionChange => ({
  changeId: row.change_id,
  restaurantId: row.restaurant_id,
  rate: row.rate,
  effectiveFrom: row.effective_from,
  reason: row.reason,
  setBy: row.set_by,
  setAt: row.set_at,
  cancelledAt: row.cancelled_at,
  cancelledBy: row.cancelled_by,
});

export function createCommissionRepository(db: PaymentsDb) {
  async function changeInForce(restaurantId: string, at: Date, executor: PaymentsDb = db) {
    const row = await executor
      .selectFrom('restaurant_commission_changes')
      .selectAll()
      .where('restaurant_id', '=', restaurantId)
      .where('cancelled_at', 'is', null)
      .where('effective_from', '<=', at)
      .orderBy('effective_from', 'desc')
      .orderBy('set_at', 'desc')
      .orderBy('change_id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : changeOf(row);
  }

  return {
    /** The override rate in force at `at` (now by default); undefined: the tiers apply. */
    async overrideRate(restaurantId: string, at: Date = new Date()): Promise<string | undefined> {
      return (await changeInForce(restaurantId, at))?.rate ?? undefined;
    },

    changeInForce,

    async clockOf(restaurantId: string) {
      return db
        .selectFrom('restaurant_commission_clock')
        .selectAll()
        .where('restaurant_id', '=', restaurantId)
        .executeTakeFirst();
    },

    async find(changeId: string, executor: PaymentsDb = db): Promise<CommissionChange | undefined> {
      const row = await executor
        .selectFrom('restaurant_commission_changes')
        .selectAll()
        .where('change_id', '=', changeId)
        .executeTakeFirst();
      return row === undefined ? undefined : changeOf(row);
    },

    /** Records a change once: the same id again changes nothing and answers false. */
    async add(change: NewCommissionChange, executor: PaymentsDb = db): Promise<boolean> {
      const inserted = await executor
        .insertInto('restaurant_commission_changes')
        .values({
          change_id: change.changeId,
          restaurant_id: change.restaurantId,
          rate: change.rate,
          effective_from: change.effectiveFrom,
          reason: change.reason,
          set_by: change.setBy,
        })
        .onConflict((conflict) => conflict.column('change_id').doNothing())
        .returning('change_id')
        .executeTakeFirst();
      return inserted !== undefined;
    },

    /** Cancels a change that has not taken effect at `at`; false when it had (or was cancelled). */
    async cancel(changeId: string, by: string, at: Date, executor: PaymentsDb = db): Promise<boolean> {
      const updated = await executor
        .updateTable('restaurant_commission_changes')
        .set({ cancelled_at: at, cancelled_by: by })
        .where('change_id', '=', changeId)
        .where('cancelled_at', 'is', null)
        .where('effective_from', '>', at)
        .returning('change_id')
        .executeTakeFirst();
      return updated !== undefined;
    },

    /** A restaurant's changes, latest effective first (scheduled ones included), keyset pages. */
    async history(
      restaurantId: string,
      limit: number,
      after?: { effectiveFrom: Date; changeId: string },
    ): Promise<CommissionChange[]> {
      let query = db
        .selectFrom('restaurant_commission_changes')
        .selectAll()
        .where('restaurant_id', '=', restaurantId);
      if (after !== undefined)
        query = query.where(
          sql<boolean>`(effective_from, change_id) < (${after.effectiveFrom}, ${after.changeId}::uuid)`,
        );
      const rows = await query
        .orderBy('effective_from', 'desc')
        .orderBy('change_id', 'desc')
        .limit(limit)
        .execute();
      return rows.map(changeOf);
    },
  };
}
