import { describe, expect, it } from 'vitest';
import { healthOf, segmentOf } from './insights.js';

describe('RFM segments', () => {
  it('names each corner of the scores by the stated rule', () => {
    expect(segmentOf(5, 5, 1)).toBe('champion');
    expect(segmentOf(3, 4, 5)).toBe('loyal_big_spender');
    expect(segmentOf(1, 5, 2)).toBe('loyal');
    expect(segmentOf(5, 1, 1)).toBe('new_or_promising');
    expect(segmentOf(2, 3, 3)).toBe('at_risk');
    expect(segmentOf(1, 1, 5)).toBe('hibernating');
    expect(segmentOf(3, 3, 3)).toBe('needs_attention');
  });
});

describe('restaurant health', () => {
  it('is the delivered share less the rejected share, with the suggestions its thresholds name', () => {
    expect(healthOf({ orders: 20, delivered: 20, rejected: 0, cancelled: 0, failed: 0 })).toEqual({
      score: 100,
      suggestions: [],
    });
    const poor = healthOf({ orders: 20, delivered: 12, rejected: 4, cancelled: 2, failed: 2 });
    expect(poor.score).toBe(40);
    expect(poor.suggestions.map((text) => text.split(':')[0])).toEqual([
      'reject_less',
      'fewer_cancellations',
      'delivery_failures',
    ]);
    // Never below zero; no orders at all: nothing to judge but visibility.
    expect(healthOf({ orders: 4, delivered: 0, rejected: 4, cancelled: 0, failed: 0 }).score).toBe(0);
    expect(healthOf({ orders: 0, delivered: 0, rejected: 0, cancelled: 0, failed: 0 })).toEqual({
      score: 0,
      suggestions: ['visibility: too few orders to judge; consider a promotion'],
    });
  });
});
