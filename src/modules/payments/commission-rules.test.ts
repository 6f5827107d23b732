import { describe, expect, it } from 'vitest';
import { effectiveFromOf, sameRate } from './commission-rules.js';

const now = new Date('2026-12-06T12:00:00.000Z');

describe('commission change effective date', () => {
  it('takes effect now without a date, and at a future date when given one', () => {
    expect(effectiveFromOf(undefined, now)).toEqual({ ok: true, effectiveFrom: now });
    expect(effectiveFromOf('2027-01-01T00:00:00.000Z', now)).toEqual({
      ok: true,
      effectiveFrom: new Date('2027-01-01T00:00:00.000Z'),
    });
  });

  it('treats a moment within the clock-skew minute as now, and refuses anything earlier', () => {
    expect(effectiveFromOf('2026-12-06T11:59:30.000Z', now)).toEqual({ ok: true, effectiveFrom: now });
    expect(effectiveFromOf('2026-12-06T11:58:59.000Z', now)).toEqual({
      ok: false,
      code: 'commission_effective_past',
    });
  });

  it('refuses a date more than a year ahead', () => {
    expect(effectiveFromOf('2027-12-08T12:00:00.000Z', now)).toEqual({
      ok: false,
      code: 'commission_effective_too_far',
    });
    expect(effectiveFromOf('2027-12-06T12:00:00.000Z', now).ok).toBe(true);
  });

  it('compares rates as numbers', () => {
    expect(sameRate('0.1', '0.100000')).toBe(true);
    expect(sameRate('0.1', '0.12')).toBe(false);
    expect(sameRate(null, undefined)).toBe(true);
    expect(sameRate(null, '0')).toBe(false);
  });
});
