import { describe, expect, it } from 'vitest';
import { latestDueDay, missedDays } from './daily-runs.js';

describe('missed days of a daily job', () => {
  it('never run: only the day now due', () => {
    expect(missedDays([], null, '2026-12-06')).toEqual(['2026-12-06']);
  });

  it('every day since the last completed one, and a gap between completed days', () => {
    expect(missedDays(['2026-12-01', '2026-12-03'], '2026-11-20', '2026-12-05', 5)).toEqual([
      '2026-12-02',
      '2026-12-04',
      '2026-12-05',
    ]);
  });

  it('nothing before the first completed day, nothing once caught up, at most the window', () => {
    expect(missedDays([], '2026-12-04', '2026-12-06')).toEqual(['2026-12-04', '2026-12-05', '2026-12-06']);
    expect(missedDays(['2026-12-05', '2026-12-06'], '2026-12-05', '2026-12-06')).toEqual([]);
    expect(missedDays([], '2020-01-01', '2026-12-06', 31)).toHaveLength(31);
    expect(missedDays([], '2020-01-01', '2026-12-06', 31)[0]).toBe('2026-11-06');
  });

  it('crosses months and years', () => {
    expect(missedDays(['2026-12-30'], '2026-12-30', '2027-01-02')).toEqual([
      '2026-12-31',
      '2027-01-01',
      '2027-01-02',
    ]);
  });
});

describe('the latest day due', () => {
  // Douala is UTC+1 all year.
  it('today from the hour on, the day before until then', () => {
    expect(latestDueDay(new Date('2026-12-06T04:59:00Z'), 6 * 60)).toBe('2026-12-05');
    expect(latestDueDay(new Date('2026-12-06T05:00:00Z'), 6 * 60)).toBe('2026-12-06');
    expect(latestDueDay(new Date('2026-12-06T23:30:00Z'), 6 * 60)).toBe('2026-12-06');
    expect(latestDueDay(new Date('2026-12-07T05:30:00Z'), 6 * 60)).toBe('2026-12-07');
  });

  it('the settlement settles the day before once 01:30 has passed', () => {
    expect(latestDueDay(new Date('2026-12-06T00:30:00Z'), 90, -1)).toBe('2026-12-05');
    expect(latestDueDay(new Date('2026-12-06T00:29:00Z'), 90, -1)).toBe('2026-12-04');
  });
});
