/**
 * Vehicle maintenance reminders (issue #20): a driver, or an administrator for them, sets the plan
 * of the driver's approved vehicle (a due date and/or a mileage interval from the last service,
 * and the odometer); the daily round reminds the driver through notify (maintenance-rules.ts says
 * when). An administrator's change is audited.
 */
import { dispatchErrors } from './errors.js';
import type { MaintenanceRepository } from './maintenance-repository.js';
import {
  dueKmOf,
  planProblem,
  MAINTENANCE_REMINDER_DAYS,
  remindersOver,
  type MaintenancePlan,
  type MaintenanceReminder,
} from './maintenance-rules.js';
import type { OnboardingActor, OnboardingIdentity } from './onboarding.js';
import type { ApplicationRow } from './onboarding-repository.js';
import { addDays, doualaDay } from './onboarding-rules.js';

export interface MaintenanceView extends MaintenancePlan {
  driverId: string;
  vehicle: string;
  plate: string | null;
  /** The mileage the next service is due at (last service + interval), when the plan has one. */
  nextServiceKm: number | null;
  updatedAt: string | null;
}

export type MaintenanceRemind = (reminder: MaintenanceReminder & { driverId: string }) => Promise<unknown>;

export function createMaintenance(deps: {
  repository: MaintenanceRepository;
  application: (
    driverId: string,
  ) => Promise<Pick<ApplicationRow, 'status' | 'vehicle' | 'plate'> | undefined>;
  identity: Pick<OnboardingIdentity, 'audit'>;
  now?: () => number;
}) {
  const { repository } = deps;
  const now = deps.now ?? Date.now;

  async function approvedVehicle(driverId: string) {
    const application = await deps.application(driverId);
    if (application?.status !== 'approved')
      throw dispatchErrors.of(
        'forbidden',
        'driver_not_approved',
        'Only a driver whose application was approved has a vehicle to maintain.',
      );
    return application;
  }

  async function view(driverId: string): Promise<MaintenanceView> {
    const vehicle = await approvedVehicle(driverId);
    const row = await repository.find(driverId);
    const plan: MaintenancePlan = row ?? {
      dueOn: null,
      intervalKm: null,
      lastServiceKm: null,
      odometerKm: null,
    };
    return {
      driverId,
      vehicle: vehicle.vehicle,
      plate: vehicle.plate,
      dueOn: plan.dueOn,
      intervalKm: plan.intervalKm,
      lastServiceKm: plan.lastServiceKm,
      odometerKm: plan.odometerKm,
      nextServiceKm: dueKmOf(plan),
      updatedAt: row?.updatedAt.toISOString() ?? null,
    };
  }

  return {
    repository,
    view,

    /** Replaces the plan (a PUT: the same body again changes nothing). Staff changes are audited. */
    async set(driverId: string, plan: MaintenancePlan, actor: OnboardingActor, asStaff: boolean) {
      const before = await view(driverId);
      const problem = planProblem(plan, doualaDay(now()));
      if (problem !== null)
        throw dispatchErrors.of('unprocessable', problem.code, problem.detail, {
          details: { field: problem.field },
        });
      const unchanged =
        before.updatedAt !== null &&
        before.dueOn === plan.dueOn &&
        before.intervalKm === plan.intervalKm &&
        before.lastServiceKm === plan.lastServiceKm &&
        before.odometerKm === plan.odometerKm;
      if (unchanged) return before;
      await repository.save(driverId, plan, actor.userId ?? null);
      if (asStaff)
        await deps.identity.audit({
          action: 'driver_vehicle.maintenance_plan',
          actor,
          subjectUserId: driverId,
          resource: `driver_vehicle:${driverId}`,
          oldValue: {
            dueOn: before.dueOn,
            intervalKm: before.intervalKm,
            lastServiceKm: before.lastServiceKm,
            odometerKm: before.odometerKm,
          },
          newValue: plan,
        });
      return view(driverId);
    },

    /**
     * The daily part of the round: each reminder a plan calls for on `days` (today, and days a
     * missed round skipped), told through `remind`
     * (named after the fact by notify, so every instance's round tells once). A reminder that
     * cannot be recorded is counted and the round goes on.
     */
    async dailyRound(
      remind: MaintenanceRemind,
      days: readonly string[] = [doualaDay(now())],
    ): Promise<{ reminders: number; failed: number }> {
      let reminders = 0;
      let failed = 0;
      const dueDates = days.flatMap((day) => MAINTENANCE_REMINDER_DAYS.map((before) => addDays(day, before)));
      for (const row of await repository.remindable(dueDates))
        for (const reminder of remindersOver(row, days)) {
          try {
            await remind({ driverId: row.driverId, ...reminder });
            reminders += 1;
          } catch {
            failed += 1;
          }
        }
      return { reminders, failed };
    },
  };
}

export type Maintenance = ReturnType<typeof createMaintenance>;
