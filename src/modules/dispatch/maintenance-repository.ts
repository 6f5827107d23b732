/** SQL of vehicles' maintenance plans (maintenance.ts). Dates leave as text (a `date` is no instant). */
import { sql } from 'kysely';
import type { DispatchDb } from './tables.js';
import type { MaintenancePlan } from './maintenance-rules.js';

/** Plans a daily round reads at most (far above the drivers of a city; the rest waits a day). */
export const ROUND_MAX_PLANS = 10_000;

export interface MaintenanceRow extends MaintenancePlan {
  driverId: string;
  updatedBy: string | null;
  updatedAt: Date;
}

const columns = [
  'driver_id as driverId',
  sql<string | null>`due_on::text`.as('dueOn'),
  'interval_km as intervalKm',
  'last_service_km as lastServiceKm',
  'odometer_km as odometerKm',
  'updated_by as updatedBy',
  'updated_at as updatedAt',
] as const;

export function createMaintenanceRepository(db: DispatchDb) {
  return {
    async find(driverId: string): Promise<MaintenanceRow | undefined> {
      return db
        .selectFrom('driver_vehicle_maintenance')
        .select(columns)
        .where('driver_id', '=', driverId)
        .executeTakeFirst();
    },

    async save(driverId: string, plan: MaintenancePlan, updatedBy: string | null): Promise<void> {
      const values = {
        due_on: plan.dueOn,
        interval_km: plan.intervalKm,
        last_service_km: plan.lastServiceKm,
        odometer_km: plan.odometerKm,
        updated_by: updatedBy,
        updated_at: new Date(),
      };
      await db
        .insertInto('driver_vehicle_maintenance')
        .values({ driver_id: driverId, ...values })
        .onConflict((conflict) => conflict.column('driver_id').doUpdateSet(values))
        .execute();
    },

    /** Plans that may call for a reminder today: due on one of `days`, or past their due mileage. */
    async remindable(days: readonly string[]): Promise<MaintenanceRow[]> {
      return db
        .selectFrom('driver_vehicle_maintenance')
        .select(columns)
        .where((eb) =>
          eb.or([
            eb(sql`due_on::text`, 'in', days.length === 0 ? [''] : days),
            eb(sql`odometer_km`, '>=', sql`last_service_km + interval_km`),
          ]),
        )
        .orderBy('driver_id')
        .limit(ROUND_MAX_PLANS)
        .execute();
    },

    async erase(driverId: string): Promise<number> {
      const result = await db
        .deleteFrom('driver_vehicle_maintenance')
        .where('driver_id', '=', driverId)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type MaintenanceRepository = ReturnType<typeof createMaintenanceRepository>;
