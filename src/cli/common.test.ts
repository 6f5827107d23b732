import { describe, expect, it } from 'vitest';
import { formatMinor } from './common.js';

describe('formatMinor', () => {
  it('writes francs grouped by thousands and cents exactly, whatever the size', () => {
    expect(formatMinor(0n, 'XAF')).toBe('0 XAF');
    expect(formatMinor(1_234_500n, 'XAF')).toBe('1 234 500 XAF');
    expect(formatMinor(-1_234n, 'USD')).toBe('-12.34 USD');
    expect(formatMinor(5n, 'USD')).toBe('0.05 USD');
    expect(formatMinor(9_007_199_254_740_993n, 'XAF')).toBe('9 007 199 254 740 993 XAF');
  });
});
