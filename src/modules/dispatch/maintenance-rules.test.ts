import { describe, expect, it } from 'vitest';
import { dueKmOf, planProblem, remindersDue, type MaintenancePlan } from './maintenance-rules.js';

const none: MaintenancePlan = { dueOn: null, intervalKm: null, lastServiceKm: null, odometerKm: null };
const today = '2026-12-06';

describe('a maintenance plan', () => {
  it('refuses a due date in the past, an interval without its last service, an odometer below it', () => {
    expect(planProblem({ ...none, dueOn: '2026-12-05' }, today)?.field).toBe('dueOn');
    expect(planProblem({ ...none, dueOn: today }, today)).toBeNull();
    expect(planProblem({ ...none, intervalKm: 5000 }, today)?.field).toBe('lastServiceKm');
    expect(planProblem({ ...none, lastServiceKm: 12_000, odometerKm: 11_999 }, today)?.field).toBe(
      'odometerKm',
    );
    expect(
      planProblem({ ...none, intervalKm: 5000, lastServiceKm: 12_000, odometerKm: 12_000 }, today),
    ).toBeNull();
  });

  it('reminds 7 days before the due date and on the day, and on no other day', () => {
    const days = Array.from({ length: 12 }, (_, offset) =>
      new Date(Date.parse('2026-12-01T00:00:00Z') + offset * 86_400_000).toISOString().slice(0, 10),
    );
    const plan = { ...none, dueOn: '2026-12-10' };
    const reminded = days.filter((day) => remindersDue(plan, day).length > 0);
    expect(reminded).toEqual(['2026-12-03', '2026-12-10']);
    expect(remindersDue(plan, '2026-12-03')).toEqual([
      { kind: 'maintenance_date', dueOn: '2026-12-10', daysLeft: 7 },
    ]);
  });

  it('reminds once the odometer reaches the last service plus the interval', () => {
    const plan = { ...none, intervalKm: 5000, lastServiceKm: 10_000 };
    expect(dueKmOf(plan)).toBe(15_000);
    expect(remindersDue({ ...plan, odometerKm: 14_999 }, today)).toEqual([]);
    expect(remindersDue({ ...plan, odometerKm: 15_200 }, today)).toEqual([
      { kind: 'maintenance_mileage', dueKm: 15_000, odometerKm: 15_200 },
    ]);
    // Without an odometer reading, nothing is known of the mileage.
    expect(remindersDue(plan, today)).toEqual([]);
  });
});
