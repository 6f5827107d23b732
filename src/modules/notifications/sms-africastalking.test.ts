import { describe, expect, it } from 'vitest';
import { xafOf } from './sms-africastalking.js';

describe("Africa's Talking's per-recipient cost", () => {
  it('reads XAF amounts in whole francs, half up; another currency or an unreadable cost is unknown', () => {
    expect(xafOf('XAF 20.0000')).toBe(20);
    expect(xafOf('XAF 22.5000')).toBe(23);
    expect(xafOf('XAF 22.4999')).toBe(22);
    expect(xafOf(' XAF 0 ')).toBe(0);
    expect(xafOf('KES 0.8000')).toBeUndefined();
    expect(xafOf('0')).toBeUndefined();
    expect(xafOf('XAF -5')).toBeUndefined();
    expect(xafOf(undefined)).toBeUndefined();
  });
});
