/**
 * A vehicle's maintenance plan and its reminders (issue #20), pure: a due date and/or a mileage
 * interval from the last service, with the odometer the driver last reported. The daily round
 * reminds `MAINTENANCE_REMINDER_DAYS` before the due date and on the day, and once the odometer
 * reaches the due mileage (once per due mileage: a new service moves it).
 */
import { addDays } from './onboarding-rules.js';

export const MAINTENANCE_REMINDER_DAYS = [7, 0] as const;
export const ODOMETER_MAX_KM = 2_000_000;
export const INTERVAL_KM_MIN = 100;
export const INTERVAL_KM_MAX = 100_000;

export interface MaintenancePlan {
  dueOn: string | null;
  intervalKm: number | null;
  lastServiceKm: number | null;
  odometerKm: number | null;
}

export type MaintenanceReminder =
  | { kind: 'maintenance_date'; dueOn: string; daysLeft: number }
  | { kind: 'maintenance_mileage'; dueKm: number; odometerKm: number };

/** Why a plan is refused (a 4xx code and its message), or null when it stands. */
export function planProblem(
  plan: MaintenancePlan,
  today: string,
): { code: 'maintenance_plan_invalid'; field: string; detail: string } | null {
  const refuse = (field: string, detail: string) => ({
    code: 'maintenance_plan_invalid' as const,
    field,
    detail,
  });
  if (plan.dueOn !== null && plan.dueOn < today) return refuse('dueOn', 'The due date is today or later.');
  if (plan.intervalKm !== null && plan.lastServiceKm === null)
    return refuse(
      'lastServiceKm',
      'A mileage interval counts from the last service: give its odometer reading.',
    );
  if (plan.odometerKm !== null && plan.lastServiceKm !== null && plan.odometerKm < plan.lastServiceKm)
    return refuse('odometerKm', 'The odometer cannot be below the reading at the last service.');
  return null;
}

/** The mileage at which the next service is due, when the plan has one. */
export function dueKmOf(plan: MaintenancePlan): number | null {
  if (plan.intervalKm === null || plan.lastServiceKm === null) return null;
  return plan.lastServiceKm + plan.intervalKm;
}

/** The reminders a plan calls for today (the round runs once a day; ids make a rerun tell nothing new). */
export function remindersDue(plan: MaintenancePlan, today: string): MaintenanceReminder[] {
  const reminders: MaintenanceReminder[] = [];
  if (plan.dueOn !== null) {
    const daysLeft = MAINTENANCE_REMINDER_DAYS.find((days) => addDays(today, days) === plan.dueOn);
    if (daysLeft !== undefined) reminders.push({ kind: 'maintenance_date', dueOn: plan.dueOn, daysLeft });
  }
  const dueKm = dueKmOf(plan);
  if (dueKm !== null && plan.odometerKm !== null && plan.odometerKm >= dueKm)
    reminders.push({ kind: 'maintenance_mileage', dueKm, odometerKm: plan.odometerKm });
  return reminders;
}

/**
 * The reminders a plan calls for over several days (today and days a missed round skipped), each
 * fact once: a due mileage is one reminder however many days are checked.
 */
export function remindersOver(plan: MaintenancePlan, days: readonly string[]): MaintenanceReminder[] {
  const seen = new Map<string, MaintenanceReminder>();
  for (const day of days)
    for (const reminder of remindersDue(plan, day)) seen.set(JSON.stringify(reminder), reminder);
  return [...seen.values()];
}
