import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dueWithinHours, supportOpenAt, type SupportHours } from './sla-clock.js';

// 2026-12-07 is a Monday; Africa/Douala is UTC+1 all year.
const douala = (day: string, hhmm: string) => new Date(`2026-12-${day}T${hhmm}:00+01:00`);
const office: SupportHours = { timeZone: 'Africa/Douala', window: '08:00-20:00' };

describe('the SLA clock in the city’s support hours', () => {
  it('given no hours, when a ticket opens, then it is due its minutes later, day or night', () => {
    expect(dueWithinHours(douala('07', '23:30'), 60, undefined)).toEqual(douala('08', '00:30'));
  });

  it('given 08:00-20:00, when a ticket opens at 10:00 with 60 minutes, then it is due at 11:00', () => {
    expect(dueWithinHours(douala('07', '10:00'), 60, office)).toEqual(douala('07', '11:00'));
  });

  it('given 08:00-20:00, when a ticket opens at 19:30 with 60 minutes, then 30 count today and 30 tomorrow from 08:00', () => {
    expect(dueWithinHours(douala('07', '19:30'), 60, office)).toEqual(douala('08', '08:30'));
  });

  it('given 08:00-20:00, when a ticket opens outside hours (21:00 or 06:00), then its clock starts at the next 08:00', () => {
    expect(dueWithinHours(douala('07', '21:00'), 60, office)).toEqual(douala('08', '09:00'));
    expect(dueWithinHours(douala('08', '06:00'), 60, office)).toEqual(douala('08', '09:00'));
    expect(supportOpenAt(douala('07', '21:00'), office)).toBe(false);
    expect(supportOpenAt(douala('07', '08:00'), office)).toBe(true);
  });

  it('given hours across midnight (18:00-02:00), when a ticket opens at 01:30 with 60 minutes, then 30 count now and 30 from 18:00', () => {
    const night: SupportHours = { timeZone: 'Africa/Douala', window: '18:00-02:00' };
    expect(dueWithinHours(douala('08', '01:30'), 60, night)).toEqual(douala('08', '18:30'));
    expect(dueWithinHours(douala('07', '23:00'), 120, night)).toEqual(douala('08', '01:00'));
  });

  it('given weekdays only, when a ticket opens on Friday at 19:00 with 120 minutes, then it is due on Monday at 09:00', () => {
    const weekdays: SupportHours = { ...office, days: ['mon', 'tue', 'wed', 'thu', 'fri'] };
    // 2026-12-11 is a Friday, 2026-12-14 the Monday after.
    expect(dueWithinHours(douala('11', '19:00'), 120, weekdays)).toEqual(douala('14', '09:00'));
    expect(supportOpenAt(douala('12', '10:00'), weekdays)).toBe(false);
  });

  it('given an overnight window on Fridays only, when Saturday 01:00 comes, then it still belongs to Friday’s hours', () => {
    const fridayNight: SupportHours = { timeZone: 'Africa/Douala', window: '22:00-02:00', days: ['fri'] };
    expect(supportOpenAt(douala('12', '01:00'), fridayNight)).toBe(true);
    expect(supportOpenAt(douala('13', '01:00'), fridayNight)).toBe(false);
    // Saturday 01:00 with 120 minutes: 60 tonight, then the next Friday 22:00 + 60.
    expect(dueWithinHours(douala('12', '01:00'), 120, fridayNight)).toEqual(douala('18', '23:00'));
  });

  it('given hours in another time zone, then the window is read in that zone', () => {
    const lagos: SupportHours = { timeZone: 'Asia/Tokyo', window: '09:00-10:00' };
    // 09:00 in Tokyo is 00:00 UTC.
    expect(dueWithinHours(new Date('2026-12-07T00:00:00Z'), 30, lagos)).toEqual(
      new Date('2026-12-07T00:30:00Z'),
    );
  });

  it('given hours open no day, a malformed window or one always open, then the clock runs all day', () => {
    const from = douala('07', '21:00');
    const allDay = douala('07', '22:00');
    expect(dueWithinHours(from, 60, { ...office, days: [] })).toEqual(allDay);
    expect(dueWithinHours(from, 60, { ...office, window: '8h-20h' })).toEqual(allDay);
    expect(dueWithinHours(from, 60, { ...office, window: '00:00-00:00' })).toEqual(allDay);
  });

  it('given any opening instant and minutes, then the due time is never earlier than the same minutes counted all day, and exactly the minutes of open time pass', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 14 * 24 * 60 - 1 }),
        fc.integer({ min: 1, max: 600 }),
        fc.constantFrom('08:00-20:00', '18:00-02:00', '09:30-12:15'),
        (offset, minutes, window) => {
          const hours: SupportHours = { timeZone: 'Africa/Douala', window, days: ['mon', 'wed', 'sat'] };
          const from = new Date(douala('07', '00:00').getTime() + offset * 60_000);
          const due = dueWithinHours(from, minutes, hours);
          expect(due.getTime()).toBeGreaterThanOrEqual(from.getTime() + minutes * 60_000);
          // Count open minutes one by one between from and due: exactly `minutes`.
          let open = 0;
          for (let t = from.getTime(); t < due.getTime(); t += 60_000)
            if (supportOpenAt(new Date(t), hours)) open += 1;
          expect(open).toBe(minutes);
        },
      ),
      { numRuns: 150 },
    );
  });
});
