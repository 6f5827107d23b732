import { describe, expect, it } from 'vitest';
import { periodRefusal } from './promo-slot-rules.js';

const now = new Date('2026-12-06T12:00:00Z');
const at = (offsetMinutes: number) => new Date(now.getTime() + offsetMinutes * 60_000);
const DAY = 1_440;

describe('a placement period', () => {
  it('accepts a period from now (a minute of skew counts as now) up to 92 days', () => {
    expect(periodRefusal({ startsAt: now, endsAt: at(DAY) }, now)).toBeUndefined();
    expect(periodRefusal({ startsAt: at(-0.5), endsAt: at(DAY) }, now)).toBeUndefined();
    expect(periodRefusal({ startsAt: at(10), endsAt: at(10 + 92 * DAY) }, now)).toBeUndefined();
  });

  it('refuses an end before its start, an end past, a start past, too long, too far ahead', () => {
    expect(periodRefusal({ startsAt: at(60), endsAt: at(60) }, now)).toBe('end_before_start');
    expect(periodRefusal({ startsAt: at(60), endsAt: at(30) }, now)).toBe('end_before_start');
    expect(periodRefusal({ startsAt: new Date('nope'), endsAt: at(30) }, now)).toBe('end_before_start');
    expect(periodRefusal({ startsAt: at(-120), endsAt: at(-60) }, now)).toBe('ended');
    expect(periodRefusal({ startsAt: at(-2), endsAt: at(60) }, now)).toBe('start_past');
    expect(periodRefusal({ startsAt: now, endsAt: at(92 * DAY + 1) }, now)).toBe('too_long');
    expect(periodRefusal({ startsAt: at(367 * DAY), endsAt: at(368 * DAY) }, now)).toBe('too_far');
  });

  it('lets a running placement keep its past start (shortened or extended)', () => {
    expect(periodRefusal({ startsAt: at(-DAY), endsAt: at(DAY) }, now, true)).toBeUndefined();
    expect(periodRefusal({ startsAt: at(-DAY), endsAt: at(-1) }, now, true)).toBe('ended');
  });
});
