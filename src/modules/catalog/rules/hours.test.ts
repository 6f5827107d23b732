import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  closedPeriods,
  closesAt,
  isOpenAt,
  localTime,
  MINUTES_PER_WEEK,
  nextOpening,
  parseLocalDateTime,
  scheduleRanges,
  validateSchedule,
  validateWeeklyHours,
  weeklyRanges,
  weekRangesLiteral,
  type OpeningRules,
  type WeeklyHours,
} from './hours.js';

// 2026-11-23 is a Monday. Douala is UTC+1 all year.
const douala = (local: string) => parseLocalDateTime(local)!;

describe('opening hours in Africa/Douala', () => {
  it('reads local time one hour ahead of UTC with Monday as day 0', () => {
    const local = localTime(new Date('2026-11-23T07:30:00Z'));
    expect(local.weekdayIndex).toBe(0);
    expect(local.minuteOfDay).toBe(8 * 60 + 30);
    expect(local.offsetMinutes).toBe(60);
    expect(douala('2026-11-23T08:30').toISOString()).toBe('2026-11-23T07:30:00.000Z');
  });

  it('keeps an overnight range open past midnight into the next day', () => {
    const rules: OpeningRules = {
      ranges: weeklyRanges({ fri: [{ opens: '18:00', closes: '02:00' }] }),
      closed: [],
    };
    expect(isOpenAt(rules, douala('2026-11-27T23:59'))).toBe(true); // Friday night
    expect(isOpenAt(rules, douala('2026-11-28T01:30'))).toBe(true); // Saturday early morning
    expect(isOpenAt(rules, douala('2026-11-28T02:00'))).toBe(false);
    expect(isOpenAt(rules, douala('2026-11-27T17:59'))).toBe(false);
  });

  it('wraps a Sunday-night range onto Monday morning', () => {
    const ranges = weeklyRanges({ sun: [{ opens: '20:00', closes: '03:00' }] });
    expect(weekRangesLiteral(ranges)).toBe(`{[0,180),[${MINUTES_PER_WEEK - 240},${MINUTES_PER_WEEK})}`);
    const rules: OpeningRules = { ranges, closed: [] };
    expect(isOpenAt(rules, douala('2026-11-30T02:00'))).toBe(true); // Monday 02:00
    expect(closesAt(rules, douala('2026-11-29T21:00'))?.toISOString()).toBe(
      douala('2026-11-30T03:00').toISOString(),
    );
  });

  it('is closed during a closure and on a holiday even inside opening hours', () => {
    const hours: WeeklyHours = Object.fromEntries(
      ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((day) => [
        day,
        [{ opens: '08:00', closes: '22:00' }],
      ]),
    );
    const { periods, problems } = closedPeriods({
      closures: [{ startsAt: '2026-11-24T12:00', endsAt: '2026-11-24T15:00', reason: 'travaux' }],
      holidays: [{ date: '2026-11-26', name: 'fête' }],
    });
    expect(problems).toEqual([]);
    const rules: OpeningRules = { ranges: weeklyRanges(hours), closed: periods };
    expect(isOpenAt(rules, douala('2026-11-24T11:59'))).toBe(true);
    expect(isOpenAt(rules, douala('2026-11-24T12:00'))).toBe(false);
    expect(isOpenAt(rules, douala('2026-11-26T12:00'))).toBe(false);
    expect(closesAt(rules, douala('2026-11-24T10:00'))?.toISOString()).toBe(
      douala('2026-11-24T12:00').toISOString(),
    );
    expect(nextOpening(rules, douala('2026-11-24T13:00'))?.toISOString()).toBe(
      douala('2026-11-24T15:00').toISOString(),
    );
    // The holiday swallows Thursday; the next opening is Friday 08:00.
    expect(nextOpening(rules, douala('2026-11-25T23:00'))?.toISOString()).toBe(
      douala('2026-11-27T08:00').toISOString(),
    );
  });

  it('has no next opening without hours, and reports malformed closures', () => {
    expect(nextOpening({ ranges: [], closed: [] }, new Date())).toBeUndefined();
    const { problems } = closedPeriods({
      closures: [
        { startsAt: '2026-11-24T15:00', endsAt: '2026-11-24T12:00' },
        { startsAt: 'tomorrow', endsAt: 'x' },
      ],
      holidays: [{ date: '2026-02-30' }],
    });
    expect(problems).toHaveLength(3);
  });

  it('rejects malformed clocks, overlaps and too many ranges', () => {
    expect(validateWeeklyHours({ mon: [{ opens: '8h', closes: '22:00' }] })).toHaveLength(1);
    expect(
      validateWeeklyHours({
        mon: [
          { opens: '08:00', closes: '14:00' },
          { opens: '13:00', closes: '20:00' },
        ],
      }),
    ).toHaveLength(1);
    // Monday's overnight range runs into Tuesday's morning range.
    expect(
      validateWeeklyHours({
        mon: [{ opens: '20:00', closes: '04:00' }],
        tue: [{ opens: '03:00', closes: '10:00' }],
      }),
    ).toHaveLength(1);
    expect(
      validateWeeklyHours({
        sun: [{ opens: '20:00', closes: '04:00' }],
        mon: [{ opens: '03:00', closes: '10:00' }],
      }),
    ).toHaveLength(1);
    expect(
      validateWeeklyHours({
        mon: [{ opens: '00:00', closes: '24:00' }],
        tue: [{ opens: '11:00', closes: '23:00' }],
      }),
    ).toEqual([]);
    expect(validateSchedule([{ days: [], opens: '06:00', closes: '11:00' }])).toHaveLength(1);
  });

  it('expands availability windows (breakfast only, weekends)', () => {
    const breakfast = scheduleRanges([{ days: ['mon', 'tue'], opens: '06:00', closes: '11:00' }]);
    expect(breakfast).toEqual([
      [360, 660],
      [1440 + 360, 1440 + 660],
    ]);
    const weekends = scheduleRanges([{ days: ['sat', 'sun'], opens: '00:00', closes: '00:00' }]);
    expect(weekends).toEqual([[5 * 1440, 7 * 1440]]);
  });

  it('finds the first open minute: nextOpening is open and nothing before it is (property)', () => {
    const clock = fc
      .integer({ min: 0, max: 47 })
      .map((half) => `${String(Math.floor(half / 2)).padStart(2, '0')}:${half % 2 === 0 ? '00' : '30'}`);
    const hours = fc.dictionary(
      fc.constantFrom('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'),
      fc.array(fc.record({ opens: clock, closes: clock }), { maxLength: 2 }),
    );
    fc.assert(
      fc.property(hours, fc.integer({ min: 0, max: 7 * 24 * 4 - 1 }), (weekly, quarter) => {
        const rules: OpeningRules = { ranges: weeklyRanges(weekly as WeeklyHours), closed: [] };
        const start = new Date(douala('2026-11-23T00:00').getTime() + quarter * 15 * 60_000);
        const next = nextOpening(rules, start);
        if (next === undefined) {
          expect(rules.ranges.length).toBe(0);
          return;
        }
        expect(isOpenAt(rules, next)).toBe(true);
        // Every 30 minutes between start and next is closed (ranges start on half hours).
        for (
          let time = Math.ceil(start.getTime() / 1_800_000) * 1_800_000;
          time < next.getTime();
          time += 1_800_000
        ) {
          expect(isOpenAt(rules, new Date(time))).toBe(false);
        }
      }),
      { numRuns: 150 },
    );
  });
});
