import { describe, expect, it } from 'vitest';
import { rate } from './performance.js';

describe('rates', () => {
  it('is a share with three decimals, and null when there is nothing to count', () => {
    expect(rate(2, 3)).toBe(0.667);
    expect(rate(3, 3)).toBe(1);
    expect(rate(0, 4)).toBe(0);
    expect(rate(0, 0)).toBeNull();
  });
});
