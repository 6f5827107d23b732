/**
 * The SQL of commission rates: a restaurant's override (set by finance admins) and the clock of
 * its first settlement, from which the tier in force is computed (escrow.ts).
 */
import type { PaymentsDb } from './tables.js';

export interface CommissionOverride {
  /** A decimal rate as a string (decimal.js), e.g. "0.12". */
  rate: string;
  reason: string;
  setBy: string;
}

export type CommissionRepository = ReturnType<typeof createCommissionRepository>;

export function createCommissionRepository(db: PaymentsDb) {
  return {
    async overrideRate(restaurantId: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('restaurant_commission_overrides')
        .select('rate')
        .where('restaurant_id', '=', restaurantId)
        .executeTakeFirst();
      return row?.rate;
    },

    async clockOf(restaurantId: string) {
      return db
        .selectFrom('restaurant_commission_clock')
        .selectAll()
        .where('restaurant_id', '=', restaurantId)
        .executeTakeFirst();
    },

    /** Sets the override, or clears it with null. */
    async setOverride(restaurantId: string, override: CommissionOverride | null): Promise<void> {
      if (override === null) {
        await db
          .deleteFrom('restaurant_commission_overrides')
          .where('restaurant_id', '=', restaurantId)
          .execute();
        return;
      }
      await db
        .insertInto('restaurant_commission_overrides')
        .values({
          restaurant_id: restaurantId,
          rate: override.rate,
          reason: override.reason,
          set_by: override.setBy,
        })
        .onConflict((conflict) =>
          conflict.column('restaurant_id').doUpdateSet({
            rate: override.rate,
            reason: override.reason,
            set_by: override.setBy,
            set_at: new Date(),
          }),
        )
        .execute();
    },
  };
}
